"""What the teaching app shows of a :class:`~popsim.app.classroom.Snapshot`: charts and numbers.

Every view reads the snapshot's yearly datasets (the variables of :mod:`popsim.model.recording`) and
its clinic counts, never a running model. A chart is described here as data — a :class:`Panel`
of :class:`Series` — and drawn by :mod:`popsim.app.charts`, in the browser by ECharts (the page
redraws every year, and a client-side chart costs the server nothing) and as a matplotlib figure
in the notebook (``notebooks/teacher_policy_tradeoffs.ipynb``), so the page, the notebook and the
tests show the same quantities from the same data.

Definitions (all pooled over the years completed so far, so they are counts first and ratios
last, so that noisy years are not averaged as ratios):

- *SRB so far*: 100 x male births / female births over the completed years (the headline
  number: one year of a 10,000-household county has about 450 births, too few for its own
  SRB to mean much), with its binomial standard error (:func:`srb_se`).
- *Missing girls*: female births missing against the natural SRB; a negative count (more girls
  than the natural ratio predicts, by chance) is shown as "none missing".
- *Missing girls averted*: missing female births of the shadow run (same county and seed, none
  of the four measures) minus those of the run.
- *Cost per averted missing girl*: the run's total cost (enforcement, propaganda, incentives
  committed) minus the shadow's, divided by the missing girls averted; undefined when none
  were averted.
- *Women per case*: women investigated (follow-ups and audits), and women grey-listed, per case
  against a provider.

Noise on the charts. A point of an SRB-by-birth-order line whose births in its window are so
few that its standard error exceeds :data:`MAX_SE` points is not drawn (third births of a
10,000-household county: about 80 in three years, a standard error near 24 points); the points
that are drawn carry a band of +-1 standard error (where two thirds of such lines would fall by
chance alone). The y axis of every SRB chart is fitted
to the lines, the natural level and the target it shows, so no line leaves the frame.

Uncertainty bands. A :class:`Band` is any (lo, hi) pair per x, drawn as a shaded area under its
line by both renderers; the chance bands above are one use, the posterior band of "with
uncertainty" another (:func:`uncertainty_band`: the range of the 3-year rolling SRB of the
main configuration's extra members, whose behaviour coefficients are drawn from the china
posterior, :mod:`popsim.app.uncertainty`), shown in the legend with what it holds.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..reports.run_report import PARITY_COLOURS
from . import uncertainty
from .classroom import BEFORE_LABEL, RunView, Snapshot

__all__ = ["COLOURS", "WINDOW", "MAX_SE", "Series", "Band", "Reference", "Panel", "headline",
           "tradeoffs", "tradeoff_table", "tradeoff_markdown", "tradeoff_html", "srb_panels",
           "reported_panel", "cases_panels", "cost_panel", "clinics_panels", "pooled_srb",
           "rolling_srb", "rolling_births", "srb_se", "min_births", "missing_text", "short",
           "uncertainty_band"]

#: Line colours by run role: the teacher's run, lesson A and B, and the shadow (grey).
COLOURS = {"you": "#c2185b", "A": "#1b9e77", "B": "#7570b3", "shadow": "#8c8c8c",
           "before": "#c2185b"}
NATURAL_COLOUR = "#1f77b4"
TARGET_COLOUR = "#d62728"
CHANGE_COLOUR = "#555555"
_SOURCE_COLOURS = {"inspection": "#1b9e77", "tip": "#d95f02", "registration": "#7570b3",
                   "audit": "#e7298a"}
_CLINIC_COLOURS = {"offering": "#d62728", "open": "#2ca02c", "closed": "#bdbdbd"}
#: Standard error (SRB points) above which a point of a birth-order line is hidden: its 95%
#: range (+-30 points) would span everything from the natural level (106) to the worst county
#: SRBs on record (about 135), so it could not tell selection from chance. At the natural level
#: this is :func:`min_births` = 200 births in the window.
MAX_SE = 15.0
#: The least span of an SRB axis (points), so that a few points of noise do not fill the frame.
_MIN_SPAN = 20.0
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


def rolling_births(ds: xr.Dataset, births: str = "births", parity: str | None = None,
                   window: int = WINDOW) -> xr.DataArray:
    """Births (both sexes) pooled over the ``window`` years up to each year."""
    b = ds[births] if parity is None else ds[births].sel(parity=parity)
    if parity is None:
        b = b.sum("parity")
    return b.sum("sex").rolling(year=window, min_periods=1).sum()


def srb_se(srb: Any, births: Any) -> Any:
    """Binomial standard error (points) of an SRB measured on ``births`` births: the share of
    boys p = SRB / (100 + SRB) has standard error sqrt(p (1 - p) / n), and SRB = 100 p / (1 - p)
    moves by 100 / (1 - p)^2 per unit of p (the delta method). NaN without births."""
    srb, n = np.asarray(srb, dtype=float), np.asarray(births, dtype=float)
    p = srb / (100.0 + srb)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 * np.sqrt(p * (1 - p) / n) / (1 - p) ** 2
    return np.where(n > 0, out, np.nan)


def min_births(natural_srb: float, max_se: float = MAX_SE) -> int:
    """The fewest births whose SRB at the natural level has a standard error of at most
    ``max_se`` points (:func:`srb_se` solved for n)."""
    p = natural_srb / (100.0 + natural_srb)
    return math.ceil(p * (1 - p) * (100.0 / ((1 - p) ** 2 * max_se)) ** 2)


def missing_text(missing: float) -> str:
    """Missing girls in words: a count at or below zero is "none missing" (more girls than the
    natural ratio predicts: chance, not a measure)."""
    n = round(missing)
    return "none missing" if n <= 0 else f"{n:,} girls missing"


def _total(ds: xr.Dataset | None, name: str) -> float:
    return float(ds[name].sum()) if ds is not None else 0.0


def headline(snap: Snapshot) -> list[dict[str, Any]]:
    """Per run: the SRB so far (the headline, pooled over the completed years) with its standard
    error, the reported SRB so far, the last year's own SRB, births, missing girls (and in
    words) and cost so far."""
    out = []
    for r in snap.runs:
        ds = r.ds
        last = float(ds["srb"][-1]) if ds is not None else math.nan
        srb = pooled_srb(ds)
        births = _total(ds, "births")
        missing = _total(ds, "missing_female_births")
        out.append({"label": r.label, "role": r.role,
                    "first_year": snap.start_year,
                    "year": int(ds["year"][-1]) if ds is not None else None,
                    "srb": srb, "srb_se": float(srb_se(srb, births)) if ds is not None
                    else math.nan, "srb_year": last,
                    "reported_srb": pooled_srb(ds, "reported_births"),
                    "births": _total(ds, "total_births"),
                    "missing": missing, "missing_text": missing_text(missing),
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
    body = [(name, [_cell(key, r[key], fmt) for r in rows]) for name, key, fmt in spec]
    last = snap.start_year + snap.done - 1
    years = f"{snap.start_year}–{last}" if last > snap.start_year else str(last)
    return ([r["label"] for r in rows], body,
            f"Pooled over {years}, {snap.households:,} households, seed {snap.seed}. A negative "
            f"count of girls averted means more girls missing than with no measures.")


def _cell(key: str, x: float, fmt: str) -> str:
    if key == "cost_per_averted":
        return _num(x, fmt, "none averted")
    if key == "averted" and np.isfinite(x) and round(x) < 0:
        return f"{_num(x, fmt)} (more missing)"
    return _num(x, fmt)


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
    cell = "padding:1px 8px;text-align:right"
    rows = "".join(f'<tr><td style="padding:1px 8px 1px 0">{esc(name)}</td>' + "".join(
        f'<td style="{cell}">{esc(c)}</td>' for c in cells) + "</tr>"
        for name, cells in body)
    # the columns are headed by the runs' short names (the lesson card gives the full ones)
    head = "".join(f'<th style="{cell}" title="{esc(h)}">{esc(short(h))}</th>' for h in heads)
    table = (f'<table class="popsim-tradeoff-table" style="border-collapse:collapse;'
             f'font-size:0.85em"><tr><th></th>{head}</tr>{rows}</table>') if body else ""
    return f'{table}<p style="font-size:0.8em;color:#555">{esc(note)}</p>'


# ------------------------------------------------------------------------------------------------
# charts as data


@dataclass(frozen=True)
class Series:
    """One line or one layer of stacked bars; ``y`` has one value per x (NaN: nothing yet).

    ``style`` is "solid", "dashed" or "dotted"; ``opacity`` below 1 fades a line drawn for
    comparison (the run before a lever change); ``symbols`` marks each year's point (off for a
    level such as a target).
    """

    name: str
    y: tuple[float, ...]
    colour: str
    kind: str = "line"
    style: str = "solid"
    width: float = 2.0
    opacity: float = 1.0
    symbols: bool = True


@dataclass(frozen=True)
class Band:
    """A shaded range (``lo`` to ``hi`` per x, NaN: none) drawn behind the lines: a chance
    band or a posterior band (module docstring); ``legend`` lists it in the chart's legend
    (a posterior band, whose name says what it holds)."""

    name: str
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    colour: str
    opacity: float = 0.15
    legend: bool = False


@dataclass(frozen=True)
class Reference:
    """A horizontal line across the chart, such as the natural SRB."""

    value: float
    label: str
    colour: str = NATURAL_COLOUR


@dataclass(frozen=True)
class Panel:
    """One chart: series over ``x`` (calendar years, or category labels for bars).

    ``references`` are horizontal lines; ``bands`` shaded ranges; ``marks`` vertical lines
    (x, label) such as the year of a lever change; ``y_range`` fixes the y axis (None: from the
    data); ``horizontal`` lays bars along the x axis; ``placeholder`` is shown while no year is
    complete.
    """

    key: str
    title: str
    x: tuple[Any, ...]
    series: tuple[Series, ...]
    y_label: str = ""
    y_range: tuple[float, float] | None = None
    references: tuple[Reference, ...] = ()
    bands: tuple[Band, ...] = ()
    marks: tuple[tuple[Any, str], ...] = ()
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


def _srb_range(series: list[Series], levels: list[float]) -> tuple[float, float]:
    """The y range of an SRB chart: every finite value of the lines and the ``levels`` (natural,
    target) inside it with 2 points to spare, at least :data:`_MIN_SPAN` wide (widened upwards,
    where selection takes the SRB), its ends on multiples of the tick interval (ECharts labels
    the ends too, and an end between two ticks crowds them)."""
    values = np.array([v for s in series for v in s.y if np.isfinite(v)]
                      + [v for v in levels if np.isfinite(v)])
    lo, hi = float(values.min()) - 2, float(values.max()) + 2
    hi = max(hi, lo + _MIN_SPAN)
    step = 10 if hi - lo <= 60 else 20  # the tick interval :mod:`popsim.app.charts` draws
    return (step * math.floor(lo / step), step * math.ceil(hi / step))


def _targets(snap: Snapshot, runs: tuple[RunView, ...]) -> list[Series]:
    """The SRB target each run's county is held to, over every year of the axis (it is known
    in advance); runs with the same target line share one."""
    lines: dict[tuple[float | None, ...], list[RunView]] = {}
    for r in runs:
        if any(np.isfinite(r.target)):
            key = tuple(v if np.isfinite(v) else None for v in r.target)  # NaN != NaN
            lines.setdefault(key, []).append(r)
    out = []
    for key, held in lines.items():
        level = "/".join(f"{v:g}" for v in sorted({v for v in key if v is not None}))
        who = "" if len(lines) == 1 else ", ".join(short(r.label) for r in held) + " "
        out.append(Series(f"{who}target ({level})", held[0].target, TARGET_COLOUR,
                          style="dashed", width=1.5, symbols=False))
    return out


def _change_marks(snap: Snapshot) -> tuple[tuple[Any, str], ...]:
    return ((snap.changed, f"change {snap.changed}"),) if snap.changed is not None else ()


def _before_series(snap: Snapshot, births: str = "births", what: str = "") -> list[Series]:
    """The teacher's run before the last lever change, faded and dashed (none without one)."""
    r = snap.before
    if r is None or r.ds is None:
        return []
    return [Series(f"{BEFORE_LABEL.lower()}{what}",
                   _over_years(snap, r.ds, rolling_srb(r.ds, births)), COLOURS["before"],
                   style="dashed", width=2.0, opacity=0.4)]


def _by_parity(snap: Snapshot, r: RunView) -> tuple[list[Series], list[Band]]:
    """SRB lines by birth order of one run, with the points on too few births hidden and a
    band of +-1 standard error around the others."""
    lines, bands = [], []
    least = min_births(snap.natural_srb)
    for parity, colour in PARITY_COLOURS.items():
        if r.ds is None:
            lines.append(Series(f"birth order {parity}", _over_years(snap, None, ()), colour))
            continue
        srb = rolling_srb(r.ds, parity=parity).values
        n = rolling_births(r.ds, parity=parity).values
        shown = np.where(n >= least, srb, np.nan)
        half = srb_se(shown, n)
        # the legend says so when a line has no point on enough births (third births of a
        # small county); a line hidden in a few years only shows its gaps
        name = f"birth order {parity}" + (": too few births" if np.all(n < least) else "")
        lines.append(Series(name, _over_years(snap, r.ds, shown), colour))
        bands.append(Band(f"birth order {parity}: +-1 standard error",
                          _over_years(snap, r.ds, shown - half),
                          _over_years(snap, r.ds, shown + half), colour))
    return lines, bands


def uncertainty_band(snap: Snapshot) -> Band | None:
    """The posterior band around the main configuration's SRB line (the teacher's, or lesson
    A): in each completed year the range of the members' 3-year rolling SRB (min-max, or 5-95%
    from :data:`~popsim.app.uncertainty.QUANTILE_MEMBERS` members on); None when the switch is
    off or no year is complete."""
    if not snap.uncertain:
        return None
    lines = [np.asarray(_over_years(snap, ds, rolling_srb(ds))) for ds in snap.members
             if ds is not None]
    if not lines:
        return None
    lo, hi = uncertainty.band(lines)
    main = snap.compared[0]
    k = len(snap.members)
    # short enough for one legend row of the page's 460-pixel chart
    return Band(f"{short(main.label)}: {k}-run {uncertainty.band_kind(k)}, seed noise and the "
                f"behaviour coefficients' uncertainty", tuple(float(v) for v in lo),
                tuple(float(v) for v in hi), COLOURS[main.role], opacity=0.2, legend=True)


def srb_panels(snap: Snapshot) -> list[Panel]:
    """SRB over time, births pooled over :data:`WINDOW` years: every run with the natural level
    and the target the county is held to (and the run before a lever change, faded), then each
    compared run by birth order. The birth-order panels share one y range, fitted to their
    lines (noisier than those of all births, which get their own)."""
    total = [Series(short(r.label), _over_years(snap, r.ds, rolling_srb(r.ds)
                                               if r.ds is not None else ()),
                    COLOURS[r.role], style="dashed" if r.role == "shadow" else "solid",
                    width=1.5 if r.role == "shadow" else 2.5)
             for r in snap.runs]
    total = _before_series(snap) + total + _targets(snap, snap.compared)
    groups = [_by_parity(snap, r) for r in snap.compared]
    edges = [Series(b.name, b.lo + b.hi, b.colour) for _, bands in groups for b in bands]
    by_order = _srb_range([s for lines, _ in groups for s in lines] + edges, [snap.natural_srb])
    common = dict(x=_years(snap), y_label=f"males per 100 females ({WINDOW}-year rolling)",
                  references=(Reference(snap.natural_srb, "natural"),),
                  placeholder=_placeholder(snap), marks=_change_marks(snap))
    posterior = uncertainty_band(snap)
    bands = (posterior,) if posterior is not None else ()
    edges = [Series(b.name, b.lo + b.hi, b.colour) for b in bands]
    title = "SRB, all births" + (" (band: China calibration, approximate)" if bands else "")
    panels = [Panel("srb", title, series=tuple(total), bands=bands,
                    y_range=_srb_range(total + edges, [snap.natural_srb]), **common)]
    panels += [Panel(f"srb-{r.role}", f"{short(r.label)}: SRB by birth order",
                     series=tuple(lines), bands=tuple(bands), y_range=by_order, **common)
               for r, (lines, bands) in zip(snap.compared, groups)]
    return panels


def reported_panel(snap: Snapshot) -> Panel:
    """True (solid) and reported (dotted) SRB of each compared run, with the target the county
    is held to; the y axis is fitted to all of them."""
    series = []
    for r in snap.compared:
        for births, style, what in (("births", "solid", "true"),
                                    ("reported_births", "dotted", "reported")):
            y = rolling_srb(r.ds, births) if r.ds is not None else ()
            series.append(Series(f"{short(r.label)} {what}", _over_years(snap, r.ds, y),
                                 COLOURS[r.role], style=style))
    series = (_before_series(snap, "births", " (true)")
              + _before_series(snap, "reported_births", " (reported)")
              + series + _targets(snap, snap.compared))
    return Panel("reported", f"Reported vs true SRB ({WINDOW}-year rolling)", _years(snap),
                 tuple(series), "males per 100 females",
                 _srb_range(series, [snap.natural_srb]),
                 (Reference(snap.natural_srb, "natural"),), marks=_change_marks(snap),
                 placeholder=_placeholder(snap))


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
