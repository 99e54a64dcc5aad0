"""Households: entry, local rules, the decision to try, over-quota births and the fee, conception,
births and each woman's children, deaths, certification, cohorts, the yearly pass."""

from __future__ import annotations

import numpy as np
import pytest

import popsim
from popsim.model import fertility_policy as fp
from popsim.model import kernels_monthly as km
from popsim.model.children import MAX_CHILDREN, bit
from popsim.model.coords import AGE_GROUPS, REGIMES
from popsim.model.households import (BYTES_PER_HOUSEHOLD, DONE, ENTRY_AGE, EXIT_AGE, HELD,
                                     INACTIVE, LIFE_MONTHS, NO_EVENT, PREGNANT, TRYING, WAITING,
                                     Households)
from popsim.model.incentives import Eligibility
from popsim.model.model import PopSimModel
from popsim.model.streams import Streams
from popsim.scenario import load_scenario
from popsim.scenario.parameters import Fertility
from popsim.scenario.schema import Section
from popsim.scenario.year import YearParams

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
    assert (hh.child_male == 0).all() and (hh.child_dead == 0).all() and (hh.child_away == 0).all()


def test_state_stays_within_64_bytes_per_household():
    assert BYTES_PER_HOUSEHOLD == 51 <= 64
    hh, _ = population(n=1000)
    columns = [v for v in vars(hh).values() if isinstance(v, np.ndarray) and len(v) == hh.n]
    assert sum(a.nbytes for a in columns) == BYTES_PER_HOUSEHOLD * hh.n
    assert hh.child_born.shape == (hh.n, MAX_CHILDREN) and hh.child_born.dtype == np.int16


def test_every_month_a_scenario_can_reach_fits_the_int16_month_columns():
    # birth_month, next_event and child_born hold months (12 x year + month): from the birth
    # of the oldest woman of the first year the schema allows to the latest wake-up after its
    # last month, below the no-event month; a pregnant woman's next_event is minus a month
    first, last = Section.schedule_years
    hi = {f: Fertility.model_fields[f].json_schema_extra["hi"]
          for f in ("postpartum_months", "postpartum_spread", "post_abortion_months",
                    "union_age_max")}
    longest_wait = max(LIFE_MONTHS, round(hi["postpartum_months"] * (1 + hi["postpartum_spread"])),
                       round(hi["post_abortion_months"]), (hi["union_age_max"] - ENTRY_AGE) * 12)
    assert longest_wait == LIFE_MONTHS  # the decision to try caps its wait there
    assert np.iinfo(np.int16).min <= first * 12 - EXIT_AGE * 12
    assert (last + 1) * 12 + longest_wait < NO_EVENT == np.iinfo(np.int16).max
    assert np.iinfo(np.int16).min <= -(last + 1) * 12
    hh, _ = population(n=100)
    for name in ("birth_month", "next_event", "child_born"):
        assert getattr(hh, name).dtype == np.int16, name


def test_union_age_constants_come_from_the_schema():
    hh, _ = population(**{"fertility.union_age_sd": 0.0, "fertility.union_age": 30.0})
    young = np.flatnonzero(hh.age_years(np.arange(hh.n), T0) < 29)
    # every young woman wakes in the month she reaches 30
    wake_age = (hh.next_event[young] - hh.birth_month[young]) / 12
    assert wake_age == pytest.approx(30.0, abs=1 / 12 + 1e-9)


def test_desired_size_follows_the_level_and_keeps_each_womans_rank():
    hh, p = population(**{"fertility.desired_children": 2.0, "fertility.rural_extra_children": 0.0,
                          "fertility.desired_spread": 0.0})
    assert (hh.desired == 2).all()  # no spread: everyone desires the mean
    idx = np.arange(hh.n)
    spread = values(**{"fertility.desired_children": 2.6, "fertility.rural_extra_children": 0.0,
                       "fertility.desired_spread": 1.0})
    d1 = hh.desired_size(idx, spread)
    assert d1.mean() == pytest.approx(2.6, abs=0.05)  # 1 + Poisson(1.6)
    lower = values(**{"fertility.desired_children": 1.8, "fertility.rural_extra_children": 0.0,
                      "fertility.desired_spread": 1.0})
    d2 = hh.desired_size(idx, lower)
    assert d2.mean() == pytest.approx(1.8, abs=0.05)
    assert (d2 <= d1).all()  # the same women, a lower level: nobody desires more


def test_local_rules_mix_the_national_regime_with_exemptions():
    rural = np.array([False, True, True, True, True])
    group = np.array([fp.NATIONAL, fp.NATIONAL, fp.ONE_CHILD, fp.TWO_CHILD, fp.THREE_CHILD])
    girl, boy = np.ones(5, bool), np.zeros(5, bool)
    names = lambda regime: [REGIMES[i] for i in fp.local_regime(regime, rural, group)]  # noqa
    assert names("one_and_half") == ["one_child", "one_and_half", "one_child", "two_child",
                                     "three_child"]
    assert fp.limit("one_and_half", rural, group, girl).tolist() == [1, 2, 1, 2, 3]
    assert fp.limit("one_and_half", rural, group, boy).tolist() == [1, 1, 1, 2, 3]
    assert fp.limit("two_child", rural, group, boy).tolist() == [2, 2, 2, 2, 3]
    assert (fp.limit("none", rural, group, boy) >= 99).all()
    # groups are drawn for rural women only, in the declared order of their shares
    p = values(**{"policy.rural_one_child_share": 0.2, "policy.two_child_share": 0.3,
                  "policy.three_child_share": 0.1})
    u = (np.arange(10_000) + 0.5) / 10_000
    g = fp.draw_groups(u, np.ones(u.size, bool), p)
    shares = np.bincount(g, minlength=4) / u.size
    assert shares.tolist() == pytest.approx([0.4, 0.2, 0.3, 0.1], abs=1e-3)
    assert (fp.draw_groups(u, np.zeros(u.size, bool), p) == fp.NATIONAL).all()


def _wanting_a_second_child(hh, n=3000):
    """Urban women with one girl and a desired size of three, who do not need a son."""
    idx = np.arange(n)
    hh.parity[idx], hh.daughters[idx], hh.desired[idx] = 1, 1, 3
    hh.child_male[idx] = 0
    hh.child_born[idx, 0] = T0 - 120
    hh.rural[idx] = False  # urban: one child under one_and_half
    return idx


def test_over_quota_births_respond_to_the_maintenance_fee():
    tried = {}
    for fee in (0.0, 1.0, 5.0):
        hh, p = population(**{"policy.maintenance_fee": fee, "son_preference.cohort_mean": 0.0,
                              "son_preference.rural_shift": 0.0})
        idx = _wanting_a_second_child(hh)
        hh.evaluate(idx, T0, p, "one_and_half", Eligibility(p.incentives))
        status = hh.status[idx]
        assert set(np.unique(status)) <= {TRYING, HELD, DONE}
        tried[fee] = (status == TRYING).mean()
        expect = fp.overquota_probability(np.zeros(idx.size, bool), hh.rural[idx],
                                          hh.income_mult[idx], np.ones(idx.size), p).mean()
        assert tried[fee] == pytest.approx(expect, abs=0.03)
        # held back: some give up the wish for good (desire adaptation)
        gave_up = status == DONE
        assert (hh.desired[idx][gave_up] == 1).all() and hh.resigned[idx][gave_up].all()
        assert 0.2 < gave_up.sum() / (~(status == TRYING)).sum() < 0.5  # desire_adaptation 0.35
    assert tried[0.0] > tried[1.0] > tried[5.0]


def test_a_permitted_birth_waits_for_the_spacing_rule():
    hh, p = population(**{"policy.birth_spacing": 48.0, "son_preference.cohort_mean": 0.0,
                          "son_preference.rural_shift": 0.0})
    idx = _wanting_a_second_child(hh)
    hh.child_born[idx, 0] = T0 - 12  # a year ago
    hh.evaluate(idx, T0, p, "two_child", Eligibility(p.incentives))
    assert (hh.status[idx] == TRYING).all()
    assert (hh.next_event[idx] >= T0 - 12 + 48 - 9).all()  # conceived no earlier than allowed
    free, p0 = population(**{"policy.birth_spacing": 0.0, "son_preference.cohort_mean": 0.0,
                             "son_preference.rural_shift": 0.0})
    idx = _wanting_a_second_child(free)
    free.child_born[idx, 0] = T0 - 12
    free.evaluate(idx, T0, p0, "two_child", Eligibility(p0.incentives))
    assert np.median(free.next_event[idx] - T0) < 12


def test_the_milestones_of_a_pregnancy_find_each_current_pregnancy():
    hh, p = population()
    idx = np.random.default_rng(0).permutation(3000)  # any order
    hh.status[idx], hh.desired[idx] = TRYING, 3
    conceived = hh.conceive(idx, T0, p)
    assert conceived.size == idx.size and (hh.next_event[conceived] == -T0).all()
    assert not np.isin(conceived, hh.due(T0 + 2)).any()  # no wake-up while pregnant
    assert np.array_equal(hh.pregnant_since(T0 + 2, 2), np.sort(conceived))  # in slot order
    assert hh.pregnant_since(T0 + 2, 1).size == hh.pregnant_since(T0 + 2, 3).size == 0
    # aborted at month 2, half of them conceive again: each pregnancy is found by its own month
    aborted = conceived[:500]
    hh.abort(aborted, T0 + 2, p)
    hh.status[aborted[:250]] = TRYING
    again = hh.conceive(aborted[:250], T0 + 3, p)
    assert np.array_equal(hh.pregnant_since(T0 + 9, 9), np.sort(conceived[500:]))
    assert np.array_equal(hh.pregnant_since(T0 + 9, 6), np.sort(again))
    assert hh.pregnant_since(T0 + 9, 9).dtype == np.int64
    # the month's wake-up scans once for every milestone: the same lists
    eligibility = Eligibility(p.incentives)
    for months in (2, 4, 9):
        t = T0 + months
        expected = [hh.pregnant_since(t, m).copy() for m in (2, 4, 9)]
        hh.wake(t, p, "one_child", eligibility)
        assert hh._milestones[0] == t
        for m, e in zip((2, 4, 9), expected):
            assert np.array_equal(hh.pregnant_since(t, m), e)
            assert hh.pregnant_since(t, m).dtype == np.int64


def test_the_month_scan_matches_numpy_on_any_next_event():
    """One scan of ``next_event`` (:func:`~popsim.model.kernels_monthly.month_scan`): the
    slots due and trying, due and waiting, and pregnant since each of three months, as numpy
    finds them, whatever the density of matches (the lists grow past their first size)."""
    rng = np.random.default_rng(5)
    t = T0 + 7
    for n, hits in ((1, 1.0), (4095, 0.01), (70_000, 0.3), (200_003, 0.97)):
        ne = rng.integers(-T0 - 12, T0 + 12, n).astype(np.int16)
        pick = rng.random(n) < hits
        ne[pick] = rng.choice([t, t, -(t - 2), -(t - 4), -(t - 9)], int(pick.sum()))
        status = rng.integers(0, 6, n).astype(np.int8)
        got = km.month_scan(ne, status, t, TRYING, WAITING, t - np.array([2, 4, 9]))
        due = np.flatnonzero(ne == t)
        want = [due[status[due] == TRYING], due[status[due] == WAITING],
                *(np.flatnonzero(ne == -(t - m)) for m in (2, 4, 9))]
        for g, w in zip(got, want):
            assert g.dtype == np.int64 and np.array_equal(g, w)


def test_conception_birth_children_and_the_postpartum_wait():
    hh, p = population(**{"registration.coverage": 1.0, "registration.migrant_factor": 1.0})
    idx = np.arange(2000)
    hh.status[idx], hh.desired[idx] = TRYING, 2
    conceived = hh.conceive(idx, T0, p)
    assert (hh.status[conceived] == PREGNANT).all() and hh.registered[conceived].all()
    assert np.array_equal(np.sort(hh.pregnant_since(T0 + 9, 9)), np.sort(conceived))
    male_share = hh.fetus_male[conceived].mean()
    assert male_share == pytest.approx(106 / 206, abs=0.04)
    b = hh.give_birth(conceived, T0 + 9, p, "one_and_half")
    assert (b.parity_before == 0).all() and (hh.parity[conceived] == 1).all()
    assert np.array_equal(hh.sons[conceived], b.male.astype(np.int8))
    assert np.array_equal(bit(hh.child_male[conceived], 0), b.male)
    assert (hh.child_born[conceived, 0] == T0 + 9).all()
    assert not b.overquota.any() and (b.fee == 0).all()  # first births are within every rule
    f = p.fertility
    wait = hh.next_event[conceived] - (T0 + 9)
    lo = round(f.postpartum_months * (1 - f.postpartum_spread))
    hi = round(f.postpartum_months * (1 + f.postpartum_spread))
    assert wait.min() >= max(lo, 1) and wait.max() <= hi and wait.std() > 1
    # a second birth to urban women under one_and_half is over quota: hidden or charged
    hh.rural[conceived] = False
    hh.status[conceived], hh.desired[conceived] = TRYING, 3
    again = hh.conceive(conceived, T0 + 30, p)
    b2 = hh.give_birth(again, T0 + 39, p, "one_and_half")
    assert b2.overquota.all() and (b2.parity_before == 1).all()
    hidden = b2.hidden.mean()
    assert hidden == pytest.approx(p.behaviour.overquota_concealment, abs=0.05)
    charged = b2.fee > 0
    assert not (charged & b2.hidden).any()
    assert charged.sum() / (~b2.hidden).sum() == pytest.approx(p.policy.fee_collection, abs=0.05)
    expect = p.policy.maintenance_fee * hh.mean_income(again, p)
    np.testing.assert_allclose(b2.fee[charged], expect[charged])
    assert np.array_equal(bit(hh.child_male[again], 1), b2.male)
    # a hidden second daughter of a sonless mother lives away; a hidden son, or a hidden
    # daughter after a son, stays at home (and none of the first births left)
    first_girl = ~bit(hh.child_male[again], 0)
    away = bit(hh.child_away[again], 1)
    assert np.array_equal(away, b2.hidden & ~b2.male & first_girl)
    assert away.sum() > 10 and not bit(hh.child_away[conceived], 0).any()


def test_a_death_keeps_parity_and_lowers_the_living_children():
    hh, p = population(n=10)
    idx = np.array([0, 1, 2])
    hh.parity[idx] = 3
    hh.child_male[idx] = 0b011  # boy, boy, girl
    hh.sons[idx], hh.daughters[idx] = 2, 1
    hh.bury(np.array([0, 0, 1]), np.array([0, 2, 1]))  # mother 0 loses two children
    assert hh.parity[idx].tolist() == [3, 3, 3]
    assert hh.sons[idx].tolist() == [1, 1, 2] and hh.daughters[idx].tolist() == [0, 1, 1]
    assert hh.child_dead[idx].tolist() == [0b101, 0b010, 0]


def test_certification_takes_each_qualifying_household_once():
    hh, p = population(**{"incentives.eligibility": "daughters_only",
                          "incentives.benefit_per_year": 1200.0})
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
    hh.evaluate(idx, T0, p, "two_child", e)
    assert not (hh.status[idx][pledged] == TRYING).any()


def test_the_yearly_norms_lower_son_preference_and_count_women_by_age():
    hh, p = population(**{"propaganda.reach": 0.2})
    before = hh.son_pref.astype(float).mean()
    contacts = hh.yearly_norms(T0, p)
    assert hh.son_pref.mean() < before and contacts > 0.9 * hh.n
    women = hh.women_by_age(T0)
    assert women.size == len(AGE_GROUPS) and women.sum() == hh.n


def test_cohort_size_leaves_slots_empty_and_empty_slots_count_nowhere():
    hh, p = population(**{"population.cohort_size": 0.6})
    empty = hh.status == INACTIVE
    assert empty.mean() == pytest.approx(0.4, abs=0.02)
    assert (hh.next_event[empty] == NO_EVENT).all()
    assert hh.women_by_age(T0).sum() == (~empty).sum()
    assert hh.census(T0, "one_and_half")["women_by_children"].sum() == (~empty).sum()
    # a month's entries fill each exiting slot with the chance cohort_size of that year
    entered = sum(hh.exits_and_entries(t, p) for t in range(T0, T0 + 24))
    block = sum(int(hh._block_start[(t % 420) + 1] - hh._block_start[t % 420])
                for t in range(T0, T0 + 24))
    assert entered == pytest.approx(0.6 * block, rel=0.15)


def test_every_womans_children_match_a_ledger_of_the_births_seen_month_by_month():
    """Brute force: record each birth (slot, month, sex) as it happens, by watching parity
    rise, then compare the ledger with every woman's children arrays; deaths only ever set a
    dead bit, and the living sons and daughters are the children not dead."""
    scenario = popsim.load_scenario("county", {"run.households": 500, "run.start_year": 2000,
                                               "run.end_year": 2003, "run.burn_in_years": 40,
                                               "behaviour.girl_neglect": 0.2})
    model = PopSimModel(scenario, seed=3)
    hh = model.households
    ledger: dict[int, list[tuple[int, bool]]] = {i: [] for i in range(hh.n)}
    born = hh.birth_month.copy()
    parity, dead = hh.parity.copy(), hh.child_dead.copy()
    births = 0
    while not model.finished:
        t = model.t
        model.step()
        for i in np.flatnonzero(hh.birth_month != born):  # a new woman in the slot
            ledger[i] = []
        for i in np.flatnonzero((hh.parity != parity) & (hh.birth_month == born)):
            assert hh.parity[i] == parity[i] + 1
            ledger[i].append((t, bool(hh.fetus_male[i])))
            births += 1
        same = hh.birth_month == born
        assert ((dead[same] & ~hh.child_dead[same]) == 0).all()  # the dead stay dead
        born, parity, dead = hh.birth_month.copy(), hh.parity.copy(), hh.child_dead.copy()
    assert births > 500 and int(hh.child_dead.astype(bool).sum()) > 0
    checked = 0
    for i, kids in ledger.items():  # (the initial women start childless: every birth is seen)
        assert len(kids) == hh.parity[i]
        for k, (month, male) in enumerate(kids[:MAX_CHILDREN]):
            assert hh.child_born[i, k] == month and bit(hh.child_male[i], k) == male
            checked += 1
        stored = kids[:MAX_CHILDREN]
        alive = [male for k, (_, male) in enumerate(stored) if not bit(hh.child_dead[i], k)]
        extra = [male for _, male in kids[MAX_CHILDREN:]]
        assert hh.sons[i] == sum(alive) + sum(extra)
        assert hh.daughters[i] == len(alive) - sum(alive) + len(extra) - sum(extra)
    assert checked > 100
