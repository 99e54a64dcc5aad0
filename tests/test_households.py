"""Households: entry, the decision to try, conception, births, certification, the yearly pass."""

from __future__ import annotations

import numpy as np
import pytest

from popsim.model.coords import AGE_GROUPS
from popsim.model.households import (BYTES_PER_HOUSEHOLD, DONE, HELD, PREGNANT, TRYING,
                                     WAITING, Households)
from popsim.model.incentives import Eligibility
from popsim.model.streams import Streams
from popsim.scenario import load_scenario
from popsim.scenario.year import POLICY_LIMITS, YearParams

T0 = 2000 * 12


def values(year: int = 2000, **overrides):
    return YearParams(load_scenario("county", overrides), year, year)[year]


def population(n: int = 20_000, seed: int = 1, **overrides) -> tuple[Households, object]:
    p = values(**overrides)
    return Households(n, p.population.townships, Streams(seed), T0, p), p


def test_entry_draws_a_uniform_age_structure_and_bounded_wishes():
    hh, p = population(**{"fertility.desired_max": 3, "fertility.desired_children": 6.0})
    age = hh.age_years(np.arange(hh.n), T0)
    assert age.min() >= 15 and age.max() < 50
    counts = np.histogram(age, bins=7, range=(15, 50))[0]
    assert counts.min() > 0.95 * counts.mean()  # one woman per slot, ages spread evenly
    assert hh.desired.min() >= 1 and hh.desired.max() == 3  # fertility.desired_max caps it
    assert (hh.parity == 0).all() and (hh.status == WAITING).all()
    assert ((hh.next_event > T0) & (hh.next_event <= T0 + 12 * 25)).mean() > 0.99
    assert hh.township.max() < p.population.townships
    assert BYTES_PER_HOUSEHOLD < 64


def test_union_age_constants_come_from_the_schema():
    hh, _ = population(**{"fertility.union_age_sd": 0.0, "fertility.union_age": 30.0})
    young = np.flatnonzero(hh.age_years(np.arange(hh.n), T0) < 29)
    # every young woman wakes in the month she reaches 30
    wake_age = (hh.next_event[young] - hh.birth_month[young]) / 12
    assert wake_age == pytest.approx(30.0, abs=1 / 12 + 1e-9)


def test_the_policy_limit_holds_back_and_violations_break_it():
    for violation, expect_trying in ((0.0, False), (1.0, True)):
        hh, p = population(**{"policy.violation": violation, "son_preference.cohort_mean": 0.0,
                               "son_preference.rural_shift": 0.0})
        idx = np.arange(1000)
        hh.parity[idx], hh.daughters[idx], hh.desired[idx] = 1, 1, 3
        hh.rural[idx] = False  # urban: one child under one_child
        hh.evaluate(idx, T0, p, POLICY_LIMITS["one_child"], Eligibility(p.incentives))
        trying = hh.status[idx] == TRYING
        assert trying.all() if expect_trying else not trying.any()
        if not expect_trying:  # held back; some give up the wish (desire adaptation)
            assert set(np.unique(hh.status[idx])) <= {HELD, DONE}
            gave_up = hh.status[idx] == DONE
            assert (hh.desired[idx][gave_up] == 1).all()
            assert 0.2 < gave_up.mean() < 0.5  # fertility.desire_adaptation = 0.35


def test_conception_birth_and_the_postpartum_wait():
    hh, p = population(**{"registration.coverage": 1.0, "registration.migrant_factor": 1.0})
    idx = np.arange(2000)
    hh.status[idx], hh.desired[idx] = TRYING, 2
    conceived = hh.conceive(idx, T0, p)
    assert (hh.status[conceived] == PREGNANT).all() and hh.registered[conceived].all()
    assert np.array_equal(np.sort(hh.pregnant_since(T0 + 9, 9)), np.sort(conceived))
    male_share = hh.fetus_male[conceived].mean()
    assert male_share == pytest.approx(106 / 206, abs=0.04)
    b = hh.give_birth(conceived, T0 + 9, p)
    assert (b.parity_before == 0).all() and (hh.parity[conceived] == 1).all()
    assert np.array_equal(hh.sons[conceived], b.male.astype(np.int8))
    assert np.array_equal(hh.first_girl[conceived], ~b.male)
    wait = hh.next_event[conceived] - (T0 + 9)
    f = p.fertility
    lo = round(f.postpartum_months * (1 - f.postpartum_spread))
    hi = round(f.postpartum_months * (1 + f.postpartum_spread))
    assert wait.min() >= max(lo, 1) and wait.max() <= hi and wait.std() > 1


def test_certification_takes_each_qualifying_household_once():
    hh, p = population(**{"incentives.eligibility": "daughters_only"})
    idx = np.arange(10)
    hh.status[idx] = DONE
    hh.daughters[idx], hh.sons[idx] = [1, 2, 0, 1, 0, 1, 2, 0, 0, 3], [0, 0, 1, 1, 0, 0, 0, 2, 0, 0]
    hh.parity[idx] = hh.daughters[idx] + hh.sons[idx]
    e = Eligibility(p.incentives)
    n, value = hh.certify(T0, e)
    qualifying = [0, 1, 5, 6, 9]
    assert n == 5 and np.flatnonzero(hh.certified).tolist() == qualifying
    age = hh.age_years(np.array(qualifying), T0)
    assert value == pytest.approx(float(e.present_value(age).sum()))
    assert hh.certify(T0 + 12, e) == (0, 0.0)


def test_a_pledged_household_wants_no_second_child():
    hh, p = population(**{"incentives.eligibility": "small_family",
                          "incentives.benefit_per_year": 1e6, "incentives.base_awareness": 1.0})
    idx = np.arange(3000)
    hh.parity[idx], hh.daughters[idx], hh.desired[idx] = 1, 1, 3
    e = Eligibility(p.incentives)
    pledged = hh.pledged(idx, T0, p, e)
    assert pledged.mean() > 0.9  # a benefit of many years of income: nearly everyone pledges
    later = hh.pledged(idx, T0 + 60, p, e)  # the same draw, a nearer (dearer) benefit
    assert np.array_equal(later | pledged, later)
    hh.evaluate(idx, T0, p, POLICY_LIMITS["two_child"], e)
    assert not (hh.status[idx][pledged] == TRYING).any()


def test_the_yearly_norms_lower_son_preference_and_count_women_by_age():
    hh, p = population(**{"propaganda.reach": 0.2})
    before = hh.son_pref.astype(float).mean()
    contacts = hh.yearly_norms(T0, p)
    assert hh.son_pref.mean() < before and contacts > 0.9 * hh.n
    women = hh.women_by_age(T0)
    assert women.size == len(AGE_GROUPS) and women.sum() == hh.n
