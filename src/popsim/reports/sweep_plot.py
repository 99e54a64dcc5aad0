"""Figures of a sweep: an outcome over one parameter with replicate bands, or a heatmap over two.

The outcome is one value per run (see :func:`popsim.experiments.sensitivity.outcome`: a variable
in one year, other dimensions pinned). Over one parameter the line is the mean over replicates
and the band their range (min to max): with common random numbers the band shows seed noise, and
a trend that leaves the band is not noise. Over two grid parameters each cell gives the replicate
mean and standard deviation; cells whose paired difference from the reference cell (the first
value of both parameters) is within replicate noise (a 95% paired t interval that includes zero)
are hatched, and the colour scale spans at least four standard errors of a cell mean, so that
noise alone never fills the palette. Sampled designs have no grid: they are drawn as scatters of
design points. :func:`robustness_figure` draws the regret of lever packages.

Grid parameters not on an axis are averaged over unless pinned with ``select``; with exactly one
such parameter of a few values, the line plot draws one line per value instead.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..errors import did_you_mean
from ..io import save_figure
from ..experiments.sensitivity import outcome
from ..experiments.sweep import swept_parameters
from ..experiments.sweep_spec import RUN_DIM, SpecError

__all__ = ["sweep_figure", "save_sweep_figure", "robustness_figure"]

_MAX_LINES = 8


def _positions(coord: xr.DataArray) -> tuple[np.ndarray, list[str] | None]:
    """Numeric axis positions, and tick labels when the values are not numbers."""
    values = coord.values
    if values.dtype.kind in "fiu":
        return values.astype(float), None
    return np.arange(len(values), dtype=float), [str(v) for v in values]


def _label(da: xr.DataArray, name: str | None = None) -> str:
    """An axis label: the name (or long name) with its unit, if it has one."""
    unit = da.attrs.get("units_label", da.attrs.get("units", ""))
    text = name or da.attrs.get("long_name", da.name)
    shown = unit in ("", "-", "1") or str(unit) in str(text)  # long names may already say it
    return str(text) if shown else f"{text} ({unit})"


def _check_param(ds: xr.Dataset, name: str | None, option: str) -> None:
    params = swept_parameters(ds)
    if name is not None and name not in params:
        raise SpecError(f"{option} {name!r} is not a swept parameter"
                        f"{did_you_mean(name, params)}; swept: {', '.join(params)}")


def _reference(ax, y: xr.DataArray, ds: xr.Dataset) -> None:
    if y.attrs.get("units_label") == "males per 100 females":
        natural = float(ds.attrs.get("natural_srb", 106.0))
        ax.axhline(natural, color="tab:blue", lw=1, ls=":", label=f"natural SRB ({natural:g})")


def _line(ax, ds: xr.Dataset, y: xr.DataArray, x: str, free: list[str]) -> str:
    others = [p for p in free if p != x]
    note = ""
    groups: list[tuple[str | None, xr.DataArray]] = [(None, y)]
    if len(others) == 1 and y.sizes[others[0]] <= _MAX_LINES:
        groups = [(f"{others[0]} = {v}", y.sel({others[0]: v})) for v in y[others[0]].values]
    elif others:
        y = y.mean(others, keep_attrs=True)
        groups = [(None, y)]
        note = f"; averaged over {', '.join(others)}"
    pos, labels = _positions(y[x])
    for k, (label, g) in enumerate(groups):
        colour = f"C{k}"
        ax.fill_between(pos, g.min("replicate"), g.max("replicate"), color=colour, alpha=0.2,
                        lw=0)
        ax.plot(pos, g.mean("replicate"), color=colour, marker="o", lw=1.8,
                label=label or f"mean of {y.sizes['replicate']} replicates (band: range)")
    if labels:
        ax.set_xticks(pos, labels)
    ax.set_xlabel(_label(ds[x], x))
    ax.set_ylabel(_label(y))
    _reference(ax, y, ds)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return note


def _ticks(values: np.ndarray) -> list[str]:
    return [f"{v:g}" if isinstance(v, float) else str(v) for v in values]


def _cell_noise(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From cells (y, x, replicate): the replicate sd of each cell, the standard error of each
    cell mean, and whether each cell's paired difference from cell (0, 0) is within noise."""
    reps = cells.shape[-1]
    if reps < 2:
        nan = np.full(cells.shape[:2], np.nan)
        return nan, nan, np.zeros(cells.shape[:2], bool)
    from scipy import stats

    sd = cells.std(axis=-1, ddof=1)
    diff = cells - cells[:1, :1]
    half = stats.t.ppf(0.975, reps - 1) * diff.std(axis=-1, ddof=1) / np.sqrt(reps)
    within = np.abs(diff.mean(axis=-1)) <= half
    within[0, 0] = False
    return sd, sd / np.sqrt(reps), within


def _heatmap(fig: Figure, ax, ds: xr.Dataset, y: xr.DataArray, x: str, yname: str,
             free: list[str]) -> str:
    from matplotlib.patches import Rectangle

    others = [p for p in free if p not in (x, yname)]
    cells = y.mean(others, keep_attrs=True).transpose(yname, x, "replicate")
    m = cells.mean("replicate", keep_attrs=True)
    sd, se, within = _cell_noise(np.asarray(cells.values, dtype=float))
    lo, hi = float(np.nanmin(m.values)), float(np.nanmax(m.values))
    need = 4 * float(np.nanmedian(se)) if np.isfinite(se).any() else 0.0
    if hi - lo < need:  # noise alone must not fill the palette
        mid = (hi + lo) / 2
        lo, hi = mid - need / 2, mid + need / 2
    mesh = ax.pcolormesh(np.arange(m.sizes[x] + 1) - 0.5, np.arange(m.sizes[yname] + 1) - 0.5,
                         m.values, cmap="viridis", shading="flat", vmin=lo, vmax=hi)
    ax.set_xticks(np.arange(m.sizes[x]), _ticks(m[x].values))
    ax.set_yticks(np.arange(m.sizes[yname]), _ticks(m[yname].values))
    for i, j in zip(*np.nonzero(within)):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                               edgecolor="0.85", lw=0))
    ax.add_patch(Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="red", lw=2))
    if m.size <= 100:
        for (i, j), v in np.ndenumerate(m.values):
            light = hi > lo and (v - lo) / (hi - lo) < 0.5
            text = f"{v:.4g}" + (f"\n+-{sd[i, j]:.2g}" if np.isfinite(sd[i, j]) else "") + \
                ("\nref" if (i, j) == (0, 0) else "")
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if light else "black")
    ax.set_xlabel(_label(ds[x], x))
    ax.set_ylabel(_label(ds[yname], yname))
    fig.colorbar(mesh, ax=ax, label=f"{_label(y)}, replicate mean")
    reps = cells.sizes["replicate"]
    if reps < 2:
        note = "; 1 replicate: noise unknown"
    else:
        note = (f"; cells: mean +- sd of {reps} replicates; hatched: difference from the "
                f"red reference cell within noise (95% paired interval)")
        if within.sum() == within.size - 1:
            note += "; EVERY cell is within noise of the reference"
    return note + (f"; averaged over {', '.join(others)}" if others else "")


def _scatter(fig: Figure, ax, ds: xr.Dataset, y: xr.DataArray, x: str, yname: str | None) -> None:
    mean = y.mean("replicate", keep_attrs=True)
    if yname is None:
        pos, labels = _positions(ds[x])
        ax.errorbar(pos, mean, yerr=[mean - y.min("replicate"), y.max("replicate") - mean],
                    fmt="o", ms=4, alpha=0.7, elinewidth=0.8,
                    label=f"design points (bars: range of {y.sizes['replicate']} replicates)")
        if labels:
            ax.set_xticks(np.unique(pos), list(dict.fromkeys(labels)))
        ax.set_ylabel(_label(y))
        _reference(ax, y, ds)
        ax.legend(fontsize=8)
    else:
        points = ax.scatter(_positions(ds[x])[0], _positions(ds[yname])[0], c=mean.values,
                            cmap="viridis", s=30)
        ax.set_ylabel(_label(ds[yname], yname))
        fig.colorbar(points, ax=ax, label=f"{_label(y)}, replicate mean")
    ax.set_xlabel(_label(ds[x], x))
    ax.grid(alpha=0.3)


def sweep_figure(ds: xr.Dataset, variable: str = "srb", x: str | None = None,
                 y: str | None = None, select: dict[str, Any] | None = None,
                 year: int | None = None) -> Figure:
    """The figure of ``variable`` over parameter ``x`` (and ``y``: a heatmap) of a sweep.

    Defaults: a grid of two free parameters gives a heatmap, otherwise a line over the first.
    """
    _check_param(ds, x, "--x")
    _check_param(ds, y, "--y")
    if x is not None and x == y:
        raise SpecError("--x and --y must be different parameters")
    out = outcome(ds, variable, select, year).load()
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    note = ""
    if RUN_DIM in out.dims:
        x = x or swept_parameters(ds)[0]
        _scatter(fig, ax, ds, out, x, y)
        note = f"; {ds.attrs['design']} design, {out.sizes[RUN_DIM]} points"
    else:
        free = [p for p in swept_parameters(ds) if p in out.dims]
        for name in (x, y):
            if name is not None and name not in free:
                raise SpecError(f"{name} is pinned by --select; it cannot be an axis")
        if not free:
            raise SpecError("every swept parameter is pinned by --select: nothing to plot over")
        if y is None and x is None and len(free) == 2:
            x, y = free
        x = x or free[0]
        if y is not None:
            note = _heatmap(fig, ax, ds, out, x, y, free)
        else:
            note = _line(ax, ds, out, x, free)
    ax.set_title(textwrap.fill(f"{ds.attrs.get('sweep_name', 'sweep')}: {out.attrs['outcome']}"
                               f"{note}", 90), fontsize=10)
    return fig


def save_sweep_figure(ds: xr.Dataset, dest: str | Path, **kwargs: Any) -> Path:
    """Write :func:`sweep_figure` as a PNG, atomically."""
    return save_figure(sweep_figure(ds, **kwargs), dest)


def robustness_figure(result: xr.Dataset) -> Figure:
    """Lever packages (from :func:`popsim.experiments.robustness.robustness`): the share of
    context samples in which each is best, and its regret in every context sample."""
    names = [str(p) for p in result["package"].values]
    order = list(np.lexsort((result["mean_regret"].values, result["max_regret"].values)))[::-1]
    fig = Figure(figsize=(10, 1.6 + 0.5 * len(names)), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=[1, 2])
    pos = np.arange(len(names))
    left.barh(pos, result["share_best"].values[order], color="#1b9e77")
    left.set_xlim(0, 1)
    left.set_yticks(pos, [names[i] for i in order])
    left.set_xlabel("share of context samples where best")
    regret = result["regret"].values
    right.boxplot([regret[i] for i in order], positions=pos, orientation="horizontal",
                  widths=0.5, manage_ticks=False)
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, regret.shape[1])  # fixed, no state
    for k, i in enumerate(order):
        right.plot(regret[i], k + jitter, "o", ms=3, alpha=0.4, color="#d95f02")
    unit = result["regret"].attrs.get("units", "")
    right.set_xlabel(f"regret ({unit})" if unit else "regret")
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(textwrap.fill(f"Lever packages: {result.attrs['outcome']}, "
                               f"{result.attrs['rule']}; {result.attrs['contexts']} context "
                               f"samples", 100), fontsize=10)
    return fig
