"""Snapshots (popsim.model.snapshot): a run resumed from the state of 1 January of a year is
identical to the run from the start, for every lever package that agrees before that year; a
scenario that differs in anything that acted earlier is refused."""

from __future__ import annotations

import dataclasses
import gc
import pickle
import weakref

import numpy as np
import pytest
import xarray as xr

import popsim
from popsim.errors import ScenarioError
from popsim.experiments.burnin import from_year
from popsim.model.model import PopSimModel
from popsim.model.snapshot import Snapshot, burn_in_key, release, resume, take
from popsim.scenario.loader import load_scenario
from popsim.scenario.parameters import iter_params

SEED = 11
#: A small county recorded 2000-2006 after a 10-year burn-in (from 1990).
SMALL = {"run.households": 1500, "run.start_year": 2000, "run.end_year": 2006,
         "run.burn_in_years": 10}
PACKAGES = ["county", "comprehensive", "crackdown_only", "registration_only", "incentives_only",
            "accountability_pressure", "two_child_2016", "baseline"]


def _at(scenario, year: int, seed: int = SEED) -> PopSimModel:
    """A model of ``scenario`` stepped to 1 January of ``year``."""
    m = PopSimModel(scenario, seed)
    while m.year < year:
        m.step()
    return m


def _finish(model: PopSimModel) -> xr.Dataset:
    model.run_to_end()
    return model.dataset()


def _package_from_2000(name: str, base) -> popsim.Scenario:
    """Library package ``name`` as a lever change of ``base`` from 1 January 2000: its own
    values from then on (every field on which it differs from ``county``), ``base``'s before."""
    pkg = load_scenario(name, SMALL)
    county = load_scenario("county", SMALL)
    changed = {p.path: pkg.get(p.path) for p in iter_params()
               if pkg.get(p.path) != county.get(p.path)}
    raw = {k: (v.to_toml() if hasattr(v, "to_toml") else list(v) if isinstance(v, tuple) else v)
           for k, v in changed.items()}
    return from_year(base, raw, 2000, name=name)


@pytest.fixture(scope="module")
def base():
    return load_scenario("county", SMALL)


@pytest.fixture(scope="module")
def variants(base):
    return {name: _package_from_2000(name, base) for name in PACKAGES}


def test_start_snapshot_of_one_package_resumes_every_other(variants):
    """The state of 1 January 2000 of the crackdown package continues each package exactly."""
    snap = take(_at(variants["crackdown_only"], 2000))
    assert (snap.year, snap.seed, snap.first_year) == (2000, SEED, 1990)
    outcomes = set()
    for name, scenario in variants.items():
        resumed = _finish(resume(snap, scenario))
        xr.testing.assert_identical(resumed, popsim.run(scenario, SEED))
        assert resumed.attrs["scenario_name"] == name
        outcomes.add(tuple(float(resumed[v].sum()) for v in (
            "cases", "incentive_payments", "propaganda_contacts", "reported_births",
            "effort_multiplier", "sex_selective_abortions")))
    # the packages really act differently after 2000 (comprehensive is county, and
    # two_child_2016 differs from it only from 2016)
    assert len(outcomes) >= 5


def test_library_packages_share_the_years_before_their_histories():
    """Started in 1988, before any measure of the library's packages began (1989 on), the
    packages themselves (not derived variants) continue one snapshot exactly; the strict
    reported-SRB target of accountability_pressure holds in every year, so it is refused."""
    early = {"run.households": 1200, "run.start_year": 1988, "run.end_year": 1994,
             "run.burn_in_years": 6}
    names = ["county", "comprehensive", "crackdown_only", "registration_only",
             "incentives_only", "two_child_2016", "baseline"]
    scenarios = [load_scenario(n, early) for n in names]
    snap = take(_at(scenarios[2], 1988))
    for scenario in scenarios:
        xr.testing.assert_identical(_finish(resume(snap, scenario)), popsim.run(scenario, SEED))
    with pytest.raises(ScenarioError, match=r"enforcement\.srb_target"):
        resume(snap, load_scenario("accountability_pressure", early))


def test_mid_run_snapshot_continues_the_run(base, variants):
    """A snapshot of 1 January 2005 resumed with the same scenario is the uninterrupted run:
    dataset, datacollector, Mesa's step count and agents, the random streams."""
    whole = _at(base, 2005)
    snap = take(whole)
    again = resume(snap, base)
    assert again is not whole and again.households is not whole.households
    whole.run_to_end()
    again.run_to_end()
    xr.testing.assert_identical(again.dataset(), whole.dataset())
    xr.testing.assert_identical(again.dataset(), popsim.run(base, SEED))
    assert again.datacollector.get_model_vars_dataframe().equals(
        whole.datacollector.get_model_vars_dataframe())
    assert again.steps == whole.steps and again.t == whole.t and not again.running
    assert [a.unique_id for a in again.clinics] == [a.unique_id for a in whole.clinics]
    assert again.rng.random() == whole.rng.random()
    assert again.random.random() == whole.random.random()
    assert (again.streams.generator("clinic_entry").random()
            == whole.streams.generator("clinic_entry").random())
    for name in ("status", "son_pref", "child_born"):
        np.testing.assert_array_equal(getattr(again.households, name),
                                      getattr(whole.households, name))


def test_mid_run_lever_change_equals_the_changed_run(base):
    """The app's case: levers changed from 1 January 2005, resumed from the snapshot of that
    day, give the run of the changed scenario from the start."""
    snap = take(_at(base, 2005))
    changed = from_year(base, {"enforcement.inspections_per_month": 60.0,
                               "incentives.girl_birth_cash": 3000.0}, 2005)
    xr.testing.assert_identical(_finish(resume(snap, changed)), popsim.run(changed, SEED))
    # the same change from 2004 acted before the snapshot
    with pytest.raises(ScenarioError, match=r"in 2004, before the snapshot, enforcement\."
                                            r"inspections_per_month"):
        resume(snap, from_year(base, {"enforcement.inspections_per_month": 60.0}, 2004))


def test_a_snapshot_is_immutable_picklable_and_reusable(base, variants):
    """Resuming does not change the snapshot: two runs from it (one after a pickle round trip,
    as a worker receives it) are identical."""
    snap = take(_at(base, 2000))
    state = snap._state
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.year = 2001  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(snap))
    assert isinstance(copy, Snapshot) and copy.nbytes == snap.nbytes > 100_000
    first = _finish(resume(snap, variants["incentives_only"]))
    second = _finish(resume(copy, variants["incentives_only"]))
    third = _finish(resume(snap, variants["incentives_only"]))
    xr.testing.assert_identical(first, second)
    xr.testing.assert_identical(first, third)
    assert snap._state is state


def test_a_released_model_can_be_collected(base):
    """Mesa 3.3 keeps every model alive through its agent counter; release lets a finished
    one go (what keeps a sweep worker's memory flat)."""
    m = PopSimModel(load_scenario(base, {"run.households": 300, "run.end_year": 2000,
                                         "run.burn_in_years": 1}), SEED)
    m.run_to_end()
    ref = weakref.ref(m)
    release(m)
    del m
    gc.collect()
    assert ref() is None


def test_take_only_in_january(base):
    m = PopSimModel(base, SEED)
    m.step()
    with pytest.raises(ScenarioError, match="1 January"):
        take(m)


@pytest.mark.parametrize("change, match", [
    ({"son_preference.cohort_mean": 0.5}, r"son_preference\.cohort_mean = 0\.5"),
    ({"run.households": 1600}, r"run\.households = 1600"),
    ({"run.seed": 99}, r"run\.seed = 99"),
    ({"run.end_year": 2008}, r"run\.end_year = 2008"),
    ({"run.burn_in_years": 12}, r"its run starts in 1988"),
    ({"enforcement.fine": 9000.0}, r"enforcement\.fine = 9000\.0"),
])
def test_resume_refuses_what_acted_before(base, change, match):
    """Context, run size, seed, run length, first year, a lever's earlier values: refused with
    one line naming the field, the year and both values."""
    snap = take(_at(base, 2000))
    with pytest.raises(ScenarioError, match=match) as e:
        resume(snap, load_scenario(base, change))
    assert "\n" not in str(e.value) and "1 January 2000" in str(e.value)


def test_resume_of_a_fresh_model_checks_its_first_year():
    """Without a burn-in the start year's values build the model: they acted already."""
    s = load_scenario("county", {"run.households": 800, "run.start_year": 2000,
                                 "run.end_year": 2002, "run.burn_in_years": 0})
    snap = take(PopSimModel(s, SEED))
    xr.testing.assert_identical(_finish(resume(snap, s)), popsim.run(s, SEED))
    with pytest.raises(ScenarioError, match=r"in 2000, before the snapshot"):
        resume(snap, load_scenario(s, {"enforcement.fine": 9000.0}))
    assert burn_in_key(s, SEED) != burn_in_key(load_scenario(s, {"enforcement.fine": 9e3}), SEED)


def test_burn_in_key(base, variants):
    """Equal for scenarios that agree before run.start_year (seed included), different for any
    value that acts before it."""
    keys = {burn_in_key(v, SEED) for v in variants.values()}
    assert keys == {burn_in_key(base, SEED)}
    assert burn_in_key(base, SEED + 1) != burn_in_key(base, SEED)
    for change in ({"son_preference.cohort_mean": 0.5}, {"run.households": 1600},
                   {"run.end_year": 2008}, {"run.burn_in_years": 12}, {"run.start_year": 2001},
                   {"propaganda.reach": 0.0}):
        assert burn_in_key(load_scenario(base, change), SEED) != burn_in_key(base, SEED), change
    # a lever changed from the start year on is not in the key
    later = load_scenario(base, {"enforcement.fine": {"step": [[1965, 2000.0], [2000, 9e3]]}})
    assert burn_in_key(later, SEED) == burn_in_key(base, SEED)
