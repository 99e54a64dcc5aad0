"""The score table of ``popsim score`` as text (terminal, Markdown, CSV) and figures.

One figure per group of targets: series groups (the SRB by year, fertility) as the model's value
with its interval against the observed points and bands; the other groups as model-vs-observed
dots with the bands as bars, one row per target. Files are written atomically.
"""

from __future__ import annotations

import csv
import io as _io
import math
from pathlib import Path

import numpy as np
import xarray as xr

from ..io import atomic_path, write_netcdf
from ..validation.score import summary_line

__all__ = ["format_terminal", "format_markdown", "format_csv", "group_figure", "write_outputs"]

_COLUMNS = ("target", "years", "model", "interval", "observed", "band", "error", "z", "tol",
            "result")


def _fmt(x: float, unit: str = "") -> str:
    if not math.isfinite(x):
        return "-" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if unit in ("probability", "fraction") or abs(x) < 10:
        return f"{x:.2f}" if abs(x) >= 1 or unit not in ("probability", "fraction") else f"{x:.3f}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def _rows(table: xr.Dataset) -> list[list[str]]:
    out = []
    for i in range(table.sizes["target"]):
        t = table.isel(target=i)
        u = str(t["unit"].values)
        interval = (f"[{_fmt(float(t['model_low']), u)}, {_fmt(float(t['model_high']), u)}]"
                    if math.isfinite(float(t["model_low"])) else "-")
        band = f"[{_fmt(float(t['observed_low']), u)}, {_fmt(float(t['observed_high']), u)}]"
        result = "pass" if bool(t["passed"]) else ("n/a" if str(t["note"].values) else "MISS")
        out.append([str(t["label"].values), str(t["years"].values), _fmt(float(t["model"]), u),
                    interval, _fmt(float(t["observed"]), u), band, _fmt(float(t["error"]), u),
                    _fmt(float(t["z"])), str(t["tolerance"].values), result])
    return out


def format_terminal(table: xr.Dataset) -> str:
    """An aligned table, grouped, with the summary line last."""
    rows = _rows(table)
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS)]
    line = lambda cells: "  ".join(c.ljust(w) if j == 0 else c.rjust(w)  # noqa: E731
                                   for j, (c, w) in enumerate(zip(cells, widths)))
    out, group = [line(_COLUMNS), "-" * (sum(widths) + 2 * (len(widths) - 1))], None
    for i, r in enumerate(rows):
        g = str(table["group"].values[i])
        if g != group:
            out.append(f"[{g}]")
            group = g
        out.append(line(r))
    notes = [f"  {table['target'].values[i]}: {n}" for i, n in enumerate(table["note"].values)
             if n]
    if notes:
        out += ["", "not computed:"] + notes
    out += ["", summary_line(table)]
    return "\n".join(out)


def format_markdown(table: xr.Dataset) -> str:
    """The table as Markdown, one section per group, with sources."""
    rows = _rows(table)
    out = [f"**{summary_line(table)}**", "",
           f"Model: the statistic of the pooled replicates; interval: "
           f"{table.attrs.get('model_interval', '')}. Band: the observation's uncertainty.", ""]
    group = None
    for i, r in enumerate(rows):
        g = str(table["group"].values[i])
        if g != group:
            out += ["", f"### {g}", "", "| " + " | ".join(_COLUMNS) + " |",
                    "|" + "|".join(["---"] + ["---:"] * (len(_COLUMNS) - 1)) + "|"]
            group = g
        out.append("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
    out += ["", "Sources: " + "; ".join(sorted(set(str(s) for s in table["source"].values)))]
    return "\n".join(out) + "\n"


def format_csv(table: xr.Dataset) -> str:
    """The table as CSV (one row per target, numbers unrounded), a units row after the header."""
    buf = _io.StringIO()
    w = csv.writer(buf)
    keys = ["target"] + [k for k in table.data_vars]
    w.writerow(keys)
    w.writerow(["-"] + [table[k].attrs.get("units", "") for k in table.data_vars])
    for i in range(table.sizes["target"]):
        w.writerow([str(table["target"].values[i])]
                   + [table[k].values[i] for k in table.data_vars])
    return buf.getvalue()


_SERIES_GROUPS = ("srb_series", "fertility")


def _yearly_srb(runs: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Years, the pooled yearly SRB of the replicates, and the range of the replicates' own."""
    b = runs["births"].sum("parity")
    if "replicate" not in b.dims:
        b = b.expand_dims(replicate=[0])
    m, f = b.sel(sex="male"), b.sel(sex="female")
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = 100.0 * m.sum("replicate") / f.sum("replicate")
        each = 100.0 * m / f
    return (runs["year"].values, pooled.values, each.min("replicate").values,
            each.max("replicate").values)


def group_figure(table: xr.Dataset, group: str, runs: xr.Dataset | None = None):
    """The figure of one group of targets (``runs``: draw the SRB series of every year)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sel = table.where(table["group"] == group, drop=True)
    n = sel.sizes["target"]
    model = sel["model"].values.astype(float)
    lo, hi = sel["model_low"].values.astype(float), sel["model_high"].values.astype(float)
    obs = sel["observed"].values.astype(float)
    olo, ohi = sel["observed_low"].values.astype(float), sel["observed_high"].values.astype(float)
    unit = str(sel["unit"].values[0])
    series = group in _SERIES_GROUPS and all("-" not in str(y) for y in sel["years"].values)
    if series:
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
        x = np.array([int(y) for y in sel["years"].values])
        if group == "srb_series" and runs is not None and "births" in runs:
            years, pooled, low, high = _yearly_srb(runs)
            ax.fill_between(years, low, high, color="tab:red", alpha=0.15,
                            label="model: range of the replicates")
            ax.plot(years, pooled, "-", color="tab:red", lw=1.5, label="model (pooled)")
            ax.plot(x, model, "o", color="tab:red", ms=4)
        else:
            ax.fill_between(x, lo, hi, color="tab:red", alpha=0.2, label="model 90% interval")
            ax.plot(x, model, "-o", color="tab:red", ms=4, label="model")
        ax.errorbar(x, obs, yerr=[obs - olo, ohi - obs], fmt="s", color="black", ms=4,
                    capsize=3, label="observed (band)")
        ax.set_xlabel("year")
    else:
        fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.42 * n))
        y = np.arange(n)[::-1]
        finite_hi = np.where(np.isfinite(ohi), ohi, np.nan)
        finite_lo = np.where(np.isfinite(olo), olo, np.nan)
        ax.hlines(y, finite_lo, finite_hi, color="0.6", lw=5, label="observed band")
        ax.plot(obs, y, "s", color="black", ms=5, label="observed")
        ax.errorbar(model, y, xerr=[np.nan_to_num(model - lo), np.nan_to_num(hi - model)],
                    fmt="o", color="tab:red", ms=5, capsize=3, label="model (90% interval)")
        ax.set_yticks(y, [str(v) for v in sel["label"].values], fontsize=8)
        if unit == "yuan":
            ax.set_xscale("log")
        ax.set_xlabel(unit)
    ax.set_ylabel(unit if series else "")
    ax.set_title(f"{table.attrs['scenario']}: {group} ({table.attrs['replicates']} replicates)",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def write_outputs(table: xr.Dataset, runs: xr.Dataset | None, out_dir: str | Path
                  ) -> dict[str, Path]:
    """score.csv, score.md, score.nc (the table), runs.nc and one PNG per group, atomically."""
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for key, text in (("csv", format_csv(table)), ("md", format_markdown(table))):
        paths[key] = out / f"score.{key}"
        with atomic_path(paths[key]) as tmp:
            tmp.write_text(text, encoding="utf-8")
    paths["nc"] = write_netcdf(table, out / "score.nc")
    if runs is not None:
        paths["runs"] = write_netcdf(runs, out / "runs.nc")
    for group in dict.fromkeys(str(g) for g in table["group"].values):
        fig = group_figure(table, group, runs)
        paths[f"png:{group}"] = out / f"score_{group}.png"
        with atomic_path(paths[f"png:{group}"]) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
        plt.close(fig)
    return paths
