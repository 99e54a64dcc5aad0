"""The table and figure of ``popsim run``: one run, or replicates (seeds, posterior draws).

One run's yearly SRB in a county is noisy: ~3,000 births a year give a binomial standard error
of about 4 points, and third births (a few hundred a year) 10 to 20 points. So that a single run
is not read as a projection:

- a run with fewer than :data:`COUNTY_BIRTHS` births a year gets a :func:`sampling_note` that
  gives the standard errors computed from its births and says how to get an interval;
- every SRB cell whose births are too few to read (one run's standard error above
  :data:`UNREADABLE_SE` points) is marked :data:`MARK`, explained under the table;
- the figure draws a band: the 90% interval across replicates when there are several (seeds, and
  posterior draws with ``--ensemble``), otherwise one run's 90% binomial sampling interval.

Replicate datasets have a ``replicate`` dimension
(:func:`popsim.experiments.ensemble.run_replicates`); their table shows the median and the 90%
interval (5th to 95th percentile) per year.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..experiments.compare_metrics import QUANTILES, min_births, srb_standard_error
from ..io import save_figure

__all__ = ["PARITY_COLOURS", "COUNTY_BIRTHS", "UNREADABLE_SE", "MARK", "run_table", "sampling_note",
           "run_figure", "save_run_figure", "cell_standard_errors"]

#: The colour of each birth order's line, in this figure and the app's charts.
PARITY_COLOURS = {"1": "#1b9e77", "2": "#d95f02", "3+": "#7570b3"}

#: Births a year below which a scenario is "county-sized": one run's yearly SRB then has a
#: standard error above ~1.5 points (212 / sqrt(20,000)), and third births (a tenth of the births)
#: above ~5, so one run alone misleads and :func:`sampling_note` says so.
COUNTY_BIRTHS = 20_000
#: One run's binomial standard error (SRB points) above which a cell is marked as too few births
#: to read: a 90% sampling interval of +-16 points or more (about 450 births at the natural SRB).
UNREADABLE_SE = 10.0
#: the mark of such a cell
MARK = "*"
_Z90 = 1.6448536269514722  # two-sided 90% normal quantile


def _replicated(ds: xr.Dataset) -> bool:
    return "replicate" in ds.dims


def _natural(ds: xr.Dataset) -> float:
    return float(ds.attrs.get("natural_srb", 106.0))


def _cells(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Births (both sexes) behind each SRB column of the table, per year (and replicate)."""
    births = ds["births"].sum("sex")
    cells = {"SRB": births.sum("parity")}
    for parity in ("1", "2", "3+"):
        cells[f"SRB p{parity}"] = births.sel(parity=parity, drop=True)
    cells["reported"] = ds["reported_births"].sum(("sex", "parity"))
    return cells


def cell_standard_errors(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """One run's binomial standard error (SRB points, at the natural SRB) of each SRB column, per
    year: from the births of the run, or the median births of the replicates."""
    out = {}
    for name, births in _cells(ds).items():
        if _replicated(ds):
            births = births.median("replicate")
        out[name] = srb_standard_error(births.transpose("year").values, _natural(ds))
    return out


def _values(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    sp = ds["srb_by_parity"]
    return {"births": ds["total_births"], "SRB": ds["srb"],
            **{f"SRB p{p}": sp.sel(parity=p, drop=True) for p in ("1", "2", "3+")},
            "reported": ds["reported_srb"],
            "abortions": ds["sex_selective_abortions"].sum(
                [d for d in ds["sex_selective_abortions"].dims if d not in ("year", "replicate")])}


def run_table(ds: xr.Dataset) -> str:
    """The yearly table: births, SRB (total, by birth order, reported), sex-selective abortions.

    One run: its values. Replicates: the median and the 90% interval across them. Cells marked
    :data:`MARK` have too few births to read; a footnote says so and what the interval is.
    """
    se = cell_standard_errors(ds)
    values = _values(ds)
    srb_cols = ("SRB", "SRB p1", "SRB p2", "SRB p3+", "reported")
    rep = _replicated(ds)
    width = 16 if rep else 7
    heads = {"births": 7, "abortions": 9}
    head = f"{'year':>4}  " + "  ".join(
        f"{c:>{heads.get(c, width)}}" for c in ("births", *srb_cols, "abortions"))
    lines = [head, "-" * len(head)]
    stats = {}
    for name, da in values.items():
        da = da.transpose("year", *(("replicate",) if rep else ()))
        if rep:
            med = da.median("replicate").values
            lo, hi = (da.quantile(q, dim="replicate").values for q in QUANTILES)
            stats[name] = (med, lo, hi)
        else:
            stats[name] = (da.values, None, None)
    marked = False
    for i, y in enumerate(ds["year"].values):
        cells = [f"{stats['births'][0][i]:>7.0f}"]
        for c in srb_cols:
            med, lo, hi = stats[c]
            mark = MARK if se[c][i] > UNREADABLE_SE else " "
            marked |= mark != " "
            cell = f"{med[i]:6.1f}{mark}"
            if rep:  # whole points: the interval is several points wide
                cell += f"{f'[{lo[i]:.0f}-{hi[i]:.0f}]':<9}"
            cells.append(f"{cell:>{width}}")
        cells.append(f"{stats['abortions'][0][i]:>9.0f}")
        lines.append(f"{int(y):>4}  " + "  ".join(cells))
    if rep:
        lines.append("")
        lines += _wrap(f"median [{QUANTILES[0]:.0%} to {QUANTILES[1]:.0%} percentile] of "
                       f"{ds.sizes['replicate']} replicates ({_sources(ds)})")
    if marked:
        lines += _wrap(f"{MARK} too few births to read: one run's binomial standard error of "
                       f"this SRB exceeds {UNREADABLE_SE:g} points (fewer than "
                       f"{min_births(UNREADABLE_SE, _natural(ds)):,} births a year)")
    return "\n".join(lines)


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, width=96, subsequent_indent="  ")


def _sources(ds: xr.Dataset) -> str:
    if "ensemble" in ds.attrs:
        return (f"seeds and posterior draws: {ds.attrs['ensemble_parameters']} from "
                f"{Path(str(ds.attrs['ensemble'])).name}")
    return "seeds only: the interval leaves out the uncertainty of the behaviour coefficients"


def sampling_note(ds: xr.Dataset) -> str | None:
    """For one run of a county-sized scenario (fewer than :data:`COUNTY_BIRTHS` births a
    year): the sampling error of its yearly SRB and third-birth SRB, computed from its births
    (binomial standard error at its mean SRB), and how to get an interval. None otherwise."""
    if _replicated(ds):
        return None
    births = ds["births"]
    per_year = float(births.sum(("parity", "sex")).mean("year"))
    if per_year >= COUNTY_BIRTHS:
        return None

    def se(b: xr.DataArray) -> tuple[float, float]:
        male, female = float(b.sel(sex="male").sum()), float(b.sel(sex="female").sum())
        srb = 100.0 * male / female if female > 0 else float("inf")
        n = (male + female) / ds.sizes["year"]
        return float(srb_standard_error(n, srb)) if np.isfinite(srb) else float("inf"), n

    total, _ = se(births.sum("parity"))
    third, n3 = se(births.sel(parity="3+"))
    return (f"NOTE: one run of a county-sized scenario ({per_year:,.0f} births a year, fewer than "
            f"{COUNTY_BIRTHS:,}): its yearly SRB has a sampling error of about +-{total:.1f} "
            f"points and its third-birth SRB ({n3:,.0f} births a year) about +-{third:.0f} "
            f"(binomial standard errors from its births). Read single years with care; "
            f"--replicates 5 gives an interval over seeds, --ensemble POSTERIOR one that also "
            f"includes the uncertainty of the calibrated coefficients.")


def _band(ax, years, line, lo, hi, colour, label, lw=2.0, marker=None) -> None:
    ax.fill_between(years, lo, hi, color=colour, alpha=0.2, lw=0)
    ax.plot(years, line, color=colour, lw=lw, marker=marker, ms=2.5, label=label)


def _series(ds: xr.Dataset, srb: xr.DataArray, births: xr.DataArray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Line and 90% band of an SRB series: across replicates, or one run's sampling interval."""
    if _replicated(ds):
        srb = srb.transpose("year", "replicate")
        return (srb.median("replicate").values,
                *(srb.quantile(q, dim="replicate").values for q in QUANTILES))
    line = srb.transpose("year").values
    half = _Z90 * srb_standard_error(births.transpose("year").values, _natural(ds))
    return line, np.maximum(line - half, 0.0), line + half  # an SRB is never negative


def run_figure(ds: xr.Dataset, title: str | None = None) -> Figure:
    """SRB over time with a 90% band: total (true, and reported) and by birth order."""
    natural = _natural(ds)
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    years = ds["year"].values
    cells = _cells(ds)
    _band(ax1, years, *_series(ds, ds["srb"], cells["SRB"]), "black", "true")
    reported = ds["reported_srb"]
    if _replicated(ds):
        reported = reported.median("replicate")
    ax1.plot(years, reported.transpose("year"), color="grey", lw=1.5, ls="--",
             label="reported" + (" (median)" if _replicated(ds) else ""))
    for parity, colour in PARITY_COLOURS.items():
        births = cells[f"SRB p{parity}"]
        per_year = float((births.median("replicate") if _replicated(ds) else births).mean())
        # the legend gives the births a year behind each line: few births, wide band
        _band(ax2, years, *_series(ds, ds["srb_by_parity"].sel(parity=parity, drop=True), births),
              colour, f"birth order {parity} (~{per_year:,.0f} births/yr)", lw=1.8, marker="o")
    for ax, sub in ((ax1, "All births"), (ax2, "By birth order (true)")):
        ax.axhline(natural, color="tab:blue", lw=1, ls=":", label=f"natural ({natural:g})")
        ax.set_title(sub)
        ax.set_xlabel("year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    ax1.set_ylabel("sex ratio at birth (males per 100 females)")
    name = ds.attrs.get("scenario_name", "")
    if _replicated(ds):
        what = f"{ds.sizes['replicate']} replicates, root seed {ds.attrs.get('seed', '?')}"
        band = (f"line: median; band: 90% of replicates ({_sources(ds)})")
    else:
        what = f"seed {ds.attrs.get('seed', '?')}"
        band = "band: 90% sampling interval of one run (binomial, from its births)"
    fig.suptitle(title or f"popsim: {name} ({what})")
    fig.supxlabel(band, fontsize=8, color="dimgrey")
    return fig


def save_run_figure(ds: xr.Dataset, dest: str | Path, title: str | None = None) -> Path:
    """Write :func:`run_figure` as a PNG, atomically."""
    return save_figure(run_figure(ds, title), dest)
