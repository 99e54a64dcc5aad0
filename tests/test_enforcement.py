"""The enforcement office: what one month of enforcement returns, and that it adds up."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from popsim.model.coords import CASE_SOURCES
from popsim.model.enforcement import OfficeMonth
from popsim.model.households import Births
from popsim.model.model import PopSimModel
from popsim.model.recording import RECORDED

SMALL = {"run.households": 6000, "run.start_year": 2000, "run.end_year": 2010,
         "run.burn_in_years": 25, "enforcement.inspections_per_month": 4.0,
         "enforcement.tip_reward": 20000.0, "enforcement.followup_capacity": 10.0,
         "enforcement.audit_trace": 0.5, "enforcement.trace": 0.5}
NO_BIRTHS = Births(*(np.zeros(0, np.int64) for _ in range(6)))


#: the county without its deterrence, but with every source of cases active
BUSY = {"enforcement.tip_reward": 20000.0, "registration.coverage": 0.9,
        "registration.approval_required": True, "enforcement.birth_audit": True}


def county_at(year: int, scenario: str = "county", **overrides) -> PopSimModel:
    model = PopSimModel(scenario, seed=6, overrides={**SMALL, **overrides})
    while model.year < year:
        model.step()
    return model


def test_the_result_carries_the_recorded_names():
    names = {f.name for f in dataclasses.fields(OfficeMonth)}
    recorded = names & set(RECORDED)
    assert recorded == {"inspections", "investigations", "women_investigated", "cases", "fines",
                        "rewards_paid", "grey_listed_new", "enforcement_cost",
                        "disappeared_pregnancies"}
    assert names - recorded == {"cases_outside", "newly_grey"}  # what the model acts on


def test_every_month_adds_up():
    model = county_at(2002, "baseline", **BUSY)
    hh, office = model.households, model.office
    results = []
    original = office.act

    def act(t, e, *args):
        grey_before = hh.grey.copy()
        r = original(t, e, *args)
        assert not grey_before[r.newly_grey].any()
        results.append((r, e))
        return r

    office.act = act
    while model.running:
        model.step()
    assert len(results) == 12 * 9
    for r, e in results:
        assert r.cases.shape == (len(CASE_SOURCES),)
        assert r.cases.sum() <= r.inspections + r.investigations
        assert 0 <= r.cases_outside <= r.cases.sum()
        assert r.women_investigated <= r.investigations
        assert r.fines == pytest.approx(e.fine * r.cases.sum())
        assert r.rewards_paid == pytest.approx(e.tip_reward * r.cases[CASE_SOURCES.index("tip")])
        assert r.enforcement_cost == pytest.approx(r.inspections * e.cost_per_inspection
                                                   + r.investigations * e.cost_per_investigation
                                                   + r.rewards_paid)
        assert r.grey_listed_new == r.newly_grey.size == np.unique(r.newly_grey).size
    total = sum(r.cases for r, _ in results)
    assert total.sum() >= 5 and (total > 0).sum() >= 2, total
    assert sum(r.grey_listed_new for r, _ in results) > 0
    ds = model.dataset().sel(year=slice(2002, 2010))
    for name in ("inspections", "cases", "enforcement_cost", "grey_listed_new"):
        np.testing.assert_allclose(ds[name].sum("year"), sum(getattr(r, name) for r, _ in results))


def test_effort_and_campaigns_multiply_inspections():
    model = county_at(2003, **{"enforcement.inspections_per_month": 40.0})
    office, e = model.office, model.p.enforcement
    grey = model.households.grey
    no = np.zeros(0, np.int64)
    plain = office.act(model.t, e, False, 1.0, no, no, NO_BIRTHS, grey)
    doubled = office.act(model.t, e, False, 2.0, no, no, NO_BIRTHS, grey)
    campaign = office.act(model.t, e, True, 1.0, no, no, NO_BIRTHS, grey)
    assert plain.inspections == 40 and doubled.inspections == 80
    assert campaign.inspections == 40 * e.campaign_multiplier
    off = dataclasses.replace(e, inspections_per_month=0.0)
    assert office.act(model.t, off, True, 3.0, no, no, NO_BIRTHS, grey).inspections == 0


def test_signals_are_followed_up_oldest_first_and_go_cold():
    model = county_at(2003)
    office, e = model.office, model.p.enforcement
    office._signals = np.zeros((0, 3), dtype=np.int64)
    women, providers = np.arange(30), np.zeros(30, np.int64)
    t = model.t
    office.add_signals(women[:20], providers[:20], t - e.signal_max_age)  # already cold
    office.add_signals(women[20:], providers[20:], t)
    no = np.zeros(0, np.int64)
    quiet = dataclasses.replace(e, inspections_per_month=0.0, tip_reward=0.0,
                                followup_capacity=4.0, birth_audit=False)
    r = office.act(t, quiet, False, 1.0, no, no, NO_BIRTHS, model.households.grey)
    assert r.disappeared_pregnancies == 30  # received since the last month
    assert r.women_investigated == r.investigations == 4
    assert len(office._signals) == 6  # the 20 cold ones dropped, 4 of the 10 followed up


def test_recent_cases_counts_the_memory_window():
    model = county_at(2001)
    office = model.office
    office.cases_by_month = [5] * 24 + [1, 2, 3]
    assert office.recent_cases(3) == 6
    assert office.recent_cases(12) == 9 * 5 + 6
    assert office.recent_cases(1000) == 24 * 5 + 6
