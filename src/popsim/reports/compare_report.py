"""The comparison for planners: terminal table, Markdown and CSV files, and a figure.

:func:`write_outputs` writes the result of :func:`popsim.experiments.compare.compare`, each file
atomically, into one folder (``popsim compare`` gives it: ``--out`` or
``results/compare/<scenario names>/``, see :mod:`popsim.cli.compare`):

* ``compare.nc``: the dataset (every run, dims ``scenario`` x ``replicate``, and the metrics);
* ``compare.md``: the planner table with a legend of every column and the scenarios compared;
* ``compare.csv``: the same table, one row per scenario, ``<column>_mean/_lo/_hi`` fields, the
  place on the cost-effectiveness frontier and the births behind each SRB cell;
* ``compare_dictionary.csv``: its **data dictionary**, one row per field of ``compare.csv``
  (``field``, ``unit``, ``description``). A companion file rather than a units row, so that
  ``compare.csv`` stays a plain table (one header row, numbers below) that pandas, R and Excel
  read without skipping a row, and so that every field can carry a full sentence;
* ``compare.png``: SRB over time with 90% bands, SRB by birth order, cost against effect with the
  cost-effectiveness frontier, and true against reported SRB.

Table cells read ``mean [lo, hi]``: the mean over replicates and the 90% interval across them
(:mod:`popsim.experiments.compare` explains the intervals, the pairing of replicates and how the
baseline is chosen; the settings line above every table says which baseline was used, and
whether the intervals hold seed noise only or also parameter uncertainty, ``--ensemble``). An SRB
cell whose runs have too few births to read (:func:`popsim.experiments.compare_metrics.min_births`)
ends in ``*``, explained under the table. The incremental cost-effectiveness block lists the
packages by cost (:mod:`popsim.experiments.cost_effectiveness`).
"""

from __future__ import annotations

import csv
import io
import math
import textwrap
from pathlib import Path

import numpy as np
import xarray as xr

from ..io import save_figure, write_netcdf, write_text

__all__ = ["format_terminal", "format_markdown", "format_csv", "format_dictionary",
           "comparison_figure", "write_outputs", "GROUP_TITLES", "FEW_BIRTHS_MARK", "notes"]

#: Headings of the column groups of :data:`popsim.experiments.compare.COLUMNS`.
GROUP_TITLES = {
    "srb": "Sex ratio at birth in {end} (males per 100 females)",
    "run": "Sex ratio at birth over {start}-{end}, all births pooled (males per 100 females)",
    "effect": "Effect and cost, {start}-{end}",
    "incremental": "Incremental cost-effectiveness, {start}-{end}: packages by cost, each "
                   "against the previous one on the efficient frontier",
    "detail": "Details, {start}-{end}",
}
#: ends an SRB cell whose runs have too few births to read (explained under the table)
FEW_BIRTHS_MARK = "*"
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


def _few_births(table: xr.Dataset, key: str, scenario: str) -> bool:
    """True when the runs behind this SRB cell have fewer births than ``min_births``."""
    if "cell_births" not in table or key not in table["column"].values:
        return False
    n = float(table["cell_births"].sel(scenario=scenario, column=key))
    return n < float(table.attrs["min_births"])


def _cell(table: xr.Dataset, key: str, scenario: str, mark: str = FEW_BIRTHS_MARK) -> str:
    v = table[key].sel(scenario=scenario)
    unit = table[key].attrs["units"]
    mean, lo, hi = (float(v.sel(stat=s)) for s in ("mean", "lo", "hi"))
    text = _fmt_number(mean, unit)
    if text and math.isfinite(lo) and math.isfinite(hi):
        text += f" [{_fmt_number(lo, unit)}, {_fmt_number(hi, unit)}]"
    if text and _few_births(table, key, scenario):
        text += mark
    return text or "-"


def _by_cost(table: xr.Dataset) -> list[str]:
    """Scenario names in the order of the incremental table (cheapest first)."""
    names = [str(s) for s in table["scenario"].values]
    return [n for _, n in sorted(zip(table["ce_rank"].values.tolist(), names))]


def _incremental_rows(table: xr.Dataset, mark: str = FEW_BIRTHS_MARK) -> list[list[str]]:
    """Header and one row per package, by cost: the incremental cost-effectiveness table."""
    from ..experiments.compare import COLUMNS

    cols = [c for c in COLUMNS if c.group == "incremental"]
    rows = [["scenario", "cost", "averted", "status", "versus"] + [c.label for c in cols]
            + ["on frontier"]]
    for n in _by_cost(table):
        cost = float(table["total_cost_run"].sel(scenario=n, stat="mean"))
        averted = float(table["averted_run"].sel(scenario=n, stat="mean"))
        rows.append([n, _fmt_number(cost, "yuan") or "-",
                     "0" if n == table.attrs["baseline"] else _fmt_number(averted, "births"),
                     str(table["ce_status"].sel(scenario=n).values),
                     str(table["ce_versus"].sel(scenario=n).values) or "-"]
                    + [_cell(table, c.key, n, mark) for c in cols]
                    + [_fmt_number(float(table["frontier_share"].sel(scenario=n)), "fraction")])
    return rows


def notes(table: xr.Dataset, marked: bool | None = None) -> list[str]:
    """The sentences printed under every table: what the intervals contain, what "incentives
    committed" are, how the incremental block is built and, when a cell is marked, why."""
    from ..experiments.compare_metrics import PRESENT_VALUE
    from ..experiments.cost_effectiveness import STATUS_MEANINGS

    a = table.attrs
    if marked is None:
        marked = any(_few_births(table, str(k), str(n)) for n in table["scenario"].values
                     for k in (table["column"].values if "column" in table.coords else []))
    out = [f"Intervals: {a.get('uncertainty', 'seed noise only')}.",
           f"Cost = incentives committed + enforcement + propaganda, in yuan (k = thousand, "
           f"M = million). Incentives committed are {PRESENT_VALUE}.",
           "Incremental cost-effectiveness (as in health economics' ICER tables: Drummond et "
           "al., Methods for the Economic Evaluation of Health Care Programmes, 4th ed., 2015): "
           "packages ordered by mean cost; 'extra averted', 'extra cost' and 'cost/extra girl' "
           "are against the package in 'versus', paired within replicates; "
           + "; ".join(f"{k}: {v}" for k, v in STATUS_MEANINGS.items() if k != "undefined")
           + ". 'on frontier': share of replicates in which the package is on the frontier of "
             "that replicate alone."]
    if marked:
        out.append(f"{FEW_BIRTHS_MARK} fewer than {int(a['min_births']):,} simulated births per "
                   f"run in this cell: the binomial standard error of one run's SRB, "
                   f"100*sqrt(p(1-p)/n)/(1-p)^2 with p = s/(100+s) the natural share of boys "
                   f"(s = {float(a.get('natural_srb', 106.0)):g}), is above "
                   f"{float(a['max_srb_se']):g} points, so the cell is mostly sampling noise "
                   f"(the pooled {a['start_year']}-{a['end_year']} columns rest on more births).")
    return out


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
            f"mean [90% interval across replicates, {_interval_source(a)}]; effects are paired "
            f"(within each replicate).")


def _interval_source(attrs) -> str:
    """What the intervals contain, in a few words (the ``uncertainty`` attribute in full)."""
    if attrs.get("ensemble"):
        return (f"seed noise and parameter uncertainty: {attrs.get('ensemble_draws')} posterior "
                f"draws of {attrs['ensemble']}")
    return "seed noise only"


# ------------------------------------------------------------------------------------------------
# terminal, Markdown, CSV


def format_terminal(table: xr.Dataset) -> str:
    """The SRB (end year and whole run) and effect groups as aligned text blocks."""
    out = [_settings_line(table)]
    names = [str(s) for s in table["scenario"].values]
    for group in ("srb", "run", "effect", "incremental"):
        cols = _columns(group)
        if group == "incremental":
            rows = _incremental_rows(table)
        else:
            rows = [["scenario"] + [c.label for c in cols]]
            rows += [[n] + [_cell(table, c.key, n) for c in cols] for n in names]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        out += ["", _title(table, group)]
        for k, r in enumerate(rows):
            out.append("  ".join(x.ljust(w) if i == 0 else x.rjust(w)
                                 for i, (x, w) in enumerate(zip(r, widths))).rstrip())
            if k == 0:
                out.append("  ".join("-" * w for w in widths))
    out += ["", "averted = missing female births averted against the baseline over the run; "
                "'-' = not applicable"] + notes(table)
    return "\n".join(out)


def format_markdown(table: xr.Dataset, ds: xr.Dataset | None = None) -> str:
    """The whole table as Markdown, with the scenarios compared and a legend of every column."""
    from ..experiments.compare import COLUMNS

    names = [str(s) for s in table["scenario"].values]
    mark = "\\" + FEW_BIRTHS_MARK
    lines = [f"# popsim comparison: {', '.join(names)}", "", _settings_line(table), ""]
    for group in ("srb", "run", "effect", "incremental", "detail"):
        cols = _columns(group)
        if group == "incremental":
            rows = _incremental_rows(table, mark)
            body = [[f"`{r[0]}`"] + r[1:] for r in rows[1:]]
            header = rows[0]
        else:
            header = ["scenario"] + [c.label for c in cols]
            body = [[f"`{n}`"] + [_cell(table, c.key, n, mark) for c in cols] for n in names]
        lines += [f"## {_title(table, group)}", "", "| " + " | ".join(header) + " |",
                  "|---|" + "---:|" * (len(header) - 1)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        lines.append("")
        marked = any(FEW_BIRTHS_MARK in x for r in body for x in r[1:])
        if marked:
            lines += [notes(table, marked=True)[-1].replace(FEW_BIRTHS_MARK, mark, 1), ""]
    lines += ["## Notes", ""] + [f"- {x}" for x in notes(table, marked=False)] + [""]
    if ds is not None and "description" in ds.coords:
        lines += ["## Scenarios", ""]
        lines += [f"- `{n}`: {d}" for n, d in zip(names, ds["description"].values)]
        lines.append("")
    lines += ["## Columns", ""]
    lines += [f"- **{c.label}** ({c.unit}): {c.meaning}." for c in COLUMNS]
    lines += ["", "Money: k = thousand yuan, M = million yuan. A blank cell or '-': not applicable "
              "(the baseline against itself, no births averted, no case found, a package off the "
              "frontier) or, with a single replicate, no interval. compare.csv holds every "
              "value unrounded; compare_dictionary.csv gives the unit and meaning of each of its "
              "fields.", ""]
    return "\n".join(lines)


_STATS = {"mean": "mean over replicates (ratio of sums for a ratio)",
          "lo": "lower end of the 90% interval across replicates (5th percentile)",
          "hi": "upper end of the 90% interval across replicates (95th percentile)"}


def _fields(table: xr.Dataset) -> list[tuple[str, str, str]]:
    """``(field, unit, description)`` of every field of compare.csv, in order."""
    from ..experiments.compare import COLUMNS
    from ..experiments.cost_effectiveness import STATUS_MEANINGS

    a = table.attrs
    unc = a.get("uncertainty", "seed noise only")
    out = [("scenario", "", "Scenario name"),
           ("description", "", "First line of the scenario's description")]
    for c in COLUMNS:
        for st, what in _STATS.items():
            extra = f"; the interval holds {unc}" if st != "mean" else ""
            out.append((f"{c.key}_{st}", c.unit, f"{c.meaning}: {what}{extra}"))
    out += [("ce_rank", "1", "Place in the order by mean cost over the run (1 = cheapest)"),
            ("ce_status", "", "Place on the cost-effectiveness frontier: " + "; ".join(
                f"{k} = {v}" for k, v in STATUS_MEANINGS.items())),
            ("ce_versus", "", "Package the incremental_* and icer fields are measured against"),
            ("frontier_share", "1", "Share (0-1) of replicates in which the package is on the "
                                    "frontier drawn from that replicate alone")]
    for k in (table["column"].values if "column" in table.coords else []):
        out += [(f"{k}_births", "births", f"Mean simulated births per run behind {k} (not "
                 f"multiplied by run.scale)"),
                (f"{k}_few_births", "1", f"1 when {k}_births is below {int(a['min_births'])}: "
                 f"one run's SRB then has a binomial standard error above "
                 f"{float(a['max_srb_se']):g} points (marked {FEW_BIRTHS_MARK} in the tables)")]
    return out


def format_csv(table: xr.Dataset, ds: xr.Dataset | None = None) -> str:
    """One row per scenario, the fields of :func:`format_dictionary` (one header row, no units
    row: the units are in the dictionary); empty where not applicable."""
    from ..experiments.compare import COLUMNS

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([f for f, _, _ in _fields(table)])
    desc = (dict(zip(ds["scenario"].values, ds["description"].values))
            if ds is not None and "description" in ds.coords else {})
    cells = list(table["column"].values) if "column" in table.coords else []
    for n in table["scenario"].values:
        vals = [float(table[c.key].sel(scenario=n, stat=s))
                for c in COLUMNS for s in ("mean", "lo", "hi")]
        row = [str(n), desc.get(n, "")] + ["" if not math.isfinite(v) else repr(v) for v in vals]
        row += [int(table["ce_rank"].sel(scenario=n)), str(table["ce_status"].sel(scenario=n)
                                                             .values),
                str(table["ce_versus"].sel(scenario=n).values),
                repr(float(table["frontier_share"].sel(scenario=n)))]
        for k in cells:
            row += [repr(float(table["cell_births"].sel(scenario=n, column=k))),
                    int(_few_births(table, str(k), str(n)))]
        w.writerow(row)
    return buf.getvalue()


def format_dictionary(table: xr.Dataset) -> str:
    """compare_dictionary.csv: ``field,unit,description``, one row per field of compare.csv
    (unit "" for text, "1" for a pure number or 0/1 flag)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["field", "unit", "description"])
    w.writerows(_fields(table))
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

    from ..experiments.compare import planner_table
    from ..experiments.compare_metrics import quantile_interval

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

    # (c) cost against effect with the cost-effectiveness frontier (frontier packages filled,
    # packages off it hollow); extra cost within each replicate (paired)
    _cost_effect_panel(ax3, ds, table, names, colours, f"{int(years[0])}-{end}")

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
    fig.suptitle(f"popsim comparison against '{base}': {ds.attrs.get('replicates')} "
                 f"replicate(s), {int(ds.attrs.get('households', 0)):,} households; intervals: "
                 f"{_interval_source(ds.attrs)}")
    fig.supxlabel(_figure_note(ds.attrs), fontsize=8, ha="left", x=0.01)
    return fig


def _figure_note(attrs) -> str:
    """The footnote of the figure: what the cost holds, and what the intervals hold."""
    from ..experiments.compare_metrics import PRESENT_VALUE

    return textwrap.fill(f"Cost = incentives committed + enforcement + propaganda; incentives "
                         f"committed are {PRESENT_VALUE}. Intervals (90% across replicates): "
                         f"{attrs.get('uncertainty', 'seed noise only')}.", width=170)


def _on_frontier(table: xr.Dataset, name: str) -> bool:
    """On the frontier, or equal to a package that is (drawn filled)."""
    from ..experiments.cost_effectiveness import EQUAL, FRONTIER, REFERENCE

    status = str(table["ce_status"].sel(scenario=name).values)
    if status == EQUAL:
        status = str(table["ce_status"].sel(scenario=str(table["ce_versus"].sel(
            scenario=name).values)).values)
    return status in (REFERENCE, FRONTIER)


def _cost_effect_panel(ax, ds: xr.Dataset, table: xr.Dataset, names: list[str],
                       colours: dict, period: str) -> None:
    """Extra cost against girls averted (paired 90% intervals), the efficient frontier through
    the means, and each point's name placed towards the inside of the frame."""
    from ..experiments.compare_metrics import quantile_interval
    from ..experiments.cost_effectiveness import FRONTIER, REFERENCE

    base = ds.attrs["baseline"]
    base_cost = ds["total_cost_run"].sel(scenario=base).values
    points: dict[str, tuple[float, float]] = {}
    for n in names:
        c = (ds["total_cost_run"].sel(scenario=n).values - base_cost) / 1e6
        e = ds["averted_run"].sel(scenario=n).values
        with np.errstate(all="ignore"):
            em, cm = float(np.nanmean(e)), float(np.nanmean(c))
        on = _on_frontier(table, n)
        kw = {"xerr": None, "yerr": None}
        if n != base:
            (elo, ehi), (clo, chi) = quantile_interval(e), quantile_interval(c)
            if math.isfinite(elo):
                kw["xerr"] = [[em - elo], [ehi - em]]
            if math.isfinite(clo):
                kw["yerr"] = [[cm - clo], [chi - cm]]
        ax.errorbar([em], [cm], **kw, color=colours[n], marker="s" if n == base else "o",
                    mfc=colours[n] if on else "white", mec=colours[n], ms=6, capsize=2, lw=1,
                    zorder=3)
        points[n] = (em, cm)
    front = sorted((n for n in names if str(table["ce_status"].sel(scenario=n).values)
                    in (REFERENCE, FRONTIER)), key=lambda n: points[n][1])
    # a package equal to another is drawn at the same point: its name goes beside its twin's
    ax.plot([points[n][0] for n in front], [points[n][1] for n in front], color="0.25",
            ls="--", lw=1.2, zorder=2, label="cost-effectiveness frontier")
    ax.plot([], [], "o", mfc="white", mec="0.4", ls="none",
            label="off the frontier (dominated or extendedly)")
    ax.axvline(0, color="grey", lw=0.8)
    ax.margins(x=0.12, y=0.15)
    # names towards the inside of the frame: right of points in the left part, left of points
    # in the right part, below points near the top; coinciding points' names are stacked
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    placed: list[tuple[float, float]] = []
    for n, (x, y) in points.items():
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        fx, fy = (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)
        near = sum(abs(x - a) < 0.04 * (x1 - x0) and abs(y - b) < 0.04 * (y1 - y0)
                   for a, b in placed)
        placed.append((x, y))
        right, top = fx > 0.55, fy > 0.8
        dy = -6 - 9 * near if top else 5 + 9 * near
        ax.annotate(n, (x, y), textcoords="offset points", xytext=(-5 if right else 5, dy),
                    ha="right" if right else "left", va="top" if top else "bottom",
                    fontsize=7, color=colours[n], annotation_clip=False)
    ax.set_title(f"Cost against effect, {period} (paired 90% intervals)")
    ax.set_xlabel("missing female births averted against the baseline")
    ax.set_ylabel("extra cost against the baseline (million yuan)")
    ax.legend(fontsize=7, loc="upper left")


# ------------------------------------------------------------------------------------------------
# files


def write_outputs(ds: xr.Dataset, out_dir: str | Path) -> dict[str, Path]:
    """Write compare.nc, compare.md, compare.csv, compare_dictionary.csv and compare.png into
    ``out_dir``, each atomically; keys nc, md, csv, dictionary, png."""
    from ..experiments.compare import planner_table

    out_dir = Path(out_dir)
    table = planner_table(ds)
    paths = {k: out_dir / f"compare.{k}" for k in ("nc", "md", "csv", "png")}
    paths["dictionary"] = out_dir / "compare_dictionary.csv"
    write_netcdf(ds, paths["nc"])
    write_text(format_markdown(table, ds), paths["md"])
    write_text(format_csv(table, ds), paths["csv"])
    write_text(format_dictionary(table), paths["dictionary"])
    save_figure(comparison_figure(ds, table), paths["png"])
    return paths
