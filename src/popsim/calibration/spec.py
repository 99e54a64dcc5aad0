"""Calibration specs: what ``popsim calibrate`` fits, to what, how, and with how much work.

A spec is UTF-8 TOML::

    name = "china_households"        # optional; names the run in the report
    description = "..."
    method = "abc"                   # "abc" (ABC-SMC, pyABC) or "optuna" (TPE point fit)
    seed = 20261201                  # every random choice of the calibration derives from it
    replicates = 1                   # runs of each scenario per evaluation (pooled)
    fit_threshold = 1.0              # a fit: the final distance at most this (see .distance)
    scenario = "china"               # embedded name or a .toml path (relative to the spec)
    targets = "china"                # target file: embedded name or a .toml path
    groups = ["srb_series"]          # optional: only these groups of the target file
    weights = { srb_series = 2.0 }   # optional: weight of a group in the distance (default 1)
    [overrides]                      # applied to every evaluation: a smaller population, ...
    "run.households" = 50000
    [parameters]                     # the free parameters: any numeric schema field
    "behaviour.risk_weight" = { prior = "uniform", min = 0.5, max = 12 }
    "behaviour.cost_weight" = { prior = "loguniform", min = 0.3, max = 10 }
    "behaviour.squeeze_decay" = { prior = "normal", mean = 0.1, sd = 0.05, min = 0, max = 1 }
    [budget]
    evaluations = 600                # most evaluations (each: replicates x every scenario)
    population = 50                  # abc: particles per generation
    generations = 6                  # abc: most generations
    min_distance = 0.2               # abc: stop when the acceptance threshold falls below it
    batch = 4                        # optuna: trials proposed at once (fixed: reproducible)

Several scenarios are fitted together with ``[[fit]]`` tables (``scenario``, ``targets``,
``groups``, ``weights`` and ``[fit.overrides]`` each) instead of the top-level keys; their target
ids are then prefixed ``<scenario>/``.

Every value is checked here, before any run: parameter paths (with "did you mean"), priors'
ranges against the schema's bounds, that a parameter is a single number in every scenario (a
calibrated value replaces a schedule in every year, so a schedule is refused), and that every
target's years are recorded by the runs after the overrides. Every :class:`SpecError` starts
with the spec's path and names the key.
"""

from __future__ import annotations

import dataclasses
import math
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ScenarioError, SpecError, check_keys, did_you_mean, shown
from ..scenario.loader import check_value, load_scenario, parse_toml, read_text, valid_paths
from ..scenario.parameters import SECTIONS, Scenario, param_spec
from ..scenario.schema import Schedule
from ..validation.targets import Target, TargetSet, load_targets
from ..workload import Workload, estimate, run_months

__all__ = ["CalibrationSpec", "Fit", "FreeParameter", "load_calibration_spec",
           "available_calibrations",
           "parse_calibration_spec", "METHODS", "PRIORS"]

METHODS = ("abc", "optuna")
PRIORS = ("uniform", "loguniform", "normal")
_TOP_KEYS = ("name", "description", "method", "seed", "replicates", "fit_threshold", "scenario",
             "targets", "groups", "weights", "overrides", "fit", "parameters", "budget")
_FIT_KEYS = ("scenario", "targets", "groups", "weights", "overrides")
_PRIOR_KEYS = ("prior", "min", "max", "mean", "sd")
_BUDGET_KEYS = ("evaluations", "population", "generations", "min_distance", "batch")
#: most evaluations one spec may ask for (a typo guard; the workload check comes after)
MAX_EVALUATIONS = 1_000_000


@dataclasses.dataclass(frozen=True)
class FreeParameter:
    """One calibrated parameter and its prior, in the schema's unit.

    ``uniform`` on ``[lo, hi]``; ``loguniform``: uniform in log on ``[lo, hi]`` (``lo > 0``);
    ``normal``: ``N(mean, sd)`` truncated to ``[lo, hi]``."""

    path: str
    prior: str
    lo: float
    hi: float
    mean: float | None = None
    sd: float | None = None

    @property
    def kind(self) -> str:
        return param_spec(self.path).kind

    def typed(self, value: float) -> int | float:
        """``value`` as the schema holds it (integer parameters rounded)."""
        return int(round(value)) if self.kind == "int" else float(value)

    def canonical(self) -> dict[str, Any]:
        return {"prior": self.prior, "min": self.lo, "max": self.hi, "mean": self.mean,
                "sd": self.sd}


@dataclasses.dataclass(frozen=True)
class Fit:
    """One scenario and the targets it is scored on (a spec fits one or more together)."""

    scenario: str
    base: Scenario
    targets: TargetSet
    weights: dict[str, float]
    prefix: str = ""

    def target_ids(self) -> list[str]:
        return [self.prefix + t.id for t in self.targets.targets]

    def weight_of(self, target: Target) -> float:
        """A target's weight: its group's weight shared among the group's targets, so that a
        group of 22 sibship cells weighs as much as a group of 3 birth orders."""
        size = sum(1 for t in self.targets.targets if t.group == target.group)
        return self.weights.get(target.group, 1.0) / size


@dataclasses.dataclass(frozen=True)
class CalibrationSpec:
    """A parsed, validated calibration spec (see the module docstring for the format)."""

    name: str
    description: str
    text: str
    label: str
    method: str
    seed: int
    replicates: int
    fit_threshold: float
    fits: tuple[Fit, ...]
    parameters: tuple[FreeParameter, ...]
    evaluations: int
    population: int
    generations: int
    min_distance: float
    batch: int

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    def target_ids(self) -> list[str]:
        return [i for f in self.fits for i in f.target_ids()]

    def targets(self) -> list[tuple[Fit, Target]]:
        return [(f, t) for f in self.fits for t in f.targets.targets]

    def scenario_names(self) -> str:
        return ", ".join(f.base.name for f in self.fits)

    def workload(self, workers: int = 1, evaluations: int | None = None) -> Workload:
        """The size of ``evaluations`` evaluations (default: the whole budget), counted as runs
        of the largest scenario."""
        n = self.evaluations if evaluations is None else evaluations
        runs = n * self.replicates * len(self.fits)
        big = max(self.fits, key=lambda f: f.base.run.households).base.run
        months = max(run_months(f.base.run.start_year, f.base.run.end_year,
                                f.base.run.burn_in_years) for f in self.fits)
        return estimate(runs, big.households, months, workers)


# ------------------------------------------------------------------------------------------------
# parsing


def _flatten(table: Any, where: str) -> dict[str, Any]:
    """``{"a.b": v}`` and ``{a = {b = v}}`` (TOML dotted keys) both become ``{"a.b": v}``."""
    if not isinstance(table, dict):
        raise SpecError(f"{where} must be a table of 'section.field' keys")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in SECTIONS and isinstance(value, dict) and not (set(value) & set(_PRIOR_KEYS)):
            out.update({f"{key}.{field}": v for field, v in value.items()})
        else:
            out[key] = value
    return out


def _number(table: dict, key: str, where: str, default: Any = None, lo: float | None = None,
            integer: bool = False) -> Any:
    value = table.get(key, default)
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or (isinstance(value, float) and not math.isfinite(value)):
        what = "a whole number" if integer else "a finite number"
        raise SpecError(f"{where}: '{key}' must be {what}, got {shown(value)}")
    if lo is not None and value < lo:
        raise SpecError(f"{where}: '{key}' must be at least {shown(lo)}, got {shown(value)}")
    return value


def _path_source(value: Any, key: str, where: str, folder: Path | None) -> str:
    """An embedded name, or a .toml path resolved against the spec's folder."""
    if not isinstance(value, str) or not value:
        raise SpecError(f"{where}: '{key}' must be a name or a .toml path, got {shown(value)}")
    if value.endswith(".toml") or "/" in value or "\\" in value:
        if folder is None:
            raise SpecError(f"{where}: {key} = {shown(value)}: an embedded spec takes embedded "
                            f"names")
        path = folder / value
        if not path.is_file():
            raise SpecError(f"{where}: {key} = {shown(value)}: no such file {path} (a path is "
                            f"relative to the spec's folder)")
        return str(path)
    return value


def _parse_fit(table: dict, shared: dict[str, Any], where: str, folder: Path | None,
               prefix: bool) -> Fit:
    scenario = table.get("scenario")
    if scenario is None:
        raise SpecError(f"{where}: 'scenario' (the scenario to fit) is required")
    source = _path_source(scenario, "scenario", where, folder)
    overrides = {**shared, **_flatten(table.get("overrides", {}), f"{where} [overrides]")}
    try:
        base = load_scenario(load_scenario(source), overrides) if overrides else \
            load_scenario(source)
    except ScenarioError as e:
        raise SpecError(f"{where}: scenario = {shown(scenario)}: {e}") from None
    try:
        targets = load_targets(_path_source(table.get("targets", base.name), "targets", where,
                                            folder))
    except SpecError:
        raise
    except ScenarioError as e:
        raise SpecError(f"{where}: targets: {e}") from None
    # a held-out target checks a fit and never shapes it (popsim.validation.targets)
    targets = dataclasses.replace(targets, targets=tuple(t for t in targets.targets
                                                         if not t.holdout))
    groups = table.get("groups")
    if groups is not None:
        if not isinstance(groups, list) or not groups or not all(isinstance(g, str)
                                                                  for g in groups):
            raise SpecError(f"{where}: 'groups' must be a list of group names")
        for g in groups:
            if g not in targets.groups:
                raise SpecError(f"{where}: groups: {targets.source} has no group {shown(g)}"
                                f"{did_you_mean(g, targets.groups)}; its groups: "
                                f"{', '.join(targets.groups)}")
        targets = dataclasses.replace(
            targets, targets=tuple(t for t in targets.targets if t.group in groups))
    weights = table.get("weights", {})
    if not isinstance(weights, dict):
        raise SpecError(f"{where}: 'weights' must be a table of group = weight")
    for g in weights:
        if g not in targets.groups:
            raise SpecError(f"{where}: weights: no group {shown(g)} among the targets"
                            f"{did_you_mean(g, targets.groups)}")
        _number(weights, g, f"{where} weights", lo=0.0)
    r = base.run
    for t in targets.targets:
        years = [t.years]
        if "before" in t.subset:
            a, _, b = t.subset["before"].partition("-")
            years.append((int(a), int(b or a)))
        for y0, y1 in years:
            if y0 < r.start_year or y1 > r.end_year:
                raise SpecError(f"{where}: target '{t.id}' needs the years {y0}-{y1}, but the "
                                f"runs record {r.start_year}-{r.end_year} (check run.start_year "
                                f"and run.end_year in the overrides)")
    return Fit(scenario, base, targets, {g: float(w) for g, w in weights.items()},
               f"{base.name}/" if prefix else "")


def _parse_parameter(path: str, raw: Any, fits: tuple[Fit, ...], where: str) -> FreeParameter:
    where = f"{where} {shown(path)}"

    def check(key: str, value: Any) -> float:
        try:
            return float(check_value(path, value))
        except ScenarioError as e:
            raise SpecError(f"{where}: {key}: {e}") from None

    if path not in valid_paths():
        try:
            check_value(path, None)
        except ScenarioError as e:
            raise SpecError(f"{where.rsplit(' ', 1)[0]}: {e}") from None
    spec = param_spec(path)
    if spec.section_kind == "run":
        raise SpecError(f"{where} is a run setting; set it in [overrides], not as a free "
                        f"parameter")
    if spec.kind not in ("float", "int"):
        raise SpecError(f"{where} is a {spec.kind} parameter; only numbers can be calibrated")
    if not isinstance(raw, dict):
        raise SpecError(f"{where} takes a table {{prior = \"uniform\", min = .., max = ..}}, got "
                        f"{shown(raw)}")
    check_keys(raw, _PRIOR_KEYS, where)
    prior = raw.get("prior", "uniform")
    if prior not in PRIORS:
        raise SpecError(f"{where}: prior = {shown(prior)} is not one of {', '.join(PRIORS)}"
                        f"{did_you_mean(prior, PRIORS)}")
    lo = check("min", raw["min"]) if "min" in raw else spec.lo
    hi = check("max", raw["max"]) if "max" in raw else spec.hi
    if lo is None or hi is None:
        raise SpecError(f"{where}: give min and max (the schema does not bound it on "
                        f"{'both sides' if lo is None and hi is None else 'one side'})")
    lo, hi = float(lo), float(hi)
    if not lo < hi:
        raise SpecError(f"{where}: min ({shown(lo)}) must be below max ({shown(hi)})")
    mean = sd = None
    if prior == "normal":
        for key in ("mean", "sd"):
            if key not in raw:
                raise SpecError(f"{where}: a normal prior needs mean and sd")
        mean = float(_number(raw, "mean", where))
        sd = float(_number(raw, "sd", where))
        if not sd > 0:
            raise SpecError(f"{where}: sd must be above 0, got {shown(sd)}")
        if not lo <= mean <= hi:
            raise SpecError(f"{where}: mean ({shown(mean)}) must lie in [min, max] = "
                            f"[{shown(lo)}, {shown(hi)}]")
    elif "mean" in raw or "sd" in raw:
        raise SpecError(f"{where}: mean and sd are for a normal prior, not {prior}")
    if prior == "loguniform" and lo <= 0:
        raise SpecError(f"{where}: a loguniform prior needs min > 0, got {shown(lo)}")
    if spec.kind == "int" and math.floor(hi) - math.ceil(lo) < 1:
        raise SpecError(f"{where}: an integer parameter needs at least two whole numbers in "
                        f"[{shown(lo)}, {shown(hi)}]")
    for fit in fits:
        if isinstance(fit.base.get(path), Schedule):
            raise SpecError(f"{where}: scenario '{fit.base.name}' gives it a schedule; a "
                            f"calibrated value would replace it in every year. Calibrate a "
                            f"single-number parameter, or set it to a number in [overrides]")
    return FreeParameter(path, prior, lo, hi, mean, sd)


def parse_calibration_spec(text: str, label: str = "calibration spec",
                           folder: Path | None = None) -> CalibrationSpec:
    """Parse and validate spec ``text``; ``folder`` resolves relative paths, ``label`` names the
    spec in messages."""
    data = parse_toml(text, label, SpecError)
    check_keys(data, _TOP_KEYS, label)
    method = data.get("method", "abc")
    if method not in METHODS:
        raise SpecError(f"{label}: method = {shown(method)} is not one of {', '.join(METHODS)}"
                        f"{did_you_mean(method, METHODS)}")
    shared = _flatten(data.get("overrides", {}), f"{label} [overrides]")
    if "fit" in data:
        clash = [k for k in ("scenario", "targets", "groups", "weights") if k in data]
        if clash:
            raise SpecError(f"{label}: '{clash[0]}' goes inside each [[fit]] table when the spec "
                            f"has [[fit]] tables")
        rows = data["fit"]
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise SpecError(f"{label}: 'fit' must be [[fit]] tables")
        fits = []
        for i, row in enumerate(rows, 1):
            check_keys(row, _FIT_KEYS, f"{label} [[fit]] {i}")
            fits.append(_parse_fit(row, shared, f"{label} [[fit]] {i}", folder, len(rows) > 1))
        names = [f.base.name for f in fits]
        dup = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if dup:
            raise SpecError(f"{label}: scenario '{dup}' is fitted twice")
    else:
        top = {k: data[k] for k in ("scenario", "targets", "groups", "weights") if k in data}
        fits = [_parse_fit(top, shared, label, folder, False)]
    fits_t = tuple(fits)
    params = _flatten(data.get("parameters", {}), f"{label} [parameters]")
    if not params:
        raise SpecError(f"{label}: [parameters] names no free parameter")
    parameters = tuple(_parse_parameter(p, raw, fits_t, f"{label} [parameters]")
                       for p, raw in params.items())
    budget = data.get("budget", {})
    if not isinstance(budget, dict):
        raise SpecError(f"{label}: 'budget' must be a table [budget]")
    where = f"{label} [budget]"
    check_keys(budget, _BUDGET_KEYS, where)
    evaluations = _number(budget, "evaluations", where, 200, 1, integer=True)
    if evaluations > MAX_EVALUATIONS:
        raise SpecError(f"{where}: evaluations = {evaluations:,} is more than "
                        f"{MAX_EVALUATIONS:,}")
    population = _number(budget, "population", where, 50, 2, integer=True)
    generations = _number(budget, "generations", where, 5, 1, integer=True)
    if method == "abc" and population > evaluations:
        raise SpecError(f"{where}: population ({population}) is more than the evaluations "
                        f"({evaluations}): not even the first generation fits the budget")
    min_distance = float(_number(budget, "min_distance", where, 0.0, 0.0))
    batch = _number(budget, "batch", where, 4, 1, integer=True)
    for key, owner in (("population", "abc"), ("generations", "abc"), ("min_distance", "abc"),
                       ("batch", "optuna")):
        if key in budget and method != owner:
            raise SpecError(f"{where}: '{key}' is for method = \"{owner}\", not \"{method}\"")
    try:
        seed = check_value("run.seed", data.get("seed", fits_t[0].base.run.seed))
    except ScenarioError as e:
        raise SpecError(f"{label}: 'seed': {e}") from None
    replicates = _number(data, "replicates", label, 1, 1, integer=True)
    if replicates > 1000:
        raise SpecError(f"{label}: replicates = {replicates} is more than 1000")
    threshold = float(_number(data, "fit_threshold", label, 1.0, 0.0))
    for key in ("name", "description"):
        if not isinstance(data.get(key, ""), str):
            raise SpecError(f"{label}: '{key}' must be text")
    name = data.get("name") or Path(label).stem
    return CalibrationSpec(
        name=name, description=str(data.get("description", "")).strip(), text=text,
        label=label, method=method, seed=int(seed), replicates=replicates,
        fit_threshold=threshold, fits=fits_t, parameters=parameters, evaluations=evaluations,
        population=population, generations=generations, min_distance=min_distance, batch=batch)


def available_calibrations() -> list[str]:
    """Names of the calibration specs shipped in ``popsim/calibrations``."""
    folder = resources.files("popsim").joinpath("calibrations")
    return sorted(e.name[:-5] for e in folder.iterdir() if e.name.endswith(".toml"))


def load_calibration_spec(source: str | Path) -> CalibrationSpec:
    """Read and validate a spec: a file path, or the name of a shipped spec (``"china"``)."""
    path = Path(source)
    text_source = str(source)
    if not path.exists() and not text_source.endswith(".toml") and "/" not in text_source:
        names = available_calibrations()
        if text_source not in names:
            raise SpecError(f"{source}: no such calibration spec file or shipped spec"
                            f"{did_you_mean(text_source, names)}; shipped: {', '.join(names)}")
        entry = resources.files("popsim").joinpath("calibrations", f"{text_source}.toml")
        return parse_calibration_spec(entry.read_text(encoding="utf-8"),
                                      f"calibrations/{text_source}.toml", None)
    text = read_text(path, str(path), SpecError)
    return parse_calibration_spec(text, str(path), path.parent)
