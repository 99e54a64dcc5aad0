"""The enforcement office: what one month of enforcement returns, that it adds up, and how a
sample's office scales."""

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
NO = np.zeros(0, np.int64)


def no_births() -> Births:
    """A month without births (every field of :class:`Births` empty)."""
    return Births(*(np.zeros(0, np.int64) for _ in dataclasses.fields(Births)))


#: the county without its deterrence, but with every source of cases active
BUSY = {"enforcement.tip_reward": 20000.0, "registration.coverage": 0.9,
        "registration.approval_required": True, "enforcement.birth_audit": True}


def county_at(year: int, scenario: str = "county", **overrides) -> PopSimModel:
    model = PopSimModel(scenario, seed=6, overrides={**SMALL, **overrides})
    while model.year < year:
        model.step()
    return model


def act(model: PopSimModel, p=None, campaign: bool = False, effort: float = 1.0,
        registered_births: int = 0) -> OfficeMonth:
    return model.office.act(model.t, p or model.p, campaign, effort, NO, NO, no_births(),
                            registered_births, model.households.grey)


def test_the_result_carries_the_recorded_names():
    names = {f.name for f in dataclasses.fields(OfficeMonth)}
    recorded = names & set(RECORDED)
    assert recorded == {"inspections", "investigations", "women_investigated", "cases", "fines",
                        "rewards_paid", "grey_listed_new", "enforcement_cost",
                        "disappeared_pregnancies", "followups"}
    # what the model acts on
    assert names - recorded == {"cases_outside", "case_providers", "newly_grey"}


def test_every_month_adds_up():
    model = county_at(2002, "baseline", **BUSY)
    hh, office = model.households, model.office
    results = []
    original = office.act

    def spy(t, p, *args):
        grey_before = hh.grey.copy()
        r = original(t, p, *args)
        assert not grey_before[r.newly_grey].any()
        results.append((r, p.enforcement))
        return r

    office.act = spy
    while model.running:
        model.step()
    assert len(results) == 12 * 9
    for r, e in results:
        assert r.cases.shape == (len(CASE_SOURCES),)
        assert r.cases.sum() <= r.inspections + r.investigations
        assert r.case_providers.size == r.cases.sum()
        assert 0 <= r.cases_outside <= r.cases.sum()
        assert r.women_investigated <= r.investigations
        assert r.followups <= r.women_investigated
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
    for name in ("inspections", "cases", "enforcement_cost", "grey_listed_new", "followups"):
        np.testing.assert_allclose(ds[name].sum("year"), sum(getattr(r, name) for r, _ in results))


def test_effort_campaigns_and_the_sample_multiply_inspections():
    model = county_at(2003, **{"enforcement.inspections_per_month": 40.0})
    e = model.p.enforcement
    plain, doubled, campaign = act(model), act(model, effort=2.0), act(model, campaign=True)
    assert plain.inspections == 40 and doubled.inspections == 80
    assert campaign.inspections == 40 * e.campaign_multiplier
    off = dataclasses.replace(model.p, enforcement=dataclasses.replace(
        e, inspections_per_month=0.0))
    assert act(model, off, campaign=True, effort=3.0).inspections == 0
    # a 1/4 sample's office makes a quarter of the county's inspections and follow-ups
    quarter = county_at(2003, **{"enforcement.inspections_per_month": 40.0, "run.scale": 4.0,
                                 "run.households": 1500})
    assert act(quarter).inspections == 10
    assert quarter.office.recent_cases(1000) == 4 * sum(quarter.office.cases_by_month)


def test_signals_are_followed_up_oldest_first_and_go_cold():
    model = county_at(2003)
    office, e = model.office, model.p.enforcement
    office._signals = np.zeros((0, 3), dtype=np.int64)
    women, providers = np.arange(30), np.zeros(30, np.int64)
    t = model.t
    office.add_signals(women[:20], providers[:20], t - e.signal_max_age)  # already cold
    office.add_signals(women[20:], providers[20:], t)
    quiet = dataclasses.replace(model.p, enforcement=dataclasses.replace(
        e, inspections_per_month=0.0, tip_reward=0.0, followup_capacity=4.0, birth_audit=False))
    r = act(model, quiet)
    assert r.disappeared_pregnancies == 30  # received since the last month
    assert r.women_investigated == r.investigations == r.followups == 4
    assert len(office._signals) == 6  # the 20 cold ones dropped, 4 of the 10 followed up


def test_other_disappearances_are_followed_up_but_never_traced():
    model = county_at(2003)
    office, e = model.office, model.p.enforcement
    office._signals = np.zeros((0, 3), dtype=np.int64)
    p = dataclasses.replace(model.p, enforcement=dataclasses.replace(
        e, inspections_per_month=0.0, tip_reward=0.0, followup_capacity=1e4, birth_audit=False,
        trace=1.0), registration=dataclasses.replace(model.p.registration,
                                                     other_disappearance=0.5))
    r = act(model, p, registered_births=400)
    assert r.disappeared_pregnancies == 0  # none of them was a termination
    assert 150 < r.followups < 250 and r.women_investigated == r.followups
    assert r.cases.sum() == 0 and r.grey_listed_new == 0


def test_without_the_ban_no_case_is_made_against_a_provider():
    model = county_at(2003, **BUSY)
    c = model.market.col
    c["offering"][:] = c["has_us"]
    c["acts"][:] = 50
    e = model.p.enforcement
    lawful = dataclasses.replace(model.p, enforcement=dataclasses.replace(
        e, ban=False, inspections_per_month=200.0, detection=1.0, tip_rate_max=1.0))
    r = act(model, lawful)
    assert r.inspections == 200 and r.cases.sum() == 0
    banned = dataclasses.replace(lawful, enforcement=dataclasses.replace(lawful.enforcement,
                                                                         ban=True))
    assert act(model, banned).cases.sum() > 0


def test_hiding_divides_the_chance_of_detection():
    model = county_at(2003)
    c = model.market.col
    e = model.p.enforcement
    p = dataclasses.replace(model.p, enforcement=dataclasses.replace(
        e, inspections_per_month=1000.0, detection=1.0, tip_reward=0.0, birth_audit=False,
        followup_capacity=0.0, blacklist=0.0))
    found = []
    for hiding in (0.0, 0.75):
        hits = 0
        for _ in range(5):
            c["offering"][:] = c["has_us"] & c["registered_unit"]
            c["hiding"][:] = hiding
            hits += act(model, p).cases.sum()
        found.append(hits)
    assert found[1] == pytest.approx(0.25 * found[0], rel=0.25)


def test_recent_cases_counts_the_memory_window():
    model = county_at(2001)
    office = model.office
    office.cases_by_month = [5] * 24 + [1, 2, 3]
    assert office.recent_cases(3) == 6
    assert office.recent_cases(12) == 9 * 5 + 6
    assert office.recent_cases(1000) == 24 * 5 + 6


# --------------------------------------------------------------------------------------------
# the office in a run: orders of magnitude, the sample, dose-responses (paired seeds)

from conftest import paired, run_cached, srb_of  # noqa: E402


def test_cases_fines_and_follow_ups_are_of_the_reports_order():
    """The county 2010-2014 against its work reports (county_reports.csv, bands of
    observations.csv): 6 cases (2-18) and 28,000 yuan of fines (9,333-84,000) a year in
    Laohekou 2012, 21 disappeared pregnancies followed up (7-63), 206 providers (69-618); a
    case is rare per illegal act."""
    runs = [run_cached("county", seed) for seed in range(4)]
    w = [ds.sel(year=slice(2010, 2014)) for ds in runs]
    cases = np.mean([float(x["cases"].sum()) / 5 for x in w])
    fines = np.mean([float(x["fines"].sum()) / 5 for x in w])
    followups = np.mean([float(x["followups"].sum()) / 5 for x in w])
    providers = np.mean([float(x["providers"].mean()) for x in w])
    assert 2 <= cases <= 18 and 9_333 <= fines <= 84_000, (cases, fines)
    assert 7 <= followups <= 63 and 69 <= providers <= 618, (followups, providers)
    acts = sum(float(x["illegal_services"].sum()) for x in w)
    assert sum(float(x["cases"].sum()) for x in w) / acts < 0.1  # per act bought


def test_a_quarter_sample_reproduces_the_county():
    """run.scale 4 with a quarter of the households: the same SRB and the same scaled counts of
    cases, fines and providers as the full county, within their replicate spread."""
    def stats(ds):
        return np.array([srb_of(ds), float(ds["cases"].sum()), float(ds["fines"].sum()),
                         float(ds["providers"].mean()), float(ds["clinics_offering"].mean())])

    full = np.array([stats(run_cached("county", s)) for s in range(6)])
    quarter = np.array([stats(run_cached("county", s, run__scale=4.0,
                                         run__households=65669 // 4)) for s in range(6)])
    se = np.sqrt(full.var(0, ddof=1) / 6 + quarter.var(0, ddof=1) / 6)
    diff = quarter.mean(0) - full.mean(0)
    names = ["srb", "cases", "fines", "providers", "offering"]
    for i, name in enumerate(names):
        assert abs(diff[i]) < 3 * se[i] + 0.05 * abs(full.mean(0)[i]), (
            name, full.mean(0)[i], quarter.mean(0)[i], se[i])
    assert abs(diff[0]) < 2.0  # SRB points


DOSE_BASE = {"run.households": 30000, "run.start_year": 2003, "run.end_year": 2013,
             "run.burn_in_years": 25}
DOSE_SEEDS = range(6)


def _window_srb(ds) -> float:
    return srb_of(ds.sel(year=slice(2005, 2013)))


@pytest.mark.parametrize("lever, doses, direct", [
    ("enforcement.inspections_per_month", [0.0, 3.0, 10.0, 30.0, 100.0], None),
    ("enforcement.tip_reward", [0.0, 1000.0, 5000.0, 20000.0], "tip"),
    ("registration.coverage", [0.0, 0.3, 0.6, 1.0], None),
    ("enforcement.fine", [0.0, 5000.0, 50000.0, 500000.0], None),
])
def test_dose_response_in_the_county_is_monotone_and_visible(lever, doses, direct):
    """Each lever in the county package, from none to far beyond the reports: the true SRB
    (2005-2013) does not rise from one dose to the next (paired seeds: no increase beyond two
    standard errors), and falls visibly from the first dose to the last (three standard
    errors); for the tip reward, whose effect on the SRB is small, its own cases rise
    visibly."""
    values = [paired("county", {lever: d}, {lever: doses[0]}, DOSE_SEEDS, _window_srb,
                     base=DOSE_BASE)[0] for d in doses]
    for lo, hi in zip(values, values[1:]):
        d = hi - lo
        assert d.mean() <= 2 * d.std(ddof=1) / np.sqrt(d.size) + 0.05, (lever, np.round(d, 2))
    d = values[0] - values[-1]
    if direct is None:
        assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(d.size) and d.mean() > 0.5, \
            (lever, np.round(d, 2))
    else:
        assert d.mean() > 0, (lever, np.round(d, 2))
        cases = lambda ds: float(ds["cases"].sel(source=direct).sum())  # noqa: E731
        a, b = paired("county", {lever: doses[0]}, {lever: doses[-1]}, DOSE_SEEDS, cases,
                      base=DOSE_BASE)
        diff = b - a
        assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(diff.size), np.round(diff, 1)
