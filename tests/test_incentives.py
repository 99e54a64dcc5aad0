"""The incentive rules: one eligibility object, read the same way wherever the model asks."""

from __future__ import annotations

import numpy as np
import pytest

from popsim.model.incentives import Eligibility
from popsim.scenario import load_scenario
from popsim.scenario.year import YearParams


def eligibility(**incentives) -> Eligibility:
    scenario = load_scenario("county", {f"incentives.{k}": v for k, v in incentives.items()})
    return Eligibility(YearParams(scenario, 2005, 2005)[2005].incentives)


#: births: boy, girl, girl, girl, boy; sons and children before each birth
MALE = np.array([True, False, False, False, True])
SONS = np.array([0, 0, 1, 0, 0])
PARITY = np.array([0, 0, 1, 2, 1])


def test_who_is_paid_at_birth():
    d = eligibility(eligibility="daughters_only")
    # every girl born to a household without a son, at any birth order
    assert d.paid_at_birth(MALE, SONS, PARITY).tolist() == [False, True, False, True, False]
    s = eligibility(eligibility="small_family")
    # a first-born girl only
    assert s.paid_at_birth(MALE, SONS, PARITY).tolist() == [False, True, False, False, False]
    assert not eligibility(eligibility="none").paid_at_birth(MALE, SONS, PARITY).any()


def test_who_qualifies_at_certification():
    sons, daughters = np.array([0, 0, 1, 0, 2]), np.array([1, 2, 0, 0, 0])
    parity = sons + daughters
    d = eligibility(eligibility="daughters_only")
    assert d.qualifies_at_certification(sons, daughters, parity).tolist() == \
        [True, True, False, False, False]
    s = eligibility(eligibility="small_family")
    assert s.qualifies_at_certification(sons, daughters, parity).tolist() == \
        [True, False, True, False, False]
    assert d.certifies and s.certifies
    assert not eligibility(eligibility="none").certifies
    assert not eligibility(benefit_per_year=0.0).certifies


def test_present_value_discounts_the_benefit_to_her_age():
    e = eligibility(benefit_per_year=1200.0, benefit_years=20.0, discount_rate=0.05,
                    benefit_start_age=60.0)
    annuity = (1 - 1.05 ** -20) / 0.05
    assert e.annuity == pytest.approx(annuity)
    pv = e.present_value(np.array([25.0, 30.0, 60.0, 70.0]))
    assert pv[2] == pytest.approx(1200 * annuity) and pv[3] == pv[2]  # the benefit has started
    assert pv[1] == pytest.approx(1200 * annuity * 1.05 ** -30)
    assert np.all(np.diff(pv) >= 0)  # the nearer the benefit, the more it is worth
    flat = eligibility(discount_rate=0.0, benefit_per_year=100.0, benefit_years=20.0)
    assert flat.present_value(np.array([20.0]))[0] == pytest.approx(2000.0)
    assert eligibility(benefit_per_year=0.0).present_value(np.array([30.0]))[0] == 0.0


def test_the_pull_is_felt_only_under_daughters_only_and_only_if_aware():
    aware = np.array([True, False])
    age, income = np.array([30.0, 30.0]), np.array([10000.0, 10000.0])
    d = eligibility(eligibility="daughters_only", girl_birth_cash=500.0)
    pull = d.pull(aware, age, income)
    assert pull[0] == pytest.approx((d.present_value(age[:1])[0] + 500.0) / 10000.0)
    assert pull[1] == 0.0
    assert d.pulls
    # the pull doubles when income halves: it is in years of income
    assert d.pull(aware, age, income / 2)[0] == pytest.approx(2 * pull[0])
    # a small-family scheme does not pull on the abortion decision, although it pays cash at a
    # first girl's birth (test_who_is_paid_at_birth): its value acts through the pledge
    s = eligibility(eligibility="small_family", girl_birth_cash=500.0)
    assert not s.pulls and not s.pull(aware, age, income).any()


def test_the_pledge_follows_the_value_of_the_reward():
    u = (np.arange(10_000) + 0.5) / 10_000  # evenly spread draws
    aware = np.ones(u.size, dtype=bool)
    s = eligibility(eligibility="small_family", benefit_per_year=5000.0)
    age = np.full(u.size, 30.0)
    pv = s.present_value(age[:1])[0]
    half = s.values.pledge_half_value
    # at a reward worth pledge_half_value years of income, half of the aware households pledge
    share = s.pledges(aware, age, np.full(u.size, pv / half), u).mean()
    assert share == pytest.approx(0.5, abs=1e-3)
    poorer = s.pledges(aware, age, np.full(u.size, pv / (4 * half)), u).mean()
    assert poorer == pytest.approx(0.8, abs=1e-3)  # v / (v + h) at v = 4h
    assert not s.pledges(~aware, age, np.full(u.size, 1.0), u).any()
    assert s.pledging
    d = eligibility(eligibility="daughters_only")
    assert not d.pledging and not d.pledges(aware, age, np.full(u.size, 1.0), u).any()
