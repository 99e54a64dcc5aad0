"""``popsim score``: how well a scenario reproduces the observations it is scored on.

:func:`score_runs` computes every target of a :class:`~.targets.TargetSet` from a dataset of
replicate runs and returns the table as an ``xarray.Dataset`` along ``target``: the model's
value (the statistic of the pooled replicates), its 90% interval, the observation and its band,
the error in the statistic's unit and in standard errors, and whether it is within tolerance.
:func:`run_replicates` makes those runs on any executor (the replicate seeds are
``replicate_seeds(seed, R)``, as in ``popsim compare``). :func:`summary_line` says it in one line.

The model interval is that of the mean of the replicates: the pooled value plus or minus
1.645 x (the standard deviation of the replicates' own values) / sqrt(R). The z score divides
the error by the combined standard error of the model mean and of the observation (its band read
as a 95% interval).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InputError
from ..experiments import ensemble
from ..experiments.ensemble import Posterior
from ..scenario.loader import load_scenario
from ..scenario.parameters import Scenario
from .statistics import STATISTICS, compute
from .targets import TargetSet, load_targets

__all__ = ["run_replicates", "score_runs", "summary_line", "score", "Z90"]

#: two-sided 90% normal quantile
Z90 = 1.6448536269514722


def run_replicates(scenario: Scenario, replicates: int, seed: int | None = None,
                   posterior: Posterior | None = None, *, workers: int | None = None,
                   scheduler: str | None = None, progress: bool = False) -> xr.Dataset:
    """``replicates`` runs of ``scenario`` stacked along ``replicate`` (any executor, same
    result), each with one draw of ``posterior`` if given
    (:func:`popsim.experiments.ensemble.run_replicates`: replicate r, seed r, draw r)."""
    root = scenario.run.seed if seed is None else int(seed)
    ds = ensemble.run_replicates(scenario, int(replicates), root, posterior, workers=workers,
                                 scheduler=scheduler, progress=progress)
    drawn = "" if posterior is None else f", {replicates} posterior draws"
    ds.attrs.update(title=f"popsim score runs of scenario '{scenario.name}'{drawn}",
                    root_seed=root)
    ds.attrs.pop("seed", None)
    return ds


def score_runs(ds: xr.Dataset, targets: TargetSet) -> xr.Dataset:
    """The score table of the runs ``ds`` (stacked along ``replicate``) against ``targets``."""
    rows: dict[str, list[Any]] = {k: [] for k in (
        "label", "group", "statistic", "unit", "years", "model", "model_low", "model_high",
        "observed", "observed_low", "observed_high", "tolerance", "error", "z", "passed", "note",
        "source")}
    reps = ds.sizes.get("replicate", 1)
    for t in targets.targets:
        obs = t.observation
        note = ""
        try:
            v = compute(t.statistic, ds, t.years, t.subset)
            model, per = v.pooled, v.per_replicate[np.isfinite(v.per_replicate)]
        except InputError as e:  # a statistic the runs cannot give: reported, never hidden
            model, per, note = math.nan, np.zeros(0), str(e)
        se = per.std(ddof=1) / math.sqrt(per.size) if per.size > 1 else math.nan
        lo, hi = (model - Z90 * se, model + Z90 * se) if math.isfinite(se) else (math.nan,) * 2
        err = model - obs.value
        se_obs = obs.se
        combined = math.sqrt(np.nansum([se_obs ** 2 if math.isfinite(se_obs) else math.nan,
                                        se ** 2 if math.isfinite(se) else math.nan]))
        z = err / combined if combined > 0 else math.nan
        ok = t.passes(model)
        for key, value in (("label", t.label), ("group", t.group), ("statistic", t.statistic),
                           ("unit", STATISTICS[t.statistic].unit),
                           ("years", f"{t.years[0]}" if t.years[0] == t.years[1]
                            else f"{t.years[0]}-{t.years[1]}"),
                           ("model", model), ("model_low", lo), ("model_high", hi),
                           ("observed", obs.value), ("observed_low", obs.low),
                           ("observed_high", obs.high),
                           ("tolerance", "band" if t.tolerance == "band" else f"{t.tolerance:g}"),
                           ("error", err), ("z", z), ("passed", ok), ("note", note),
                           ("source", obs.source)):
            rows[key].append(value)
    units = {"model": "statistic's unit", "error": "statistic's unit (model - observed)",
             "z": "standard errors"}
    table = xr.Dataset(
        {k: ("target", np.array(v, dtype=str if isinstance(v[0], str) else None))
         for k, v in rows.items()},
        coords={"target": [t.id for t in targets.targets]})
    for k, u in units.items():
        table[k].attrs["units"] = u
    table["passed"] = table["passed"].astype(bool)
    table.attrs = {"scenario": targets.scenario, "targets_file": targets.source,
                   "replicates": int(reps),
                   "households": int(ds.attrs.get("households", 0) or 0),
                   "model_interval": "90%: pooled value +- 1.645 x sd of the replicates / sqrt(R)"}
    for key in ("scenario_sha256", "root_seed", "popsim_version", "git_commit", "ensemble",
                "ensemble_sha256"):
        if key in ds.attrs:
            table.attrs[key] = ds.attrs[key]
    if "ensemble_sha256" in ds.attrs:  # say what the interval holds
        table.attrs["model_interval"] += (" over replicates that each use one posterior draw "
                                          "(seed noise and parameter uncertainty)")
    return table


def srb_rmse(table: xr.Dataset, group: str = "srb_series") -> tuple[float, int, str]:
    """RMSE (points) of the targets of ``group``, how many there are and their year span."""
    sel = table.where(table["group"] == group, drop=True)
    if sel.sizes.get("target", 0) == 0:
        return math.nan, 0, ""
    err = sel["error"].values.astype(float)
    years = [y.split("-")[0] for y in sel["years"].values]
    span = f"{years[0]}-{sel['years'].values[-1].split('-')[-1]}"
    return float(np.sqrt(np.nanmean(err ** 2))), int(np.isfinite(err).sum()), span


def summary_line(table: xr.Dataset) -> str:
    """One line: the SRB series' RMSE and how many targets are within tolerance."""
    n_pass, n = int(table["passed"].sum()), table.sizes["target"]
    rmse, k, span = srb_rmse(table)
    parts = [f"{table.attrs['scenario']}:"]
    if k:
        parts.append(f"SRB {span} RMSE {rmse:.2f} points ({k} observations);")
    parts.append(f"{n_pass} of {n} targets within tolerance")
    parts.append(f"({table.attrs['replicates']} replicates)")
    return " ".join(parts)


def score(scenario: str | Path | Scenario, targets: str | Path | TargetSet | None = None,
          replicates: int | None = None, seed: int | None = None,
          overrides: Iterable[str] | Mapping[str, Any] | None = None, *,
          posterior: Posterior | None = None, workers: int | None = None,
          scheduler: str | None = None, progress: bool = False
          ) -> tuple[xr.Dataset, xr.Dataset]:
    """Run a scenario's replicates and score them: returns ``(runs, table)``.

    ``targets`` defaults to the embedded target file named after the scenario; ``replicates``
    to the target file's ``replicates``; with a ``posterior`` each replicate uses one of its
    draws, so the model's interval holds the parameters' uncertainty as well as seed noise.
    """
    sc = scenario if isinstance(scenario, Scenario) and not overrides else load_scenario(
        scenario, overrides)
    ts = targets if isinstance(targets, TargetSet) else load_targets(targets or sc.name)
    r = int(replicates or ts.replicates)
    if r < 1:
        raise InputError(f"replicates must be at least 1, got {r}")
    runs = run_replicates(sc, r, seed, posterior, workers=workers, scheduler=scheduler,
                          progress=progress)
    runs.attrs["households"] = sc.run.households
    return runs, score_runs(runs, ts)
