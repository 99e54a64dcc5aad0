"""Sweep specs: what a parameter sweep varies, how, and what it keeps.

A *sweep spec* names a base scenario (plus overrides), the parameters to vary (any schema path,
as a list of values or a ``{min, max[, num]}`` range), a design, replicates, a root seed and the
outputs to keep::

    name = "enforcement_incentive_grid"  # names the store results/<name>.zarr: [A-Za-z0-9_.-]
    scenario = "county"                 # embedded name, or a .toml path from the spec's folder
    seed = 20240501                     # replicate r runs with replicate_seeds(seed, R)[r]
    replicates = 3
    [overrides]                         # applied to every run
    "run.end_year" = 2010
    [parameters]
    "enforcement.inspections_per_month" = [0, 10, 40]
    "incentives.benefit_per_year" = { min = 0, max = 6000, num = 4 }
    [design]
    kind = "grid"                       # see DESIGNS below
    [outputs]
    resolution = "yearly"               # or "end_year": mean of the last summary_years years
    variables = ["srb", "srb_by_parity"]  # default: every variable of a run

Levers act from ``run.start_year``, context for the whole run (:func:`.sweep_design.apply_point`).

**Designs** (``[design] kind``), each drawn by SALib or SciPy from the spec's seed (same spec, same
design; :mod:`popsim.experiments.sweep_design`):

- ``grid``: every combination of the value lists (its size is their product);
- ``lhs``: ``n`` points of a Latin hypercube (``scipy.stats.qmc.LatinHypercube``);
- ``sobol``: Saltelli's scheme for Sobol indices, ``n`` = 2^k base samples, ``n (d + 2)`` runs
  (``n (2d + 2)`` with ``second_order = true``);
- ``morris``: ``n`` Morris trajectories on a ``levels``-level grid (default 4), ``n (d + 1)``
  runs: screening, the natural first step with many parameters;
- ``fast``: the extended FAST search curves, ``n`` samples per parameter (``n > 4 m^2``, the
  interference factor ``m`` defaulting to 4), ``n d`` runs.

**Lever packages** (optional; EMA Workbench's policies x scenarios): ``[packages]`` names sets of
lever values, e.g. ``status_quo = {}`` and ``crackdown = { "enforcement.inspections_per_month" =
60 }``; every package is run at every design point of the ``[parameters]`` (then the *context*, the
uncertainties) with the same replicate seeds: common random numbers, so packages are compared in
the same contexts under the same draws (``popsim robustness``). A package may not set a swept path.

**Ensembles** (optional): ``ensemble = "posterior.nc"`` (relative to the spec's folder; or
``popsim sweep --ensemble``) gives replicate r at every design point and package posterior draw r
as well as seed r (paired); ``draws`` is another name for ``replicates`` then
(:func:`popsim.experiments.ensemble.spec_ensemble`).

**Layout.** A grid gets one dimension per parameter (named by its path); a sampled design (lhs,
sobol, morris, fast) a ``run`` dimension with the parameter values as coordinates along it. Lever
packages add a first dimension ``package``. Then ``replicate`` (coordinate ``seed``, the same at
every design point: common random numbers; with an ensemble also ``draw`` and ``draw_value``),
then the run's own dimensions (``year``, ...). Attrs carry the spec text, a hash of its meaning,
the resolved base scenario, the package versions (and the posterior's path and digest).

**Size.** A design is counted before anything is built (``num`` is bounded before any
``linspace``); a spec of more than :data:`MAX_RUNS` runs is refused at once, with its estimated
time and memory (:mod:`popsim.workload`). The runner then asks ``check_workload`` (``--yes``) and
validates every design point before the first run; points and tasks
(:mod:`popsim.experiments.sweep_design`) are made one at a time, never all held in memory.

A spec is UTF-8 TOML (no byte-order mark). Every :class:`~popsim.errors.SpecError` raised here
starts with the spec's path (and names the key where there is one). The store, the runner and
resuming live in :mod:`popsim.experiments.sweep`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ScenarioError, SpecError, check_keys, did_you_mean, shown
from ..scenario.loader import (check_value, load_scenario, parse_toml, read_text, scenario_hash,
                              valid_paths)
from ..scenario.parameters import SECTIONS, Scenario, param_spec
from ..workload import Workload, estimate, run_months
from .ensemble import Posterior, spec_ensemble

__all__ = ["SpecError", "SweepSpec", "Parameter", "Package", "load_spec", "parse_spec",
           "available_sweeps", "RUN_DIM", "PACKAGE_DIM", "DESIGNS", "MAX_RUNS", "variable_names",
           "design_rows"]

RUN_DIM = "run"
PACKAGE_DIM = "package"
DESIGNS = ("grid", "lhs", "sobol", "morris", "fast")
RESOLUTIONS = ("yearly", "end_year")
_TOP_KEYS = ("name", "description", "scenario", "seed", "replicates", "overrides", "parameters",
             "packages", "design", "outputs", "ensemble", "draws")
_DESIGN_KEYS = ("kind", "n", "second_order", "levels", "m")
_N_MEANS = {"lhs": "points", "sobol": "base samples", "morris": "trajectories",  # what n counts
            "fast": "samples per parameter"}
_OUTPUT_KEYS = ("resolution", "variables", "summary_years")
#: a sweep of more runs than this is refused even with --yes: its store keeps one chunk file per
#: run and variable (millions of files), and its design alone fills memory; split it instead
MAX_RUNS = 1_000_000
# A name becomes the store's file name (results/<name>.zarr): nothing that leaves the folder.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Sweeping these would change a run's dimensions (years, townships) or fight the replicate seeds.
_NOT_SWEEPABLE = {"run.start_year": "it changes the 'year' dimension",
                  "run.end_year": "it changes the 'year' dimension",
                  "population.townships": "it changes the 'township' dimension",
                  "run.seed": "seeds come from the spec's 'seed' and 'replicates'"}


def _flatten(table: Any, where: str) -> dict[str, Any]:
    """``{"a.b": v}`` and ``{a = {b = v}}`` (TOML dotted keys) both become ``{"a.b": v}``."""
    if not isinstance(table, dict):
        raise SpecError(f"{where} must be a table of 'section.field' keys")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in SECTIONS and isinstance(value, dict):
            out.update({f"{key}.{field}": v for field, v in value.items()})
        else:
            out[key] = value
    return out


def variable_names() -> list[str]:
    """Every variable a run records (the names ``[outputs] variables`` may list)."""
    from ..model.recording import DERIVED, RECORDED
    return list(RECORDED) + list(DERIVED)


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One swept parameter: a finite set of ``values`` or a ``[lo, hi]`` range (sampled designs)."""

    path: str
    values: tuple[Any, ...] | None
    lo: float | None = None
    hi: float | None = None

    @property
    def kind(self) -> str:
        return param_spec(self.path).kind

    def canonical(self) -> dict[str, Any]:
        return {"values": list(self.values)} if self.values is not None else \
            {"min": self.lo, "max": self.hi}

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map unit-cube coordinates ``u`` in [0, 1] to parameter values."""
        if self.values is not None:
            k = len(self.values)
            return [self.values[i] for i in np.minimum((u * k).astype(int), k - 1)]
        x = self.lo + u * (self.hi - self.lo)
        return [int(v) for v in np.rint(x)] if self.kind == "int" else [float(v) for v in x]


@dataclasses.dataclass(frozen=True)
class Package:
    """A named set of lever values (``path -> value`` as written, already validated)."""

    name: str
    levers: tuple[tuple[str, Any], ...]

    def overrides(self) -> dict[str, Any]:
        return dict(self.levers)

    def describe(self) -> str:
        """``path = value; ...`` (``no change`` for an empty package)."""
        return "; ".join(f"{k} = {json.dumps(v)}" for k, v in self.levers) or "no change"


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A parsed, validated sweep spec (see the module docstring for the file format)."""

    name: str
    description: str
    text: str
    label: str  # the spec's path (or embedded name) as messages give it
    scenario: str
    base: Scenario
    parameters: tuple[Parameter, ...]
    design: str
    n: int | None
    second_order: bool
    replicates: int
    seed: int
    resolution: str
    summary_years: int
    variables: tuple[str, ...]
    levels: int | None = None  # morris: grid levels
    m: int | None = None  # fast: interference factor
    packages: tuple[Package, ...] = ()
    posterior: Posterior | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def design_options(self) -> dict[str, Any]:
        """The design's own options (what SALib's sampler and analysis both need)."""
        return {"second_order": self.second_order, "levels": self.levels, "m": self.m}

    def canonical(self) -> dict[str, Any]:
        """What the spec means (not how it is written): equal for specs giving equal sweeps."""
        design: dict[str, Any] = {"kind": self.design, "n": self.n,
                                  "second_order": self.second_order}
        # keys added after the first stores were written appear only where they apply, so the
        # meaning (and hash) of a grid or sobol spec is unchanged
        if self.design == "lhs":  # the sampler changed: an older lhs store is another design
            design["sampler"] = "scipy.stats.qmc.LatinHypercube"
        if self.levels is not None:
            design["levels"] = self.levels
        if self.m is not None:
            design["m"] = self.m
        out = {"base_scenario_sha256": scenario_hash(self.base),
               "parameters": {p.path: p.canonical() for p in self.parameters},
               "parameter_order": [p.path for p in self.parameters],
               "design": design, "replicates": self.replicates, "seed": self.seed,
               "outputs": {"resolution": self.resolution, "summary_years": self.summary_years,
                           "variables": list(self.variables)}}
        if self.packages:
            out["packages"] = [[p.name, p.overrides()] for p in self.packages]
        if self.posterior is not None:  # the content, not the file: a moved posterior is equal
            out["ensemble_sha256"] = self.posterior.digest
        return out

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True).encode()).hexdigest()

    @property
    def grid(self) -> bool:
        return self.design == "grid"

    @property
    def run_dims(self) -> tuple[str, ...]:
        """The dimensions that index runs: ``package`` (with lever packages), the parameters
        (grid) or ``run``, then ``replicate``."""
        return ((PACKAGE_DIM,) if self.packages else ()) + \
            (tuple(p.path for p in self.parameters) if self.grid else (RUN_DIM,)) + \
            ("replicate",)

    @property
    def shape(self) -> tuple[int, ...]:
        """Sizes of the run dimensions: packages, value counts (grid) or design points, then
        replicates."""
        return _shape(self.design, self.n, self.design_options,
                      [len(p.values) for p in self.parameters] if self.grid else
                      [0] * len(self.parameters), self.replicates, len(self.packages))

    @property
    def point_shape(self) -> tuple[int, ...]:
        """Sizes of the design's own dimensions (no packages, no replicates)."""
        return self.shape[(1 if self.packages else 0):-1]

    @property
    def runs(self) -> int:
        """Number of runs (design points x replicates)."""
        return math.prod(self.shape)


def design_rows(design: str, n: int, d: int, second_order: bool = False) -> int:
    """The number of design points of a sampled design of ``d`` parameters."""
    if design == "sobol":  # Saltelli: N (D + 2) rows, or N (2D + 2) with second-order indices
        return n * (2 * d + 2 if second_order else d + 2)
    if design == "morris":  # one trajectory: a start and one step per parameter
        return n * (d + 1)
    if design == "fast":  # one search curve of n points per parameter
        return n * d
    return n  # lhs


def _shape(design: str, n: int | None, options: dict[str, Any], counts: list[int],
           replicates: int, packages: int = 0) -> tuple[int, ...]:
    """The run shape from counts alone (Python integers: a typo of 10**9 cannot overflow)."""
    points = tuple(counts) if design == "grid" else \
        (design_rows(design, int(n), len(counts), bool(options.get("second_order"))),)
    return ((int(packages),) if packages else ()) + points + (int(replicates),)


def _embedded_sweeps():
    return resources.files("popsim.scenario").joinpath("library", "sweeps")


def available_sweeps() -> list[str]:
    """Names of the example sweep specs shipped in ``scenarios/sweeps/``."""
    return sorted(e.name[:-5] for e in _embedded_sweeps().iterdir() if e.name.endswith(".toml"))


def load_spec(source: str | Path, **kw: Any) -> SweepSpec:
    """Read and validate a sweep spec: a TOML path or an embedded example's name (``kw``: see
    :func:`parse_spec`)."""
    path = Path(source)
    if path.is_file():
        return parse_spec(read_text(path, str(path), SpecError), str(path), path.parent, **kw)
    if path.exists():
        raise SpecError(f"{path}: is a folder, not a sweep spec file")
    entry = _embedded_sweeps().joinpath(f"{source}.toml")
    if not str(source).endswith(".toml") and "/" not in str(source) and entry.is_file():
        return parse_spec(entry.read_text(encoding="utf-8"), f"sweeps/{source}.toml", None, **kw)
    raise SpecError(f"{source}: no such sweep spec file or embedded example"
                    f"{did_you_mean(source, available_sweeps())}; embedded examples: "
                    f"{', '.join(available_sweeps())}")


def _grid_count(raw: Any) -> int:
    """A grid parameter's value count, before any is made (1 if malformed: parsing says why)."""
    if isinstance(raw, list):
        return len(raw)
    num = raw.get("num") if isinstance(raw, dict) else None
    return num if isinstance(num, int) and not isinstance(num, bool) and num >= 2 else 1


def _parse_parameter(path: str, raw: Any, design: str, where: str) -> Parameter:
    where = f"{where} {shown(path)}"

    def check(value: Any) -> Any:  # schema bounds; the message names the bound
        try:
            return check_value(path, value)
        except ScenarioError as e:
            raise SpecError(f"{where}: {e}") from None

    if path not in valid_paths():
        check(None)  # raises, naming the closest valid path
    if path in _NOT_SWEEPABLE:
        raise SpecError(f"{where} cannot be swept: {_NOT_SWEEPABLE[path]}")
    kind = param_spec(path).kind
    if kind not in ("float", "int", "bool", "choice"):
        raise SpecError(f"{where} is a {kind} parameter; only numbers, true/false and choices "
                        f"can be swept")
    if isinstance(raw, list):
        if not raw or any(isinstance(v, (list, dict)) for v in raw):
            raise SpecError(f"{where}: give a non-empty list of single values (no schedules)")
        values = tuple(check(v) for v in raw)
    elif isinstance(raw, dict):
        check_keys(raw, ("min", "max", "num"), where)
        if kind not in ("float", "int") or "min" not in raw or "max" not in raw:
            raise SpecError(f"{where}: a range needs min and max, and a numeric parameter")
        lo, hi = check(raw["min"]), check(raw["max"])
        if not lo < hi:
            raise SpecError(f"{where}: min ({lo}) must be below max ({hi})")
        if design != "grid":
            if "num" in raw:
                raise SpecError(f"{where}: 'num' is for grids; a {design} design samples the "
                                f"range (its size is design.n)")
            return Parameter(path, None, float(lo), float(hi))
        num = raw.get("num")
        if not isinstance(num, int) or isinstance(num, bool) or num < 2:
            raise SpecError(f"{where}: a grid range needs num = a whole number >= 2"
                            + ("" if num is None else f", got {shown(num)}"))
        grid = np.linspace(lo, hi, num)  # num was bounded by the design's size check
        values = tuple(check(int(v) if kind == "int" else float(v))
                       for v in (np.rint(grid) if kind == "int" else grid))
    else:
        raise SpecError(f"{where} takes a list of values or a table {{min, max"
                        f"{', num' if design == 'grid' else ''}}}, got {shown(raw)}")
    if len(set(values)) != len(values):
        raise SpecError(f"{where}: a value occurs twice: {shown(list(values))}")
    return Parameter(path, values)


def _int(table: dict, key: str, default: int, lo: int, where: str) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        raise SpecError(f"{where}: '{key}' must be a whole number >= {lo}, got {shown(value)}")
    return value


def _table(data: dict, key: str, allowed: tuple[str, ...], label: str) -> dict:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise SpecError(f"{label}: '{key}' must be a table [{key}]")
    check_keys(table, allowed, f"{label} [{key}]")
    return table


def _parse_design(table: dict, where: str) -> tuple[str, int | None, dict[str, Any]]:
    """(kind, n, options): options are ``second_order``, ``levels`` (morris), ``m`` (fast)."""
    design = table.get("kind", "grid")
    if design not in DESIGNS:
        raise SpecError(f"{where}: kind = {shown(design)} is not one of {', '.join(DESIGNS)}"
                        f"{did_you_mean(design, DESIGNS)}")
    n = None
    if design == "grid" and "n" in table:
        raise SpecError(f"{where}: 'n' is for sampled designs; a grid's size is the product of "
                        f"its value lists")
    for key, owner in (("levels", "morris"), ("m", "fast")):
        if key in table and design != owner:
            raise SpecError(f"{where}: '{key}' is for {owner} designs, not {design}")
    levels = _int(table, "levels", 4, 2, where) if design == "morris" else None
    if levels is not None and levels % 2:
        raise SpecError(f"{where}: levels = {levels}: Morris designs need an even number of "
                        f"levels (Morris 1991), e.g. {levels + 1}")
    m = _int(table, "m", 4, 1, where) if design == "fast" else None
    if design != "grid":
        if "n" not in table:
            raise SpecError(f"{where}: a {design} design needs n (its number of "
                            f"{_N_MEANS[design]})")
        n = _int(table, "n", 0, 2, where)
        if design == "sobol" and n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise SpecError(f"{where}: sobol needs n to be a power of two (Saltelli sampling); "
                            f"n = {n} is not: use {lower} or {2 * lower}")
        if design == "fast" and n <= 4 * m * m:
            raise SpecError(f"{where}: fast needs n > 4 m^2 = {4 * m * m} samples per "
                            f"parameter (m = {m}); got n = {n}")
    second_order = table.get("second_order", False)
    if not isinstance(second_order, bool) or (second_order and design != "sobol"):
        raise SpecError(f"{where}: second_order = true | false, for sobol designs only")
    return design, n, {"second_order": second_order, "levels": levels, "m": m}


def _parse_packages(data: dict, base: Scenario, swept: set[str], label: str) \
        -> tuple[Package, ...]:
    """The ``[packages]`` table: name -> lever values, each checked against the schema."""
    raw = data.get("packages", {})
    where = f"{label} [packages]"
    if not isinstance(raw, dict):
        raise SpecError(f"{where} must be a table of named packages, e.g. status_quo = {{}}")
    if not raw:
        return ()
    if len(raw) < 2:
        raise SpecError(f"{where}: give at least two packages to compare")
    out = []
    for name, table in raw.items():
        here = f"{where} {shown(name)}"
        if not _SAFE_NAME.fullmatch(name):
            raise SpecError(f"{here}: a package name is 1-64 letters, digits, '_', '-' or '.'")
        levers = _flatten(table, here)
        for path, value in levers.items():
            if path in swept:
                raise SpecError(f"{here}: {shown(path)} is swept in [parameters]; a package "
                                f"sets levers the design does not vary")
            if path in _NOT_SWEEPABLE:
                raise SpecError(f"{here}: {shown(path)} cannot be set by a package: "
                                f"{_NOT_SWEEPABLE[path]}")
            try:
                check_value(path, value)
            except ScenarioError as e:
                raise SpecError(f"{here}: {e}") from None
        try:
            load_scenario(base, levers)
        except ScenarioError as e:
            raise SpecError(f"{here}: {e}") from None
        out.append(Package(name, tuple(levers.items())))
    return tuple(out)


def _parse_outputs(table: dict, base: Scenario, where: str) -> tuple[str, int, tuple[str, ...]]:
    resolution = table.get("resolution", "yearly")
    if resolution not in RESOLUTIONS:
        raise SpecError(f"{where}: resolution = {shown(resolution)} is not one of "
                        f"{', '.join(RESOLUTIONS)}{did_you_mean(resolution, RESOLUTIONS)}")
    years = base.run.end_year - base.run.start_year + 1
    summary_years = _int(table, "summary_years", 1, 1, where)
    if summary_years > years or (resolution == "yearly" and "summary_years" in table):
        raise SpecError(f"{where}: summary_years (1-{years}) goes with resolution = \"end_year\"")
    names = variable_names()
    variables = table.get("variables", names)
    if not isinstance(variables, list) or not variables:
        raise SpecError(f"{where}: variables must be a list of variable names")
    for v in variables:
        if v not in names:
            raise SpecError(f"{where}: no variable {shown(v)}{did_you_mean(v, names)}")
    if len(set(variables)) != len(variables):
        raise SpecError(f"{where}: a variable is listed twice: {shown(variables)}")
    return resolution, summary_years, tuple(variables)


def _name(data: dict, label: str) -> str:
    """The sweep's name (its default store is results/<name>.zarr): a safe file name."""
    if "name" not in data:  # from the file name, made safe
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(label).stem).lstrip("._-")[:64]
        return stem or "sweep"
    name = data["name"]
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise SpecError(f"{label}: name = {shown(name)}: a sweep name is 1-64 letters, digits, "
                        f"'_', '-' or '.', starting with a letter or digit (it names the store "
                        f"results/<name>.zarr)")
    return name


def _base_scenario(data: dict, label: str, folder: Path | None) -> tuple[str, Scenario]:
    """The base scenario (a path is relative to the spec's folder, never the working directory),
    then the spec's overrides; errors name the spec, and the key."""
    scenario = data.get("scenario", "county")
    if not isinstance(scenario, str) or not scenario:
        raise SpecError(f"{label}: 'scenario' must be a scenario name or a .toml path, got "
                        f"{shown(scenario)}")
    source = scenario
    if scenario.endswith(".toml") or "/" in scenario or "\\" in scenario:
        if folder is None:
            raise SpecError(f"{label}: scenario = {shown(scenario)}: an embedded sweep takes an "
                            f"embedded scenario name")
        source = str(folder / scenario)
        if not Path(source).is_file():
            raise SpecError(f"{label}: scenario = {shown(scenario)}: no such file {source} (a path "
                            f"is relative to the spec's folder)")
    try:
        base = load_scenario(source)
    except ScenarioError as e:
        raise SpecError(f"{label}: scenario = {shown(scenario)}: {e}") from None
    overrides = _flatten(data.get("overrides", {}), f"{label} [overrides]")
    try:
        return scenario, load_scenario(base, overrides) if overrides else base
    except ScenarioError as e:
        raise SpecError(f"{label} [overrides]: {e}") from None


def _check_size(label: str, shape: tuple[int, ...], what: str, base: Scenario,
                parameters: dict[str, Any]) -> None:
    """Refuse a design of more than MAX_RUNS runs, with its estimated time and memory."""
    runs = math.prod(shape)
    if runs <= MAX_RUNS:
        return
    from .executors import default_workers

    work = _workload(base, parameters, runs, default_workers())
    raise SpecError(f"{label}: {what} gives {runs:,} runs, more than the {MAX_RUNS:,} one sweep "
                    f"can hold ({work.describe()}); make it smaller or split it into several "
                    f"sweeps")


def parse_spec(text: str, label: str = "sweep spec", folder: Path | None = None, *,
               ensemble: str | Path | None = None, draws: int | None = None) -> SweepSpec:
    """Parse and validate spec ``text``; every value is bound-checked here, before any run.

    ``folder`` resolves a relative ``scenario = "x.toml"``; ``label`` names the spec in messages;
    ``ensemble`` and ``draws`` (the command line's) replace the spec's (``spec_ensemble``).
    The design is counted, not built: :func:`~popsim.experiments.sweep_design.check_points`
    validates its points as scenarios.
    """
    data = parse_toml(text, label, SpecError)
    check_keys(data, _TOP_KEYS, label)
    name = _name(data, label)
    scenario, base = _base_scenario(data, label, folder)
    design, n, options = _parse_design(_table(data, "design", _DESIGN_KEYS, label),
                                       f"{label} [design]")
    params = _flatten(data.get("parameters", {}), f"{label} [parameters]")
    if len(params) < (1 if design in ("grid", "lhs") else 2):
        raise SpecError(f"{label}: [parameters] needs at least " +
                        (f"two parameters for a {design} design" if params else "one parameter"))
    packages = _parse_packages(data, base, set(params), label)
    fixed = {p: "[parameters]" for p in params} | {p: f"[packages] {k.name}" for k in packages
                                                    for p, _ in k.levers}
    fixed |= {p: "[overrides]" for p in _flatten(data.get("overrides", {}), label)}
    posterior, count = spec_ensemble(data, label, folder, fixed, SpecError, ensemble, draws)
    replicates = count or _int(data, "replicates", 1, 1, label)
    # Count before building anything: a grid's size is the product of its value counts.
    counts = [_grid_count(raw) if design == "grid" else 0 for raw in params.values()]
    what = (f"{len(packages)} packages x " if packages else "") + \
        (f"a grid of {' x '.join(map(str, counts))} values" if design == "grid" else
         f"a {design} design of n = {n}") + f" with {replicates} replicate(s)"
    _check_size(label, _shape(design, n, options, counts, replicates, len(packages)), what, base,
                _with_packages(params, packages))
    parameters = tuple(_parse_parameter(path, raw, design, f"{label} [parameters]")
                       for path, raw in params.items())
    resolution, summary_years, variables = _parse_outputs(
        _table(data, "outputs", _OUTPUT_KEYS, label), base, f"{label} [outputs]")
    seed = data.get("seed", base.run.seed)
    try:
        seed = check_value("run.seed", seed)  # the schema's bounds for a root seed
    except ScenarioError as e:
        raise SpecError(f"{label}: 'seed': {e}") from None
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"{label}: 'description' must be text, got {type(description).__name__}")
    return SweepSpec(
        name=name, text=text, label=label, scenario=scenario, base=base,
        description=description.strip(), parameters=parameters, design=design, n=n,
        second_order=options["second_order"], replicates=replicates, seed=seed,
        resolution=resolution, summary_years=summary_years, variables=variables,
        levels=options["levels"], m=options["m"], packages=packages, posterior=posterior)


def _with_packages(parameters: dict[str, Any], packages: tuple[Package, ...]) -> dict[str, Any]:
    """Swept values plus the packages' lever values (the workload's largest scenario)."""
    out = dict(parameters)
    for package in packages:  # a package never sets a swept path (refused when parsed)
        for path, value in package.levers:
            out[path] = [*out.get(path, []), value]
    return out


def _workload(base: Scenario, parameters: dict[str, Any], runs: int, workers: int) -> Workload:
    """Runs of the largest scenario the design can make (households and burn-in may be swept)."""
    def largest(path: str) -> int:
        raw = parameters.get(path)
        values = raw if isinstance(raw, list) else [raw.get("max")] if isinstance(raw, dict) \
            else []
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return int(max([base.get(path), *numbers]))

    r = base.run
    months = run_months(r.start_year, r.end_year, largest("run.burn_in_years"))
    return estimate(runs, largest("run.households"), months, workers)
