"""The report of ``popsim calibrate``: Markdown and figures from a posterior dataset.

Written into the calibration's folder (atomically, :mod:`popsim.io`):

- ``calibration.md``: the verdict first (a calibration that does not fit says so in a warning,
  never as a fit), the parameters (prior range, weighted median, 90% interval), every target
  (observed value and band, the posterior predictive median and its 90% band, pass or miss), the
  distance per generation (ABC) or trial (Optuna), and provenance;
- ``calibration_marginals.png``: each parameter's weighted posterior histogram over its prior
  range; ``calibration_pairs.png``: pairwise scatter of the samples (area by weight);
- ``calibration_targets.png``: model vs data for every target: the observation and its band,
  the posterior predictive median and 90% band (from each sample's own evaluation);
- ``calibration_distance.png``: the distance (median, best, threshold) and acceptance rate per
  generation, or each trial's distance and the best so far.

The posterior predictive band is that of the calibration's evaluations (its population size and
replicates): it includes the sampling noise of runs that size.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..calibration.result import verdict, weighted_quantile
from ..io import save_figure, write_text

__all__ = ["write_report", "format_markdown", "format_terminal", "FIGURES"]

FIGURES = ("calibration_marginals.png", "calibration_pairs.png", "calibration_targets.png",
           "calibration_distance.png")


def _f(x: float) -> str:
    if not math.isfinite(x):
        return "-" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _q(ds: xr.Dataset, values: np.ndarray, q: float) -> float:
    return weighted_quantile(values, ds["weight"].values, q)


def _parameter_rows(ds: xr.Dataset) -> list[list[str]]:
    rows = []
    for j, p in enumerate(ds["parameter"].values):
        col = ds["value"].values[:, j]
        rows.append([str(p), str(ds["prior"].values[j]),
                     f"[{_f(float(ds['prior_min'][j]))}, {_f(float(ds['prior_max'][j]))}]",
                     _f(_q(ds, col, 0.5)), f"[{_f(_q(ds, col, 0.05))}, {_f(_q(ds, col, 0.95))}]"])
    return rows


def _target_rows(ds: xr.Dataset) -> list[list[str]]:
    rows = []
    sim = ds["simulated"].values
    for j, t in enumerate(ds["target"].values):
        col = sim[:, j]
        rows.append([str(ds["label"].values[j]), str(ds["group"].values[j]),
                     _f(float(ds["observed"][j])),
                     f"[{_f(float(ds['observed_low'][j]))}, {_f(float(ds['observed_high'][j]))}]",
                     _f(_q(ds, col, 0.5)), f"[{_f(_q(ds, col, 0.05))}, {_f(_q(ds, col, 0.95))}]",
                     "pass" if bool(ds["passes"].values[j]) else "MISS"])
    return rows


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + \
        ["| " + " | ".join(r) + " |" for r in rows]


def central_lines(ds: xr.Dataset) -> list[str]:
    """``path = value`` lines of the weighted medians (what a schema default would become)."""
    return [f"{p} = {_f(_q(ds, ds['value'].values[:, j], 0.5))}"
            for j, p in enumerate(ds["parameter"].values)]


def format_terminal(ds: xr.Dataset) -> str:
    """The verdict and the parameter table, aligned."""
    v = verdict(ds)
    head = ["parameter", "prior", "range", "median", "90% interval"]
    rows = _parameter_rows(ds)
    w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)) for r in [head] + rows]
    return "\n".join([v.text, ""] + lines)


def format_markdown(ds: xr.Dataset, elapsed: float | None = None) -> str:
    """The whole report as Markdown (figures referenced by their file names)."""
    v = verdict(ds)
    a = ds.attrs
    out = [f"# Calibration `{a.get('calibration_name', '')}` ({a['method']})", ""]
    if v.fit:
        out += [f"**{v.text}.**", ""]
    else:
        out += [f"> **{v.text}.**", ""]
    k = int(ds.sizes["sample"])
    what = (f"ABC-SMC (pyABC {a.get('pyabc_version', '?')}): the last generation's {k} "
            f"weighted samples" if a["method"] == "abc" else
            f"Optuna {a.get('optuna_version', '?')} TPE: the best of "
            f"{int(ds.sizes.get('trial', 0))} trials (a point fit, not a posterior: a normal "
            f"prior's shape is not used, only its range)")
    out += [f"Scenario {a['scenario']}, {a['households']:,} households, {a['replicates']} "
            f"replicate(s) per evaluation, seed {a['seed']}; {what}. Distance: the weighted "
            f"mean of the squared errors in tolerances (1 = every target missed by one "
            f"tolerance, RMS); fit threshold {a['fit_threshold']:g}."
            + (f" Wall time {elapsed / 60:.1f} min." if elapsed is not None else ""), ""]
    out += ["## Parameters", ""] + _table(["parameter", "prior", "range", "weighted median",
                                            "90% interval"], _parameter_rows(ds)) + [""]
    out += ["Central values (weighted medians):", "", "```"] + central_lines(ds) + ["```", ""]
    out += ["![marginals](calibration_marginals.png)", "", "![pairs](calibration_pairs.png)",
            ""]
    out += ["## Targets", "", "Posterior predictive: each sample's own evaluation (weighted).",
            ""] + _table(["target", "group", "observed", "band", "predictive median",
                          "90% band", "median"], _target_rows(ds)) + [""]
    out += ["![targets](calibration_targets.png)", ""]
    out += ["## Convergence", ""]
    if "generation" in ds.dims:
        rows = [[str(int(g)), _f(float(ds["epsilon"][i])), str(int(ds["evaluations"][i])),
                 f"{100 * float(ds['acceptance_rate'][i]):.0f}%",
                 _f(float(ds["median_distance"][i])), _f(float(ds["best_distance"][i]))]
                for i, g in enumerate(ds["generation"].values)]
        out += _table(["generation", "epsilon", "evaluations", "acceptance", "median distance",
                       "best distance"], rows)
    else:
        d = ds["trial_distance"].values
        out += [f"{d.size} trials; best distance {_f(float(d.min()))}; median of the first "
                f"batch {_f(float(np.median(d[:max(1, int(a.get('batch', 1)))])))}."]
    out += ["", "![distance](calibration_distance.png)", "", "## Provenance", ""]
    for key in ("spec_label", "targets_files", "observations_sha256", "targets_sha256",
                "popsim_version", "git_commit", "pyabc_version", "optuna_version",
                "numpy_version", "mesa_version"):
        if key in a:
            out.append(f"- {key}: `{a[key]}`")
    out += ["", "Spec:", "", "```toml", str(a["spec"]).rstrip(), "```", ""]
    return "\n".join(out)


def marginals_figure(ds: xr.Dataset) -> Figure:
    p = list(ds["parameter"].values)
    fig = Figure(figsize=(3.2 * len(p), 2.8), layout="constrained")
    w = ds["weight"].values
    for j, name in enumerate(p):
        ax = fig.add_subplot(1, len(p), j + 1)
        lo, hi = float(ds["prior_min"][j]), float(ds["prior_max"][j])
        ax.hist(ds["value"].values[:, j], bins=20, range=(lo, hi), weights=w, color="#4878a8")
        ax.axvline(_q(ds, ds["value"].values[:, j], 0.5), color="k", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_title(str(name), fontsize=8)
        ax.set_ylabel("weight" if j == 0 else "")
    return fig


def pairs_figure(ds: xr.Dataset) -> Figure:
    p = list(ds["parameter"].values)
    n = len(p)
    fig = Figure(figsize=(2.4 * max(n, 1), 2.4 * max(n, 1)), layout="constrained")
    v, w = ds["value"].values, ds["weight"].values
    size = 10 + 300 * w / max(w.max(), 1e-12)
    for i in range(n):
        for j in range(n):
            ax = fig.add_subplot(n, n, i * n + j + 1)
            if i == j:
                ax.hist(v[:, j], bins=15, weights=w, color="#4878a8")
            else:
                ax.scatter(v[:, j], v[:, i], s=size, alpha=0.5, color="#4878a8")
                ax.set_xlim(float(ds["prior_min"][j]), float(ds["prior_max"][j]))
                ax.set_ylim(float(ds["prior_min"][i]), float(ds["prior_max"][i]))
            if i == n - 1:
                ax.set_xlabel(str(p[j]).split(".")[-1], fontsize=7)
            if j == 0:
                ax.set_ylabel(str(p[i]).split(".")[-1], fontsize=7)
            ax.tick_params(labelsize=6)
    return fig


def targets_figure(ds: xr.Dataset) -> Figure:
    groups = list(dict.fromkeys(str(g) for g in ds["group"].values))
    fig = Figure(figsize=(11, 2.6 * len(groups)), layout="constrained")
    sim = ds["simulated"].values
    for k, g in enumerate(groups):
        ax = fig.add_subplot(len(groups), 1, k + 1)
        idx = [j for j, gg in enumerate(ds["group"].values) if str(gg) == g]
        x = np.arange(len(idx))
        obs = ds["observed"].values[idx]
        lo, hi = ds["observed_low"].values[idx], ds["observed_high"].values[idx]
        finite = np.isfinite(lo) & np.isfinite(hi)
        ax.errorbar(x[finite] - 0.12, obs[finite], yerr=[obs[finite] - lo[finite],
                    hi[finite] - obs[finite]], fmt="o", color="k", ms=4, label="observed, band")
        ax.plot(x[~finite] - 0.12, obs[~finite], "ko", ms=4)
        med = np.array([_q(ds, sim[:, j], 0.5) for j in idx])
        p5 = np.array([_q(ds, sim[:, j], 0.05) for j in idx])
        p95 = np.array([_q(ds, sim[:, j], 0.95) for j in idx])
        ax.errorbar(x + 0.12, med, yerr=[med - p5, p95 - med], fmt="s", color="#c0504d", ms=4,
                    label="posterior predictive, 90%")
        ax.set_xticks(x, [str(ds["target"].values[j]) for j in idx], rotation=30,
                      ha="right", fontsize=6)
        ax.set_title(g, fontsize=9)
        if k == 0:
            ax.legend(fontsize=7)
    return fig


def distance_figure(ds: xr.Dataset) -> Figure:
    fig = Figure(figsize=(9, 3), layout="constrained")
    ax = fig.add_subplot(1, 2, 1)
    thr = float(ds.attrs["fit_threshold"])
    if "generation" in ds.dims:
        g = ds["generation"].values
        ax.plot(g, ds["median_distance"].values, "o-", label="median")
        ax.plot(g, ds["best_distance"].values, "s--", label="best")
        ax.set_xlabel("generation")
        ax2 = fig.add_subplot(1, 2, 2)
        ax2.plot(g, 100 * ds["acceptance_rate"].values, "o-")
        ax2.set_xlabel("generation")
        ax2.set_ylabel("acceptance rate (%)")
        ax2.set_ylim(0, 105)
    else:
        d = ds["trial_distance"].values
        ax.plot(np.arange(d.size), d, ".", label="trial")
        ax.plot(np.arange(d.size), np.minimum.accumulate(d), "-", label="best so far")
        ax.set_xlabel("trial")
    ax.axhline(thr, color="k", lw=0.8, ls=":", label=f"fit threshold {thr:g}")
    ax.set_yscale("log")
    ax.set_ylabel("distance")
    ax.legend(fontsize=7)
    return fig


def write_report(ds: xr.Dataset, out: str | Path, elapsed: float | None = None) -> Path:
    """Write ``calibration.md`` and its figures into ``out``; returns the Markdown's path."""
    out = Path(out)
    for name, make in zip(FIGURES, (marginals_figure, pairs_figure, targets_figure,
                                    distance_figure)):
        save_figure(make(ds), out / name)
    return write_text(format_markdown(ds, elapsed), out / "calibration.md")
