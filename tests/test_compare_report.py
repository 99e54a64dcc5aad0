"""Tests of the planners' items of ``popsim compare`` (issue 16): the incremental
cost-effectiveness table and frontier, the present-value wording, the marks on SRB cells with too
few births, the figure's labels inside the frame, the CSV and its data dictionary.

The frontier rules are checked on hand-made numbers whose answer is known (the textbook
procedure); the reports on one small comparison (:func:`small`), shared by the module.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from popsim.experiments.compare import COLUMNS, compare, planner_table
from popsim.experiments.compare_metrics import (MAX_SRB_SE, min_births, quantile_interval,
                                                srb_standard_error)
from popsim.experiments.cost_effectiveness import (DOMINATED, EQUAL, EXTENDEDLY_DOMINATED,
                                                   FRONTIER, REFERENCE, frontier,
                                                   incremental_table)
from popsim.reports.compare_report import (FEW_BIRTHS_MARK, comparison_figure, format_csv,
                                           format_dictionary, format_markdown, format_terminal,
                                           write_outputs)

#: Tiny runs: a few hundred births a year, so that end-year cells by birth order are marked.
TINY = {"run.households": 2000, "run.start_year": 2000, "run.end_year": 2004,
        "run.burn_in_years": 10}
#: long names on purpose: their labels are the ones that could leave the frame
NAMES = ["county", "comprehensive", "incentives_only", "crackdown_no_cross_region",
         "accountability_pressure"]


@pytest.fixture(scope="module")
def small() -> xr.Dataset:
    return compare(NAMES, replicates=3, seed=4, baseline="baseline", overrides=TINY, workers=2)


# ------------------------------------------------------------------------------------------------
# the frontier on known numbers


def test_frontier_marks_dominated_and_extendedly_dominated():
    #          A    B    C    D    E
    cost = [0.0, 100, 150, 300, 250]
    effect = [0.0, 10, 8, 20, 12]
    status, versus = frontier(np.array(cost), np.array(effect))
    # C costs more than B and averts fewer: dominated. E: (250-100)/(12-10) = 75 per extra
    # unit, then D: (300-250)/(20-12) = 6.25 -- E's ICER exceeds the next one's, a mix of B and
    # D does better: extendedly dominated. The frontier is A -> B (10 per unit) -> D (20).
    assert list(status) == [REFERENCE, FRONTIER, DOMINATED, FRONTIER, EXTENDEDLY_DOMINATED]
    assert list(versus) == [-1, 0, 1, 1, 1]


def test_extended_dominance_is_repeated_until_icers_rise():
    # B: 50 per unit, then C: 10 per unit after B -> B is removed; A -> C is then 30 per unit
    # and D after C (100 - 60) / (3 - 2) = 40: rising, so A, C and D form the frontier.
    status, versus = frontier(np.array([0.0, 50, 60, 100]), np.array([0.0, 1, 2, 3]))
    assert list(status) == [REFERENCE, EXTENDEDLY_DOMINATED, FRONTIER, FRONTIER]
    assert list(versus) == [-1, 0, 0, 2]
    # a package with the same cost and effect as one listed before it is equal to it (county
    # and comprehensive have the same measures), not dominated by it
    status, versus = frontier(np.array([0.0, 10, 10, 20]), np.array([0.0, 5, 5, 4]))
    assert list(status) == [REFERENCE, FRONTIER, EQUAL, DOMINATED]
    assert list(versus) == [-1, 0, 1, 1]
    # a package cheaper than the baseline and more effective makes the baseline dominated
    status, _ = frontier(np.array([0.0, -5.0]), np.array([0.0, 1.0]))
    assert list(status) == [DOMINATED, REFERENCE]


def test_incremental_table_pairs_replicates():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 3, size=8)  # shared by both packages in a replicate: cancels
    effect = np.array([np.zeros(8), 10 + noise, 20 + noise + rng.normal(0, 0.5, 8)])
    cost = np.array([np.zeros(8), np.full(8, 100.0), np.full(8, 300.0)])
    t = incremental_table(np.array(["base", "b", "c"]), cost, effect)
    assert list(t["ce_status"].values) == [REFERENCE, FRONTIER, FRONTIER]
    assert list(t["ce_versus"].values) == ["", "base", "b"]
    assert list(t["ce_rank"].values) == [1, 2, 3]
    d = effect[2] - effect[1]
    np.testing.assert_allclose(t["incremental_averted"].sel(scenario="c"),
                               [d.mean(), *quantile_interval(d)])
    # paired: the interval of c - b is far narrower than the spread of either package
    width = np.ptp(t["incremental_averted"].sel(scenario="c", stat=["lo", "hi"]).values)
    assert width < 0.5 * np.ptp(quantile_interval(effect[2]))
    np.testing.assert_allclose(t["icer"].sel(scenario="c", stat="mean"), 200 / d.mean())
    np.testing.assert_allclose(t["icer"].sel(scenario="c", stat=["lo", "hi"]),
                               quantile_interval(200 / d))
    assert t["frontier_share"].sel(scenario="c") == 1.0
    # when the extra effect is not positive in every replicate, the ICER has no interval
    effect[2, 0] = effect[1, 0] - 1
    t = incremental_table(np.array(["base", "b", "c"]), cost, effect)
    assert np.isfinite(t["icer"].sel(scenario="c", stat="mean"))
    assert t["icer"].sel(scenario="c", stat=["lo", "hi"]).isnull().all()
    assert t["frontier_share"].sel(scenario="c") == 7 / 8


# ------------------------------------------------------------------------------------------------
# the births behind an SRB cell


def test_min_births_from_the_binomial_standard_error():
    n = min_births()
    assert srb_standard_error(n) <= MAX_SRB_SE < srb_standard_error(n - 1)
    # the delta-method error agrees with the spread of simulated binomial SRBs
    rng = np.random.default_rng(1)
    p = 106 / 206
    boys = rng.binomial(n, p, size=20000)
    sim = 100 * boys / (n - boys)
    assert abs(sim.std() / srb_standard_error(n) - 1) < 0.05


def test_end_year_third_births_are_marked_and_explained(small):
    table = planner_table(small)
    births = table["cell_births"]
    assert table.attrs["min_births"] == min_births()
    p3 = births.sel(column="srb_end_p3").values
    assert (p3 < table.attrs["min_births"]).all()  # a few dozen third births a year
    # the pooled run has more births behind every cell than its end year
    assert (births.sel(column="srb_run_p3").values > p3).all()
    text = format_terminal(table)
    end_block = text.split("Sex ratio at birth in 2004")[1].split("Sex ratio at birth over")[0]
    county_row = next(line for line in end_block.splitlines() if line.startswith("county "))
    assert "]" + FEW_BIRTHS_MARK in county_row
    assert f"{FEW_BIRTHS_MARK} fewer than {min_births():,} simulated births per run" in text
    assert "binomial standard error" in text
    md = format_markdown(table, small)
    assert "\\* fewer than" in md and "]\\*" in md
    # a cell with births enough is not marked: the same table at a threshold below its births
    table.attrs["min_births"] = 1
    assert FEW_BIRTHS_MARK + " fewer than" not in format_terminal(table)


# ------------------------------------------------------------------------------------------------
# the tables


def test_terminal_table_has_the_incremental_block_by_cost(small):
    table = planner_table(small)
    text = format_terminal(table)
    block = text.split("Incremental cost-effectiveness")[1].split("\n\n")[0]
    rows = [line.split()[0] for line in block.splitlines()[3:]]
    cost = table["total_cost_run"].sel(stat="mean")
    assert rows == sorted(rows, key=lambda n: (float(cost.sel(scenario=n)),
                                               -float(table["averted_run"].sel(
                                                   scenario=n, stat="mean").fillna(0))))
    assert set(rows) == set(table["scenario"].values)
    statuses = set(table["ce_status"].values)
    assert REFERENCE in statuses and statuses <= {REFERENCE, FRONTIER, DOMINATED,
                                                 EXTENDEDLY_DOMINATED, EQUAL}
    for n in table["scenario"].values:
        on = table["ce_status"].sel(scenario=n) == FRONTIER
        assert bool(np.isfinite(table["icer"].sel(scenario=n, stat="mean"))) == bool(on)
    assert "cost/extra girl" in block and "Drummond" in text
    # what incentives committed are, under the table
    assert "present value" in text and "not this year's spending" in text


def test_csv_reads_back_with_its_data_dictionary(small, tmp_path):
    paths = write_outputs(small, tmp_path)
    frame = pd.read_csv(paths["csv"])
    table = planner_table(small)
    assert list(frame["scenario"]) == list(table["scenario"].values)
    # numbers are numbers: no units row in the way
    assert frame["srb_end_mean"].dtype == float and frame["icer_mean"].dtype == float
    np.testing.assert_allclose(frame["averted_run_mean"].fillna(-1),
                               table["averted_run"].sel(stat="mean").fillna(-1))
    assert list(frame["ce_status"]) == list(table["ce_status"].values)
    assert (frame["srb_end_p3_few_births"] == 1).all()
    with open(paths["dictionary"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["field"] for r in rows] == list(frame.columns)
    units = {r["field"]: r["unit"] for r in rows}
    meaning = {r["field"]: r["description"] for r in rows}
    for c in COLUMNS:
        assert units[f"{c.key}_mean"] == c.unit and units[f"{c.key}_hi"] == c.unit
    assert units["total_cost_run_mean"] == "yuan" and units["icer_mean"] == "yuan per birth"
    assert "present value" in meaning["incentive_cost_run_mean"]
    assert "seed noise only" in meaning["averted_run_lo"]
    assert all(r["description"] for r in rows)
    assert format_dictionary(table) == paths["dictionary"].read_text(encoding="utf-8")
    assert format_csv(table, small) == paths["csv"].read_text(encoding="utf-8")
    assert "compare_dictionary.csv" in paths["md"].read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# the figure


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    fig.draw(canvas.get_renderer())
    return canvas.get_renderer()


def test_figure_labels_stay_inside_the_frame(small):
    fig = comparison_figure(small)
    renderer = _drawn(fig)
    tight = fig.get_tightbbox(renderer)  # inches
    frame = fig.bbox_inches
    tol = 1e-6
    assert tight.x0 >= frame.x0 - tol and tight.y0 >= frame.y0 - tol
    assert tight.x1 <= frame.x1 + tol and tight.y1 <= frame.y1 + tol, (tight, frame)
    # the names of the points of the cost-effect panel are inside that panel
    ax = next(a for a in fig.axes if a.get_title().startswith("Cost against effect"))
    box = ax.get_window_extent(renderer)
    labels = [t for t in ax.texts if t.get_text() in small["scenario"].values]
    assert len(labels) == len(small["scenario"])
    for t in labels:
        b = t.get_window_extent(renderer)
        assert box.x0 <= b.x0 and b.x1 <= box.x1 and box.y0 <= b.y0 and b.y1 <= box.y1, \
            t.get_text()


def test_figure_draws_the_frontier_and_says_what_costs_are(small):
    table = planner_table(small)
    fig = comparison_figure(small, table)
    ax = next(a for a in fig.axes if a.get_title().startswith("Cost against effect"))
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "cost-effectiveness frontier")
    on = [n for n in table["scenario"].values
          if str(table["ce_status"].sel(scenario=n).values) in (REFERENCE, FRONTIER)]
    assert len(line.get_xdata()) == len(on)
    averted = small["averted_run"].mean("replicate")
    np.testing.assert_allclose(sorted(line.get_xdata()),
                               sorted(float(averted.sel(scenario=n)) for n in on))
    # costs rise along the frontier
    assert np.all(np.diff(line.get_ydata()) > 0)
    note = fig.get_supxlabel()
    assert "present value" in note and "not this year's spending" in note
    assert "seed noise only" in fig.get_suptitle()


def test_csv_text_parses_with_the_csv_module(small):
    table = planner_table(small)
    rows = list(csv.reader(io.StringIO(format_csv(table, small))))
    assert len(rows) == 1 + small.sizes["scenario"]
    assert len({len(r) for r in rows}) == 1
