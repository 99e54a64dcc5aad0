"""Sex selection: motivation, perceived risk, seeking and route, abortion, at fixed seeds.

The decisions are pure: given the households' state and the month, each returns who decided
what, without changing the households. Household draws are counter-based, so two calls with
different inputs compare the same women with the same draws: a lever's direction shows exactly.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import popsim
from popsim.model import selection
from popsim.model.households import PREGNANT
from popsim.model.model import PopSimModel
from popsim.model.selection import Month
from popsim.scenario.year import YearParams

SMALL = {"run.households": 6000, "run.start_year": 2000, "run.end_year": 2012,
         "run.burn_in_years": 25}


def model_at(year: int, scenario: str = "county", **overrides) -> PopSimModel:
    model = PopSimModel(scenario, seed=8, overrides={**SMALL, **overrides})
    while model.year < year:
        model.step()
    return model


def month_of(model: PopSimModel, **changes) -> Month:
    """This month as the model would see it, with ``changes``."""
    sd, late = model.market.expected_prices()
    m = Month(model.t, model.p, model.limits, model.eligibility, campaign=False,
              county_risk=0.0, sd_price=sd, late_price=late)
    return dataclasses.replace(m, **changes)


@pytest.fixture(scope="module")
def county():
    return model_at(2006)


def months(model: PopSimModel, n: int):
    """The next ``n`` months of the model, each given as (model, month) before it is stepped."""
    for _ in range(n):
        yield model, month_of(model)
        model.step()


def test_no_son_preference_never_seeks():
    model = model_at(2005, "no_son_preference")
    hh = model.households
    assert hh.son_pref.max() == 0.0
    for model, m in months(model, 24):
        pregnant = np.flatnonzero(hh.status == PREGNANT)
        assert not selection.motivation(hh, pregnant, m.t, m.p, m.limits, m.eligibility).any()
        s = selection.seek(hh, model.streams, m)
        assert s.ultrasound.size == s.early.size == s.aborted.size == 0


def test_motivation_is_son_preference_times_squeeze(county):
    hh, p = county.households, county.p
    idx = np.arange(hh.n)
    m = selection.motivation(hh, idx, county.t, p, county.limits, county.eligibility)
    assert (m >= 0).all() and (m <= hh.son_pref + 1e-7).all()
    assert not m[hh.sons > 0].any()  # a household with a son never selects
    # the squeeze is a power of squeeze_decay: the ratio m / son_pref takes only those values
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (m / hh.son_pref)[(hh.sons == 0) & (hh.son_pref > 0)]
    powers = p.behaviour.squeeze_decay ** np.arange(10)
    assert np.isclose(ratio[:, None], powers[None, :], rtol=1e-5).any(axis=1).all()
    assert np.isclose(ratio, 1.0).any()  # some births are the last one allowed


def test_perceived_risk_rises_with_cases_and_the_grey_list():
    beh = YearParams(popsim.load_scenario("county"), 2005, 2005)[2005].behaviour
    assert selection.county_risk(0, False, beh) == 0.0
    assert selection.county_risk(0, True, beh) == beh.campaign_risk
    assert selection.county_risk(3, False, beh) == pytest.approx(3 * beh.risk_per_case)
    assert selection.county_risk(10_000, True, beh) == 1.0
    aware = np.array([False, True, False, True])
    grey = np.array([False, False, True, True])
    r = selection.perceived_risk(aware, grey, 0.3, beh)
    assert r.tolist() == pytest.approx([0.0, 0.3, beh.grey_risk, min(1.0, 0.3 + beh.grey_risk)])
    registered = np.array([True, True, False, False])
    late = selection.late_risk(r, registered, True, beh)
    assert (late >= r).all() and (late <= 1).all()
    assert late[0] == pytest.approx(beh.signal_risk)  # the registration signal alone
    assert selection.late_risk(r, registered, False, beh) is r  # no approval rule, no signal


def test_access_spreads_over_time_and_later_in_rural_areas(county):
    hh, tech = county.households, county.p.technology
    rural, urban = np.flatnonzero(hh.rural)[:1], np.flatnonzero(~hh.rural)[:1]
    t = int(tech.access_midpoint * 12)
    assert selection.access(hh, urban, t, tech)[0] == pytest.approx(0.5)
    assert selection.access(hh, rural, t, tech)[0] < 0.5
    later = selection.access(hh, urban, t + 120, tech)[0]
    assert 0.5 < later < 1.0


def test_more_risk_fewer_seekers_and_a_shift_to_early_tests():
    model = model_at(2016)  # early tests exist from 2008
    low_seek = high_seek = low_early = high_early = 0
    for model, m in months(model, 12):
        low = selection.seek(model.households, model.streams, m)
        high = selection.seek(model.households, model.streams,
                              dataclasses.replace(m, county_risk=1.0))
        low_all = np.union1d(low.ultrasound, low.early)
        high_all = np.union1d(high.ultrasound, high.early)
        assert np.isin(high_all, low_all).all()  # the same draws: risk only removes seekers
        low_seek, high_seek = low_seek + low_all.size, high_seek + high_all.size
        low_early, high_early = low_early + low.early.size, high_early + high.early.size
    assert high_seek < low_seek
    assert high_early / high_seek > low_early / low_seek


def test_a_higher_price_or_risk_never_adds_an_abortion(county):
    hh = county.households
    m = month_of(county)
    idx = np.flatnonzero(hh.sons == 0)[:3000]
    mot = selection.motivation(hh, idx, m.t, m.p, m.limits, m.eligibility)
    income = hh.income(idx, m.p)
    base = selection.abortion_decision(hh, county.streams, idx, m, mot, income, 300.0, 0.1)
    dear = selection.abortion_decision(hh, county.streams, idx, m, mot, income, 30000.0, 0.1)
    risky = selection.abortion_decision(hh, county.streams, idx, m, mot, income, 300.0, 0.9)
    assert base.sum() > dear.sum() and base.sum() > risky.sum()
    assert not (dear & ~base).any() and not (risky & ~base).any()
    none = selection.abortion_decision(hh, county.streams, idx, m, np.zeros(idx.size), income,
                                       300.0, 0.1)
    assert none.sum() < base.sum()


def test_late_abortions_are_illegal_and_signalled_only_under_approval():
    found = {}
    for approval in (True, False):
        model = model_at(2002, "baseline", **{"registration.approval_required": approval,
                                              "registration.coverage": 1.0})
        total = signals = 0
        for model, m in months(model, 12):
            c = selection.find_providers(model.households, model.market, model.streams, m)
            assert (c.providers >= 0).all() and model.market.col["offering"][c.providers].all()
            a = selection.late_abortions(model.households, model.market, model.streams, m, c)
            assert a.illegal is approval and np.isin(a.women, c.women).all()
            assert not (a.signal & ~model.households.registered[a.women]).any()
            total, signals = total + a.women.size, signals + int(a.signal.sum())
        found[approval] = (total, signals)
    assert found[True][0] > 0 and found[True][1] > 0
    assert found[False][0] > 0 and found[False][1] == 0
