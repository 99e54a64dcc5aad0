"""Side-by-side comparison of scenarios: which package of measures, at what cost, for what effect.

A county planner's question is answered by running every scenario ``R`` times and summarising
the runs in one table (:data:`COLUMNS`). :func:`compare` returns ONE ``xarray.Dataset``:

* every variable of :func:`popsim.run`, with two leading dimensions ``scenario`` and
  ``replicate`` (coordinates: ``seed(replicate)``; ``description``, ``sha256`` and ``toml``
  along ``scenario``, the resolved scenario files);
* the per-replicate **metrics** of the planner table (:data:`METRICS`), dims
  ``(scenario, replicate)``: SRB total and by parity, true and reported, in the end year and
  over the whole run (all births pooled, steadier than one year); missing female births and
  those averted against the baseline; costs; cases and intrusiveness.

:func:`planner_table` summarises the metrics into the table (dims ``scenario`` x ``stat`` with
``stat`` in mean, lo, hi) that :mod:`popsim.reports.compare_report` prints and writes.

The baseline
------------
Effects are differences from a baseline *of the same county*: every scenario must share the
baseline's context (every section that is not a lever, and the run settings but the seed;
:func:`context_paths`), or the comparison is refused with the differing fields. By default the
baseline is the first scenario with its measures off (:func:`levers_off`).

Common random numbers
---------------------
Replicate ``r`` of every scenario runs with the same seed, ``replicate_seeds(seed, R)[r]``
(:func:`popsim.model.streams.replicate_seeds`). popsim's draws are keyed by decision, month and
woman (:mod:`popsim.model.streams`), so within a replicate two scenarios differ by their levers,
not by noise. Effects against the baseline (births averted, extra cost) are therefore computed
*within* each replicate: the **paired** difference.

Intervals
---------
Every interval is a 90% interval across replicates: the 5th and 95th percentiles (linear
interpolation) of the per-replicate values, i.e. the range in which 90% of the simulated futures
of this county fall. For an effect the values are the paired (within-replicate) differences. The
**unpaired** interval of births averted (:func:`unpaired_interval`) takes the differences between
runs of *different* replicates instead, which is what independent seeds would give; it is reported
beside the paired one to show what pairing buys. With one replicate there is no interval (NaN).
Ratios (cost per averted birth, women per case) are ratios of sums over replicates; their interval
is that of the per-replicate ratios, given only when every replicate has a positive denominator.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ScenarioError, UsageError
from ..model.clinics import sample_townships
from ..model.recording import srb
from ..model.streams import replicate_seeds
from ..provenance import provenance
from ..scenario.loader import (check_seed, load_scenario, parse_overrides, scenario_hash,
                               scenario_to_toml)
from ..scenario.parameters import SECTIONS, Scenario, iter_params
from ..scenario.schema import Schedule
from ..workload import (DEFAULT_REPLICATES, MAX_REPLICATES, Workload, check_count,
                        check_workload, estimate, kept_bytes, run_months)
from .executors import default_workers, executor_name
from .runs import run_all, stack

__all__ = ["compare", "load_comparison", "planner_table", "unpaired_interval", "quantile_interval",
           "Column", "COLUMNS", "METRICS", "LEVEL", "levers_off", "context_paths",
           "context_differences", "plan_comparison", "run_plan", "Plan", "NO_MEASURES_SUFFIX"]

#: The two-sided interval: 5th to 95th percentile across replicates.
LEVEL = 0.90
_Q = ((1.0 - LEVEL) / 2.0, 1.0 - (1.0 - LEVEL) / 2.0)

#: Per-replicate metrics added to the comparison dataset: name -> (units, long name).
METRICS: dict[str, tuple[str, str]] = {
    "srb_end": ("males per 100 females", "True sex ratio at birth in the end year"),
    "srb_by_parity_end": ("males per 100 females", "True SRB by birth order in the end year"),
    "reported_srb_end": ("males per 100 females", "Reported SRB in the end year"),
    "report_gap_end": ("SRB points", "Reported minus true SRB in the end year (negative: the "
                       "reports look better than the truth)"),
    "srb_run": ("males per 100 females", "True SRB of all births of the run (pooled)"),
    "srb_by_parity_run": ("males per 100 females", "True SRB by birth order, all births of the "
                          "run (pooled)"),
    "reported_srb_run": ("males per 100 females", "Reported SRB of all births of the run "
                         "(pooled)"),
    "report_gap_run": ("SRB points", "Reported minus true SRB over the run (pooled births)"),
    "missing_female_births_end": ("births", "Missing female births in the end year"),
    "missing_female_births_run": ("births", "Missing female births summed over the run"),
    "averted_end": ("births", "Missing female births averted against the baseline in the end "
                    "year (same replicate)"),
    "averted_run": ("births", "Missing female births averted against the baseline over the run "
                    "(same replicate)"),
    "total_cost_run": ("yuan", "Cost of the measures over the run: incentives + enforcement + "
                       "propaganda"),
    "incentive_cost_run": ("yuan", "Incentives committed over the run"),
    "enforcement_cost_run": ("yuan", "Enforcement cost over the run (inspections, "
                             "investigations and tip rewards)"),
    "rewards_run": ("yuan", "Tip rewards paid over the run (inside the enforcement cost)"),
    "propaganda_cost_run": ("yuan", "Propaganda cost over the run"),
    "extra_cost_run": ("yuan", "Cost over the run minus the baseline's (same replicate)"),
    "cost_per_averted": ("yuan per birth", "Extra cost per missing female birth averted (NaN "
                         "when none is averted)"),
    "cases_run": ("cases", "Cases against providers found and pursued over the run"),
    "women_investigated_run": ("women", "Women investigated over the run"),
    "grey_listed_run": ("women", "Women newly grey-listed over the run"),
    "investigated_per_case": ("women per case", "Women investigated per case found"),
    "grey_listed_per_case": ("women per case", "Women grey-listed per case found"),
    "out_of_county_share_run": ("fraction", "Share of illegal services bought out of county "
                                "over the run"),
}


@dataclass(frozen=True)
class Column:
    """One column of the planner table.

    ``kind`` says how replicates are summarised: ``"level"`` (mean, 90% interval across
    replicates), ``"paired"`` (the same, of within-replicate differences against the baseline),
    ``"unpaired"`` (differences between different replicates, :func:`unpaired_interval`) or
    ``"ratio"`` (ratio of sums; interval of per-replicate ratios). ``group`` places it in the
    report: ``"srb"`` (sex ratio at birth in the end year), ``"run"`` (over the whole run),
    ``"effect"`` (effect and cost) or ``"detail"`` (in the Markdown and CSV files only).
    """

    key: str
    label: str
    metric: str
    kind: str
    unit: str
    meaning: str
    group: str = "effect"
    sel: Mapping[str, str] = field(default_factory=dict)
    ratio: tuple[str, str] | None = None


#: The planner table, in display order.
COLUMNS: tuple[Column, ...] = (
    Column("srb_end", "SRB", "srb_end", "level", "males per 100 females",
           "True sex ratio at birth in the end year (natural level about 106)", group="srb"),
    Column("srb_end_p1", "SRB 1st", "srb_by_parity_end", "level", "males per 100 females",
           "True SRB of first births in the end year", group="srb", sel={"parity": "1"}),
    Column("srb_end_p2", "SRB 2nd", "srb_by_parity_end", "level", "males per 100 females",
           "True SRB of second births in the end year", group="srb", sel={"parity": "2"}),
    Column("srb_end_p3", "SRB 3rd+", "srb_by_parity_end", "level", "males per 100 females",
           "True SRB of third and later births in the end year", group="srb",
           sel={"parity": "3+"}),
    Column("reported_srb_end", "reported SRB", "reported_srb_end", "level",
           "males per 100 females", "SRB in the county's reports in the end year (after "
           "concealment of girls and any misreporting of boys)", group="srb"),
    Column("report_gap_end", "reported-true", "report_gap_end", "level", "SRB points",
           "Reported minus true SRB in the end year, within each run (negative: the reports look "
           "better than the truth)", group="srb"),
    Column("srb_run", "SRB", "srb_run", "level", "males per 100 females",
           "True SRB of all births of the run pooled (steadier than one year)", group="run"),
    Column("srb_run_p1", "SRB 1st", "srb_by_parity_run", "level", "males per 100 females",
           "True SRB of all first births of the run", group="run", sel={"parity": "1"}),
    Column("srb_run_p2", "SRB 2nd", "srb_by_parity_run", "level", "males per 100 females",
           "True SRB of all second births of the run", group="run", sel={"parity": "2"}),
    Column("srb_run_p3", "SRB 3rd+", "srb_by_parity_run", "level", "males per 100 females",
           "True SRB of all third and later births of the run", group="run",
           sel={"parity": "3+"}),
    Column("reported_srb_run", "reported SRB", "reported_srb_run", "level",
           "males per 100 females", "Reported SRB of all births of the run", group="run"),
    Column("report_gap_run", "reported-true", "report_gap_run", "level", "SRB points",
           "Reported minus true SRB over the run, within each run", group="run"),
    Column("missing_run", "missing girls", "missing_female_births_run", "level", "births",
           "Missing female births over the run: births expected at the natural SRB minus "
           "actual", group="detail"),
    Column("averted_end", "averted (end yr)", "averted_end", "paired", "births",
           "Missing female births averted against the baseline in the end year (paired: "
           "difference within each replicate)", group="detail"),
    Column("averted_run", "averted (run)", "averted_run", "paired", "births",
           "Missing female births averted against the baseline, cumulative over the run "
           "(paired: difference within each replicate)"),
    Column("averted_run_unpaired", "averted unpaired", "averted_run", "unpaired", "births",
           "The same effect with the interval independent seeds would give (differences "
           "between runs of different replicates): wider, which is what pairing buys",
           group="detail"),
    Column("total_cost_run", "cost", "total_cost_run", "level", "yuan",
           "Cost of the measures over the run: incentives committed + enforcement (including "
           "tip rewards) + propaganda"),
    Column("incentive_cost_run", "incentives", "incentive_cost_run", "level", "yuan",
           "Incentives committed over the run", group="detail"),
    Column("enforcement_cost_run", "enforcement", "enforcement_cost_run", "level", "yuan",
           "Enforcement cost over the run (inspections, investigations, tip rewards)",
           group="detail"),
    Column("rewards_run", "rewards", "rewards_run", "level", "yuan",
           "Tip rewards over the run (already inside the enforcement cost)", group="detail"),
    Column("propaganda_cost_run", "propaganda", "propaganda_cost_run", "level", "yuan",
           "Propaganda cost over the run", group="detail"),
    Column("cost_per_averted", "cost/averted", "cost_per_averted", "ratio", "yuan per birth",
           "Extra cost against the baseline per missing female birth averted over the run "
           "(blank when none is averted)", ratio=("extra_cost_run", "averted_run")),
    Column("cases_run", "cases", "cases_run", "level", "cases",
           "Cases against providers found and pursued over the run"),
    Column("investigated_per_case", "investigated/case", "investigated_per_case", "ratio",
           "women per case", "Women investigated (follow-ups, birth audits) per case found",
           ratio=("women_investigated_run", "cases_run")),
    Column("grey_listed_per_case", "grey-listed/case", "grey_listed_per_case", "ratio",
           "women per case", "Women grey-listed (every later pregnancy tracked) per case found",
           ratio=("grey_listed_run", "cases_run")),
    Column("out_of_county_share_run", "out-of-county", "out_of_county_share_run", "level",
           "fraction", "Share of illegal services bought from providers outside the county "
           "over the run", group="detail"),
)


# ------------------------------------------------------------------------------------------------
# loading and validation (before any run)

#: appended to the first scenario's name to name the baseline derived from it
NO_MEASURES_SUFFIX = "_no_measures"
#: characters of the first scenario's name kept in the derived name (names have at most 64)
_NAME_ROOM = 64 - len(NO_MEASURES_SUFFIX)
#: differing fields listed per scenario in a refusal (the rest are counted)
_SHOWN_DIFFERENCES = 8


def levers_off(scenario: Scenario, name: str | None = None) -> Scenario:
    """``scenario`` with none of the measures: every lever that has an ``off`` value in the schema
    (:attr:`~popsim.scenario.ParamSpec.off`) set to it; the context, the run settings and the
    levers without an ``off`` value (the fertility policy, enforcement details that act only
    through a measure) unchanged. Named ``<name>_no_measures`` unless ``name`` is given."""
    off = {p.path: p.off for p in iter_params() if p.section_kind == "lever" and p.off is not None}
    return load_scenario(scenario, {
        **off, "name": name or f"{scenario.name[:_NAME_ROOM]}{NO_MEASURES_SUFFIX}",
        "description": f"'{scenario.name}' with every measure off (each lever at its schema "
                       f"'off' value): the baseline derived from it"})


def context_paths() -> list[str]:
    """The parameters two compared scenarios must share: every field of every section whose
    schema kind is not ``"lever"`` (run settings, context) except the seed, and every constant
    of the model's rules (``fixed`` fields), wherever it is declared."""
    return [p.path for p in iter_params() if p.path != "run.seed"
            and (p.section_kind != "lever" or getattr(p, "fixed", False))]


def _shown(value: Any) -> str:
    if isinstance(value, Schedule):
        return json.dumps(value.to_toml())
    return json.dumps(list(value)) if isinstance(value, tuple) else repr(value)


def context_differences(a: Scenario, b: Scenario) -> list[str]:
    """``path: value in 'a' vs value in 'b'`` for every context field (:func:`context_paths`)
    on which ``a`` and ``b`` differ."""
    return [f"{path}: {_shown(a.get(path))} in '{a.name}' vs {_shown(b.get(path))} in '{b.name}'"
            for path in context_paths() if a.get(path) != b.get(path)]


def _load(scenarios: Sequence[str | Path | Scenario], baseline: str | Path | Scenario | None,
          overrides: Iterable[str] | Mapping[str, Any] | None) -> tuple[list[Scenario], str]:
    """The scenarios with the baseline first, and a sentence saying where the baseline came
    from (see :func:`load_comparison`)."""
    if not scenarios:
        raise ScenarioError("give at least one scenario to compare")
    errors: list[str] = []

    def load(source: str | Path | Scenario) -> Scenario | None:
        try:
            return load_scenario(source, overrides)
        except ScenarioError as e:
            if str(e) not in errors:
                errors.append(str(e))
            return None

    given = None if baseline is None else load(baseline)
    listed = [load(source) for source in scenarios]
    if errors:
        raise ScenarioError("\n".join(errors))
    first = listed[0]
    if given is None:
        derived = levers_off(first)
        twin = next((s for s in listed if all(getattr(s, k) == getattr(derived, k)
                                              for k in SECTIONS)), None)
        base = derived if twin is None else twin
        origin = (f"'{first.name}', the first scenario, has no measures" if base is first else
                  f"'{first.name}' with every measure off, each lever at its schema 'off' value")
    else:
        base, origin = given, f"given; shares the context of '{first.name}'"
    out: dict[str, Scenario] = {}
    for s in [base, *listed]:
        if s.name in out:
            if scenario_hash(out[s.name]) != scenario_hash(s):
                raise ScenarioError(f"two different scenarios are named '{s.name}'; give one of "
                                    f"them another 'name' in its file")
            continue
        out[s.name] = s
    problems = []
    for s in list(out.values())[1:]:
        diffs = context_differences(base, s)
        if diffs:
            more = len(diffs) - _SHOWN_DIFFERENCES
            problems.append(f"'{s.name}' is not the same county as the baseline '{base.name}': "
                            + "; ".join(diffs[:_SHOWN_DIFFERENCES])
                            + (f"; and {more} more" if more > 0 else ""))
    if problems:
        hint = ("leave out the baseline to derive it from the first scenario, or give one of the "
                "same county" if given is not None else "compare scenarios of one county (files "
                "that extend the first one, or the same --set for all)")
        raise ScenarioError("a comparison measures the levers in one county, and every scenario "
                            "must share the baseline's context (every section that is not a "
                            "lever; the seed may differ). " + " | ".join(problems)
                            + f". To fix: {hint}")
    return list(out.values()), origin


def load_comparison(scenarios: Sequence[str | Path | Scenario],
                    baseline: str | Path | Scenario | None = None,
                    overrides: Iterable[str] | Mapping[str, Any] | None = None
                    ) -> list[Scenario]:
    """Load and validate every scenario before any run; return them with the baseline first.

    Without ``baseline`` it is the first scenario with its levers off (:func:`levers_off`), or a
    listed scenario with exactly those values (``baseline`` beside ``county``). Every scenario
    must share the baseline's context (:func:`context_paths`), else the effects would mix two
    counties. Every problem (unknown names, with the embedded ones listed; invalid files; two
    scenarios under one name; the differing context fields) is reported in one
    :class:`ScenarioError`. A scenario listed twice is run once."""
    return _load(scenarios, baseline, overrides)[0]


@dataclass(frozen=True)
class Plan:
    """A checked comparison, before any run: scenarios (baseline first), seeds and size."""

    scenarios: list[Scenario]
    baseline_origin: str
    root_seed: int
    seeds: list[int]
    work: Workload
    overrides: dict[str, Any]


def plan_comparison(scenarios: Sequence[str | Path | Scenario],
                    replicates: int = DEFAULT_REPLICATES, seed: int | None = None,
                    baseline: str | Path | Scenario | None = None,
                    overrides: Iterable[str] | Mapping[str, Any] | None = None, *,
                    workers: int | None = None, scheduler: str | None = None,
                    yes: bool = False) -> Plan:
    """Load and check everything :func:`compare` needs, and refuse a request too large for this
    machine (:func:`popsim.workload.check_workload`; ``yes`` accepts a long one)."""
    replicates = check_count("replicates", replicates, hi=2**63 - 1)
    loaded, origin = _load(scenarios, baseline, overrides)
    base, r = loaded[0], loaded[0].run
    root = r.seed if seed is None else check_seed(seed, "seed")
    kind = executor_name(workers, scheduler)
    local = kind == "processes" or (kind == "dask" and scheduler == "local")
    work = estimate(len(loaded) * replicates, r.households,
                    run_months(r.start_year, r.end_year, r.burn_in_years),
                    workers=(workers or default_workers()) if local else 1,
                    kept=kept_bytes(r.end_year - r.start_year + 1,
                                    sample_townships(base.population.townships, r.scale)))
    check_workload(work, yes=yes, what="this comparison")
    if replicates > MAX_REPLICATES:
        raise UsageError(f"replicates = {replicates:,} is above the maximum {MAX_REPLICATES:,} "
                         f"({work.describe()})")
    return Plan(loaded, origin, root, replicate_seeds(root, replicates), work,
                parse_overrides(overrides))


# ------------------------------------------------------------------------------------------------
# running


def compare(scenarios: Sequence[str | Path | Scenario], replicates: int = DEFAULT_REPLICATES,
            seed: int | None = None, baseline: str | Path | Scenario | None = None,
            overrides: Iterable[str] | Mapping[str, Any] | None = None, *,
            workers: int | None = None, scheduler: str | None = None,
            progress: bool = False, yes: bool = False) -> xr.Dataset:
    """Run every scenario ``replicates`` times with common random numbers; one dataset.

    Parameters
    ----------
    scenarios
        Embedded names, TOML paths or :class:`Scenario` objects. The baseline comes first.
    replicates
        Runs per scenario (at least 1; intervals need 2 or more).
    seed
        Root seed; replicate ``r`` of every scenario uses ``replicate_seeds(seed, R)[r]``.
        Defaults to the baseline's ``run.seed``.
    baseline
        The scenario effects are measured against; it must share the first scenario's context.
        Default: the first scenario with every measure off (:func:`load_comparison`).
    overrides
        ``section.field`` overrides applied to every scenario (as ``--set``).
    workers, scheduler
        Passed to :func:`popsim.experiments.executors.map_tasks`: ``workers=1`` runs in this process, the
        default is a process pool over the machine's cores, ``scheduler`` uses dask.
    progress
        Show a tqdm progress bar on stderr.
    yes
        Run even when the estimated CPU time is long (:func:`plan_comparison`).

    The result does not depend on the executor or the number of workers.
    """
    plan = plan_comparison(scenarios, replicates, seed, baseline, overrides, workers=workers,
                           scheduler=scheduler, yes=yes)
    return run_plan(plan, workers=workers, scheduler=scheduler, progress=progress)


def run_plan(plan: Plan, *, workers: int | None = None, scheduler: str | None = None,
             progress: bool = False) -> xr.Dataset:
    """Run a checked :class:`Plan` (:func:`plan_comparison`); see :func:`compare`."""
    loaded, seeds, root = plan.scenarios, plan.seeds, plan.root_seed
    base = loaded[0]
    tasks = [(s, sd) for s in loaded for sd in seeds]
    results = run_all(tasks, workers=workers, scheduler=scheduler, progress=progress,
                      desc="popsim compare")
    R = len(seeds)
    ds = stack([stack(results[k * R:(k + 1) * R], "replicate") for k in range(len(loaded))],
               "scenario")
    ds = ds.assign_coords(
        scenario=("scenario", [s.name for s in loaded]),
        replicate=("replicate", np.arange(R)),
        seed=("replicate", np.array(seeds, dtype=np.int64)),
        description=("scenario", [s.description.strip().splitlines()[0] if s.description.strip()
                                  else "" for s in loaded]),
        sha256=("scenario", [scenario_hash(s) for s in loaded]),
        toml=("scenario", [scenario_to_toml(s) for s in loaded]),
    )
    ds["scenario"].attrs = {"long_name": "Scenario name"}
    ds["replicate"].attrs = {"long_name": "Replicate (same seed in every scenario)"}
    ds["seed"].attrs = {"long_name": "Root seed of the replicate's runs"}
    ds["toml"].attrs = {"long_name": "The resolved scenario (every value), as TOML"}
    prov = provenance(base, root)
    ds.attrs = {
        "title": f"popsim comparison of {', '.join(s.name for s in loaded)}",
        "baseline": base.name,
        "baseline_origin": plan.baseline_origin,
        "replicates": R,
        "root_seed": root,
        "seeding": "replicate r of every scenario uses replicate_seeds(root_seed, replicates)[r]",
        "overrides": json.dumps({k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                                 for k, v in plan.overrides.items()}),
        "interval": f"{LEVEL:.0%}: {_Q[0]:.0%} to {_Q[1]:.0%} percentile across replicates",
        "start_year": base.run.start_year,
        "end_year": base.run.end_year,
        "households": base.run.households,
        **{k: prov[k] for k in ("natural_srb", "popsim_version", "mesa_version", "numpy_version",
                                "git_commit")},
    }
    return add_metrics(ds)


# ------------------------------------------------------------------------------------------------
# metrics and the table


@contextlib.contextmanager
def _quiet():
    """Silence numpy's warnings about all-NaN slices: NaN is the intended answer there."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    return xr.where(den > 0, num / den.where(den > 0), np.nan)


def add_metrics(ds: xr.Dataset) -> xr.Dataset:
    """Add the per-replicate metrics of :data:`METRICS` to a comparison dataset."""
    end = ds["year"].values[-1]
    base_name = ds.attrs["baseline"]
    m: dict[str, xr.DataArray] = {}
    m["srb_end"] = ds["srb"].sel(year=end, drop=True)
    m["srb_by_parity_end"] = ds["srb_by_parity"].sel(year=end, drop=True)
    m["reported_srb_end"] = ds["reported_srb"].sel(year=end, drop=True)
    m["report_gap_end"] = m["reported_srb_end"] - m["srb_end"]
    births = ds["births"].sum("year")
    reported = ds["reported_births"].sum("year")
    m["srb_run"] = srb(births.sum("parity"))
    m["srb_by_parity_run"] = srb(births)
    m["reported_srb_run"] = srb(reported.sum("parity"))
    m["report_gap_run"] = m["reported_srb_run"] - m["srb_run"]
    m["missing_female_births_end"] = ds["missing_female_births"].sel(year=end, drop=True)
    m["missing_female_births_run"] = ds["missing_female_births"].sum("year")
    for name, total in (("averted_end", "missing_female_births_end"),
                        ("averted_run", "missing_female_births_run")):
        m[name] = m[total].sel(scenario=base_name, drop=True) - m[total]
    m["total_cost_run"] = ds["total_cost"].sum("year")
    m["incentive_cost_run"] = ds["incentive_payments"].sum("year")
    m["enforcement_cost_run"] = ds["enforcement_cost"].sum("year")
    m["rewards_run"] = ds["rewards_paid"].sum("year")
    m["propaganda_cost_run"] = ds["propaganda_cost"].sum("year")
    m["extra_cost_run"] = m["total_cost_run"] - m["total_cost_run"].sel(scenario=base_name,
                                                                        drop=True)
    m["cost_per_averted"] = _ratio(m["extra_cost_run"], m["averted_run"])
    m["cases_run"] = ds["cases"].sum(["year", "source"])
    m["women_investigated_run"] = ds["women_investigated"].sum("year")
    m["grey_listed_run"] = ds["grey_listed_new"].sum("year")
    m["investigated_per_case"] = _ratio(m["women_investigated_run"], m["cases_run"])
    m["grey_listed_per_case"] = _ratio(m["grey_listed_run"], m["cases_run"])
    svc = ds["illegal_services"].sum("year")
    m["out_of_county_share_run"] = _ratio(svc.sel(location="out_of_county", drop=True),
                                          svc.sum("location"))
    out = ds.copy()
    for name, (units, long_name) in METRICS.items():
        out[name] = m[name].transpose("scenario", "replicate", ...)
        out[name].attrs = {"units": units, "long_name": long_name}
    return out


def quantile_interval(values: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """The 90% interval across replicates along ``axis``: 5th and 95th percentiles.

    NaN where fewer than two finite values are available.
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values).sum(axis=axis)
    with _quiet():
        lo, hi = np.nanquantile(values, _Q, axis=axis)
    return np.where(finite >= 2, lo, np.nan), np.where(finite >= 2, hi, np.nan)


def unpaired_interval(base: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """90% interval of ``base - other`` as independent seeds would give it.

    ``base[i] - other[j]`` over all pairs of *different* replicates ``i != j``: each difference
    then compares two runs that share no random numbers.
    """
    base, other = np.asarray(base, float), np.asarray(other, float)
    diff = base[:, None] - other[None, :]
    off = diff[~np.eye(base.size, dtype=bool)]
    if off.size < 2:
        return float("nan"), float("nan")
    lo, hi = quantile_interval(off)
    return float(lo), float(hi)


def planner_table(ds: xr.Dataset) -> xr.Dataset:
    """The planner table: one variable per :data:`COLUMNS` key, dims ``(scenario, stat)``.

    ``stat`` is ``mean`` (ratio of sums for ratios), ``lo`` and ``hi`` (the 90% interval across
    replicates). Effects of the baseline against itself are NaN (not zero) so that tables show
    them blank.
    """
    base_name = ds.attrs["baseline"]
    scen = ds["scenario"].values
    is_base = scen == base_name
    table = {}
    for col in COLUMNS:
        if col.kind == "ratio":
            num = ds[col.ratio[0]].sum("replicate").values
            den = ds[col.ratio[1]].sum("replicate").values
            mean = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
            per = ds[col.metric].values
            lo, hi = quantile_interval(per)
            ok = (ds[col.ratio[1]] > 0).all("replicate").values
            lo, hi = np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)
        else:
            values = ds[col.metric].sel(col.sel, drop=True).transpose("scenario", "replicate")
            vals = values.values
            with _quiet():
                mean = np.nanmean(vals, axis=1)
            if col.kind == "unpaired":
                missing = ds["missing_female_births_run"].sel(scenario=base_name).values
                bounds = [unpaired_interval(missing, ds["missing_female_births_run"]
                                            .sel(scenario=s).values) for s in scen]
                lo, hi = np.array(bounds).T
            else:
                lo, hi = quantile_interval(vals, axis=1)
        if col.kind in ("paired", "unpaired") or col.key == "cost_per_averted":
            mean, lo, hi = (np.where(is_base, np.nan, x) for x in (mean, lo, hi))
        table[col.key] = xr.DataArray(np.stack([mean, lo, hi], axis=1),
                                      dims=("scenario", "stat"),
                                      attrs={"units": col.unit, "long_name": col.meaning})
    out = xr.Dataset(table, coords={"scenario": scen, "stat": ["mean", "lo", "hi"]})
    out.attrs = {k: ds.attrs[k] for k in ("baseline", "baseline_origin", "replicates",
                                          "root_seed", "interval", "start_year", "end_year",
                                          "households") if k in ds.attrs}
    return out
