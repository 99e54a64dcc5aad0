"""Compiled kernels (popsim.model.kernels) against the numpy reference: whole runs give
identical datasets on both paths, and each kernel gives the same bits as its numpy twin on
random and model-grown inputs. POPSIM_KERNELS is read when a run starts and every month (or on
kernels.refresh()), so one process runs both."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import xarray as xr

import popsim
from popsim.errors import UsageError
from popsim.model import kernels, selection
from popsim.model.households import Households
from popsim.model.model import PopSimModel
from popsim.model.streams import Streams
from popsim.scenario import load_scenario
from popsim.scenario.year import YearParams

#: Small runs of every kind of scenario: the county, no mechanisms but the context, a change of
#: national regime, China and Korea (their own histories, fewer townships).
RUNS = {
    "county": ("county", 11, {"run.households": 4000, "run.start_year": 1995,
                              "run.end_year": 2005, "run.burn_in_years": 20}),
    "baseline": ("baseline", 12, {"run.households": 4000, "run.start_year": 1990,
                                  "run.end_year": 2000, "run.burn_in_years": 20}),
    "two_child_2016": ("two_child_2016", 13, {"run.households": 4000, "run.start_year": 2012,
                                              "run.end_year": 2019, "run.burn_in_years": 15}),
    "china": ("china", 14, {"run.households": 6000, "population.townships": 8,
                            "run.start_year": 1985, "run.end_year": 1995,
                            "run.burn_in_years": 15}),
    "korea": ("korea", 15, {"run.households": 5000, "run.start_year": 1985,
                            "run.end_year": 1995, "run.burn_in_years": 15}),
    "small_family": ("comprehensive", 16, {"run.households": 3000, "run.end_year": 2006,
                                           "run.burn_in_years": 15,
                                           "incentives.eligibility": "small_family"}),
}


def _run(monkeypatch, mode: str, scenario: str, seed: int, overrides: dict) -> xr.Dataset:
    monkeypatch.setenv("POPSIM_KERNELS", mode)
    ds = popsim.run(scenario, seed=seed, overrides=overrides)
    ds.attrs = {}
    return ds


@pytest.mark.parametrize("name", sorted(RUNS))
def test_kernels_and_numpy_give_identical_datasets(monkeypatch, name):
    scenario, seed, overrides = RUNS[name]
    fast = _run(monkeypatch, "numba", scenario, seed, overrides)
    reference = _run(monkeypatch, "numpy", scenario, seed, overrides)
    xr.testing.assert_identical(fast, reference)
    assert float(fast["births"].sum()) > 0


def test_an_unknown_mode_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("POPSIM_KERNELS", "numpi")
    with pytest.raises(UsageError, match="POPSIM_KERNELS.*numba, numpy.*numpy"):
        kernels.refresh()
    with pytest.raises(UsageError, match="POPSIM_KERNELS"):
        Streams(1)  # a run reads it when it starts
    monkeypatch.setenv("POPSIM_KERNELS", "numpy")
    assert not kernels.refresh() and not kernels.use_kernels()
    monkeypatch.setenv("POPSIM_KERNELS", "numba")
    assert kernels.use_kernels() is False  # until the next run or month reads it
    assert kernels.refresh() and kernels.use_kernels()


# ------------------------------------------------------------------------------------------
# each kernel against its numpy twin


def both(monkeypatch, fn):
    """``fn()`` on the numpy path and on the kernel path."""
    monkeypatch.setenv("POPSIM_KERNELS", "numpy")
    kernels.refresh()
    reference = fn()
    monkeypatch.setenv("POPSIM_KERNELS", "numba")
    kernels.refresh()
    return reference, fn()


def test_the_stream_hash_matches_numpy_on_any_index_array(monkeypatch):
    rng = np.random.default_rng(3)
    streams = Streams(2**62 + 12345)
    cases = [rng.integers(0, 2**40, 5000), rng.integers(-2**31, 2**31, 3000).astype(np.int32),
             np.arange(10_000)[::3], np.zeros(0, dtype=np.int64), np.array([2**63 - 1])]
    for idx in cases:
        for name, t in (("conception_wait", 0), ("seek", 24_001), ("x", -7)):
            ref, fast = both(monkeypatch, lambda: streams.uniform(name, t, idx))
            assert fast.dtype == np.float64 and fast.shape == idx.shape
            np.testing.assert_array_equal(fast, ref)
    assert ((fast >= 0) & (fast < 1)).all()


def grown(years: int = 25, **overrides) -> PopSimModel:
    """A small county model stepped ``years`` years into its burn-in: households with
    histories (children alive and dead, grey-listed, aware, resigned)."""
    ov = {"run.households": 6000, "run.end_year": 2010, "run.burn_in_years": 30, **overrides}
    m = PopSimModel("county", seed=5, overrides=ov)
    for _ in range(12 * years):
        m.step()
    return m


@pytest.fixture(scope="module")
def model():
    return grown()


def test_desired_sizes_match_numpy_for_random_levels(monkeypatch, model):
    rng = np.random.default_rng(4)
    hh = model.households
    for _ in range(20):
        ov = {"fertility.desired_children": float(rng.uniform(1, 6)),
              "fertility.rural_extra_children": float(rng.uniform(0, 2)),
              "fertility.desired_max": int(rng.integers(1, 9)),
              "fertility.desired_spread": float(rng.uniform(0, 1))}
        p = YearParams(load_scenario("county", ov), 1990, 1990)[1990]
        idx = np.sort(rng.choice(hh.n, 2000, replace=False))
        ref, fast = both(monkeypatch, lambda: hh.desired_size(idx, p))
        assert fast.dtype == ref.dtype == np.int8
        np.testing.assert_array_equal(fast, ref)


def _state(hh: Households) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in vars(hh).items() if isinstance(v, np.ndarray)}


def test_the_yearly_norms_match_numpy_array_by_array(monkeypatch, model):
    for reach in (0.0, 0.3):
        p = YearParams(load_scenario("county", {"propaganda.reach": reach,
                                                "son_preference.peer_influence": 0.2}),
                       1990, 1990)[1990]
        copies = []

        def norms():
            hh = copy.deepcopy(model.households)
            copies.append(hh)
            return hh.yearly_norms(model.t, p)

        ref, fast = both(monkeypatch, norms)
        assert fast == ref and (ref > 0) == (reach > 0)
        a, b = _state(copies[0]), _state(copies[1])
        for name in a:
            np.testing.assert_array_equal(b[name], a[name], err_msg=name)


def test_the_norms_pass_adds_the_town_sums_chunk_by_chunk(monkeypatch):
    # a population larger than one chunk, so that the chunked float sums are exercised
    p = YearParams(load_scenario("county", {"son_preference.peer_influence": 0.5}),
                   2000, 2000)[2000]
    hh = Households((1 << 20) + 5000, 3, Streams(9), 2000 * 12, p)
    copies = []

    def norms():
        h = copy.deepcopy(hh)
        copies.append(h)
        return h.yearly_norms(2000 * 12, p)

    both(monkeypatch, norms)
    np.testing.assert_array_equal(copies[1].son_pref, copies[0].son_pref)
    np.testing.assert_array_equal(copies[1].desired, copies[0].desired)


@pytest.mark.parametrize("county_risk", [0.0, 0.4])
def test_child_deaths_match_numpy_in_content_and_order(monkeypatch, model, county_risk):
    hh = model.households
    p = YearParams(load_scenario("county", {"population.infant_mortality": 0.1,
                                            "population.mortality_1_4": 0.5,
                                            "population.mortality_5_17": 0.2,
                                            "behaviour.girl_neglect": 0.5}), 1990, 1990)[1990]
    idx = np.arange(hh.n)
    for t in (model.t, model.t + 12, model.t + 60):
        ref, fast = both(monkeypatch, lambda: selection.child_deaths(hh, model.streams, idx, t,
                                                                     p, county_risk))
        assert ref.mothers.size > 0
        for name in ("mothers", "slots", "male", "age_band", "excess"):
            a, b = getattr(ref, name), getattr(fast, name)
            assert a.dtype == b.dtype, name
            np.testing.assert_array_equal(b, a, err_msg=name)


def test_the_census_matches_numpy(monkeypatch, model):
    hh = model.households
    for regime in ("none", "one_child", "one_and_half", "two_child"):
        ref, fast = both(monkeypatch, lambda: hh.census(model.t, regime))
        assert ref.keys() == fast.keys()
        for name in ref:
            np.testing.assert_array_equal(fast[name], ref[name], err_msg=name)
        assert ref["living_children"].sum() > 0 and ref["sibship_women"].sum() > 0


def _twin_on_copies(monkeypatch, model, fn):
    """``fn(households_copy)`` on both paths, each on its own copy of the grown households;
    returns both results and both copies' state."""
    copies = []

    def call():
        hh = copy.deepcopy(model.households)
        copies.append(hh)
        return fn(hh)

    ref, fast = both(monkeypatch, call)
    return ref, fast, _state(copies[0]), _state(copies[1])


def _assert_same_state(a: dict, b: dict) -> None:
    for name in a:
        np.testing.assert_array_equal(b[name], a[name], err_msg=name)


@pytest.mark.parametrize("regime", ["none", "one_child", "one_and_half", "two_child"])
def test_evaluate_matches_numpy_for_every_regime_and_a_lag(monkeypatch, model, regime):
    rng = np.random.default_rng(6)
    idx = np.sort(rng.choice(model.households.n, 3000, replace=False))
    for lag in (0.0, 7.5):
        _, _, a, b = _twin_on_copies(monkeypatch, model, lambda hh: hh.evaluate(
            idx, model.t, model.p, regime, model.eligibility, lag_months=lag))
        _assert_same_state(a, b)


def test_evaluate_matches_numpy_with_pledges_and_over_quota_fees(monkeypatch, model):
    sc = load_scenario("county", {"incentives.eligibility": "small_family",
                                  "incentives.benefit_per_year": 3000.0,
                                  "incentives.base_awareness": 0.8,
                                  "policy.maintenance_fee": 0.5})
    p = YearParams(sc, 1995, 1995)[1995]
    from popsim.model.incentives import Eligibility

    elig = Eligibility(p.incentives)
    assert elig.pledging
    idx = np.arange(model.households.n)
    _, _, a, b = _twin_on_copies(monkeypatch, model, lambda hh: hh.evaluate(
        idx, model.t, p, "one_child", elig))
    _assert_same_state(a, b)


def test_conception_matches_numpy(monkeypatch, model):
    rng = np.random.default_rng(8)
    hh0 = model.households
    idx = np.sort(rng.choice(hh0.n, 3000, replace=False))

    def conceive(hh):
        hh.status[idx] = 1  # TRYING: some have lapsed wishes, migrants, grey-listed women
        return hh.conceive(idx, model.t, model.p)

    ref, fast, a, b = _twin_on_copies(monkeypatch, model, conceive)
    assert fast.dtype == ref.dtype and 0 < ref.size < idx.size
    np.testing.assert_array_equal(fast, ref)
    _assert_same_state(a, b)
    for kind in ([], idx[:0]):  # nobody conceives
        ref, fast, a, b = _twin_on_copies(monkeypatch, model, lambda hh: hh.conceive(
            np.array(kind, dtype=np.int64), model.t, model.p))
        assert ref.size == fast.size == 0


def test_limits_match_numpy(monkeypatch, model):
    hh = model.households
    idx = np.arange(hh.n)
    for regime in ("none", "one_child", "one_and_half", "two_child", "three_child"):
        for if_girl in (False, True):
            ref, fast = both(monkeypatch, lambda: hh.limit(idx, regime, if_girl))
            assert fast.dtype == ref.dtype
            np.testing.assert_array_equal(fast, ref)


def test_births_and_infant_deaths_match_numpy(monkeypatch, model):
    rng = np.random.default_rng(7)
    hh0 = model.households
    # every woman gives birth: all parities, over-quota births, fees, children beyond the eighth
    idx = np.sort(rng.choice(hh0.n, 4000, replace=False))
    p = YearParams(load_scenario("county", {"behaviour.girl_neglect": 0.5,
                                            "population.infant_mortality": 0.1}),
                   1990, 1990)[1990]
    for regime in ("one_child", "one_and_half"):
        def birth(hh):
            hh.parity[idx[:50]] = 9
            b = hh.give_birth(idx, model.t, p, regime)
            month = selection.Month(model.t, p, regime, model.eligibility, False, 0.3, 0.0, 0.0)
            d = selection.infant_deaths(hh, model.streams, b, month)
            hh.bury(d.mothers, d.slots)
            return b, d

        (b0, d0), (b1, d1), a, b = _twin_on_copies(monkeypatch, model, birth)
        _assert_same_state(a, b)
        for name in b0.__dataclass_fields__:
            x, y = getattr(b0, name), getattr(b1, name)
            assert x.dtype == y.dtype, name
            np.testing.assert_array_equal(y, x, err_msg=name)
        assert b0.overquota.any() and b0.fee.max() > 0
        for name in ("mothers", "slots", "male", "age_band", "excess"):
            np.testing.assert_array_equal(getattr(d1, name), getattr(d0, name), err_msg=name)
        assert d0.mothers.size > 0 and d0.excess.any()


@pytest.mark.parametrize("levers", [{}, {"registration.approval_required": False},
                                    {"incentives.eligibility": "small_family",
                                     "incentives.base_awareness": 0.9}])
def test_motivation_and_seeking_match_numpy(monkeypatch, model, levers):
    from popsim.model.incentives import Eligibility

    hh = model.households
    p = YearParams(load_scenario("county", {"technology.early_test_access": 0.5,
                                            "behaviour.seek_intercept": 2.0, **levers}),
                   2005, 2005)[2005]
    elig = Eligibility(p.incentives)
    idx = np.arange(hh.n)
    for regime in ("one_child", "one_and_half", "none"):
        ref, fast = both(monkeypatch, lambda: selection.motivation(hh, idx, model.t, p, regime,
                                                                   elig))
        assert ref.dtype == fast.dtype and (ref > 0).any()
        np.testing.assert_array_equal(fast, ref)
        month = selection.Month(model.t, p, regime, elig, False, 0.2, 800.0, 600.0)
        # every slot taken as two months pregnant and motivated, so the seekers are many
        mot = np.clip(ref, 0.01, 1.0)
        reference = selection._seeks_numpy(hh, model.streams, idx, mot, month)
        kernel = selection._seeks(hh, model.streams, idx, mot, month)
        for x, y in zip(reference, kernel):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(y, x)
        seeks, early, _ = reference
        assert seeks.any() and early.any() and not early.all()


def test_entry_matches_numpy_at_construction_and_each_month(monkeypatch):
    p = YearParams(load_scenario("china", {"population.townships": 8}), 1975, 1975)[1975]

    def build():
        hh = Households(7000, 8, Streams(21), 1975 * 12, p)
        for t in range(1975 * 12, 1975 * 12 + 30):
            hh.exits_and_entries(t, p)
        return hh

    a, b = both(monkeypatch, build)
    assert (a.rule > 0).any() and a.migrant.any() and (a.status == 5).any()
    _assert_same_state(_state(a), _state(b))
