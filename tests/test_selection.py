"""Sex selection: motivation and readiness, perceived risk, seeking and route, abortion of the
unwanted sex, and the survival of girls, at fixed seeds.

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
from popsim.model.selection import Clients, Month
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
    m = Month(model.t, model.p, model.regime, model.eligibility, campaign=False,
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


def test_no_sex_preference_never_seeks():
    model = model_at(2005, "no_son_preference", **{"son_preference.daughter_preference": 0.0})
    hh = model.households
    assert hh.son_pref.max() == 0.0
    for model, m in months(model, 24):
        pregnant = np.flatnonzero(hh.status == PREGNANT)
        assert not selection.motivation(hh, pregnant, m.t, m.p, m.regime, m.eligibility).any()
        s = selection.seek(hh, model.streams, m)
        assert s.ultrasound.size == s.early.size == s.aborted.size == 0


def test_motivation_is_the_wish_for_the_missing_sex_times_squeeze(county):
    hh, p = county.households, county.p
    idx = np.arange(hh.n)
    m = selection.motivation(hh, idx, county.t, p, county.regime, county.eligibility)
    son = hh.sons == 0
    assert (m >= 0).all() and (m[son] <= hh.son_pref[son] + 1e-7).all()
    assert not m[(hh.sons > 0) & (hh.daughters > 0)].any()  # both sexes: nobody selects
    daughter = m[~son] > 0  # only sons: a daughter-seeker at two sons or beyond her plan
    assert daughter.any()
    assert ((hh.sons[~son][daughter] >= 2)
            | (hh.parity[~son][daughter] >= hh.desired[~son][daughter])).all()
    # the squeeze is a power of squeeze_decay: the ratio m / strength takes only those values
    strength = np.where(son, hh.son_pref, p.son_preference.daughter_preference)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (m / strength)[(m > 0)]
    powers = p.behaviour.squeeze_decay ** np.arange(10)
    assert np.isclose(ratio[:, None], powers[None, :], rtol=1e-5).any(axis=1).all()
    assert np.isclose(ratio, 1.0).any()  # some births are the last one allowed


def test_readiness_puts_the_squeeze_at_the_birth_that_completes_the_family_without_a_limit():
    """Kashyap & Villavicencio's 'ready': with no birth limit, a son-seeker is squeezed at the
    birth that completes her desired size plus son_seeking_extra, not before."""
    model = model_at(2000)
    hh, p, e = model.households, model.p, model.eligibility
    idx = np.arange(400)
    hh.sons[idx], hh.daughters[idx], hh.son_pref[idx] = 0, 0, 0.9
    hh.desired[idx] = 2
    extra = hh.prepared(idx, p) - 2
    assert set(np.unique(extra)) == {int(p.fertility.son_seeking_extra)}
    decay = p.behaviour.squeeze_decay
    for parity in range(5):
        hh.parity[idx] = parity
        m = selection.motivation(hh, idx, model.t, p, "none", e)
        remaining = np.maximum(2 + extra - (parity + 1), 0)
        np.testing.assert_allclose(m, 0.9 * decay ** remaining, rtol=1e-6)
    # a local limit brings the squeeze forward: one child allowed, full at the first birth
    hh.parity[idx], hh.rural[idx] = 0, False
    m = selection.motivation(hh, idx, model.t, p, "one_child", e)
    np.testing.assert_allclose(m, 0.9, rtol=1e-6)


def test_a_first_pregnancy_is_rarely_tested():
    """first_birth_reluctance lowers seeking in a first pregnancy only (the same draws)."""
    model = model_at(2004, "baseline")
    counts = {0.0: [0, 0], None: [0, 0], 20.0: [0, 0]}  # reluctance: [first, later] seekers
    for model, m in months(model, 12):
        hh = model.households
        for reluctance in counts:
            mm = m if reluctance is None else dataclasses.replace(m, p=dataclasses.replace(
                m.p, behaviour=dataclasses.replace(m.p.behaviour,
                                                   first_birth_reluctance=reluctance)))
            s = selection.seek(hh, model.streams, mm)
            seekers = np.union1d(s.ultrasound, s.early)
            counts[reluctance][0] += int((hh.parity[seekers] == 0).sum())
            counts[reluctance][1] += int((hh.parity[seekers] > 0).sum())
    assert counts[0.0][0] > counts[None][0] > counts[20.0][0] == 0
    assert counts[0.0][1] == counts[None][1] == counts[20.0][1] > 0


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
    mot = selection.motivation(hh, idx, m.t, m.p, m.regime, m.eligibility)
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


def test_a_daughter_seeker_aborts_boys_and_a_son_seeker_girls():
    model = model_at(2004, "baseline")
    hh, m = model.households, month_of(model)
    offering = np.flatnonzero(model.market.col["offering"])
    assert offering.size
    idx = np.arange(2000)
    hh.status[idx], hh.parity[idx], hh.desired[idx] = PREGNANT, 2, 2
    clients = Clients(idx, np.full(idx.size, offering[0]), np.zeros(idx.size, dtype=bool))
    hh.sons[idx], hh.daughters[idx] = 2, 0  # two sons, no daughter: selects against a boy
    hh.fetus_male[idx] = True
    boys = selection.late_abortions(hh, model.market, model.streams, m, clients)
    assert boys.women.size > 0.1 * idx.size and boys.misclassified == 0
    hh.fetus_male[idx] = False  # girls are kept (but for a misread scan)
    kept = selection.late_abortions(hh, model.market, model.streams, m, clients)
    assert kept.women.size < 0.1 * boys.women.size
    hh.sons[idx] = 0  # no son: selects against a girl
    girls = selection.late_abortions(hh, model.market, model.streams, m, clients)
    assert girls.women.size > 0.1 * idx.size


def test_girls_excess_risk_rises_with_son_preference_and_falls_with_a_brother_and_risk():
    model = model_at(2000)
    hh, p = model.households, model.p
    idx = np.arange(1000)
    hh.son_pref[idx], hh.income_mult[idx], hh.law_aware[idx], hh.grey[idx] = 0.8, 1.0, True, False
    none = np.zeros(idx.size, dtype=bool)
    base = selection.girls_excess_risk(hh, idx, none, p, 0.0)
    np.testing.assert_allclose(base, p.behaviour.girl_neglect * 0.8, rtol=1e-6)
    brother = selection.girls_excess_risk(hh, idx, ~none, p, 0.0)
    np.testing.assert_allclose(brother, base * p.behaviour.neglect_with_son, rtol=1e-6)
    feared = selection.girls_excess_risk(hh, idx, none, p, 0.5)  # cases publicised: deterred
    np.testing.assert_allclose(feared, base * 0.5, rtol=1e-6)
    hh.son_pref[idx] = 0.4
    np.testing.assert_allclose(selection.girls_excess_risk(hh, idx, none, p, 0.0), base / 2,
                               rtol=1e-6)


def test_infant_and_child_deaths_natural_and_excess():
    model = model_at(1990, "baseline", **{"behaviour.girl_neglect": 0.0,
                                          "population.infant_mortality": 0.2})
    pop = model.p.population
    hh = model.households
    births = hh.give_birth(np.arange(hh.n), model.t, model.p, "one_and_half")
    d = selection.infant_deaths(hh, model.streams, births, month_of(model))
    assert not d.excess.any() and (d.age_band == 0).all()
    boys, girls = births.male.sum(), (~births.male).sum()
    q_boys, q_girls = d.male.sum() / boys, (~d.male).sum() / girls
    assert q_girls == pytest.approx(0.2, abs=0.015)
    assert q_boys / q_girls == pytest.approx(pop.male_mortality_ratio, abs=0.1)
    neglect = model_at(1990, "baseline", **{"behaviour.girl_neglect": 0.3})
    nh = neglect.households
    b = nh.give_birth(np.arange(nh.n), neglect.t, neglect.p, "one_and_half")
    dn = selection.infant_deaths(nh, neglect.streams, b, month_of(neglect))
    assert dn.excess.any() and not dn.male[dn.excess].any()  # the excess deaths are girls'
    # each January: living children aged 1-17 only, of the mothers given
    idx = np.arange(hh.n)
    later = selection.child_deaths(hh, model.streams, idx, model.t + 24, model.p, 0.0)
    age = model.t + 24 - hh.child_born[later.mothers, later.slots]
    assert later.mothers.size > 0 and (age >= 12).all() and (age < 18 * 12).all()
    assert not np.any(hh.child_dead[later.mothers] >> later.slots.astype(np.uint8) & 1)
