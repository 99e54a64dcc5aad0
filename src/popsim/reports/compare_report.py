"""The comparison for planners: terminal table, Markdown and CSV files, and a figure.

:func:`write_outputs` writes the result of :func:`popsim.experiments.compare.compare`, each file
atomically, into one folder (``popsim compare`` gives it: ``--out`` or
``results/compare/<scenario names>/``, see :mod:`popsim.cli.compare`):

* ``compare.nc``: the dataset (every run, dims ``scenario`` x ``replicate``, and the metrics);
* ``compare.md``: the planner table with a legend of every column and the scenarios compared;
* ``compare.csv``: the same table, one row per scenario, ``<column>_mean/_lo/_hi`` fields;
* ``compare.png``: SRB over time with 90% bands, SRB by birth order, cost against effect, and
  true against reported SRB.

Table cells read ``mean [lo, hi]``: the mean over replicates and the 90% interval across them
(:mod:`popsim.experiments.compare` explains the intervals, the pairing of replicates and how the
baseline is chosen; the settings line above every table says which baseline was used).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import xarray as xr

from ..io import save_figure, write_netcdf, write_text

__all__ = ["format_terminal", "format_markdown", "format_csv", "comparison_figure",
           "write_outputs", "GROUP_TITLES"]

#: Headings of the column groups of :data:`popsim.experiments.compare.COLUMNS`.
GROUP_TITLES = {
    "srb": "Sex ratio at birth in {end} (males per 100 females)",
    "run": "Sex ratio at birth over {start}-{end}, all births pooled (males per 100 females)",
    "effect": "Effect and cost, {start}-{end}",
    "detail": "Details, {start}-{end}",
}
NATURAL_SRB_COLOUR = "tab:blue"


# ------------------------------------------------------------------------------------------------
# numbers as text


def _fmt_number(x: float, unit: str) -> str:
    """A value in the precision a planner reads: SRB to 0.1, money in k/M yuan, shares in %."""
    if x is None or not math.isfinite(x):
        return ""
    if unit == "fraction":
        return f"{100 * x:.0f}%"
    if unit.startswith("yuan"):
        a = abs(x)
        if a >= 1e6:
            return f"{x / 1e6:.1f}M"
        if a >= 1e4:
            return f"{x / 1e3:.0f}k"
        return f"{x:.0f}"
    if unit.startswith("males per 100") or unit in ("SRB points", "women per case"):
        return f"{x:.1f}"
    return f"{x:.0f}"


def _cell(table: xr.Dataset, key: str, scenario: str) -> str:
    v = table[key].sel(scenario=scenario)
    unit = table[key].attrs["units"]
    mean, lo, hi = (float(v.sel(stat=s)) for s in ("mean", "lo", "hi"))
    text = _fmt_number(mean, unit)
    if text and math.isfinite(lo) and math.isfinite(hi):
        text += f" [{_fmt_number(lo, unit)}, {_fmt_number(hi, unit)}]"
    return text or "-"


def _columns(group: str):
    from ..experiments.compare import COLUMNS

    return [c for c in COLUMNS if c.group == group]


def _title(table: xr.Dataset, group: str) -> str:
    return GROUP_TITLES[group].format(start=table.attrs["start_year"], end=table.attrs["end_year"])


def _settings_line(table: xr.Dataset) -> str:
    a = table.attrs
    origin = f" ({a['baseline_origin']})" if a.get("baseline_origin") else ""
    return (f"{int(a['households']):,} households, {a['start_year']}-{a['end_year']}, "
            f"{a['replicates']} replicate(s) per scenario (root seed {a['root_seed']}; replicate r "
            f"uses the same seed in every scenario), baseline '{a['baseline']}'{origin}. Cells: "
            f"mean [90% interval across replicates]; effects are paired (within each "
            f"replicate).")


# ------------------------------------------------------------------------------------------------
# terminal, Markdown, CSV


def format_terminal(table: xr.Dataset) -> str:
    """The SRB (end year and whole run) and effect groups as aligned text blocks."""
    out = [_settings_line(table)]
    names = [str(s) for s in table["scenario"].values]
    for group in ("srb", "run", "effect"):
        cols = _columns(group)
        rows = [["scenario"] + [c.label for c in cols]]
        rows += [[n] + [_cell(table, c.key, n) for c in cols] for n in names]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        out += ["", _title(table, group)]
        for k, r in enumerate(rows):
            out.append("  ".join(x.ljust(w) if i == 0 else x.rjust(w)
                                 for i, (x, w) in enumerate(zip(r, widths))).rstrip())
            if k == 0:
                out.append("  ".join("-" * w for w in widths))
    out += ["", "cost and rewards in yuan (k = thousand, M = million); averted = missing female "
                "births averted against the baseline over the run; '-' = not applicable"]
    return "\n".join(out)


def format_markdown(table: xr.Dataset, ds: xr.Dataset | None = None) -> str:
    """The whole table as Markdown, with the scenarios compared and a legend of every column."""
    from ..experiments.compare import COLUMNS

    names = [str(s) for s in table["scenario"].values]
    lines = [f"# popsim comparison: {', '.join(names)}", "", _settings_line(table), ""]
    for group in ("srb", "run", "effect", "detail"):
        cols = _columns(group)
        lines += [f"## {_title(table, group)}", "",
                  "| scenario | " + " | ".join(c.label for c in cols) + " |",
                  "|---|" + "---:|" * len(cols)]
        lines += ["| " + " | ".join([f"`{n}`"] + [_cell(table, c.key, n) for c in cols]) + " |"
                  for n in names]
        lines.append("")
    if ds is not None and "description" in ds.coords:
        lines += ["## Scenarios", ""]
        lines += [f"- `{n}`: {d}" for n, d in zip(names, ds["description"].values)]
        lines.append("")
    lines += ["## Columns", ""]
    lines += [f"- **{c.label}** ({c.unit}): {c.meaning}." for c in COLUMNS]
    lines += ["", "Money: k = thousand yuan, M = million yuan. A blank cell or '-': not applicable "
              "(the baseline against itself, no births averted, no case found) or, with a single "
              "replicate, no interval.", ""]
    return "\n".join(lines)


def format_csv(table: xr.Dataset, ds: xr.Dataset | None = None) -> str:
    """One row per scenario: ``scenario``, ``description``, then ``<key>_mean/_lo/_hi``."""
    from ..experiments.compare import COLUMNS

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["scenario", "description"]
               + [f"{c.key}_{s}" for c in COLUMNS for s in ("mean", "lo", "hi")])
    desc = (dict(zip(ds["scenario"].values, ds["description"].values))
            if ds is not None and "description" in ds.coords else {})
    for n in table["scenario"].values:
        vals = [float(table[c.key].sel(scenario=n, stat=s))
                for c in COLUMNS for s in ("mean", "lo", "hi")]
        w.writerow([str(n), desc.get(n, "")] + ["" if not math.isfinite(v) else repr(v)
                                                 for v in vals])
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------
# the figure


def _colours(names: list[str], baseline: str) -> dict[str, str]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(names) <= 11 else "tab20"]
    others = [n for n in names if n != baseline]
    out = {n: cmap(i % cmap.N) for i, n in enumerate(others)}
    out[baseline] = "black"
    return out


def comparison_figure(ds: xr.Dataset, table: xr.Dataset | None = None):
    """Four panels: true SRB over time with 90% bands; SRB by birth order over the run; extra
    cost against missing female births averted; true against reported SRB over the run."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from ..experiments.compare import planner_table, quantile_interval

    table = planner_table(ds) if table is None else table
    names = [str(s) for s in ds["scenario"].values]
    base = ds.attrs["baseline"]
    colours = _colours(names, base)
    natural = float(ds.attrs["natural_srb"])
    end = int(ds["year"].values[-1])
    years = ds["year"].values
    fig = Figure(figsize=(13, 9.5), layout="constrained")
    (ax1, ax2), (ax3, ax4) = fig.subplots(2, 2)

    # (a) SRB over time; fainter bands when many overlap
    band_alpha = 0.15 if len(names) <= 4 else 0.06
    for n in names:
        srb = ds["srb"].sel(scenario=n).transpose("year", "replicate").values
        with np.errstate(all="ignore"):
            mean = np.nanmean(srb, axis=1)
        lo, hi = quantile_interval(srb, axis=1)
        ax1.plot(years, mean, color=colours[n], lw=2 if n == base else 1.6, label=n)
        if np.isfinite(lo).any():
            ax1.fill_between(years, lo, hi, color=colours[n], alpha=band_alpha, lw=0)
    ax1.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax1.set_title("True SRB over time (mean and 90% band across replicates)")
    ax1.set_xlabel("year")
    ax1.set_ylabel("males per 100 females")

    # (b) SRB by birth order over the run: one year of third births is too few to read
    parities = [("srb_run_p1", "1st"), ("srb_run_p2", "2nd"), ("srb_run_p3", "3rd+")]
    step = 0.8 / len(names)
    for k, n in enumerate(names):
        x = np.arange(len(parities)) + (k - (len(names) - 1) / 2) * step
        v = np.array([[float(table[key].sel(scenario=n, stat=s)) for s in ("mean", "lo", "hi")]
                      for key, _ in parities])
        err = np.where(np.isfinite(v[:, 1]), [v[:, 0] - v[:, 1], v[:, 2] - v[:, 0]], 0.0)
        ax2.errorbar(x, v[:, 0], yerr=err, fmt="o", color=colours[n], capsize=2, lw=1,
                     label=n)
    ax2.set_xticks(np.arange(len(parities)), [f"birth order {lab}" for _, lab in parities])
    ax2.set_title(f"SRB by birth order, births {int(years[0])}-{end} (mean, 90% interval)")
    ax2.set_ylabel("males per 100 females")

    # (c) cost against effect; labels of coinciding points are stacked, not overprinted
    points = []
    for n in names:
        if n == base:
            ax3.scatter([0], [0], color=colours[n], marker="s", zorder=3)
            points.append((n, 0.0, 0.0))
            continue
        e = table["averted_run"].sel(scenario=n)
        c = ds["extra_cost_run"].sel(scenario=n).values / 1e6
        cm = float(np.nanmean(c))
        clo, chi = (float(b) for b in quantile_interval(c))
        em, elo, ehi = (float(e.sel(stat=s)) for s in ("mean", "lo", "hi"))
        xerr = [[em - elo], [ehi - em]] if math.isfinite(elo) else None
        yerr = [[cm - clo], [chi - cm]] if math.isfinite(clo) else None
        ax3.errorbar([em], [cm], xerr=xerr, yerr=yerr, color=colours[n], marker="o", capsize=2,
                     lw=1)
        points.append((n, em, cm))
    xs, ys = np.array([p[1] for p in points]), np.array([p[2] for p in points])
    span_x = max(np.nanmax(xs) - np.nanmin(xs), 1e-9)
    span_y = max(np.nanmax(ys) - np.nanmin(ys), 1e-9)
    for k, (n, x, y) in enumerate(points):
        near = sum(abs(x - x2) < 0.04 * span_x and abs(y - y2) < 0.04 * span_y
                   for _, x2, y2 in points[:k])
        ax3.annotate(n, (x, y), textcoords="offset points", xytext=(4, 4 - 9 * near),
                     fontsize=7, color=colours[n])
    ax3.axvline(0, color="grey", lw=0.8)
    ax3.set_title(f"Cost against effect, {int(years[0])}-{end} (90% intervals; paired)")
    ax3.set_xlabel("missing female births averted against the baseline")
    ax3.set_ylabel("extra cost against the baseline (million yuan)")

    # (d) true against reported SRB over the run (pooled births: the gap is steadier than in
    # one year)
    for k, n in enumerate(names):
        y = len(names) - 1 - k
        pts = []
        for key, marker, face, size in (("reported_srb_run", "D", "white", 60),
                                        ("srb_run", "o", colours[n], 30)):
            v = table[key].sel(scenario=n)
            m, lo, hi = (float(v.sel(stat=s)) for s in ("mean", "lo", "hi"))
            if math.isfinite(lo):
                ax4.plot([lo, hi], [y, y], color=colours[n], lw=1, alpha=0.6)
            ax4.scatter([m], [y], marker=marker, s=size, facecolor=face, edgecolor=colours[n],
                        zorder=3 + (marker == "o"))
            pts.append(m)
        ax4.plot(pts, [y, y], color=colours[n], lw=2.5, alpha=0.4)
    ax4.set_yticks(np.arange(len(names))[::-1], names, fontsize=8)
    ax4.scatter([], [], marker="o", color="grey", label="true")
    ax4.scatter([], [], marker="D", facecolor="white", edgecolor="grey", label="reported")
    ax4.set_title(f"True and reported SRB, all births {int(years[0])}-{end}")
    ax4.set_xlabel("males per 100 females")

    for ax in (ax1, ax2, ax4):
        horizontal = ax is not ax4
        line = ax.axhline if horizontal else ax.axvline
        line(natural, color=NATURAL_SRB_COLOUR, lw=1, ls=":", label=f"natural ({natural:g})")
    for ax in (ax1, ax2, ax3, ax4):
        ax.grid(alpha=0.3)
    ax1.legend(fontsize=7, ncol=2, loc="best")
    ax4.legend(fontsize=7, loc="best")
    fig.suptitle(f"popsim comparison against '{base}': {ds.attrs.get('replicates')} replicate(s), "
                 f"{int(ds.attrs.get('households', 0)):,} households")
    return fig


# ------------------------------------------------------------------------------------------------
# files


def write_outputs(ds: xr.Dataset, out_dir: str | Path) -> dict[str, Path]:
    """Write compare.nc, compare.md, compare.csv and compare.png into ``out_dir``, atomically."""
    from ..experiments.compare import planner_table

    out_dir = Path(out_dir)
    table = planner_table(ds)
    paths = {k: out_dir / f"compare.{k}" for k in ("nc", "md", "csv", "png")}
    write_netcdf(ds, paths["nc"])
    write_text(format_markdown(table, ds), paths["md"])
    write_text(format_csv(table, ds), paths["csv"])
    save_figure(comparison_figure(ds, table), paths["png"])
    return paths
