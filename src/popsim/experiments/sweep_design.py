"""Sweep designs and tasks: the points of a spec's design and one task per run, made on demand.

A grid's points are the C-order product of its value lists (point ``i`` from its index, nothing
materialised); a sampled design is drawn once in the unit cube from its own random stream
(:func:`sample_unit_cube`, seeded from the spec's seed: the same spec gives the same design) and
mapped to each parameter's range. The samplers are SciPy's and SALib's, not hand-written:

- ``lhs``: ``scipy.stats.qmc.LatinHypercube`` (McKay, Beckman & Conover 1979);
- ``sobol``: ``SALib.sample.sobol`` (Saltelli 2002; Saltelli et al. 2010), scrambled;
- ``morris``: ``SALib.sample.morris`` (Morris 1991; Campolongo et al. 2007);
- ``fast``: ``SALib.sample.fast_sampler``, the eFAST search curves (Saltelli et al. 1999).

:class:`Tasks` pairs every (package, point) with every replicate seed (``replicate_seeds(seed,
replicates)``: the same seeds at every point and for every package, i.e. common random numbers)
and, with an ensemble, replicate r with posterior draw r as well (``posterior.draws(replicates,
seed)``: common parameter draws); it builds each task's scenario only when it is asked for.
:func:`run_task` is the worker every executor calls.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ScenarioError, SpecError
from ..model.streams import replicate_seeds
from ..scenario.loader import load_scenario
from ..scenario.parameters import Scenario, param_spec
from ..workload import Workload
from .burnin import from_year
from .ensemble import scenario_bound
from .sweep_spec import SweepSpec, _with_packages, _workload

__all__ = ["unit_sample", "sample_unit_cube", "Points", "design_points", "check_points",
           "Tasks", "build_tasks", "apply_point", "select_outputs", "run_task",
           "sweep_workload"]


def _design_rng(seed: int) -> np.random.Generator:
    # Its own stream, so the design does not share draws with any replicate seed.
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(b"design"),)))


def sample_unit_cube(design: str, n: int, d: int, seed: int, *, second_order: bool = False,
                     levels: int | None = None, m: int | None = None) -> np.ndarray:
    """A sampled design of ``d`` parameters in the unit cube, one row per design point.

    A pure function of its arguments (all kept in a store's attrs), so an analysis can draw the
    same design again, e.g. Morris's trajectories on their grid levels before any rounding.
    """
    rng = _design_rng(seed)
    if design == "lhs":
        from scipy.stats import qmc
        return qmc.LatinHypercube(d, rng=rng).random(n)
    problem = {"num_vars": d, "names": [f"x{j}" for j in range(d)], "bounds": [[0.0, 1.0]] * d}
    salib_seed = int(rng.integers(2**31))
    if design == "sobol":
        from SALib.sample import sobol
        return sobol.sample(problem, n, calc_second_order=second_order, scramble=True,
                            seed=salib_seed)
    if design == "morris":
        from SALib.sample import morris
        return morris.sample(problem, n, num_levels=levels or 4, seed=salib_seed)
    if design == "fast":
        from SALib.sample import fast_sampler
        return fast_sampler.sample(problem, n, M=m or 4, seed=salib_seed)
    raise ValueError(f"{design!r} is not a sampled design")


def unit_sample(spec: SweepSpec) -> np.ndarray:
    """The spec's sampled design in the unit cube, one row per design point."""
    return sample_unit_cube(spec.design, int(spec.n), len(spec.parameters), spec.seed,
                            **spec.design_options)


class Points(Sequence):
    """The design points as ``{path: value}``, in store order (C order for a grid), made on
    demand: a grid point from its index, a sampled point from one row of the unit sample."""

    def __init__(self, spec: SweepSpec):
        self.spec = spec
        self._counts = spec.point_shape if spec.grid else None
        self._columns = None if spec.grid else \
            [p.from_unit(col) for p, col in zip(spec.parameters, unit_sample(spec).T)]

    def __len__(self) -> int:
        return math.prod(self.spec.point_shape)

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
    """Every design point (with every lever package) must make a valid scenario (e.g. cross-field
    checks), and so must every posterior draw: checked one at a time before any run, keeping none
    of them."""
    bases = [(None, spec.base)] if not spec.packages else \
        [(p.name, load_scenario(spec.base, p.overrides())) for p in spec.packages]
    for name, base in bases:
        for r, draw in enumerate(_draws(spec)):
            try:
                load_scenario(base, draw)
            except ScenarioError as e:
                package = f" with package '{name}'" if name else ""
                raise SpecError(f"{spec.label}: ensemble draw {r}{package}: {e}") from None
        for i, point in enumerate(Points(spec)):
            try:
                load_scenario(base, point)
            except ScenarioError as e:
                shown = ", ".join(f"{k} = {v}" for k, v in point.items())
                package = f" with package '{name}'" if name else ""
                raise SpecError(f"{spec.label} [parameters]: design point {i} ({shown})"
                                f"{package}: {e}") from None


def _outputs(spec: SweepSpec) -> tuple[tuple[str, ...], str, int]:
    return spec.variables, spec.resolution, spec.summary_years


def _draws(spec: SweepSpec) -> list[dict[str, Any]]:
    """Replicate r's posterior parameters (none without an ensemble; not the lever parameters of
    another scenario's history, :func:`popsim.experiments.ensemble.scenario_bound`)."""
    if spec.posterior is None:
        return [{}] * spec.replicates
    own = scenario_bound(spec.posterior, spec.base)
    return [{k: v for k, v in d.items() if k not in own}
            for d in spec.posterior.draws(spec.replicates, spec.seed)]


class Tasks(Sequence):
    """One task per run, ordered like the run dimensions (package, design point, replicate), each
    built when it is asked for (a task holds a whole scenario: ~17 kB). Every package meets the
    same design points with the same seeds (common random numbers)."""

    def __init__(self, spec: SweepSpec):
        self.spec = spec
        self.points = Points(spec)
        self.seeds = replicate_seeds(spec.seed, spec.replicates)
        self.draws = _draws(spec)
        self._bases = [apply_point(spec.base, p.overrides()) for p in spec.packages] or \
            [spec.base]

    def __len__(self) -> int:
        return len(self._bases) * len(self.points) * len(self.seeds)

    def __getitem__(self, k: int) -> tuple[Scenario, int, tuple]:  # type: ignore[override]
        if not 0 <= k < len(self):
            raise IndexError(k)
        rest, r = divmod(k, len(self.seeds))
        package, point = divmod(rest, len(self.points))
        # a posterior parameter is never swept nor set by a package (refused in the spec); a
        # draw holds for the whole run, as calibrated (a history's lever too, e.g. china's
        # programme intensity), while the design point's levers act from run.start_year
        base, draw = self._bases[package], self.draws[r]
        return apply_point(load_scenario(base, draw) if draw else base, self.points[point]), \
            self.seeds[r], _outputs(self.spec)


def apply_point(base: Scenario, values: Mapping[str, Any]) -> Scenario:
    """``base`` with a design point's, a package's or a posterior draw's ``values``.

    A lever's value acts from 1 January of ``run.start_year``, the base scenario's own history
    (the county's programmes since 1989) holding before it: a sweep asks what the levers do from
    the start of the recorded period, and runs that differ only there share one burn-in
    (:func:`popsim.experiments.burnin.run_shared`). Context parameters and run settings hold
    for the whole run, burn-in included, because they describe the county itself.
    """
    levers = {k: v for k, v in values.items() if param_spec(k).section_kind == "lever"}
    rest = {k: v for k, v in values.items() if k not in levers}
    scenario = load_scenario(base, rest) if rest else base
    return from_year(scenario, levers) if levers else scenario


def build_tasks(spec: SweepSpec) -> Tasks:
    """The sweep's tasks, in run order (see :class:`Tasks`)."""
    return Tasks(spec)


def sweep_workload(spec: SweepSpec, runs: int | None = None, workers: int = 1) -> Workload:
    """The estimated size of ``runs`` of ``spec``'s runs (default: all of them)."""
    params = {p.path: list(p.values) if p.values is not None else {"max": p.hi}
              for p in spec.parameters}
    return _workload(spec.base, _with_packages(params, spec.packages),
                     spec.runs if runs is None else runs, workers)


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
    from .burnin import run_shared
    scenario, seed, (variables, resolution, summary_years) = task
    return select_outputs(run_shared(scenario, seed), variables, resolution, summary_years)
