"""What the teaching app shows of a :class:`~popsim.app.classroom.Snapshot`: charts and numbers.

Every view reads the snapshot's yearly datasets (the variables of :mod:`popsim.recording`) and
its clinic counts, never a running model. A chart is described here as data — a :class:`Panel`
of :class:`Series` — and drawn by :mod:`popsim.app.charts`, in the browser by ECharts (the page
redraws every year, and a client-side chart costs the server nothing) and as a matplotlib figure
in the notebook (``notebooks/teacher_policy_tradeoffs.ipynb``), so the page, the notebook and the
tests show the same quantities from the same data.

Definitions (all pooled over the years completed so far, so they are counts first and ratios
last, so that noisy years are not averaged as ratios):

- *SRB so far*: 100 x male births / female births over the completed years.
- *Missing girls averted*: missing female births of the shadow run (same county and seed, none
  of the four measures) minus those of the run.
- *Cost per averted missing girl*: the run's total cost (enforcement, propaganda, incentives
  committed) minus the shadow's, divided by the missing girls averted; undefined when none
  were averted.
- *Women per case*: women investigated (follow-ups and audits), and women grey-listed, per case
  against a provider.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..reports.plotting import PARITY_COLOURS
from .classroom import Snapshot

__all__ = ["COLOURS", "WINDOW", "Series", "Panel", "headline", "tradeoffs", "tradeoff_table",
           "tradeoff_markdown", "tradeoff_html", "srb_panels", "reported_panel",
           "cases_panels", "cost_panel", "clinics_panels", "pooled_srb", "rolling_srb", "short"]

#: Line colours by run role: the teacher's run, lesson A and B, and the shadow (grey).
COLOURS = {"you": "#c2185b", "A": "#1b9e77", "B": "#7570b3", "shadow": "#8c8c8c"}
NATURAL_COLOUR = "#1f77b4"
_SOURCE_COLOURS = {"inspection": "#1b9e77", "tip": "#d95f02", "registration": "#7570b3",
                   "audit": "#e7298a"}
_CLINIC_COLOURS = {"offering": "#d62728", "open": "#2ca02c", "closed": "#bdbdbd"}
_SRB_RANGE = (90.0, 160.0)
#: Years pooled in the SRB lines: at 10,000 households a county has about 450 births a year, so a
#: yearly SRB wanders by +-10 points by chance alone; pooling the births of three years halves
#: the noise without hiding a trend that lasts longer than that.
WINDOW = 3


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def pooled_srb(ds: xr.Dataset | None, births: str = "births", parity: str | None = None) -> float:
    """100 x males / females over all years of ``ds`` (NaN without births)."""
    if ds is None:
        return math.nan
    b = ds[births] if parity is None else ds[births].sel(parity=parity)
    return 100.0 * _ratio(float(b.sel(sex="male").sum()), float(b.sel(sex="female").sum()))


def rolling_srb(ds: xr.Dataset, births: str = "births", parity: str | None = None,
                window: int = WINDOW) -> xr.DataArray:
    """SRB of the births pooled over the ``window`` years up to each year (fewer at the start)."""
    b = ds[births] if parity is None else ds[births].sel(parity=parity)
    if parity is None:
        b = b.sum("parity")
    pooled = b.rolling(year=window, min_periods=1).sum()
    m, f = pooled.sel(sex="male", drop=True), pooled.sel(sex="female", drop=True)
    return xr.where(f > 0, 100.0 * m / f.where(f > 0), np.nan)


def _total(ds: xr.Dataset | None, name: str) -> float:
    return float(ds[name].sum()) if ds is not None else 0.0


def headline(snap: Snapshot) -> list[dict[str, Any]]:
    """Per run: the last completed year's SRB, SRB so far (true and reported), births, missing
    female births and cost so far."""
    out = []
    for r in snap.runs:
        ds = r.ds
        last = float(ds["srb"][-1]) if ds is not None else math.nan
        out.append({"label": r.label, "role": r.role,
                    "year": int(ds["year"][-1]) if ds is not None else None,
                    "srb_year": last, "srb": pooled_srb(ds),
                    "reported_srb": pooled_srb(ds, "reported_births"),
                    "births": _total(ds, "total_births"),
                    "missing": _total(ds, "missing_female_births"),
                    "cost": _total(ds, "total_cost")})
    return out


def tradeoffs(snap: Snapshot) -> list[dict[str, Any]]:
    """Per compared run: the trade-off numbers of the module docstring (NaN when undefined)."""
    shadow = snap.shadow.ds
    out = []
    for r in snap.compared:
        ds = r.ds
        averted = _total(shadow, "missing_female_births") - _total(ds, "missing_female_births")
        extra = _total(ds, "total_cost") - _total(shadow, "total_cost")
        cases = _total(ds, "cases")
        tests = ds["sex_determinations"].sum("year") if ds is not None else None
        svc = _total(ds, "illegal_services")
        out.append({
            "label": r.label, "role": r.role,
            "srb": pooled_srb(ds), "srb_p1": pooled_srb(ds, parity="1"),
            "srb_p2": pooled_srb(ds, parity="2"), "reported_srb": pooled_srb(ds, "reported_births"),
            "averted": averted, "extra_cost": extra,
            "cost_per_averted": extra / averted if averted > 0 else math.nan,
            "cases": cases,
            "investigated_per_case": _ratio(_total(ds, "women_investigated"), cases),
            "grey_listed_per_case": _ratio(_total(ds, "grey_listed_new"), cases),
            "out_of_county_share": _ratio(
                float(ds["illegal_services"].sel(location="out_of_county").sum()), svc)
            if ds is not None else math.nan,
            "early_test_share": _ratio(float(tests.sel(route="early_test")), float(tests.sum()))
            if tests is not None else math.nan,
        })
    return out


def _num(x: float, fmt: str = ",.0f", none: str = "–") -> str:
    return none if x is None or not np.isfinite(x) else format(x, fmt)


def tradeoff_table(snap: Snapshot) -> tuple[list[str], list[tuple[str, list[str]]], str]:
    """:func:`tradeoffs` formatted as a table: column heads (the compared runs), rows of
    (quantity, cells), and a footnote; no rows before the first year."""
    rows = tradeoffs(snap)
    if snap.done == 0:
        return [r["label"] for r in rows], [], "The trade-offs appear after the first year."
    spec = [("SRB so far (true)", "srb", ".1f"), ("SRB of first births", "srb_p1", ".1f"),
            ("SRB of second births", "srb_p2", ".1f"), ("SRB as reported", "reported_srb", ".1f"),
            ("Missing girls averted (vs no measures)", "averted", ",.0f"),
            ("Extra cost (yuan)", "extra_cost", ",.0f"),
            ("Cost per averted missing girl (yuan)", "cost_per_averted", ",.0f"),
            ("Cases against providers", "cases", ",.0f"),
            ("Women investigated per case", "investigated_per_case", ",.1f"),
            ("Women grey-listed per case", "grey_listed_per_case", ",.1f"),
            ("Illegal services bought out of county", "out_of_county_share", ".0%"),
            ("Sex checks by early blood test", "early_test_share", ".0%")]
    body = [(name, [_num(r[key], fmt, "none averted" if key == "cost_per_averted" else "–")
                    for r in rows]) for name, key, fmt in spec]
    last = snap.start_year + snap.done - 1
    years = f"{snap.start_year}–{last}" if last > snap.start_year else str(last)
    return ([r["label"] for r in rows], body,
            f"Pooled over {years}, {snap.households:,} households, seed {snap.seed}.")


def tradeoff_markdown(snap: Snapshot) -> str:
    """:func:`tradeoff_table` as Markdown (for the notebook)."""
    heads, body, note = tradeoff_table(snap)
    if not body:
        return f"_{note}_"
    lines = ["| | " + " | ".join(heads) + " |", "|---" + "|---:" * len(heads) + "|"]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in body]
    return "\n".join(lines) + f"\n\n_{note}_"


def tradeoff_html(snap: Snapshot) -> str:
    """:func:`tradeoff_table` as an HTML table (for the page; escaped)."""
    heads, body, note = tradeoff_table(snap)
    esc = html.escape
    cell = "padding:2px 12px;text-align:right"
    rows = "".join(f'<tr><td style="padding:2px 12px 2px 0">{esc(name)}</td>' + "".join(
        f'<td style="{cell}">{esc(c)}</td>' for c in cells) + "</tr>"
        for name, cells in body)
    head = "".join(f'<th style="{cell};max-width:260px">{esc(h)}</th>' for h in heads)
    table = (f'<table class="popsim-tradeoff-table" style="border-collapse:collapse;'
             f'font-size:0.85em"><tr><th></th>{head}</tr>{rows}</table>') if body else ""
    return f'{table}<p style="font-size:0.8em;color:#555">{esc(note)}</p>'


# ------------------------------------------------------------------------------------------------
# charts as data


@dataclass(frozen=True)
class Series:
    """One line or one layer of stacked bars; ``y`` has one value per x (NaN: nothing yet)."""

    name: str
    y: tuple[float, ...]
    colour: str
    kind: str = "line"
    dashed: bool = False
    width: float = 2.0


@dataclass(frozen=True)
class Panel:
    """One chart: series over ``x`` (calendar years, or category labels for bars).

    ``reference`` is a horizontal line (value, label) such as the natural SRB; ``y_range`` fixes
    the y axis (None: from the data); ``horizontal`` lays bars along the x axis; ``placeholder``
    is shown while no year is complete.
    """

    key: str
    title: str
    x: tuple[Any, ...]
    series: tuple[Series, ...]
    y_label: str = ""
    y_range: tuple[float, float] | None = None
    reference: tuple[float, str] | None = None
    horizontal: bool = False
    placeholder: str = ""


def short(label: str) -> str:
    """"A: heavy crackdown ..." -> "A" (panel titles and legends)."""
    return label.split(":")[0]


def _years(snap: Snapshot) -> tuple[int, ...]:
    return tuple(range(snap.start_year, snap.end_year + 1))


def _over_years(snap: Snapshot, ds: xr.Dataset | None, values: Any) -> tuple[float, ...]:
    """Values of the completed years, NaN for the years still to come (fixed x axis)."""
    out = np.full(snap.end_year - snap.start_year + 1, np.nan)
    if ds is not None:
        v = np.asarray(values, dtype=float)
        out[:v.size] = v
    return tuple(float(x) for x in out)


def _placeholder(snap: Snapshot) -> str:
    return f"{snap.start_year}: press Step or Play" if snap.done == 0 else ""


def _srb_range(snap: Snapshot, series: list[Series]) -> tuple[float, float]:
    """At least 100-125 with the natural level; widened to the data, within 90-160."""
    values = np.array([v for s in series for v in s.y if np.isfinite(v)])
    lo = min(100.0, float(values.min()) - 2) if values.size else 100.0
    hi = max(125.0, float(values.max()) + 2) if values.size else 125.0
    return (max(np.floor(lo), _SRB_RANGE[0]), min(np.ceil(hi), _SRB_RANGE[1]))


def srb_panels(snap: Snapshot) -> list[Panel]:
    """SRB over time, births pooled over :data:`WINDOW` years: every run with the natural level,
    then each compared run by birth order. The panels share one y range."""
    total = [Series(short(r.label), _over_years(snap, r.ds, rolling_srb(r.ds)
                                               if r.ds is not None else ()),
                    COLOURS[r.role], dashed=r.role == "shadow",
                    width=1.5 if r.role == "shadow" else 2.5)
             for r in snap.runs]
    by_parity = [[Series(f"birth order {parity}", _over_years(
        snap, r.ds, rolling_srb(r.ds, parity=parity) if r.ds is not None else ()), colour)
        for parity, colour in PARITY_COLOURS.items()] for r in snap.compared]
    y_range = _srb_range(snap, total + [s for group in by_parity for s in group])
    common = dict(x=_years(snap), y_label=f"males per 100 females ({WINDOW}-year rolling)",
                  y_range=y_range, reference=(snap.natural_srb, "natural"),
                  placeholder=_placeholder(snap))
    panels = [Panel("srb", "SRB, all births", series=tuple(total), **common)]
    panels += [Panel(f"srb-{r.role}", f"{short(r.label)}: SRB by birth order",
                     series=tuple(group), **common)
               for r, group in zip(snap.compared, by_parity)]
    return panels


def reported_panel(snap: Snapshot) -> Panel:
    """True (solid) and reported (dashed) SRB of each compared run."""
    series = []
    for r in snap.compared:
        for births, dashed, what in (("births", False, "true"),
                                     ("reported_births", True, "reported")):
            y = rolling_srb(r.ds, births) if r.ds is not None else ()
            series.append(Series(f"{short(r.label)} {what}", _over_years(snap, r.ds, y),
                                 COLOURS[r.role], dashed=dashed))
    return Panel("reported", f"Reported vs true SRB ({WINDOW}-year rolling)", _years(snap),
                 tuple(series), "males per 100 females", _srb_range(snap, series),
                 (snap.natural_srb, "natural"), placeholder=_placeholder(snap))


def cases_panels(snap: Snapshot) -> list[Panel]:
    """Cases against providers per year by source of detection, per compared run."""
    return [Panel(f"cases-{r.role}", f"{short(r.label)}: cases by source", _years(snap),
                  tuple(Series(source, _over_years(snap, r.ds, r.ds["cases"].sel(
                      source=source) if r.ds is not None else ()), colour, kind="bar")
                        for source, colour in _SOURCE_COLOURS.items()),
                  "cases per year", placeholder=_placeholder(snap))
            for r in snap.compared]


def cost_panel(snap: Snapshot) -> Panel:
    """Cost so far by component (million yuan), one bar per compared run."""
    parts = (("enforcement_cost", "enforcement", "#1b9e77"),
             ("propaganda_cost", "propaganda", "#e6ab02"),
             ("incentive_payments", "incentives", "#7570b3"))
    series = tuple(Series(label, tuple(_total(r.ds, name) / 1e6 for r in snap.compared),
                          colour, kind="bar") for name, label, colour in parts)
    return Panel("cost", "Cost so far (million yuan)", tuple(short(r.label)
                                                             for r in snap.compared),
                 series, "million yuan", horizontal=True)


def clinics_panels(snap: Snapshot) -> list[Panel]:
    """Providers by township now, per compared run: offering illegal services, open and not
    offering, closed ("county": county-wide hospitals; "outside": beyond the county)."""
    names = (("offering", "offering illegal services"), ("open", "open, not offering"),
             ("closed", "closed"))
    return [Panel(f"clinics-{r.role}", f"{short(r.label)}: providers by township, "
                                       f"January {snap.year}",
                  tuple(r.clinics["labels"]),
                  tuple(Series(name, tuple(float(v) for v in r.clinics[key]),
                               _CLINIC_COLOURS[key], kind="bar") for key, name in names),
                  "providers")
            for r in snap.compared]
