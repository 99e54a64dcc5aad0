"""Accountability: the reported SRB the office sees, the effort it triggers, misreporting."""

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
    return YearParams(scenario, 2005, 2005)[2005]


def test_excess_is_the_points_above_target():
    assert excess(120.0, 112.0) == 8.0
    assert excess(110.0, 112.0) == 0.0 == excess(112.0, 112.0)
    assert excess(float("nan"), 112.0) == 0.0


def births(n_boys: int, n_girls: int) -> tuple[np.ndarray, np.ndarray]:
    male = np.r_[np.ones(n_boys, bool), np.zeros(n_girls, bool)]
    return np.arange(male.size), male


def test_reported_srb_sets_next_years_effort_and_misreporting():
    p = values(**{"enforcement.accountability": 0.1, "enforcement.misreport": 0.02,
                  "behaviour.concealment": 0.0})
    acc = Accountability()
    idx, male = births(120, 100)
    shown = acc.reported(Streams(1), 0, idx, male, p.behaviour)
    assert shown.all()  # no concealment, no misreporting yet
    acc.new_year(p.enforcement)
    assert acc.reported_srb == pytest.approx(120.0)
    over = 120.0 - p.enforcement.srb_target
    assert acc.effort == pytest.approx(1 + 0.1 * over)
    assert acc.misreport == pytest.approx(0.02 * over)
    # the count starts again: a year without births leaves the SRB unknown, and no pressure
    acc.new_year(p.enforcement)
    assert math.isnan(acc.reported_srb) and acc.effort == 1.0 and acc.misreport == 0.0


def test_misreporting_is_capped():
    p = values(**{"enforcement.misreport": 1.0, "behaviour.concealment": 0.0})
    acc = Accountability()
    idx, male = births(200, 100)
    acc.reported(Streams(2), 0, idx, male, p.behaviour)
    acc.new_year(p.enforcement)
    assert acc.misreport == p.enforcement.misreport_cap == 0.5
    # boys go unreported at the capped rate; the office still counts them in its own tally
    idx, male = births(20_000, 10_000)
    shown = acc.reported(Streams(2), 12, idx, male, p.behaviour)
    assert shown[~male].all()
    assert shown[male].mean() == pytest.approx(0.5, abs=0.02)
    acc.new_year(p.enforcement)
    assert acc.reported_srb == pytest.approx(200.0)


def test_concealment_hides_girls_from_the_office():
    p = values(**{"behaviour.concealment": 0.25})
    acc = Accountability()
    idx, male = births(10_000, 10_000)
    shown = acc.reported(Streams(3), 5, idx, male, p.behaviour)
    assert shown[male].all()
    assert shown[~male].mean() == pytest.approx(0.75, abs=0.02)
    acc.new_year(p.enforcement)
    assert acc.reported_srb == pytest.approx(100.0 * 10_000 / shown[~male].sum())


def test_pressure_in_a_run_puts_reported_below_true_srb():
    small = {"run.households": 5000, "run.start_year": 2000, "run.end_year": 2010,
             "run.burn_in_years": 20, "enforcement.srb_target": 100.0,
             "enforcement.misreport": 0.05, "behaviour.concealment": 0.0}
    ds = popsim.run("accountability_pressure", seed=3, overrides=small)
    b, rb = ds["births"].sum(["year", "parity"]), ds["reported_births"].sum(["year", "parity"])
    assert float(rb.sel(sex="female")) == float(b.sel(sex="female"))
    assert float(rb.sel(sex="male")) < float(b.sel(sex="male"))
    assert float(ds["effort_multiplier"].max()) > 1.0
