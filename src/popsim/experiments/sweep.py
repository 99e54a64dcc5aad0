"""Parameter sweeps: a TOML spec in (:mod:`popsim.experiments.sweep_spec`), one labelled xarray
dataset (a zarr store) out.

**Store.** The parent process is the only writer. The first finished run defines the template
(written whole with ``to_zarr(compute=False)`` into a temporary folder renamed into place); every
finished run is then written into its own region (chunk size 1 along the run dimensions, so no two
runs share a chunk), then its digest, and only then flagged in ``run_complete``
(:mod:`popsim.experiments.sweep_store`). A sweep killed at any moment therefore holds complete,
flagged runs plus at most some unflagged ones, which ``resume`` simply runs again: runs are pure
functions of (scenario, seed), so the resumed dataset is identical to an uninterrupted one.
Resuming with a spec whose meaning differs is refused, naming the difference. Resuming a damaged
store (a chunk or metadata file deleted, truncated or altered) repairs it: exactly the runs that do
not verify against their digest are run again. :func:`open_sweep` (and so ``export``, ``plot``,
``sensitivity``) verifies every run first and never returns data of a run that does not verify.

**Size.** Before any work the runner counts the runs and refuses a request too large for the
machine or, without ``yes`` (``--yes``), estimated at more than
:data:`popsim.workload.MAX_CPU_HOURS` of CPU (:func:`popsim.workload.check_workload`).

**Testing hook.** With the environment variable ``POPSIM_TEST_PAUSE_AFTER=k`` the runner, after
committing its k-th run (data, digest and flag on disk), prints ``popsim: paused after k runs`` to
stderr and waits (up to ten minutes) until it is interrupted or killed, so that a test can stop a
sweep at a known point whatever the machine's load. It is for tests only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import StoreError
from ..provenance import software_versions
from ..scenario.loader import scenario_hash, scenario_to_toml
from ..scenario.parameters import param_spec
from ..workload import check_workload
from .ensemble import draw_coords, ensemble_attrs
from .sweep_design import Points, Tasks, check_points, run_task, sweep_workload
from .sweep_spec import PACKAGE_DIM, RUN_DIM, SweepSpec
from .sweep_store import (COMPLETE, DIGEST, FRAME_ATTR, StoreCheck, check_store,
                          frame_digest, load_masked, quiet_consolidated, rebuild_frame,
                          restore_metadata, run_digest, writer_lock)

__all__ = ["run_sweep", "open_sweep", "sweep_status", "spec_differences", "SweepResult",
           "swept_parameters", "packages", "cf_attrs", "PAUSE_AFTER_ENV"]

#: environment variable of the testing hook (see the module docstring)
PAUSE_AFTER_ENV = "POPSIM_TEST_PAUSE_AFTER"
_PAUSE_SECONDS = 600.0

# ------------------------------------------------------------------------------------------------
# The store


#: long names of the run's label coordinates that a run leaves without attributes (CF: every
#: coordinate says what it is)
_COORD_NAMES = {"sex": "sex of the child", "route": "route to a sex determination or abortion",
                "source": "source of detection of a case", "age_group": "mother's age group",
                "location": "provider location", "parity": "birth order",
                "township": "township index", "year": "calendar year"}


def cf_attrs(spec: SweepSpec) -> dict[str, str]:
    """CF-1.10 global attributes (Conventions, title, history, source, institution).

    ``history`` is deterministic (no time stamp), so equal sweeps stay identical datasets; every
    later step (an export) appends one line to it.
    """
    versions = software_versions()
    commit = versions["git_commit"]
    return {"Conventions": "CF-1.10",
            "history": f"popsim {versions['popsim_version']} sweep '{spec.name}' (spec sha256 "
                       f"{spec.sha256()[:16]}): {spec.runs} runs of scenario "
                       f"'{spec.scenario}'",
            "source": f"popsim {versions['popsim_version']}" +
                      (f" (commit {commit[:12]})" if commit else "") +
                      ", an agent-based model of the sex ratio at birth (Mesa "
                      f"{versions['mesa_version']})",
            "institution": "not recorded (popsim does not know who ran the sweep)",
            "references": "popsim sweep spec in the attribute spec_toml"}


def _attrs(spec: SweepSpec) -> dict[str, Any]:
    """Provenance (netCDF-safe: strings and numbers only; structures as JSON text)."""
    return {"title": f"popsim sweep '{spec.name}'", **cf_attrs(spec), "sweep_name": spec.name,
            "sweep_description": spec.description, "spec_toml": spec.text,
            "spec_sha256": spec.sha256(), "spec_canonical": json.dumps(spec.canonical()),
            "base_scenario_toml": scenario_to_toml(spec.base),
            "base_scenario_sha256": scenario_hash(spec.base), "design": spec.design,
            "design_n": -1 if spec.n is None else spec.n,
            "sobol_second_order": int(spec.second_order),
            "design_options": json.dumps(spec.design_options),
            "parameters": json.dumps([p.path for p in spec.parameters]),
            "packages": json.dumps([[p.name, p.overrides()] for p in spec.packages]),
            "variables": json.dumps(list(spec.variables)), "resolution": spec.resolution,
            "summary_years": spec.summary_years, "replicates": spec.replicates,
            "seed": spec.seed, "natural_srb": float(spec.base.behaviour.natural_srb),
            **software_versions(),
            **({} if spec.posterior is None else
               ensemble_attrs(spec.posterior, spec.replicates, spec.seed))}


def _spec_coords(spec: SweepSpec) -> dict[str, tuple[tuple[str, ...], np.ndarray, dict]]:
    """The coordinates the spec alone determines: name -> (dims, values, attrs)."""
    def values(v: list[Any]) -> np.ndarray:
        return np.array(v, dtype=object if isinstance(v[0], str) else None)

    def attrs(path: str) -> dict[str, str]:
        p = param_spec(path)  # "1": CF's unit of a dimensionless number
        return {"units": "1" if p.unit in ("", "-") else p.unit, "long_name": p.description}

    coords: dict[str, tuple[tuple[str, ...], np.ndarray, dict]] = {}
    if spec.packages:
        coords[PACKAGE_DIM] = ((PACKAGE_DIM,), values([p.name for p in spec.packages]),
                               {"long_name": "lever package (run at every design point with the "
                                             "same seeds: common random numbers)"})
        coords["package_levers"] = ((PACKAGE_DIM,),
                                    values([p.describe() for p in spec.packages]),
                                    {"long_name": "the package's lever values"})
    if spec.grid:
        for p in spec.parameters:
            coords[p.path] = ((p.path,), values(list(p.values)), attrs(p.path))
    else:
        points = Points(spec)
        coords[RUN_DIM] = ((RUN_DIM,), np.arange(len(points)),
                           {"long_name": f"design point ({spec.design} sample)"})
        for j, p in enumerate(spec.parameters):
            coords[p.path] = ((RUN_DIM,), values(points.column(j)), attrs(p.path))
    coords["replicate"] = (("replicate",), np.arange(spec.replicates),
                           {"long_name": "replicate (its seed is the same at every design point)"})
    coords["seed"] = (("replicate",), np.array(Tasks(spec).seeds),
                      {"long_name": "root seed of the replicate, the same at every design point "
                                    "(common random numbers)"})
    if spec.posterior is not None:  # replicate r's posterior draw, the same at every point
        coords.update(draw_coords(spec.posterior, spec.replicates, spec.seed))
    return coords


def _template(spec: SweepSpec, first: xr.Dataset) -> tuple[xr.Dataset, dict]:
    """The full sweep dataset, lazily filled with NaN; its shape taken from one finished run."""
    import dask.array as da

    coords: dict[str, Any] = {name: xr.Variable(*c) for name, c in _spec_coords(spec).items()}
    for name, c in first.coords.items():
        values = c.values.astype(object) if c.dtype.kind == "U" else c.values
        attrs = dict(c.attrs)
        if "long_name" not in attrs and "standard_name" not in attrs:
            attrs["long_name"] = _COORD_NAMES.get(str(name), str(name).replace("_", " "))
        coords[name] = xr.Variable(c.dims, values, attrs)
    shape = spec.shape
    ones = (1,) * len(shape)
    data, encoding = {}, {}
    for name in spec.variables:
        v = first[name]
        chunks = ones + v.shape
        data[name] = xr.Variable(spec.run_dims + v.dims,
                                 da.full(shape + v.shape, np.nan, chunks=chunks, dtype=v.dtype),
                                 v.attrs)
        encoding[name] = {"chunks": chunks}
    data[COMPLETE] = xr.Variable(spec.run_dims, da.zeros(shape, dtype=bool, chunks=ones),
                                 {"long_name": "run finished and written"})
    data[DIGEST] = xr.Variable(spec.run_dims, da.zeros(shape, dtype=np.uint64, chunks=ones),
                               {"long_name": "first 64 bits of the SHA-256 of the run's spec, "
                                             "index and values (0: not finished)"})
    for name in (COMPLETE, DIGEST):
        encoding[name] = {"chunks": ones}
    ds = xr.Dataset(data, coords=coords, attrs=_attrs(spec))
    ds.attrs[FRAME_ATTR] = frame_digest({name: ds[name].values for name in ds.coords})
    return ds, encoding


def _write_template(spec: SweepSpec, first: xr.Dataset, path: Path,
                    provenance: dict[str, Any] | None = None) -> None:
    """The template at ``path``; ``provenance`` keeps the versions a rebuilt store started with."""
    template, encoding = _template(spec, first)
    template.attrs.update({k: v for k, v in (provenance or {}).items()
                           if k in software_versions()})
    with quiet_consolidated():
        template.to_zarr(path, compute=False, encoding=encoding, consolidated=True,
                         write_empty_chunks=True)


class _Writer:
    """Commits finished runs: data region, then digest, then flag (each on disk before the next)."""

    def __init__(self, spec: SweepSpec, store: Path):
        self.spec, self.store, self.sha = spec, store, spec.sha256()
        self._flags = self._digests = None

    def _arrays(self):
        import zarr

        if self._flags is None:
            self._flags = zarr.open_array(str(self.store / COMPLETE), mode="r+")
            self._digests = zarr.open_array(str(self.store / DIGEST), mode="r+")
        return self._flags, self._digests

    def commit(self, k: int, result: xr.Dataset) -> None:
        idx = tuple(int(i) for i in np.unravel_index(k, self.spec.shape))
        region = {d: slice(i, i + 1) for d, i in zip(self.spec.run_dims, idx)}
        one = result[list(self.spec.variables)].drop_vars(list(result.coords))
        one = one.expand_dims({d: 1 for d in self.spec.run_dims})
        for v in one.data_vars.values():
            v.attrs = {}
        # every chunk is written, even one equal to the fill value: a missing chunk is damage
        one.to_zarr(self.store, region=region, consolidated=False, write_empty_chunks=True)
        flags, digests = self._arrays()
        digests[idx] = np.uint64(run_digest(self.sha, k, (result[v].values
                                                          for v in self.spec.variables)))
        flags[idx] = True  # only once data and digest are on disk

    def set_flags(self, runs: list[int], value: bool) -> None:
        """Flag verified runs whose flag was lost, or clear damaged runs before they run again
        (a kill during the repair then leaves them unfinished, not falsely complete)."""
        flags, digests = self._arrays()
        for k in runs:
            idx = tuple(int(i) for i in np.unravel_index(k, self.spec.shape))
            flags[idx] = value
            if not value:
                digests[idx] = np.uint64(0)


def _flat_scenario(toml_text: str) -> dict[str, Any]:
    data = tomllib.loads(toml_text)
    return {f"{s}.{f}": v for s, t in data.items() if isinstance(t, dict) for f, v in t.items()}


def spec_differences(stored: dict[str, Any], spec: SweepSpec) -> list[str]:
    """How ``spec`` differs in meaning from the spec a store was made with (empty if not at all)."""
    old, new = json.loads(stored["spec_canonical"]), spec.canonical()
    out = []
    if old["base_scenario_sha256"] != new["base_scenario_sha256"]:
        a = _flat_scenario(stored["base_scenario_toml"])
        b = _flat_scenario(scenario_to_toml(spec.base))
        changed = [f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b))
                   if a.get(k) != b.get(k)]
        out.append("base scenario: " + ("; ".join(changed) or "changed"))
    for path in dict.fromkeys(list(old["parameters"]) + list(new["parameters"])):
        a, b = old["parameters"].get(path), new["parameters"].get(path)
        if a != b:
            out.append(f"parameter {path}: " + ("not swept" if a is None else json.dumps(a))
                       + " -> " + ("not swept" if b is None else json.dumps(b)))
    if not out and old["parameter_order"] != new["parameter_order"]:
        out.append(f"parameter order: {old['parameter_order']} -> {new['parameter_order']}")
    for key in ("design", "outputs"):
        for sub in dict.fromkeys([*old[key], *new[key]]):
            if old[key].get(sub) != new[key].get(sub):
                out.append(f"{key}.{sub}: {json.dumps(old[key].get(sub))} -> "
                           f"{json.dumps(new[key].get(sub))}")
    if old.get("packages") != new.get("packages"):
        out.append(f"packages: {json.dumps(old.get('packages'))} -> "
                   f"{json.dumps(new.get('packages'))}")
    for key in ("replicates", "seed", "ensemble_sha256"):
        if old.get(key) != new.get(key):
            out.append(f"{key}: {old.get(key)} -> {new.get(key)}")
    return out


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` did: runs in the sweep, found complete, run now (of which damaged
    runs run again); seconds taken."""

    store: Path
    total: int
    skipped: int
    ran: int
    seconds: float
    repaired: int = 0


def _check(spec: SweepSpec, store: Path) -> StoreCheck:
    return check_store(store, spec_sha=spec.sha256(), variables=list(spec.variables),
                       shape=spec.shape, dims=list(spec.run_dims))


def _note(text: str) -> None:
    print(f"popsim: note: {text}", file=sys.stderr)


def _prepare(spec: SweepSpec, store: Path, resume: bool, overwrite: bool) -> StoreCheck | None:
    """Check the store against the request; return the check of a resumed sweep (None: new)."""
    if store.is_dir() and not any(store.iterdir()):
        store.rmdir()  # an empty folder is no sweep yet
    if not store.exists():
        return None
    if store.is_file():
        raise StoreError(f"{store} is a file, not a sweep store")
    if overwrite:
        check_store(store)  # refuse to delete a folder that is not a sweep
        shutil.rmtree(store)
        return None
    check = _check(spec, store)
    if not resume:
        raise StoreError(f"{store} already exists ({int(check.complete.sum())} of "
                         f"{check.total} runs complete); pass --resume to continue it or "
                         f"--overwrite to start again")
    if check.attrs is not None:
        diff = spec_differences(check.attrs, spec)
        if diff:
            raise StoreError(f"refusing to resume {store}: the spec differs from the one it was "
                             f"started with: " + "; ".join(diff) + " (use a new --out, or "
                             "--overwrite to start again)")
        versions = software_versions()
        if check.attrs.get("git_commit") != versions["git_commit"] or \
                check.attrs.get("popsim_version") != versions["popsim_version"]:
            _note(f"{store} was started with popsim {check.attrs.get('popsim_version')} (commit "
                  f"{check.attrs.get('git_commit') or 'none'}); resuming with "
                  f"{versions['popsim_version']} (commit {versions['git_commit'] or 'none'})")
    if check.frame or check.damaged:
        _note(check.describe_damage() + "; repairing it")
    if check.restorable or check.attrs is None:
        run_arrays = [*spec.variables, COMPLETE, DIGEST]
        expected = {name: c[1] for name, c in _spec_coords(spec).items()}
        restore_metadata(check, _attrs(spec), run_arrays, expected)
        check = _check(spec, store)
    return check


def _pause_after() -> int | None:
    raw = os.environ.get(PAUSE_AFTER_ENV, "").strip()
    return int(raw) if raw.isdigit() else None


def _pause(k: int) -> None:
    print(f"popsim: paused after {k} runs ({PAUSE_AFTER_ENV})", file=sys.stderr, flush=True)
    deadline = time.monotonic() + _PAUSE_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)


def run_sweep(spec: SweepSpec, store: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
              progress: bool = True, yes: bool = False) -> SweepResult:
    """Run every unfinished run of ``spec`` into the zarr ``store``; this process is the writer.

    ``workers``/``scheduler`` choose the executor as
    :func:`popsim.experiments.executors.map_tasks` does (1: in this process; default: a process
    pool; ``scheduler``: dask). With ``resume`` an existing store made by the same spec is
    continued (and repaired); a different spec is refused. A request larger than the machine, or
    (without ``yes``) estimated at more than ``MAX_CPU_HOURS`` of CPU, is refused before any work.
    """
    from tqdm import tqdm

    from ..io import atomic_path, clean_stale_temporaries
    from .executors import default_workers, executor_name, map_tasks

    store = Path(store)
    parallel = 1 if executor_name(workers, scheduler) == "serial" else \
        (workers or default_workers())
    what = f"{spec.label}: sweep '{spec.name}'"
    if not resume:
        check_workload(sweep_workload(spec, workers=parallel), yes=yes, what=what)
        check_points(spec)
    with writer_lock(store):
        clean_stale_temporaries(store.parent)  # of a writer killed while making a frame
        check = _prepare(spec, store, resume, overwrite)
        tasks = Tasks(spec)
        todo = list(range(len(tasks))) if check is None or check.shape is None else \
            [int(k) for k in np.flatnonzero(~check.complete)]
        if resume:
            check_workload(sweep_workload(spec, runs=len(todo), workers=parallel), yes=yes,
                           what=f"{what} (the runs left)")
            check_points(spec)
        writer = _Writer(spec, store)
        start = time.perf_counter()
        ran = 0
        damaged = set() if check is None else set(check.damaged)
        if check is not None and check.frame:  # not restorable: a new frame from a new run
            k0 = todo[0] if todo else 0
            _note(f"writing the frame of {store} (metadata and coordinates) anew from run {k0}")
            result = run_task(tasks[k0])
            rebuild_frame(store, lambda path: _write_template(spec, result, path, check.attrs),
                          [*spec.variables, COMPLETE, DIGEST])
            writer.commit(k0, result)
            ran = 1
            check = _check(spec, store)
            damaged |= set(check.damaged)
            todo = [int(k) for k in np.flatnonzero(~check.complete)]
        if check is not None:
            writer.set_flags(check.reflag, True)
            writer.set_flags(sorted(check.damaged), False)
        skipped = len(tasks) - len(todo) - ran
        pause_after = _pause_after()
        bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=spec.name, unit="run",
                   file=sys.stderr, disable=not progress or not todo, dynamic_ncols=True)
        exists = store.exists()
        results = map_tasks(run_task, _Subset(tasks, todo), workers=workers,
                            scheduler=scheduler) if todo else iter(())
        committed = 0
        try:
            for i, result in results:
                if not exists:
                    with atomic_path(store) as tmp:
                        _write_template(spec, result, tmp)
                    exists = True
                writer.commit(todo[i], result)
                committed += 1
                bar.update(1)
                if committed == pause_after:
                    _pause(committed)
        except KeyboardInterrupt:
            bar.close()
            print(f"popsim: sweep interrupted with {len(tasks) - len(todo) + committed} of "
                  f"{len(tasks)} runs complete in {store}; continue it with --resume",
                  file=sys.stderr)
            raise
        finally:
            bar.close()
    return SweepResult(store, len(tasks), skipped, ran + len(todo), time.perf_counter() - start,
                       len(damaged))


class _Subset:
    """The tasks at ``indices`` (built one at a time, as the executor asks for them)."""

    def __init__(self, tasks: Tasks, indices: list[int]):
        self.tasks, self.indices = tasks, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        return self.tasks[self.indices[i]]

    def __iter__(self):
        return (self.tasks[k] for k in self.indices)


def sweep_status(store: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """``(flags of the runs finished and verified, as a flat array in task order, store attrs)``.

    A damaged run counts as unfinished (``popsim sweep --resume`` runs it again); a store whose
    metadata is damaged beyond what can be read raises :class:`StoreError`.
    """
    check = check_store(store)
    if check.attrs is None or check.shape is None:
        raise StoreError(check.describe_damage() + "; " + check.repair_hint())
    finished = check.complete.copy()
    finished[check.reflag] = False
    return finished, check.attrs


def open_sweep(store: str | Path, *, complete: bool = True, load: bool = False) -> xr.Dataset:
    """Open a sweep store, variables in spec order, after verifying every run.

    A damaged store is refused, naming what is damaged and which runs. With ``complete`` (the
    default) a sweep with unfinished runs is refused too; ``complete=False`` returns it with the
    unfinished runs' values NaN (their data is not read), e.g. to look at a sweep while it runs.
    The dataset is lazy (read when used); with ``load`` it is in memory, filled from the values
    the verification has just read, so a reader of the whole sweep (export, sensitivity) reads
    it once, not twice.
    """
    store = Path(store)
    check = check_store(store, keep=load)
    if check.frame or check.damaged or check.shape is None:
        raise StoreError(check.describe_damage() + "; " + check.repair_hint())
    finished = check.complete.copy()
    finished[check.reflag] = False
    if complete and not finished.all():
        raise StoreError(f"{store} is incomplete: {int(finished.sum())} of {finished.size} runs "
                         f"finished; finish it with 'popsim sweep SPEC --out {store} --resume'")
    order = json.loads(check.attrs["variables"]) + [COMPLETE, DIGEST]
    # chunks=None: lazily indexed arrays read whole by zarr, not a dask graph of one task per
    # run and variable (thousands of tasks for a sobol store: most of the time of a load)
    full = xr.open_zarr(store, consolidated=True, chunks=None)
    ds = full[order]
    # coordinates on no dimension of a variable (an ensemble's draw_value) are kept too
    ds = ds.assign_coords({k: full.coords[k] for k in full.coords if k not in ds.coords})
    if not finished.all():
        check.complete = finished
        for name, values in load_masked(store, check, order).items():
            ds[name] = xr.Variable(ds[name].dims, values, ds[name].attrs)
    elif load and check.values is not None:
        for name in order:
            v = ds[name]
            ds[name] = xr.Variable(v.dims, check.values[name].astype(v.dtype, copy=False),
                                   v.attrs, encoding=v.encoding)
        ds = ds.load()  # the coordinates
    return ds


def swept_parameters(ds: xr.Dataset) -> list[str]:
    """The swept parameter paths of a sweep dataset, in spec order."""
    return json.loads(ds.attrs["parameters"])


def packages(ds: xr.Dataset) -> list[str]:
    """The names of a sweep's lever packages (empty: a sweep without packages)."""
    return [name for name, _ in json.loads(ds.attrs.get("packages", "[]"))]
