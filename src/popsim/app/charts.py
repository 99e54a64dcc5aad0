"""Drawing the app's charts: ECharts options for the page, matplotlib figures for the notebook.

A :class:`~popsim.app.views.Panel` says what a chart shows; this module only draws it, two ways:

- :func:`echarts_option` turns a panel into an ECharts option (plain JSON data). The page sends
  it to the browser, which draws it with the ECharts copy that ``solara-assets`` ships (no CDN).
  Drawing on the client keeps a year of the simulation at a few tens of milliseconds of server
  time; a matplotlib PNG of the same views took about a second per year on a 2-core machine.
  Animation is off, so a chart shows the new year at once (and a screenshot is deterministic).
- :func:`figure` draws panels side by side on a ``matplotlib.figure.Figure`` (no pyplot state)
  for the notebook (:func:`to_png`) and for saved images (:func:`popsim.io.save_figure` writes
  one atomically).

Both draw the same series, colours, bands, reference lines, marks and axis range, so what a
class sees in the browser and in the notebook agree. A band is drawn in ECharts as two stacked
series of its own stack: an invisible line at ``lo`` and a shaded area of height ``hi - lo``
(ECharts has no range area), in matplotlib with ``fill_between``.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .views import CHANGE_COLOUR, Band, Panel

__all__ = ["echarts_option", "figure", "to_png"]

_LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":"}


def _clean(values: tuple[float, ...]) -> list[float | None]:
    """NaN -> None (JSON null: a gap in ECharts); two decimals are plenty on a chart."""
    return [round(v, 2) if math.isfinite(v) else None for v in values]


def _legend_rows(names: list[str], width: int) -> int:
    """Rows the legend of a chart ``width`` pixels wide needs (ECharts wraps a plain legend;
    the plot starts below it): about 5.4 pixels per character at font size 10, plus the
    icon."""
    rows, used = 1, 0.0
    for name in names:
        item = 16 + 5 + 5.4 * len(name) + 10
        if used and used + item > width - 20:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def echarts_option(panel: Panel, width: int = 300) -> dict[str, Any]:
    """The ECharts option of one panel (JSON-serialisable), for a chart about ``width`` pixels
    wide (the legend's rows and the plot's top margin are laid out for it)."""
    categories = {"type": "category", "data": [str(x) for x in panel.x],
                  "axisLabel": {"fontSize": 10}, "axisTick": {"alignWithLabel": True}}
    values: dict[str, Any] = {"type": "value", "name": panel.y_label, "nameLocation": "middle",
                              "nameGap": 30 if panel.horizontal else 40,
                              "nameTextStyle": {"fontSize": 10},
                              "axisLabel": {"fontSize": 10},
                              # lines zoom to their range; bars start at zero
                              "scale": all(x.kind == "line" for x in panel.series)}
    if panel.y_range is not None:
        values["min"], values["max"] = panel.y_range
        values["interval"] = 10 if panel.y_range[1] - panel.y_range[0] <= 60 else 20
    if panel.horizontal:
        categories["inverse"] = True  # first category on top, as in the legend and the table
    series: list[dict[str, Any]] = []
    for i, band in enumerate(panel.bands):
        series.extend(_echarts_band(band, f"band-{i}"))
    for s in panel.series:
        item: dict[str, Any] = {"name": s.name, "type": s.kind, "data": _clean(s.y),
                                "itemStyle": {"color": s.colour, "opacity": s.opacity}}
        if s.kind == "line":
            item.update(lineStyle={"color": s.colour, "width": s.width, "type": s.style,
                                   "opacity": s.opacity},
                        symbolSize=4, showSymbol=s.symbols, connectNulls=False)
        else:
            item.update(stack="total", barMaxWidth=28)
        series.append(item)
    for ref in panel.references:
        series.append({"name": f"{ref.label} ({ref.value:g})", "type": "line",
                       "data": [ref.value] * len(panel.x), "showSymbol": False,
                       "silent": True, "itemStyle": {"color": ref.colour},
                       "lineStyle": {"color": ref.colour, "width": 1.5, "type": "dotted"}})
    if panel.marks and series:
        # a vertical line at a category of the x axis, e.g. the year of a lever change
        series[-1]["markLine"] = {
            "symbol": "none", "silent": True, "animation": False,
            "lineStyle": {"color": CHANGE_COLOUR, "type": "solid", "width": 1},
            "label": {"formatter": "{b}", "fontSize": 10, "position": "insideEndTop"},
            "data": [{"xAxis": str(x), "name": label} for x, label in panel.marks]}
    shown = [b for b in panel.bands if b.legend]
    legend = [s.name for s in panel.series] + [f"{r.label} ({r.value:g})"
                                               for r in panel.references]
    # a band's entry is a shaded square, stronger than the band itself
    entries = legend + [{"name": b.name, "icon": "rect",
                         "itemStyle": {"color": b.colour, "opacity": min(3 * b.opacity, 1)}}
                        for b in shown]
    option: dict[str, Any] = {
        "animation": False,
        "title": {"text": panel.title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 22, "textStyle": {"fontSize": 10}, "itemWidth": 16,
                   "itemHeight": 8, "itemGap": 10, "data": entries},
        "grid": {"left": 58 if not panel.horizontal else 70, "right": 14,
                 "top": 46 + 16 * _legend_rows(legend + [b.name for b in shown], width),
                 "bottom": 44 if panel.horizontal else 28},
        "xAxis": values if panel.horizontal else categories,
        "yAxis": categories if panel.horizontal else values,
        "series": series,
    }
    if panel.placeholder:
        option["graphic"] = [{"type": "text", "left": "center", "top": "middle",
                              "style": {"text": panel.placeholder, "fontSize": 14,
                                        "fill": "#666666"}}]
    return option


def _echarts_band(band: Band, stack: str) -> list[dict[str, Any]]:
    """A band as ECharts draws a range: an invisible base line at ``lo`` and, stacked on it, an
    area of height ``hi - lo``; out of the tooltip, and of the legend unless ``band.legend``
    (the area then stands for the band, in its colour)."""
    lo = np.asarray(band.lo, dtype=float)
    height = np.asarray(band.hi, dtype=float) - lo
    common = {"type": "line", "stack": stack, "showSymbol": False, "silent": True,
              "connectNulls": False, "tooltip": {"show": False},
              "lineStyle": {"opacity": 0}, "emphasis": {"disabled": True}}
    return [{**common, "name": f"{band.name} (base)", "data": _clean(tuple(lo))},
            {**common, "name": band.name, "data": _clean(tuple(height)),
             "itemStyle": {"color": band.colour, "opacity": band.opacity},
             "areaStyle": {"color": band.colour, "opacity": band.opacity}}]


def _draw(ax, panel: Panel) -> None:
    categorical = any(isinstance(x, str) for x in panel.x)
    x = np.arange(len(panel.x)) if categorical else np.asarray(panel.x, dtype=float)
    base = np.zeros(len(panel.x))
    for band in panel.bands:
        ax.fill_between(x, np.asarray(band.lo, dtype=float), np.asarray(band.hi, dtype=float),
                        color=band.colour, alpha=band.opacity, lw=0,
                        label=band.name if band.legend else None)
    for s in panel.series:
        y = np.asarray(s.y, dtype=float)
        if s.kind == "bar":
            v = np.nan_to_num(y)
            if panel.horizontal:
                ax.barh(x, v, left=base, color=s.colour, label=s.name, height=0.6)
            else:
                ax.bar(x, v, bottom=base, color=s.colour, label=s.name, width=0.8)
            base = base + v
        else:
            ax.plot(x, y, color=s.colour, lw=s.width * 0.8, ls=_LINESTYLES[s.style],
                    marker="o" if s.symbols else None, ms=2.5, label=s.name, alpha=s.opacity)
    for ref in panel.references:
        ax.axhline(ref.value, color=ref.colour, lw=1.2, ls=":",
                   label=f"{ref.label} ({ref.value:g})")
    for at, label in panel.marks:
        pos = list(panel.x).index(at) if categorical else at
        ax.axvline(pos, color=CHANGE_COLOUR, lw=1)
        ax.annotate(label, (pos, 1), xycoords=("data", "axes fraction"), fontsize=7,
                    xytext=(2, -8), textcoords="offset points", color=CHANGE_COLOUR)
    if not categorical:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    if categorical:
        if panel.horizontal:
            ax.set_yticks(x, list(panel.x))
            ax.invert_yaxis()
        else:
            ax.set_xticks(x, list(panel.x), rotation=90)
    if panel.y_range is not None:
        ax.set_ylim(*panel.y_range)
    ax.set_title(panel.title, fontsize=10)
    (ax.set_xlabel if panel.horizontal else ax.set_ylabel)(panel.y_label, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if panel.placeholder:
        ax.text(0.5, 0.5, panel.placeholder, transform=ax.transAxes, ha="center", va="center",
                color="#666666")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6.5, loc="upper left")


def figure(panels: list[Panel] | list[list[Panel]], width: float = 11.0,
           height: float = 3.2, sharey: bool = False) -> Figure:
    """Panels side by side on one matplotlib figure; a list of lists draws one row per list
    (``height`` is per row). Margins are fixed in inches rather than solved by a layout engine,
    which halves the drawing time of these many-panel figures."""
    rows = panels if panels and isinstance(panels[0], list) else [panels]
    fig = Figure(figsize=(width, height * len(rows)))
    total = height * len(rows)
    grid = fig.add_gridspec(len(rows), 60, left=0.65 / width, right=1 - 0.1 / width,
                            bottom=0.55 / total, top=1 - 0.3 / total,
                            hspace=0.9 / height, wspace=0.0)
    for r, row in enumerate(rows):
        span = 60 // len(row)
        first = None
        for i, panel in enumerate(row):
            # a gap of a few grid columns between panels leaves room for tick labels
            gap = 6 if i else 0
            ax = fig.add_subplot(grid[r, i * span + gap:(i + 1) * span],
                                 sharey=first if sharey else None)
            first = first or ax
            _draw(ax, panel)
    return fig


def to_png(fig: Figure, dpi: int = 90) -> bytes:
    """The figure as PNG bytes (for a notebook's display)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()

