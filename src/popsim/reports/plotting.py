"""Figures of one run (matplotlib, no pyplot state: safe in workers and servers)."""

from __future__ import annotations

from pathlib import Path

import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..io import save_figure

__all__ = ["srb_figure", "save_srb_figure"]

PARITY_COLOURS = {"1": "#1b9e77", "2": "#d95f02", "3+": "#7570b3"}


def srb_figure(ds: xr.Dataset, title: str | None = None) -> Figure:
    """SRB over time: total (true and reported) and by birth order, with the natural level."""
    natural = float(ds.attrs.get("natural_srb", 106.0))
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    years = ds["year"].values
    ax1.plot(years, ds["srb"], color="black", lw=2, label="true")
    ax1.plot(years, ds["reported_srb"], color="grey", lw=1.5, ls="--", label="reported")
    births = ds["births"].sum("sex")
    for parity, colour in PARITY_COLOURS.items():
        # the legend gives the births a year behind each line: few births, noisy ratio
        per_year = float(births.sel(parity=parity).mean())
        ax2.plot(years, ds["srb_by_parity"].sel(parity=parity), color=colour, lw=1.8,
                 marker="o", ms=2.5, label=f"birth order {parity} (~{per_year:,.0f} births/yr)")
    for ax, sub in ((ax1, "All births"), (ax2, "By birth order (true)")):
        ax.axhline(natural, color="tab:blue", lw=1, ls=":", label=f"natural ({natural:g})")
        ax.set_title(sub)
        ax.set_xlabel("year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    ax1.set_ylabel("sex ratio at birth (males per 100 females)")
    fig.suptitle(title or f"popsim: {ds.attrs.get('scenario_name', '')} "
                 f"(seed {ds.attrs.get('seed', '?')})")
    return fig


def save_srb_figure(ds: xr.Dataset, dest: str | Path, title: str | None = None) -> Path:
    """Write :func:`srb_figure` as a PNG, atomically."""
    return save_figure(srb_figure(ds, title), dest)
