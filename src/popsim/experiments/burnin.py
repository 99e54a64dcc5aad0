"""Shared burn-ins: runs that agree before ``run.start_year`` pay the burn-in once per process.

:func:`run_shared` is :func:`popsim.run` (the same dataset, attrs included: the provenance is the
scenario actually run), but the model's state at 1 January of ``run.start_year`` comes from a
per-process cache of :class:`~popsim.model.snapshot.Snapshot` keyed by
:func:`~popsim.model.snapshot.burn_in_key`: the seed and every year value of the burn-in years.
A sweep, ``compare`` or ``score`` in one process (or in each worker of a pool or of a dask
cluster) then simulates the burn-in of each distinct (context, lever history, seed) once.

Which runs share a burn-in: those whose values agree in every year before ``run.start_year``.
Levers act in the burn-in as in any other year (:mod:`popsim.scenario.year`), so the lever
packages of the library, whose histories differ from 1989 on (``crackdown_only`` has no
propaganda in the 1990s, ``county`` some), do not share with each other at the default start;
variants of one scenario whose levers change only from ``run.start_year`` on
(:func:`from_year`, the app's lever changes) do.

The cache is bounded by bytes: at most ``POPSIM_BURN_IN_CACHE_MB`` megabytes of snapshots
(read at each call; default :data:`DEFAULT_CACHE_MB`; 0 turns the cache off), least recently
used first out.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from ..errors import ScenarioError, UsageError
from ..model.model import PopSimModel
from ..model.snapshot import Snapshot, burn_in_key, release, resume, take
from ..scenario.loader import check_seed, load_scenario
from ..scenario.parameters import Scenario, param_spec
from ..scenario.schema import value_at

__all__ = ["run_shared", "from_year", "cache_info", "clear_cache", "cache_limit", "sweep_cost",
           "CACHE_ENV", "DEFAULT_CACHE_MB"]

#: The environment variable bounding the cache (megabytes of snapshots per process).
CACHE_ENV = "POPSIM_BURN_IN_CACHE_MB"
#: Its default: a few dozen county snapshots (~4 MB each), or four of `china` (~60 MB).
DEFAULT_CACHE_MB = 256.0

_cache: OrderedDict[str, Snapshot] = OrderedDict()
_counts = {"hits": 0, "misses": 0}
_lock = threading.Lock()  # dask workers may run tasks in threads


def cache_limit() -> int:
    """The cache's bound in bytes, from :data:`CACHE_ENV` now (a number of megabytes >= 0)."""
    text = os.environ.get(CACHE_ENV, "").strip()
    if not text:
        return int(DEFAULT_CACHE_MB * 2**20)
    try:
        mb = float(text)
    except ValueError:
        mb = float("nan")
    if not mb >= 0 or mb == float("inf"):
        raise UsageError(f"{CACHE_ENV} = {text!r}: expected a number of megabytes >= 0 "
                         f"(0 turns the shared burn-in cache off; default {DEFAULT_CACHE_MB:g})")
    return int(mb * 2**20)


def cache_info() -> dict[str, int]:
    """This process's cache: ``entries``, ``nbytes`` held, ``limit`` (bytes), and the ``hits``
    and ``misses`` of :func:`run_shared` since the last :func:`clear_cache`."""
    with _lock:
        return {"entries": len(_cache), "nbytes": sum(s.nbytes for s in _cache.values()),
                "limit": cache_limit(), **_counts}


def clear_cache() -> None:
    """Forget every cached burn-in of this process."""
    with _lock:
        _cache.clear()
        _counts.update(hits=0, misses=0)


def _get(key: str) -> Snapshot | None:
    with _lock:
        snap = _cache.get(key)
        if snap is not None:
            _cache.move_to_end(key)
        _counts["hits" if snap is not None else "misses"] += 1
        return snap


def _put(key: str, snap: Snapshot, limit: int) -> None:
    """Keep ``snap`` if it fits under ``limit``, dropping the least recently used first."""
    if snap.nbytes > limit:
        return
    with _lock:
        _cache[key] = snap
        _cache.move_to_end(key)
        held = sum(s.nbytes for s in _cache.values())
        while held > limit:
            _, old = _cache.popitem(last=False)
            held -= old.nbytes


def run_shared(scenario: Scenario | str | Path, seed: int | None = None) -> xr.Dataset:
    """The dataset of ``popsim.run(scenario, seed)`` (``assert_identical``), its burn-in taken
    from this process's cache when a run with the same :func:`burn_in_key` had it.

    On a miss the run is simulated from the start, and its state at 1 January of
    ``run.start_year`` is cached (if it fits the bound) on the way."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    seed = scenario.run.seed if seed is None else check_seed(seed, "seed")
    limit = cache_limit()
    key = burn_in_key(scenario, seed) if limit else None
    snap = _get(key) if key else None
    if snap is not None:
        model = resume(snap, scenario)
    else:
        model = PopSimModel(scenario, seed)
        start = scenario.run.start_year
        while model.running and model.year < start:
            model.step()
        if key:
            _put(key, take(model), limit)
    model.run_to_end()
    ds = model.dataset()
    release(model)  # so that a worker's memory stays flat over many runs
    return ds


def from_year(scenario: Scenario, overrides: Mapping[str, Any], year: int | None = None,
              name: str | None = None) -> Scenario:
    """``scenario`` with ``overrides`` (``"section.field"``: a value or schedule, as in
    :func:`popsim.load_scenario`) acting from 1 January of ``year`` (default
    ``run.start_year``); every earlier year keeps ``scenario``'s values, so the result shares
    ``scenario``'s burn-in (:func:`run_shared`) and equals it before ``year``.

    Each changed field becomes a step schedule of its yearly values (the model reads values at
    1 January of each year, so this is exact)."""
    r = scenario.run
    year = r.start_year if year is None else int(year)
    first = r.start_year - r.burn_in_years
    plain = load_scenario(scenario, dict(overrides))
    switched: dict[str, Any] = {}
    for path in overrides:
        old, new = scenario.get(path), plain.get(path)
        if old != new and not param_spec(path).schedulable:
            raise ScenarioError(f"{path} takes no schedule, so it cannot change from {year}; "
                                f"set it for the whole run instead")
        points: list[list[Any]] = []
        for y in range(first, r.end_year + 1):
            v = value_at(old if y < year else new, y)
            v = list(v) if isinstance(v, tuple) else v
            if not points or points[-1][1] != v:
                points.append([y, v])
        switched[path] = points[0][1] if len(points) == 1 else {"step": points}
    if name is not None:
        switched["name"] = name
    return load_scenario(scenario, switched)


#: Eight lever packages of the county, each acting from ``run.start_year`` (:func:`sweep_cost`).
SWEEP_PACKAGES: dict[str, dict[str, Any]] = {
    "as_is": {},
    "no_propaganda": {"propaganda.reach": 0.0},
    "no_incentives": {"incentives.eligibility": "none", "incentives.benefit_per_year": 0.0,
                      "incentives.girl_birth_cash": 0.0},
    "no_crackdown": {"enforcement.inspections_per_month": 0.0, "enforcement.tip_reward": 0.0,
                     "enforcement.birth_audit": False},
    "no_registration": {"registration.coverage": 0.0, "registration.approval_required": False,
                        "enforcement.followup_capacity": 0.0},
    "strong_crackdown": {"enforcement.inspections_per_month": 40.0,
                         "enforcement.tip_reward": 5000.0},
    "big_incentives": {"incentives.benefit_per_year": 6000.0,
                       "incentives.girl_birth_cash": 2000.0},
    "accountability": {"enforcement.srb_target": 108.0, "enforcement.accountability": 0.1,
                       "enforcement.misreport": 0.01},
}


def sweep_cost(scenario: Scenario | str = "county", seed: int = 1,
               packages: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, float]:
    """CPU seconds (``time.process_time``) of a lever sweep in this process: each package of
    ``packages`` (default :data:`SWEEP_PACKAGES`) applied from ``run.start_year``
    (:func:`from_year`), one seed, run once with :func:`run_shared` from an empty cache, against
    one full run (:func:`popsim.run`) of the first package.

    Returns ``full_s`` (one full run), ``shared_per_run_s`` (the sweep's total over its runs,
    the one burn-in included), ``ratio`` (their quotient), ``hit_s`` (a run whose burn-in was
    cached), ``snapshot_bytes`` and ``restore_s`` (one :func:`~popsim.model.snapshot.resume`).
    Clears this process's cache before and after."""
    from ..api import run

    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    variants = [from_year(base, ov) for ov in (packages or SWEEP_PACKAGES).values()]
    clear_cache()
    warm = {"run.households": 500, "run.end_year": base.run.start_year,
            "run.burn_in_years": 1}  # first-call costs (imports, compiled kernels) off the clock
    run(load_scenario(base, warm), seed)
    t0 = time.process_time()
    run(variants[0], seed)
    full = time.process_time() - t0
    times = []
    for s in variants:
        t0 = time.process_time()
        run_shared(s, seed)
        times.append(time.process_time() - t0)
    snap = _get(burn_in_key(base, seed))
    t0 = time.process_time()
    if snap is not None:
        resume(snap, variants[-1])
    restore = time.process_time() - t0
    clear_cache()
    per_run = sum(times) / len(times)
    return {"full_s": full, "shared_per_run_s": per_run, "ratio": per_run / full,
            "hit_s": sum(times[1:]) / max(len(times) - 1, 1), "runs": float(len(times)),
            "snapshot_bytes": float(snap.nbytes if snap else 0), "restore_s": restore}
