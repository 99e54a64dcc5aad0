"""Sweep designs and tasks: the points of a spec's design and one task per run, made on demand.

A grid's points are the C-order product of its value lists (point ``i`` from its index, nothing
materialised); a sampled design (lhs, sobol) is drawn once in the unit cube from its own random
stream (:func:`unit_sample`) and mapped to each parameter's range. :class:`Tasks` pairs every
point with every replicate seed (``replicate_seeds(seed, replicates)``: the same seeds at every
point, i.e. common random numbers) and builds each task's scenario only when it is asked for.
:func:`run_task` is the worker every executor calls.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ScenarioError, SpecError
from ..model.streams import replicate_seeds
from ..scenario.loader import load_scenario
from ..scenario.parameters import Scenario
from .sweep_spec import SweepSpec

__all__ = ["unit_sample", "Points", "design_points", "check_points", "Tasks", "build_tasks",
           "select_outputs", "run_task"]

def _design_rng(seed: int) -> np.random.Generator:
    # Its own stream, so the design does not share draws with any replicate seed.
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(b"design"),)))


def unit_sample(spec: SweepSpec) -> np.ndarray:
    """The sampled design in the unit cube, one row per run (lhs and sobol)."""
    d = len(spec.parameters)
    if spec.design == "lhs":
        rng = _design_rng(spec.seed)
        strata = rng.permuted(np.tile(np.arange(spec.n), (d, 1)), axis=1).T
        return (strata + rng.random((spec.n, d))) / spec.n
    from SALib.sample import sobol
    problem = {"num_vars": d, "names": [p.path for p in spec.parameters],
               "bounds": [[0.0, 1.0]] * d}
    seed = int(_design_rng(spec.seed).integers(2**31))
    return sobol.sample(problem, spec.n, calc_second_order=spec.second_order, scramble=True,
                        seed=seed)


class Points(Sequence):
    """The design points as ``{path: value}``, in store order (C order for a grid), made on
    demand: a grid point from its index, a sampled point from one row of the unit sample."""

    def __init__(self, spec: SweepSpec):
        self.spec = spec
        self._counts = spec.shape[:-1] if spec.grid else None
        self._columns = None if spec.grid else \
            [p.from_unit(col) for p, col in zip(spec.parameters, unit_sample(spec).T)]

    def __len__(self) -> int:
        return math.prod(self.spec.shape[:-1])

    def __getitem__(self, i: int) -> dict[str, Any]:  # type: ignore[override]
        if not 0 <= i < len(self):
            raise IndexError(i)
        params = self.spec.parameters
        if self._columns is None:
            idx = np.unravel_index(i, self._counts)
            return {p.path: p.values[int(k)] for p, k in zip(params, idx)}
        return {p.path: col[i] for p, col in zip(params, self._columns)}

    def column(self, j: int) -> list[Any]:
        """Parameter ``j``'s value at every point of a sampled design."""
        if self._columns is None:
            raise ValueError("a grid's values are its parameters' value lists")
        return self._columns[j]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._columns is None:
            paths = [p.path for p in self.spec.parameters]
            for values in itertools.product(*(p.values for p in self.spec.parameters)):
                yield dict(zip(paths, values))
        else:
            yield from (self[i] for i in range(len(self)))


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every design point as ``{path: value}``, in store order (C order for a grid)."""
    return list(Points(spec))


def check_points(spec: SweepSpec) -> None:
    """Every design point must make a valid scenario (e.g. cross-field checks): checked one at a
    time before any run, keeping none of them."""
    for i, point in enumerate(Points(spec)):
        try:
            load_scenario(spec.base, point)
        except ScenarioError as e:
            shown = ", ".join(f"{k} = {v}" for k, v in point.items())
            raise SpecError(f"{spec.label} [parameters]: design point {i} ({shown}): {e}") \
                from None


def _outputs(spec: SweepSpec) -> tuple[tuple[str, ...], str, int]:
    return spec.variables, spec.resolution, spec.summary_years


class Tasks(Sequence):
    """One task per run, ordered like the run dimensions (design point, then replicate), each
    built when it is asked for (a task holds a whole scenario: ~17 kB)."""

    def __init__(self, spec: SweepSpec):
        self.spec = spec
        self.points = Points(spec)
        self.seeds = replicate_seeds(spec.seed, spec.replicates)

    def __len__(self) -> int:
        return len(self.points) * len(self.seeds)

    def __getitem__(self, k: int) -> tuple[Scenario, int, tuple]:  # type: ignore[override]
        if not 0 <= k < len(self):
            raise IndexError(k)
        point, r = divmod(k, len(self.seeds))
        return load_scenario(self.spec.base, self.points[point]), self.seeds[r], \
            _outputs(self.spec)


def build_tasks(spec: SweepSpec) -> Tasks:
    """The sweep's tasks, in run order (see :class:`Tasks`)."""
    return Tasks(spec)


def select_outputs(ds: xr.Dataset, variables, resolution: str, summary_years: int) -> xr.Dataset:
    """Keep ``variables`` of one run at the sweep's resolution (end-year means drop ``year``)."""
    out = ds[list(variables)]
    out.attrs = {}
    if resolution == "end_year":
        out = out.isel(year=slice(-summary_years, None)).mean("year", keep_attrs=True)
    return out


def run_task(task: tuple[Scenario, int, tuple]) -> xr.Dataset:
    """The worker: one run of one design point with one seed, reduced to the kept outputs.

    Module-level and pure, so process pools and dask workers can call it.
    """
    from ..api import run
    scenario, seed, (variables, resolution, summary_years) = task
    return select_outputs(run(scenario, seed), variables, resolution, summary_years)
