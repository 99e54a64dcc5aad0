"""Shared burn-ins (popsim.experiments.burnin): run_shared is popsim.run, in this process and in
worker processes (a process pool, a dask LocalCluster), whatever the cache holds; the cache
stays within its byte bound."""

from __future__ import annotations

import pytest
import xarray as xr

import popsim
from popsim.errors import ScenarioError, UsageError
from popsim.experiments import burnin, runs
from popsim.experiments.burnin import CACHE_ENV, cache_info, clear_cache, from_year, run_shared
from popsim.experiments.executors import map_tasks
from popsim.model.snapshot import burn_in_key
from popsim.scenario.loader import load_scenario
from popsim.scenario.year import YearParams

SMALL = {"run.households": 1200, "run.start_year": 2000, "run.end_year": 2004,
         "run.burn_in_years": 8}


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(scope="module")
def batch():
    """A mixed batch: lever variants of the county from 2000 (one burn-in per seed), library
    packages with their own lever histories (their own burn-ins), two seeds."""
    county = load_scenario("county", SMALL)
    variants = [from_year(county, ov, name=n) for n, ov in (
        ("strong_crackdown", {"enforcement.inspections_per_month": 60.0,
                              "enforcement.tip_reward": 5000.0}),
        ("big_incentives", {"incentives.benefit_per_year": 6000.0}),
        ("no_registration", {"registration.coverage": 0.0,
                             "registration.approval_required": False}))]
    library = [load_scenario(n, SMALL) for n in ("crackdown_only", "baseline")]
    return [(s, seed) for seed in (5, 6) for s in [county, *variants, *library]]


@pytest.fixture(scope="module")
def reference(batch):
    return [popsim.run(s, seed) for s, seed in batch]


def test_run_shared_equals_run_across_a_mixed_batch(batch, reference):
    for (s, seed), ref in zip(batch, reference):
        xr.testing.assert_identical(run_shared(s, seed), ref)
    keys = {burn_in_key(s, seed) for s, seed in batch}
    info = cache_info()
    # per seed: the county's burn-in (shared by its 3 variants), crackdown_only's, baseline's
    assert len(keys) == 6 == info["entries"] == info["misses"]
    assert info["hits"] == len(batch) - 6
    # again, every burn-in from the cache; the provenance names the scenario run
    for (s, seed), ref in zip(batch, reference):
        ds = run_shared(s, seed)
        xr.testing.assert_identical(ds, ref)
        assert ds.attrs["scenario_name"] == s.name
    assert cache_info()["hits"] == 2 * len(batch) - 6


def test_run_task_in_a_process_pool(batch, reference):
    got = dict(map_tasks(runs.run_task, batch, workers=2))
    for i, ref in enumerate(reference):
        xr.testing.assert_identical(got[i], ref)


def test_run_task_on_a_dask_cluster(batch, reference):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        got = dict(map_tasks(runs.run_task, batch, scheduler=cluster.scheduler_address))
    for i, ref in enumerate(reference):
        xr.testing.assert_identical(got[i], ref)


def test_the_cache_stays_within_its_bound(monkeypatch, batch, reference):
    county, seed = batch[0]
    run_shared(county, seed)
    one = cache_info()["nbytes"]
    assert one > 0
    clear_cache()
    # room for two snapshots of this size, not three
    monkeypatch.setenv(CACHE_ENV, str(2.5 * one / 2**20))
    seeds = [1, 2, 3, 4]
    for sd in seeds:
        run_shared(county, sd)
        info = cache_info()
        assert info["nbytes"] <= info["limit"] and info["entries"] <= 2
    assert cache_info()["entries"] == 2
    # the least recently used went first: seeds 3 and 4 are held
    run_shared(county, 4)
    run_shared(county, 3)
    assert cache_info()["hits"] == 2
    run_shared(county, 1)
    assert cache_info()["misses"] == len(seeds) + 1
    # off: nothing is kept, the runs are the same
    monkeypatch.setenv(CACHE_ENV, "0")
    clear_cache()
    for (s, sd), ref in list(zip(batch, reference))[:3]:
        xr.testing.assert_identical(run_shared(s, sd), ref)
    assert cache_info()["entries"] == 0 and cache_info()["nbytes"] == 0
    # a bound smaller than one snapshot keeps none
    monkeypatch.setenv(CACHE_ENV, str(0.5 * one / 2**20))
    xr.testing.assert_identical(run_shared(*batch[1]), reference[1])
    assert cache_info()["entries"] == 0


@pytest.mark.parametrize("value", ["lots", "-1", "inf", "nan"])
def test_a_bad_bound_is_one_clear_line(monkeypatch, batch, value):
    monkeypatch.setenv(CACHE_ENV, value)
    with pytest.raises(UsageError, match=CACHE_ENV) as e:
        run_shared(*batch[0])
    assert "\n" not in str(e.value)


def test_from_year_keeps_earlier_years():
    county = load_scenario("county", SMALL)
    changed = from_year(county, {"enforcement.inspections_per_month": 60.0,
                                 "incentives.eligibility": "small_family"}, 2002)
    before, after = YearParams(county, 1992, 2004), YearParams(changed, 1992, 2004)
    for y in range(1992, 2002):
        assert before[y] == after[y], y
    for y in (2002, 2004):
        assert after[y].enforcement.inspections_per_month == 60.0
        assert after[y].incentives.eligibility == "small_family"
    assert burn_in_key(changed, 3) == burn_in_key(county, 3)
    assert burn_in_key(from_year(county, {"enforcement.fine": 1.0}, 1999), 3) != \
        burn_in_key(county, 3)
    with pytest.raises(ScenarioError, match=r"enforcement\.campaign_months takes no schedule"):
        from_year(county, {"enforcement.campaign_months": [1, 2]})
    assert from_year(county, {"enforcement.campaign_months": [5, 6, 7, 8, 9, 10]}) == county


def test_sweep_cost_reports_the_shared_runs():
    """The benchmark's helper on a small county: every figure present and positive (speed
    itself is the benchmark's business, not a test's)."""
    out = burnin.sweep_cost(load_scenario("county", {**SMALL, "run.households": 600}), seed=2,
                            packages=dict(list(burnin.SWEEP_PACKAGES.items())[:3]))
    assert out["runs"] == 3 and out["snapshot_bytes"] > 0
    assert all(out[k] > 0 for k in ("full_s", "shared_per_run_s", "ratio", "hit_s"))
    assert cache_info()["entries"] == 0
