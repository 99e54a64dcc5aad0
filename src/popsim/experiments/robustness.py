"""Robustness of lever packages across uncertain contexts (policies x scenarios).

A sweep with ``[packages]`` runs every lever package at every design point of its context
parameters (the uncertainties), with the same replicate seeds: common random numbers, so
packages are compared in the same contexts under the same draws (EMA Workbench's policies x
scenarios; Kwakkel 2017, *Environmental Modelling & Software* 96). For one outcome and a
direction (lower or higher is better, or closest to a target) this reports, per package:

- **regret** in each context sample: its distance from the best package in that sample
  (Savage's minimax-regret criterion ranks packages by their largest regret; Savage 1951;
  Lempert, Popper & Bankes 2003), with its mean and maximum over the samples;
- **share best**: the share of context samples in which the package is the best (ties split);
- the share of samples in which the best package's margin over the runner-up is within replicate
  noise (paired across replicates: common random numbers), when there are replicates to tell.

Replicates are averaged per (package, context sample) first.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats

from .sensitivity import outcome
from .sweep import packages
from .sweep_spec import PACKAGE_DIM, SpecError

__all__ = ["robustness", "robustness_table", "DIRECTIONS"]

DIRECTIONS = ("min", "max")


def _objective(y: xr.DataArray, direction: str, target: float | None) -> tuple[xr.DataArray, str]:
    """(a score where lower is better, how the table says so)."""
    if direction not in DIRECTIONS:
        raise SpecError(f"--direction is min or max, got '{direction}'")
    if target is not None:
        return abs(y - target), f"closest to {target:g} is best"
    return (y if direction == "min" else -y), ("lower" if direction == "min" else "higher") + \
        " is better"


def robustness(ds: xr.Dataset, variable: str = "srb", direction: str = "min",
               target: float | None = None, select: dict | None = None,
               year: int | None = None) -> xr.Dataset:
    """Regret and share best of every package over the context samples, over ``package``.

    Variables: ``mean`` (the outcome averaged over context samples), ``mean_regret``,
    ``max_regret`` (outcome units), ``share_best`` (0-1), and per context sample ``regret``
    (package, context). Attrs say the outcome, the direction, the counts and
    ``share_within_noise`` (NaN with one replicate).
    """
    names = packages(ds)
    if not names:
        raise SpecError("this sweep has no lever packages ([packages] in its spec): robustness "
                        "compares packages; use 'popsim sensitivity' for its parameters")
    if PACKAGE_DIM in (select or {}):
        raise SpecError("robustness compares every package: do not pin package with --select")
    y = outcome(ds, variable, select, year, keep=(PACKAGE_DIM,)).load()
    context = [d for d in y.dims if d not in (PACKAGE_DIM, "replicate")]
    y = y.stack(context=context).transpose(PACKAGE_DIM, "context", "replicate")
    if np.isnan(y.values).any():
        raise SpecError(f"{y.attrs['outcome']} is undefined (NaN) in some runs: choose another "
                        f"outcome or larger runs")
    score, rule = _objective(y.mean("replicate"), direction, target)  # replicates averaged
    mean = score.values.astype(float)  # package x context, lower is better
    regret = mean - mean.min(axis=0)
    best = np.isclose(regret, 0.0, atol=1e-12 * (1 + np.abs(mean).max()))
    share_best = (best / best.sum(axis=0)).mean(axis=1)
    within = float("nan")
    reps = y.sizes["replicate"]
    if reps > 1:  # paired difference of the best and the runner-up, across replicates
        s = _objective(y, direction, target)[0].values.astype(float)  # ... x replicate
        order = np.argsort(mean, axis=0, kind="stable")
        cols = np.arange(s.shape[1])
        diff = s[order[1], cols] - s[order[0], cols]  # context x replicate
        half = stats.t.ppf(0.975, reps - 1) * diff.std(axis=1, ddof=1) / np.sqrt(reps)
        within = float(np.mean(np.abs(diff.mean(axis=1)) <= half))
    raw_mean = y.mean(["context", "replicate"]).values
    units = ds[variable].attrs.get("units", "")
    return xr.Dataset(
        {"mean": (PACKAGE_DIM, raw_mean, {"long_name": f"mean {variable}", "units": units}),
         "mean_regret": (PACKAGE_DIM, regret.mean(axis=1), {"units": units}),
         "max_regret": (PACKAGE_DIM, regret.max(axis=1), {"units": units}),
         "share_best": (PACKAGE_DIM, share_best, {"units": "1"}),
         "regret": ((PACKAGE_DIM, "context"), regret, {"units": units})},
        coords={PACKAGE_DIM: names, "context": np.arange(mean.shape[1])},
        attrs={"outcome": y.attrs["outcome"], "variable": variable, "rule": rule,
               "contexts": int(mean.shape[1]), "replicates": int(reps),
               "share_within_noise": within, "context_parameters": ", ".join(context)})


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def robustness_table(result: xr.Dataset) -> str:
    """The packages as a text table, the smallest maximum regret (minimax regret) first."""
    names = [str(p) for p in result[PACKAGE_DIM].values]
    width = max(len(n) for n in names + ["package"])
    order = np.lexsort((result["mean_regret"].values, result["max_regret"].values))
    lines = [f"outcome: {result.attrs['outcome']}; {result.attrs['rule']}",
             f"{result.attrs['contexts']} context samples ({result.attrs['context_parameters']})"
             f" x {result.attrs['replicates']} replicate(s), replicates averaged; every package "
             f"meets the same contexts with the same seeds (common random numbers)", "",
             f"{'package':<{width}}  {'mean':>10}  {'share best':>10}  {'mean regret':>11}  "
             f"{'max regret':>10}"]
    for i in order:
        lines.append(f"{names[i]:<{width}}  {_num(float(result['mean'][i])):>10}  "
                     f"{float(result['share_best'][i]):>10.0%}  "
                     f"{_num(float(result['mean_regret'][i])):>11}  "
                     f"{_num(float(result['max_regret'][i])):>10}")
    lines += ["", "regret: distance from the best package in the same context sample (outcome "
                  "units); packages are listed by their largest regret (minimax regret)."]
    within = result.attrs["share_within_noise"]
    if np.isfinite(within):
        lines.append(f"In {within:.0%} of the context samples the best package's margin over "
                     f"the runner-up is within replicate noise (95% paired interval).")
        if within > 0.5:
            lines.append("WARNING: most rankings are within noise: add replicates before "
                         "reading the share best.")
    else:
        lines.append("WARNING: 1 replicate: whether a package's lead is more than seed noise "
                     "cannot be told; run replicates >= 2.")
    return "\n".join(lines)
