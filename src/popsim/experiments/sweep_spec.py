"""Sweep specs: what a parameter sweep varies, how, and what it keeps.

A *sweep spec* names a base scenario (plus overrides), the parameters to vary (any schema path,
as a list of values or a ``{min, max[, num]}`` range), a design, replicates, a root seed and the
outputs to keep::

    name = "enforcement_incentive_grid"
    scenario = "county"                 # embedded name, or a .toml path beside the spec
    seed = 20240501                     # replicate r runs with replicate_seeds(seed, R)[r]
    replicates = 3
    [overrides]                         # applied to every run
    "run.end_year" = 2010
    [parameters]
    "enforcement.inspections_per_month" = [0, 10, 40]
    "incentives.benefit_per_year" = { min = 0, max = 6000, num = 4 }
    [design]
    kind = "grid"                       # grid | lhs (n points) | sobol (n = 2^k base samples)
    [outputs]
    resolution = "yearly"               # or "end_year": mean of the last summary_years years
    variables = ["srb", "srb_by_parity"]  # default: every variable of a run

**Layout.** A grid gets one dimension per parameter (named by its path); a sampled design (lhs,
sobol) gets a ``run`` dimension with the parameter values as coordinates along it. Then
``replicate`` (with the replicate's ``seed`` as a coordinate: replicate r uses the same seed at
every design point, so design points are compared under common random numbers), then the run's own
dimensions (``year``, ``parity``, ...). Attrs carry the spec text, a hash of its meaning, the
resolved base scenario and the package versions.

The store, the runner and resuming live in :mod:`popsim.sweep`.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import tomllib
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ScenarioError, SpecError, did_you_mean
from ..scenario.loader import ( check_value, load_scenario, scenario_hash, valid_paths)
from ..scenario.parameters import SECTIONS, Scenario, param_spec
from ..model.streams import replicate_seeds

__all__ = ["SpecError", "SweepSpec", "Parameter", "load_spec", "parse_spec", "available_sweeps",
           "design_points", "build_tasks", "run_task", "RUN_DIM", "select_outputs",
           "variable_names"]

RUN_DIM = "run"
DESIGNS = ("grid", "lhs", "sobol")
RESOLUTIONS = ("yearly", "end_year")
_TOP_KEYS = ("name", "description", "scenario", "seed", "replicates", "overrides", "parameters",
             "design", "outputs")
_DESIGN_KEYS = ("kind", "n", "second_order")
_OUTPUT_KEYS = ("resolution", "variables", "summary_years")
# Sweeping these would change a run's dimensions (years, townships) or fight the replicate seeds.
_NOT_SWEEPABLE = {"run.start_year": "it changes the 'year' dimension",
                  "run.end_year": "it changes the 'year' dimension",
                  "population.townships": "it changes the 'township' dimension",
                  "run.seed": "seeds come from the spec's 'seed' and 'replicates'"}


def _check_keys(table: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise SpecError(f"{where}: unknown key '{key}'{did_you_mean(key, allowed)}; "
                            f"allowed: {', '.join(allowed)}")


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


# ------------------------------------------------------------------------------------------------
# The spec


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
class SweepSpec:
    """A parsed, validated sweep spec (see the module docstring for the file format)."""

    name: str
    description: str
    text: str
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

    def canonical(self) -> dict[str, Any]:
        """What the spec means (not how it is written): equal for specs giving equal sweeps."""
        return {"base_scenario_sha256": scenario_hash(self.base),
                "parameters": {p.path: p.canonical() for p in self.parameters},
                "parameter_order": [p.path for p in self.parameters],
                "design": {"kind": self.design, "n": self.n, "second_order": self.second_order},
                "replicates": self.replicates, "seed": self.seed,
                "outputs": {"resolution": self.resolution, "summary_years": self.summary_years,
                            "variables": list(self.variables)}}

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True).encode()).hexdigest()

    @property
    def grid(self) -> bool:
        return self.design == "grid"

    @property
    def run_dims(self) -> tuple[str, ...]:
        """The dimensions that index runs: the parameters (grid) or ``run``, then ``replicate``."""
        return (tuple(p.path for p in self.parameters) if self.grid else (RUN_DIM,)) + \
            ("replicate",)


def _embedded_sweeps():
    return resources.files("popsim.scenario").joinpath("library", "sweeps")


def available_sweeps() -> list[str]:
    """Names of the example sweep specs shipped in ``scenarios/sweeps/``."""
    return sorted(e.name[:-5] for e in _embedded_sweeps().iterdir() if e.name.endswith(".toml"))


def load_spec(source: str | Path) -> SweepSpec:
    """Read and validate a sweep spec: a TOML path or the name of an embedded example."""
    path = Path(source)
    if path.is_file():
        return parse_spec(path.read_text(encoding="utf-8"), str(path), path.parent)
    entry = _embedded_sweeps().joinpath(f"{source}.toml")
    if not str(source).endswith(".toml") and entry.is_file():
        return parse_spec(entry.read_text(encoding="utf-8"), f"sweeps/{source}.toml", None)
    raise SpecError(f"sweep spec not found: {source}{did_you_mean(source, available_sweeps())}; "
                    f"embedded examples: {', '.join(available_sweeps())}")


def _parse_parameter(path: str, raw: Any, design: str, where: str) -> Parameter:
    where = f"{where}: '{path}'"

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
        _check_keys(raw, ("min", "max", "num"), where)
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
            raise SpecError(f"{where}: a grid range needs num = a whole number >= 2")
        grid = np.linspace(lo, hi, num)
        values = tuple(check(int(v) if kind == "int" else float(v))
                       for v in (np.rint(grid) if kind == "int" else grid))
    else:
        raise SpecError(f"{where} takes a list of values or a table {{min, max"
                        f"{', num' if design == 'grid' else ''}}}, got {raw!r}")
    if len(set(values)) != len(values):
        raise SpecError(f"{where}: a value occurs twice: {list(values)}")
    return Parameter(path, values)


def _int(table: dict, key: str, default: int, lo: int, where: str) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        raise SpecError(f"{where}: '{key}' must be a whole number >= {lo}, got {value!r}")
    return value


def _table(data: dict, key: str, allowed: tuple[str, ...], label: str) -> dict:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise SpecError(f"{label}: '{key}' must be a table [{key}]")
    _check_keys(table, allowed, f"{label} [{key}]")
    return table


def _parse_design(table: dict, where: str) -> tuple[str, int | None, bool]:
    design = table.get("kind", "grid")
    if design not in DESIGNS:
        raise SpecError(f"{where}: kind = {design!r} is not one of {', '.join(DESIGNS)}"
                        f"{did_you_mean(design, DESIGNS)}")
    n = None
    if design == "grid" and "n" in table:
        raise SpecError(f"{where}: 'n' is for lhs and sobol; a grid's size is the product of "
                        f"its value lists")
    if design != "grid":
        if "n" not in table:
            raise SpecError(f"{where}: a {design} design needs n (its number of "
                            f"{'base samples' if design == 'sobol' else 'points'})")
        n = _int(table, "n", 0, 2, where)
        if design == "sobol" and n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise SpecError(f"{where}: sobol needs n to be a power of two (Saltelli sampling); "
                            f"n = {n} is not: use {lower} or {2 * lower}")
    second_order = table.get("second_order", False)
    if not isinstance(second_order, bool) or (second_order and design != "sobol"):
        raise SpecError(f"{where}: second_order = true | false, for sobol designs only")
    return design, n, second_order


def _parse_outputs(table: dict, base: Scenario, where: str) -> tuple[str, int, tuple[str, ...]]:
    resolution = table.get("resolution", "yearly")
    if resolution not in RESOLUTIONS:
        raise SpecError(f"{where}: resolution = {resolution!r} is not one of "
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
            raise SpecError(f"{where}: no variable '{v}'{did_you_mean(v, names)}")
    return resolution, summary_years, tuple(variables)


def parse_spec(text: str, label: str = "sweep spec", folder: Path | None = None) -> SweepSpec:
    """Parse and validate spec ``text``; every design value is bound-checked here, before any run.

    ``folder`` resolves a relative ``scenario = "x.toml"``; ``label`` names the spec in messages.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{label}: malformed TOML: {e}") from None
    _check_keys(data, _TOP_KEYS, label)
    scenario = data.get("scenario", "county")
    if not isinstance(scenario, str):
        raise SpecError(f"{label}: 'scenario' must be a scenario name or a .toml path")
    source = str(folder / scenario) if folder is not None and (folder / scenario).is_file() \
        else scenario
    base = load_scenario(source, _flatten(data.get("overrides", {}), f"{label} [overrides]"))
    design, n, second_order = _parse_design(_table(data, "design", _DESIGN_KEYS, label),
                                            f"{label} [design]")
    params = _flatten(data.get("parameters", {}), f"{label} [parameters]")
    if len(params) < (2 if design == "sobol" else 1):
        raise SpecError(f"{label}: [parameters] needs at least "
                        f"{'two parameters for a sobol design' if params else 'one parameter'}")
    parameters = tuple(_parse_parameter(path, raw, design, f"{label} [parameters]")
                       for path, raw in params.items())
    resolution, summary_years, variables = _parse_outputs(
        _table(data, "outputs", _OUTPUT_KEYS, label), base, f"{label} [outputs]")
    spec = SweepSpec(
        name=str(data.get("name", Path(label).stem)), text=text, scenario=scenario, base=base,
        description=str(data.get("description", "")).strip(), parameters=parameters,
        design=design, n=n, second_order=second_order,
        replicates=_int(data, "replicates", 1, 1, label),
        seed=_int(data, "seed", base.run.seed, 0, label), resolution=resolution,
        summary_years=summary_years, variables=variables)
    # Every design point must make a valid scenario (e.g. cross-field checks) before any run.
    for point in design_points(spec):
        load_scenario(base, point)
    return spec


# ------------------------------------------------------------------------------------------------
# Designs and tasks


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


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every design point as ``{path: value}``, in store order (C order for a grid)."""
    if spec.grid:
        idx = np.indices([len(p.values) for p in spec.parameters]).reshape(
            len(spec.parameters), -1).T
        return [{p.path: p.values[i] for p, i in zip(spec.parameters, row)} for row in idx]
    u = unit_sample(spec)
    columns = [p.from_unit(u[:, j]) for j, p in enumerate(spec.parameters)]
    return [dict(zip((p.path for p in spec.parameters), row)) for row in zip(*columns)]


def _outputs(spec: SweepSpec) -> tuple[tuple[str, ...], str, int]:
    return spec.variables, spec.resolution, spec.summary_years


def build_tasks(spec: SweepSpec) -> list[tuple[Scenario, int, tuple]]:
    """One task per run, ordered like the run dimensions (design point, then replicate)."""
    seeds = replicate_seeds(spec.seed, spec.replicates)
    scenarios = [load_scenario(spec.base, point) for point in design_points(spec)]
    return [(s, seed, _outputs(spec)) for s in scenarios for seed in seeds]


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
