"""Side-by-side comparison of scenarios: which package of measures, at what cost, for what effect.

A county planner's question is answered by running every scenario ``R`` times and summarising
the runs in one table (:data:`COLUMNS`). :func:`compare` returns ONE ``xarray.Dataset``:

* every variable of :func:`popsim.run`, with two leading dimensions ``scenario`` and
  ``replicate`` (coordinates: ``seed(replicate)``; ``description``, ``sha256`` and ``toml``
  along ``scenario``, the resolved scenario files);
* the per-replicate **metrics** of the planner table
  (:data:`popsim.experiments.compare_metrics.METRICS`), dims
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

Parameter uncertainty (``--ensemble``)
--------------------------------------
Without an ensemble every replicate uses the scenario's own behaviour coefficients, and the
intervals hold only if those are exactly right: they are **seed noise only**. With a posterior
(:mod:`popsim.experiments.ensemble`), replicate ``r`` of every scenario uses seed ``r`` *and*
posterior draw ``r``: the intervals combine seed noise and parameter uncertainty, and a
difference between two scenarios is still paired, in its random numbers and in its parameters.
The ``uncertainty`` attribute of the dataset (and the table's settings line) says which.

Incremental cost-effectiveness
------------------------------
Beside the effects against the baseline, :func:`planner_table` orders the packages by cost and
gives each one's extra girls averted, extra cost and cost per extra girl against the previous
package on the efficient frontier, marking dominated and extendedly dominated packages
(:mod:`popsim.experiments.cost_effectiveness`, after Drummond et al.).

Intervals
---------
Every interval is a 90% interval across replicates: the 5th and 95th percentiles (linear
interpolation) of the per-replicate values, i.e. the range in which 90% of the simulated futures
of this county fall. For an effect the values are the paired (within-replicate) differences. The
**unpaired** interval of births averted
(:func:`popsim.experiments.compare_metrics.unpaired_interval`) takes the differences between
runs of *different* replicates instead, which is what independent seeds would give; it is reported
beside the paired one to show what pairing buys. With one replicate there is no interval (NaN).
Ratios (cost per averted birth, women per case) are ratios of sums over replicates; their interval
is that of the per-replicate ratios, given only when every replicate has a positive denominator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ScenarioError, UsageError
from ..model.clinics import sample_townships
from ..model.streams import replicate_seeds
from ..provenance import provenance
from ..scenario.loader import (check_seed, load_scenario, parse_overrides, scenario_hash,
                               scenario_to_toml)
from ..scenario.parameters import SECTIONS, Scenario, iter_params
from ..scenario.schema import Schedule
from ..workload import (DEFAULT_REPLICATES, MAX_REPLICATES, Workload, check_count,
                        check_workload, estimate, kept_bytes, run_months)
from .compare_metrics import (LEVEL, MAX_SRB_SE, PRESENT_VALUE, QUANTILES, add_metrics,
                              min_births, quantile_interval, quiet_nan, simulated_births,
                              unpaired_interval)
from .cost_effectiveness import incremental_table
from .executors import default_workers, executor_name
from .runs import run_all, stack

__all__ = ["compare", "load_comparison", "planner_table", "Column", "COLUMNS", "levers_off",
           "context_paths", "context_differences", "plan_comparison", "run_plan", "Plan",
           "NO_MEASURES_SUFFIX"]

@dataclass(frozen=True)
class Column:
    """One column of the planner table.

    ``kind`` says how replicates are summarised: ``"level"`` (mean, 90% interval across
    replicates), ``"paired"`` (the same, of within-replicate differences against the baseline),
    ``"unpaired"`` (differences between different replicates, :func:`unpaired_interval`) or
    ``"ratio"`` (ratio of sums; interval of per-replicate ratios) or ``"incremental"`` (against
    the previous package on the cost-effectiveness frontier,
    :mod:`popsim.experiments.cost_effectiveness`). ``group`` places it in the report: ``"srb"``
    (sex ratio at birth in the end year), ``"run"`` (over the whole run), ``"effect"`` (effect
    and cost), ``"incremental"`` (the incremental cost-effectiveness table, rows by cost) or
    ``"detail"`` (in the Markdown and CSV files only).
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
           "Cost of the measures over the run: incentives committed (a present value of future "
           "benefits, see incentives) + enforcement (including tip rewards) + propaganda"),
    Column("incentive_cost_run", "incentives", "incentive_cost_run", "level", "yuan",
           f"Incentives committed over the run: {PRESENT_VALUE}", group="detail"),
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
    Column("incremental_averted", "extra averted", "averted_run", "incremental", "births",
           "Extra missing female births averted over the run against the package in 'versus' "
           "(the previous package on the cost-effectiveness frontier; paired)",
           group="incremental"),
    Column("incremental_cost", "extra cost", "total_cost_run", "incremental", "yuan",
           "Extra cost over the run against the package in 'versus' (paired; incentives "
           "committed as a present value)", group="incremental"),
    Column("icer", "cost/extra girl", "total_cost_run", "incremental", "yuan per birth",
           "Incremental cost-effectiveness ratio: extra cost per extra missing female birth "
           "averted against the previous frontier package (blank off the frontier, and no "
           "interval unless the extra girls averted are positive in every replicate)",
           group="incremental"),
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
    """A checked comparison, before any run: scenarios (baseline first), seeds and size.

    ``runs[k][r]`` is the scenario replicate ``r`` of scenario ``k`` runs: ``scenarios[k]``
    itself, or with an ensemble its posterior draw ``r`` (the same draw in every scenario)."""

    scenarios: list[Scenario]
    baseline_origin: str
    root_seed: int
    seeds: list[int]
    work: Workload
    overrides: dict[str, Any]
    runs: list[list[Scenario]]
    posterior: Any = None


def plan_comparison(scenarios: Sequence[str | Path | Scenario],
                    replicates: int = DEFAULT_REPLICATES, seed: int | None = None,
                    baseline: str | Path | Scenario | None = None,
                    overrides: Iterable[str] | Mapping[str, Any] | None = None, *,
                    workers: int | None = None, scheduler: str | None = None,
                    yes: bool = False, ensemble: Any = None, draws: int | None = None) -> Plan:
    """Load and check everything :func:`compare` needs, and refuse a request too large for this
    machine (:func:`popsim.workload.check_workload`; ``yes`` accepts a long one).

    ``ensemble`` (a posterior file or :class:`popsim.experiments.ensemble.Posterior`) gives each
    replicate one posterior draw (:func:`popsim.experiments.ensemble.ensemble_scenarios` with the
    root seed): ``draws``, when given, must equal ``replicates``."""
    replicates = check_count("replicates", replicates, hi=2**63 - 1)
    if draws is not None and ensemble is None:
        raise UsageError("--draws needs --ensemble POSTERIOR: the draws are taken from it")
    if draws is not None:
        from .ensemble import check_draws

        draws = check_draws(draws, "draws")
    if draws is not None and draws != replicates:
        raise UsageError(f"draws = {draws} but replicates = {replicates}: replicate r of every "
                         f"scenario uses seed r and posterior draw r, so give one of them (or "
                         f"equal values)")
    loaded, origin = _load(scenarios, baseline, overrides)
    posterior = _posterior(ensemble, loaded)
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
    if posterior is None:
        runs = [[s] * replicates for s in loaded]
    else:
        from .ensemble import ensemble_scenarios

        runs = [ensemble_scenarios(s, posterior, replicates, root) for s in loaded]
    return Plan(loaded, origin, root, replicate_seeds(root, replicates), work,
                parse_overrides(overrides), runs, posterior)


def _posterior(ensemble: Any, loaded: list[Scenario]) -> Any:
    """The posterior of ``--ensemble`` (read and checked), refused when it would vary a lever of
    a compared scenario: an ensemble varies what is not known about the county, never the
    measures compared. A lever of another scenario's calibrated history (a national programme's
    intensity) is not applied to these scenarios
    (:func:`popsim.experiments.ensemble.scenario_bound`) and is no reason to refuse."""
    if ensemble is None:
        return None
    from .ensemble import Posterior, read_posterior, scenario_bound

    posterior = ensemble if isinstance(ensemble, Posterior) else read_posterior(ensemble)
    context = set(context_paths())
    dropped = set.intersection(*(set(scenario_bound(posterior, s)) for s in loaded))
    levers = [p for p in posterior.parameters
              if (p not in context or p.startswith("run.")) and p not in dropped]
    if levers:
        where = f" ({posterior.path})" if posterior.path else ""
        raise UsageError(f"the posterior{where} draws {', '.join(levers)}: a lever or run "
                         f"setting, which a comparison of measures must not vary; an ensemble "
                         f"may draw only context parameters (behaviour, son preference, ...)")
    return posterior


# ------------------------------------------------------------------------------------------------
# running


def compare(scenarios: Sequence[str | Path | Scenario], replicates: int = DEFAULT_REPLICATES,
            seed: int | None = None, baseline: str | Path | Scenario | None = None,
            overrides: Iterable[str] | Mapping[str, Any] | None = None, *,
            workers: int | None = None, scheduler: str | None = None,
            progress: bool = False, yes: bool = False, ensemble: Any = None,
            draws: int | None = None) -> xr.Dataset:
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
        Passed to :func:`popsim.experiments.executors.map_tasks`: ``workers=1`` runs in this
        process, the default is a process pool over the machine's cores, ``scheduler`` uses
        dask.
    progress
        Show a tqdm progress bar on stderr.
    yes
        Run even when the estimated CPU time is long (:func:`plan_comparison`).
    ensemble, draws
        A posterior (file or :class:`popsim.experiments.ensemble.Posterior`): replicate ``r`` of
        every scenario runs with seed ``r`` *and* posterior draw ``r``, so the intervals combine
        seed noise and parameter uncertainty while the differences stay paired in both.
        ``draws`` (if given) must equal ``replicates``. The draws are recorded as
        :func:`popsim.experiments.ensemble.draw_coords` (``draw``, ``draw_value``) and
        :func:`~popsim.experiments.ensemble.ensemble_attrs`; ``sha256`` and ``toml`` are the
        scenarios before the draws.

    The result does not depend on the executor or the number of workers.
    """
    plan = plan_comparison(scenarios, replicates, seed, baseline, overrides, workers=workers,
                           scheduler=scheduler, yes=yes, ensemble=ensemble, draws=draws)
    return run_plan(plan, workers=workers, scheduler=scheduler, progress=progress)


def run_plan(plan: Plan, *, workers: int | None = None, scheduler: str | None = None,
             progress: bool = False) -> xr.Dataset:
    """Run a checked :class:`Plan` (:func:`plan_comparison`); see :func:`compare`."""
    loaded, seeds, root = plan.scenarios, plan.seeds, plan.root_seed
    base = loaded[0]
    tasks = [(plan.runs[k][i], sd) for k in range(len(loaded)) for i, sd in enumerate(seeds)]
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
        "interval": f"{LEVEL:.0%}: {QUANTILES[0]:.0%} to {QUANTILES[1]:.0%} percentile across "
                    f"replicates",
        "start_year": base.run.start_year,
        "end_year": base.run.end_year,
        "households": base.run.households,
        "scale": base.run.scale,
        **{k: prov[k] for k in ("natural_srb", "popsim_version", "mesa_version", "numpy_version",
                                "git_commit")},
    }
    post = plan.posterior
    if post is None:
        ds.attrs["uncertainty"] = ("seed noise only: every replicate uses the scenario's own "
                                   "parameter values")
    else:
        from .ensemble import draw_coords, ensemble_attrs, scenario_bound

        ds = ds.assign_coords(draw_coords(post, R, root))
        ds.attrs.update(ensemble_attrs(post, R, root))
        bound = scenario_bound(post, plan.scenarios[0])
        unused = (f"; {', '.join(bound)}: a lever of the calibrated "
                  f"'{post.attrs.get('scenario', '')}' history, not applied here" if bound else "")
        ds.attrs.update(
            ensemble=ds.attrs["ensemble"] or post.describe(),
            uncertainty=f"seed noise and parameter uncertainty: replicate r of every scenario "
                        f"uses seed r and posterior draw r ({R} draws from "
                        f"{post.describe()}{unused}; paired in both)")
    return add_metrics(ds)


# ------------------------------------------------------------------------------------------------
# metrics and the table


def planner_table(ds: xr.Dataset) -> xr.Dataset:
    """The planner table: one variable per :data:`COLUMNS` key, dims ``(scenario, stat)``.

    ``stat`` is ``mean`` (ratio of sums for ratios), ``lo`` and ``hi`` (the 90% interval across
    replicates). Effects of the baseline against itself are NaN (not zero) so that tables show
    them blank. Besides the columns:

    * ``ce_rank``, ``ce_status``, ``ce_versus`` and ``frontier_share`` (dim ``scenario``): the
      place of each package in the incremental cost-effectiveness table
      (:func:`popsim.experiments.cost_effectiveness.incremental_table`);
    * ``cell_births`` (``scenario`` x ``column``, the SRB columns): mean simulated births per run
      behind each SRB cell; a cell with fewer than the ``min_births`` attribute has a binomial
      standard error above ``max_srb_se`` points
      (:func:`popsim.experiments.compare_metrics.min_births`) and the reports mark it.
    """
    base_name = ds.attrs["baseline"]
    scen = ds["scenario"].values
    is_base = scen == base_name
    ce = incremental_table(scen, ds["total_cost_run"].transpose("scenario", "replicate").values,
                           ds["averted_run"].transpose("scenario", "replicate").values)
    table = {}
    for col in COLUMNS:
        if col.kind == "incremental":
            table[col.key] = xr.DataArray(ce[col.key].values, dims=("scenario", "stat"),
                                          attrs={"units": col.unit, "long_name": col.meaning})
            continue
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
            with quiet_nan():
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
    for name in ("ce_rank", "ce_status", "ce_versus", "frontier_share"):
        out[name] = ce[name]
    births = {c.key: simulated_births(ds, c.metric, dict(c.sel)) for c in COLUMNS}
    births = {k: v for k, v in births.items() if v is not None}
    if births:
        out["cell_births"] = xr.concat(list(births.values()), dim="column").assign_coords(
            column=list(births)).transpose("scenario", "column")
        out["cell_births"].attrs = {"units": "births", "long_name": "Mean simulated births per "
                                    "run behind an SRB cell"}
    natural = float(ds.attrs.get("natural_srb", 106.0))
    out.attrs = {k: ds.attrs[k] for k in ("baseline", "baseline_origin", "replicates",
                                          "root_seed", "interval", "start_year", "end_year",
                                          "households", "scale", "natural_srb", "ensemble",
                                          "ensemble_draws", "uncertainty") if k in ds.attrs}
    out.attrs.update(max_srb_se=MAX_SRB_SE, min_births=min_births(MAX_SRB_SE, natural))
    return out
