"""Accountability: the reported figures, the effort and the misreporting pressure on them
triggers, and what that does to the reported SRB of a run."""

from __future__ import annotations

import math

import numpy as np
import pytest

import popsim
from popsim.model.accountability import Accountability, excess
from popsim.model.streams import Streams
from popsim.scenario import load_scenario
from popsim.scenario.year import YearParams


def values(**overrides):
    scenario = load_scenario("county", overrides)
    return YearParams(scenario, 2010, 2010)[2010]


def test_excess_is_the_points_above_target():
    assert excess(120.0, 112.0) == 8.0
    assert excess(110.0, 112.0) == 0.0 == excess(112.0, 112.0)
    assert excess(float("nan"), 112.0) == 0.0


def births(n_boys: int, n_girls: int) -> tuple[np.ndarray, np.ndarray]:
    male = np.r_[np.ones(n_boys, bool), np.zeros(n_girls, bool)]
    return np.arange(male.size), male


def test_reported_srb_sets_next_years_effort_and_misreporting():
    p = values(**{"enforcement.accountability": 0.1, "enforcement.misreport": 0.005,
                  "behaviour.concealment": 0.0})
    e = p.enforcement
    acc = Accountability()
    idx, male = births(120, 100)
    shown = acc.reported(Streams(1), 0, idx, male, p.behaviour)
    assert shown.all()  # no concealment, no misreporting yet
    acc.new_year(e)
    assert acc.reported_srb == pytest.approx(120.0)
    over = 120.0 - e.srb_target
    assert acc.effort == pytest.approx(1 + 0.1 * over)
    assert acc.misreport == pytest.approx(0.005 * over)
    # what was set up carries over: a year of figures on target keeps most of it, and no effort
    idx, male = births(100, 100)
    acc.reported(Streams(1), 12, idx, male, p.behaviour)
    acc.new_year(e)
    assert acc.effort == 1.0
    assert acc.misreport == pytest.approx(0.005 * over * e.misreport_persistence)
    # a year without births leaves the SRB unknown: no pressure, and the practice fades
    acc.new_year(e)
    assert math.isnan(acc.reported_srb) and acc.effort == 1.0
    assert acc.misreport == pytest.approx(0.005 * over * e.misreport_persistence ** 2)


def test_pressure_is_on_the_reported_figure_and_misreporting_is_capped():
    p = values(**{"enforcement.misreport": 1.0, "behaviour.concealment": 0.0})
    e = p.enforcement
    acc = Accountability()
    idx, male = births(200, 100)
    acc.reported(Streams(2), 0, idx, male, p.behaviour)
    acc.new_year(e)
    assert acc.misreport == e.misreport_cap == 0.5
    # boys go unreported at the capped rate; the figure the county is judged on is the reported
    idx, male = births(20_000, 10_000)
    shown = acc.reported(Streams(2), 12, idx, male, p.behaviour)
    assert shown[~male].all()
    assert shown[male].mean() == pytest.approx(0.5, abs=0.02)
    acc.new_year(e)
    assert acc.reported_srb == pytest.approx(100.0, abs=2.0)


def test_concealment_hides_girls_from_the_office():
    p = values(**{"behaviour.concealment": 0.25})
    acc = Accountability()
    idx, male = births(10_000, 10_000)
    shown = acc.reported(Streams(3), 5, idx, male, p.behaviour)
    assert shown[male].all()
    assert shown[~male].mean() == pytest.approx(0.75, abs=0.02)
    acc.new_year(p.enforcement)
    assert acc.reported_srb == pytest.approx(100.0 * 10_000 / shown[~male].sum())


SHORT = {"run.households": 20000, "run.start_year": 2003, "run.end_year": 2012,
         "run.burn_in_years": 25}
SEEDS = range(6)


def _srb(b) -> np.ndarray:
    return (100.0 * b.sel(sex="male") / b.sel(sex="female")).values


def test_under_pressure_the_reported_srb_falls_faster_than_the_true_one():
    """Paired seeds: the reported SRB of accountability_pressure falls from 2003-05 to 2010-12
    by more than its true SRB, and by more than the reported SRB of the county without
    pressure; the effort rises in a year after the target is missed."""
    fall_rep, fall_true, fall_county, gaps = [], [], [], []
    for seed in SEEDS:
        ds = popsim.run("accountability_pressure", seed=seed, overrides=SHORT)
        county = popsim.run("county", seed=seed, overrides=SHORT)
        for data, out_rep, out_true in ((ds, fall_rep, fall_true), (county, fall_county, None)):
            early = data.sel(year=slice(2003, 2005)).sum("year")
            late = data.sel(year=slice(2010, 2012)).sum("year")
            rep = _srb(early["reported_births"].sum("parity")) - _srb(
                late["reported_births"].sum("parity"))
            out_rep.append(float(rep))
            if out_true is not None:
                out_true.append(float(_srb(early["births"].sum("parity"))
                                      - _srb(late["births"].sum("parity"))))
        assert float(ds["effort_multiplier"].sel(year=slice(2006, 2012)).max()) > 1.05
        gaps.append(float((ds["reported_srb"] - ds["srb"]).sel(year=slice(2009, 2012)).mean()))
    assert np.mean(gaps) < -2.0, gaps  # the figures look better than the truth
    d = np.array(fall_rep) - np.array(fall_true)
    assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(d.size) and d.mean() > 3.0, d
    d = np.array(fall_rep) - np.array(fall_county)
    assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(d.size), d
