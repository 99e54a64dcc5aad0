"""Parameter sweeps: a TOML spec in (:mod:`popsim.sweep_spec`), one labelled xarray dataset
(a zarr store) out.

**Store.** The parent process is the only writer. The first finished run defines the template
(written whole with ``to_zarr(compute=False)`` into a temporary folder renamed into place); every
finished run is then written into its own region (chunk size 1 along the run dimensions, so no two
runs share a chunk) and only afterwards flagged in ``run_complete``. A sweep killed at any moment
therefore holds complete, flagged runs plus at most some unflagged ones, which ``resume`` simply
runs again: runs are pure functions of (scenario, seed), so the resumed dataset is identical to an
uninterrupted one. Resuming with a spec whose meaning differs is refused, naming the difference.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..scenario.loader import (scenario_hash, scenario_to_toml)
from ..scenario.parameters import param_spec
from ..provenance import software_versions
from ..model.streams import replicate_seeds

from .sweep_spec import RUN_DIM, SpecError, SweepSpec, build_tasks, design_points, run_task

__all__ = ["run_sweep", "open_sweep", "sweep_status", "spec_differences", "SweepResult",
           "run_shape", "swept_parameters"]

# ------------------------------------------------------------------------------------------------
# The store


def _attrs(spec: SweepSpec) -> dict[str, Any]:
    """Provenance (netCDF-safe: strings and numbers only; structures as JSON text)."""
    return {"title": f"popsim sweep '{spec.name}'", "sweep_name": spec.name,
            "sweep_description": spec.description, "spec_toml": spec.text,
            "spec_sha256": spec.sha256(), "spec_canonical": json.dumps(spec.canonical()),
            "base_scenario_toml": scenario_to_toml(spec.base),
            "base_scenario_sha256": scenario_hash(spec.base), "design": spec.design,
            "design_n": -1 if spec.n is None else spec.n,
            "sobol_second_order": int(spec.second_order),
            "parameters": json.dumps([p.path for p in spec.parameters]),
            "variables": json.dumps(list(spec.variables)), "resolution": spec.resolution,
            "summary_years": spec.summary_years, "replicates": spec.replicates,
            "seed": spec.seed, "natural_srb": float(spec.base.behaviour.natural_srb),
            **software_versions()}


def _coord(values: list[Any], dims: tuple[str, ...], path: str) -> xr.Variable:
    p = param_spec(path)
    arr = np.array(values, dtype=object if isinstance(values[0], str) else None)
    return xr.Variable(dims, arr, {"units": p.unit, "long_name": p.description})


def _template(spec: SweepSpec, first: xr.Dataset) -> tuple[xr.Dataset, dict]:
    """The full sweep dataset, lazily filled with NaN; its shape taken from one finished run."""
    import dask.array as da

    coords: dict[str, Any] = {}
    if spec.grid:
        for p in spec.parameters:
            coords[p.path] = _coord(list(p.values), (p.path,), p.path)
    else:
        points = design_points(spec)
        coords[RUN_DIM] = xr.Variable(RUN_DIM, np.arange(len(points)),
                                      {"long_name": f"design point ({spec.design} sample)"})
        for p in spec.parameters:
            coords[p.path] = _coord([pt[p.path] for pt in points], (RUN_DIM,), p.path)
    coords["replicate"] = xr.Variable("replicate", np.arange(spec.replicates),
                                      {"long_name": "replicate"})
    coords["seed"] = xr.Variable("replicate", np.array(replicate_seeds(spec.seed,
                                                                       spec.replicates)),
                                 {"long_name": "root seed of the replicate, the same at every "
                                               "design point (common random numbers)"})
    for name, c in first.coords.items():
        values = c.values.astype(object) if c.dtype.kind == "U" else c.values
        coords[name] = xr.Variable(c.dims, values, c.attrs)
    shape = run_shape(spec)
    data, encoding = {}, {}
    for name in spec.variables:
        v = first[name]
        chunks = (1,) * len(shape) + v.shape
        data[name] = xr.Variable(spec.run_dims + v.dims,
                                 da.full(shape + v.shape, np.nan, chunks=chunks, dtype=v.dtype),
                                 v.attrs)
        encoding[name] = {"chunks": chunks}
    data["run_complete"] = xr.Variable(spec.run_dims, np.zeros(shape, bool),
                                       {"long_name": "run finished and written"})
    encoding["run_complete"] = {"chunks": (1,) * len(shape)}
    return xr.Dataset(data, coords=coords, attrs=_attrs(spec)), encoding


def run_shape(spec: SweepSpec) -> tuple[int, ...]:
    """Sizes of the run dimensions: value counts (grid) or design points, then replicates."""
    if spec.grid:
        points = tuple(len(p.values) for p in spec.parameters)
    elif spec.design == "lhs":
        points = (spec.n,)
    else:  # Saltelli: N (D + 2) rows, or N (2D + 2) with second-order indices
        d = len(spec.parameters)
        points = (spec.n * (2 * d + 2 if spec.second_order else d + 2),)
    return points + (spec.replicates,)


def _region(spec: SweepSpec, task_index: int) -> dict[str, slice]:
    idx = np.unravel_index(task_index, run_shape(spec))
    return {d: slice(int(i), int(i) + 1) for d, i in zip(spec.run_dims, idx)}


def _write_run(store: Path, spec: SweepSpec, task_index: int, result: xr.Dataset) -> None:
    region = _region(spec, task_index)
    one = result.drop_vars(list(result.coords)).expand_dims({d: 1 for d in spec.run_dims})
    for v in one.data_vars.values():
        v.attrs = {}
    one.to_zarr(store, region=region, consolidated=False)
    # Flagged only once its data is on disk: a kill in between leaves an unflagged run, redone.
    done = xr.Dataset({"run_complete": (spec.run_dims, np.ones((1,) * len(region), bool))})
    done.to_zarr(store, region=region, consolidated=False)


def _stored_attrs(store: Path) -> dict[str, Any]:
    import zarr
    try:
        attrs = dict(zarr.open_group(str(store), mode="r").attrs)
    except Exception as e:  # noqa: BLE001 - any failure to open means "not a sweep store"
        raise SpecError(f"{store} is not a readable sweep store ({type(e).__name__}: {e})") \
            from None
    if "spec_canonical" not in attrs:
        raise SpecError(f"{store} is a zarr store but not a popsim sweep")
    return attrs


def sweep_status(store: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """``(run_complete flags as a flat array in task order, store attrs)``."""
    store = Path(store)
    attrs = _stored_attrs(store)
    with xr.open_zarr(store, consolidated=False) as ds:
        flags = ds["run_complete"].values.reshape(-1)
    return flags, attrs


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
        for sub in old[key]:
            if old[key][sub] != new[key][sub]:
                out.append(f"{key}.{sub}: {json.dumps(old[key][sub])} -> "
                           f"{json.dumps(new[key][sub])}")
    for key in ("replicates", "seed"):
        if old[key] != new[key]:
            out.append(f"{key}: {old[key]} -> {new[key]}")
    return out


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` did: runs in the sweep, found complete, run now; seconds taken."""

    store: Path
    total: int
    skipped: int
    ran: int
    seconds: float


def _prepare(spec: SweepSpec, store: Path, resume: bool, overwrite: bool) -> np.ndarray | None:
    """Check the store against the request; return the completion flags of a resumed sweep."""
    if not store.exists():
        return None
    if store.is_file():
        raise SpecError(f"{store} is a file, not a sweep store")
    if overwrite:
        _stored_attrs(store)  # refuse to delete a folder that is not a sweep
        shutil.rmtree(store)
        return None
    flags, attrs = sweep_status(store)
    if not resume:
        raise SpecError(f"{store} already exists ({int(flags.sum())} of {flags.size} runs "
                        f"complete); pass --resume to continue it or --overwrite to start again")
    diff = spec_differences(attrs, spec)
    if diff:
        raise SpecError(f"refusing to resume {store}: the spec differs from the one it was "
                        f"started with: " + "; ".join(diff) + " (use a new --out, or "
                        "--overwrite to start again)")
    versions = software_versions()
    if attrs.get("git_commit") != versions["git_commit"] or \
            attrs.get("popsim_version") != versions["popsim_version"]:
        print(f"popsim: note: {store} was started with popsim {attrs.get('popsim_version')} "
              f"(commit {attrs.get('git_commit') or 'none'}); resuming with "
              f"{versions['popsim_version']} (commit {versions['git_commit'] or 'none'})",
              file=sys.stderr)
    return flags


@contextlib.contextmanager
def _writer_lock(store: Path) -> Iterator[None]:
    """Hold an exclusive lock beside ``store`` so that a second ``popsim sweep`` on the same store
    is refused instead of racing the first; the kernel drops it when the process dies."""
    import fcntl

    store.parent.mkdir(parents=True, exist_ok=True)
    with open(store.parent / f".{store.name}.lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            raise SpecError(f"another popsim sweep (pid {fh.read().strip() or '?'}) is writing "
                            f"{store}; wait for it or stop it first") from None
        fh.truncate(0)
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_sweep(spec: SweepSpec, store: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
              progress: bool = True) -> SweepResult:
    """Run every unfinished run of ``spec`` into the zarr ``store``; this process is the writer.

    ``workers``/``scheduler`` choose the executor as :func:`popsim.executors.map_tasks` does (1:
    in this process; default: a process pool; ``scheduler``: dask). With ``resume`` an existing
    store made by the same spec is continued; a different spec is refused.
    """
    from tqdm import tqdm

    from .executors import map_tasks
    from ..io import atomic_path

    store = Path(store)
    with _writer_lock(store):
        flags = _prepare(spec, store, resume, overwrite)
        tasks = build_tasks(spec)
        todo = list(range(len(tasks))) if flags is None else \
            [int(i) for i in np.flatnonzero(~flags)]
        skipped = len(tasks) - len(todo)
        start = time.perf_counter()
        bar = tqdm(total=len(tasks), initial=skipped, desc=spec.name, unit="run",
                   file=sys.stderr, disable=not progress or not todo, dynamic_ncols=True)
        exists = store.exists()
        results = map_tasks(run_task, [tasks[i] for i in todo], workers=workers,
                            scheduler=scheduler) if todo else iter(())
        try:
            for k, result in results:
                if not exists:
                    template, encoding = _template(spec, result)
                    with atomic_path(store) as tmp:
                        template.to_zarr(tmp, compute=False, encoding=encoding,
                                         consolidated=False)
                    exists = True
                _write_run(store, spec, todo[k], result)
                bar.update(1)
        except KeyboardInterrupt:
            bar.close()
            done = int(sweep_status(store)[0].sum()) if exists else 0
            print(f"popsim: sweep interrupted with {done} of {len(tasks)} runs complete in "
                  f"{store}; continue it with --resume", file=sys.stderr)
            raise
        finally:
            bar.close()
    return SweepResult(store, len(tasks), skipped, len(todo), time.perf_counter() - start)


def open_sweep(store: str | Path, *, complete: bool = True) -> xr.Dataset:
    """Open a sweep store lazily, variables in spec order.

    With ``complete`` (the default) a sweep with unfinished runs is refused (their values are NaN);
    pass ``complete=False`` to look at a sweep while it runs.
    """
    store = Path(store)
    if not store.exists():
        raise SpecError(f"no sweep store at {store}")
    attrs = _stored_attrs(store)
    ds = xr.open_zarr(store, consolidated=False)
    order = json.loads(attrs["variables"]) + ["run_complete"]
    ds = ds[order]
    if complete:
        flags = ds["run_complete"].values
        if not flags.all():
            raise SpecError(f"{store} is incomplete: {int(flags.sum())} of {flags.size} runs "
                            f"finished; finish it with 'popsim sweep SPEC --out {store} "
                            f"--resume'")
    return ds


def swept_parameters(ds: xr.Dataset) -> list[str]:
    """The swept parameter paths of a sweep dataset, in spec order."""
    return json.loads(ds.attrs["parameters"])
