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

Both draw the same series, colours, reference line and axis range, so what a class sees in the
browser and in the notebook agree.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .views import NATURAL_COLOUR, Panel

__all__ = ["echarts_option", "figure", "to_png"]


def _clean(values: tuple[float, ...]) -> list[float | None]:
    """NaN -> None (JSON null: a gap in ECharts); two decimals are plenty on a chart."""
    return [round(v, 2) if math.isfinite(v) else None for v in values]


def echarts_option(panel: Panel) -> dict[str, Any]:
    """The ECharts option of one panel (JSON-serialisable)."""
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
    if panel.horizontal:
        categories["inverse"] = True  # first category on top, as in the legend and the table
    series: list[dict[str, Any]] = []
    for s in panel.series:
        item: dict[str, Any] = {"name": s.name, "type": s.kind, "data": _clean(s.y),
                                "itemStyle": {"color": s.colour}}
        if s.kind == "line":
            item.update(lineStyle={"color": s.colour, "width": s.width,
                                   "type": "dashed" if s.dashed else "solid"},
                        symbolSize=4, connectNulls=False)
        else:
            item.update(stack="total", barMaxWidth=28)
        series.append(item)
    if panel.reference is not None:
        value, label = panel.reference
        series.append({"name": f"{label} ({value:g})", "type": "line",
                       "data": [value] * len(panel.x), "showSymbol": False, "silent": True,
                       "itemStyle": {"color": NATURAL_COLOUR},
                       "lineStyle": {"color": NATURAL_COLOUR, "width": 1.5, "type": "dotted"}})
    option: dict[str, Any] = {
        "animation": False,
        "title": {"text": panel.title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 22, "textStyle": {"fontSize": 10}, "itemWidth": 16, "itemHeight": 8},
        "grid": {"left": 58 if not panel.horizontal else 70, "right": 14, "top": 62,
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


def _draw(ax, panel: Panel) -> None:
    categorical = any(isinstance(x, str) for x in panel.x)
    x = np.arange(len(panel.x)) if categorical else np.asarray(panel.x, dtype=float)
    base = np.zeros(len(panel.x))
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
            ax.plot(x, y, color=s.colour, lw=s.width * 0.8, ls="--" if s.dashed else "-",
                    marker="o", ms=2.5, label=s.name)
    if panel.reference is not None:
        value, label = panel.reference
        ax.axhline(value, color=NATURAL_COLOUR, lw=1.2, ls=":", label=f"{label} ({value:g})")
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

