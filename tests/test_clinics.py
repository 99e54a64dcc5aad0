"""Clinics: the providers' setup and sample, beliefs, hiding, prices, the offer decision,
matching within capacity and reach, sanctions and entry."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from popsim.errors import ScenarioError
from popsim.model.clinics import (COUNTY_WIDE, KINDS, MOBILE, OUTSIDE, PRIVATE, Clinic, Market,
                                  penalty, sample_townships)
from popsim.model.streams import Streams
from popsim.scenario import load_scenario
from popsim.scenario.year import YearParams


def values(year: int = 2012, **overrides):
    return YearParams(load_scenario("county", overrides), year, year)[year]


def market(seed: int = 1, year: int = 2012, **overrides) -> tuple[Market, object]:
    p = values(year, **overrides)
    towns = sample_townships(p.population.townships, p.run.scale)
    return Market(mesa.Model(rng=seed), towns, Streams(seed), p), p


def test_setup_follows_the_market_section():
    m, p = market()
    mk = p.market
    kinds = [KINDS[k] for k in m.col["kind"]]
    assert kinds.count("county_hospital") == mk.county_hospitals
    assert kinds.count("township_centre") == mk.township_centres_per_township * 16
    assert kinds.count("private_clinic") == mk.private_clinics
    assert kinds.count("pharmacy") == mk.pharmacies
    assert kinds.count("out_of_county") == mk.out_of_county
    assert kinds.count("mobile_operator") == 0  # mobile operators only enter
    c = m.col
    assert (c["township"][c["kind"] == 0] == COUNTY_WIDE).all()
    assert (c["township"][c["kind"] == 4] == OUTSIDE).all()
    assert not c["has_us"][c["kind"] == 3].any()  # pharmacies have no ultrasound
    inside = c["township"] != OUTSIDE
    assert (c["risk"][inside] == mk.prior_risk).all()
    assert (c["risk"][~inside] == pytest.approx(mk.outside_risk))
    assert m.in_county() == 206  # the county special check's 206 units
    # public providers carry public_ethics times the moral cost of private ones, on average
    public, private = c["ethics"][np.isin(c["kind"], [0, 1])], c["ethics"][c["kind"] == 2]
    assert public.mean() > 1.5 * private.mean()
    agents = m.model.agents_by_type[Clinic]
    assert len(agents) == m.n and all(a.market is m for a in agents)
    first = next(iter(agents))
    assert first.kind == KINDS[c["kind"][first.row]] and first.risk_belief == mk.prior_risk


def test_a_market_refuses_more_providers_than_a_household_can_name():
    with pytest.raises(ScenarioError, match=r"40,\d{3} providers, more than the 32,767"):
        market(**{"market.pharmacies": 40_000})


def test_a_scaled_run_samples_townships_and_providers():
    assert sample_townships(16, 1.0) == 16 and sample_townships(16, 4.0) == 4
    assert sample_townships(16, 0.5) == 32  # an oversample
    assert sample_townships(1000, 3.0) == 333  # within the tolerance
    with pytest.raises(ScenarioError, match=r"run.scale = 3 cannot be honoured.*16.*5.33 "
                                            r"townships.*e.g. 1, 2, 4, 8, 16"):
        sample_townships(16, 3.0)
    with pytest.raises(ScenarioError, match="at least 1"):
        sample_townships(16, 64.0)
    # a 1/4 sample: a quarter of each kind in expectation (the whole part, and one more with the
    # chance of the fraction: 111 / 4 = 27.75 private clinics)
    counts = np.array([[np.sum(market(seed, **{"run.scale": 4.0})[0].col["kind"] == k)
                        for k in range(5)] for seed in range(40)])
    assert (counts[:, 1] == 4).all()  # one centre per sampled township
    assert set(counts[:, 2]) <= {27, 28} and counts[:, 2].mean() == pytest.approx(27.75, abs=0.2)
    assert set(counts[:, 4]) == {5} and set(counts[:, 3]) == {19}
    assert counts[:, 0].mean() == pytest.approx(0.75, abs=0.2)


def test_prices_and_hiding_rise_continuously_with_risk():
    m, p = market()
    mk, e = p.market, p.enforcement
    c = m.col
    risk = np.geomspace(1e-5, 0.2, m.n)
    c["risk"][:] = risk
    m.decide(p)
    hiding = mk.hiding_max * risk / (risk + mk.hiding_half_risk)
    assert c["hiding"] == pytest.approx(hiding)
    premium = mk.risk_pass_through * risk * (1 - hiding) * penalty(e, mk)
    broker = (c["kind"] == MOBILE) * mk.broker_fee
    assert c["price_sd"] == pytest.approx(mk.sd_price + premium + broker)
    assert c["price_late"] == pytest.approx(mk.late_abortion_price + mk.late_risk_ratio * premium)
    # no jump anywhere: prices rise smoothly over four decades of risk
    step = np.diff(c["price_sd"]) / c["price_sd"][:-1]
    assert (step > 0).all() and step.max() < 0.05
    # without the ban nothing is illegal: list prices, no hiding
    free = values(1985)
    m.decide(free)
    assert (c["price_sd"] == free.market.sd_price).all() and not c["hiding"].any()


def test_supply_bends_with_risk_instead_of_breaking():
    """Offers fall with the providers' risk belief over a wide range, not at one threshold."""
    offering = []
    for risk in np.geomspace(1e-4, 0.1, 13):
        m, p = market(seed=2)
        c = m.col
        c["demand"][:] = 3.0
        c["risk"][:] = risk
        m.decide(p)  # the same noise at every risk (the same stream)
        offering.append(int(c["offering"].sum()))
    offering = np.array(offering)
    assert (np.diff(offering) <= 0).all(), offering
    able = int(c["has_us"].sum())
    assert offering[0] > 0.6 * able and offering[-1] < 0.2 * able
    middle = (offering > 0.25 * offering[0]) & (offering < 0.75 * offering[0])
    assert middle.sum() >= 2, f"supply falls at a cliff: {offering}"


def test_the_offer_decision_weighs_revenue_against_penalty():
    counts = {}
    for fine in (0.0, 5_000.0, 500_000.0):
        m, p = market(**{"enforcement.fine": fine})
        m.col["demand"][:] = 3.0
        m.col["risk"][:] = 0.004
        m.decide(p)
        c = m.col
        assert not (c["offering"] & ~c["has_us"]).any()
        counts[fine] = c["offering"].copy()
    # the same noise (the same stream): a dearer fine only removes offers
    assert not (counts[500_000.0] & ~counts[5_000.0]).any()
    assert not (counts[5_000.0] & ~counts[0.0]).any()
    assert counts[0.0].sum() > counts[500_000.0].sum()


def test_beliefs_decay_toward_the_prior_and_weigh_news_by_distance():
    m, p = market()
    c, mk, e = m.col, p.market, p.enforcement
    tw = c["township"]
    inside = tw != OUTSIDE
    prior = np.where(inside, mk.prior_risk, mk.outside_risk)
    c["risk"][:] = prior + 0.01
    m.start_month()
    c["inspected"][:3] = True
    m.end_month(p, campaign_launch=False, case_rows=np.zeros(0, np.int64))
    keep = 0.5 ** (1 / mk.news_half_life)
    decayed = prior + 0.01 * keep
    assert c["risk"][:3] == pytest.approx(decayed[:3] + mk.risk_per_inspection)
    assert c["risk"][3:] == pytest.approx(decayed[3:])
    # after news_half_life quiet months half of the excess over the prior is gone
    for _ in range(int(mk.news_half_life) - 1):
        m.start_month()
        m.end_month(p, campaign_launch=False, case_rows=np.zeros(0, np.int64))
    assert c["risk"][3:] == pytest.approx(prior[3:] + 0.005)
    # a case in township 0: its providers learn most, the rest of the county less, outside nothing
    c["risk"][:] = prior
    row = int(np.flatnonzero(tw == 0)[0])
    m.start_month()
    m.end_month(p, campaign_launch=False, case_rows=np.array([row]))
    rise = c["risk"] - prior * 1.0
    assert rise[tw == 0] == pytest.approx(mk.risk_per_case_township)
    assert rise[(tw > 0) | (tw == COUNTY_WIDE)] == pytest.approx(e.publicity
                                                                 * mk.risk_per_case_county)
    assert rise[~inside] == pytest.approx(0.0)
    assert mk.risk_per_case_township > 3 * mk.risk_per_case_county
    # a case outside is news to the providers outside only
    c["risk"][:] = prior
    m.start_month()
    m.end_month(p, campaign_launch=False, case_rows=np.flatnonzero(~inside)[:1])
    assert (c["risk"] - prior)[~inside] == pytest.approx(e.publicity * mk.risk_per_case_outside)
    assert (c["risk"] - prior)[inside] == pytest.approx(0.0)


def test_a_samples_county_news_stands_for_scale_times_as_many_cases():
    m, p = market(**{"run.scale": 4.0})
    c, mk = m.col, p.market
    tw = c["township"]
    c["risk"][:] = 0.0
    row = int(np.flatnonzero(tw == 1)[0])
    m.start_month()
    m.end_month(p, campaign_launch=False, case_rows=np.array([row]))
    keep_prior = mk.prior_risk * (1 - 0.5 ** (1 / mk.news_half_life))
    other = (tw >= 0) & (tw != 1)
    # the real county had 4 such cases, one of them in this township: 3 elsewhere
    assert c["risk"][other] == pytest.approx(keep_prior + 4 * mk.risk_per_case_county)
    assert c["risk"][tw == 1] == pytest.approx(keep_prior + mk.risk_per_case_township
                                               + 3 * mk.risk_per_case_county)


def test_search_respects_capacity_reach_and_hiding():
    m, p = market(**{"market.capacity": 2.0})
    c = m.col
    c["offering"][:] = c["has_us"]
    m.decide(p)  # sets this month's hiding (none at the prior) and the reach constant
    c["offering"][:] = c["has_us"]
    m.start_month()
    n = 400
    rng = np.random.default_rng(0)
    township = rng.integers(0, 16, n).astype(np.int16)
    migrant = np.arange(n) % 4 == 0
    travel = np.zeros(n, bool)
    prov, out = m.search(township, migrant, travel, rng.random(n), rng.random(n), 2.0)
    found = prov >= 0
    assert (np.bincount(prov[found], minlength=m.n) <= 2).all()
    assert np.array_equal(np.bincount(prov[found], minlength=m.n), c["served"])
    assert (c["offering"][prov[found]]).all()
    assert (out[found] == (c["township"][prov[found]] == OUTSIDE)).all()
    assert out[migrant & found].all()  # migrants look only outside the county
    local = found & ~migrant
    where = c["township"][prov[local]]
    assert ((where == township[local]) | (where == COUNTY_WIDE)).all()
    # those turned away count as unmet demand of their township
    assert m.unmet.sum() == (~found & ~migrant).sum()
    # a provider that hides h is missed by reach_loss x h of those who pick it
    c["hiding"][:] = 0.6
    m.start_month()
    n = 20000
    township = np.zeros(n, np.int16)
    prov, _ = m.search(township, np.zeros(n, bool), np.zeros(n, bool), rng.random(n),
                       rng.random(n), 1e9)
    missed = (prov < 0).mean()
    assert missed == pytest.approx(p.market.hiding_reach_loss * 0.6, abs=0.015)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_search_gives_the_bits_of_the_numpy_search(monkeypatch, seed):
    """The numba twin of ``Market.search`` (``POPSIM_KERNELS``): the same providers, places,
    unmet demand and seekers, with full providers, hiding, travellers and ties in the order."""
    results = []
    for mode in ("numba", "numpy"):
        monkeypatch.setenv("POPSIM_KERNELS", mode)
        m, p = market(seed)
        draw = np.random.default_rng(seed)  # the same inputs on both paths
        c = m.col
        m.start_month()
        for _ in range(3):  # several searches a month fill the providers
            c["offering"][:] = draw.random(m.n) < 0.6
            c["hiding"][:] = draw.random(m.n) * 0.8
            m._reach_loss = draw.random()
            n = int(draw.integers(0, 300))
            township = draw.integers(0, m.townships, n).astype(np.int16)
            order = draw.random(n)
            order[: n // 4] = 0.5  # ties keep the seekers' order
            prov, out = m.search(township, draw.random(n) < 0.2, draw.random(n) < 0.5, order,
                                 draw.random(n), float(draw.integers(0, 4)))
            results.append((mode, prov, out, c["served"].copy(), m.unmet.copy(),
                            m.local_seekers.copy(), m.outside_seekers))
    assert len(results) == 6
    for fast, reference in zip(results[:3], results[3:]):
        for a, b in zip(fast[1:], reference[1:]):
            assert np.asarray(a).dtype == np.asarray(b).dtype
            assert np.array_equal(a, b)


@pytest.mark.parametrize("overrides", [
    {}, {"enforcement.ban": False},
    {"registration.approval_required": False, "population.townships_per_county": 4,
     "market.risk_per_campaign": 0.3},  # (some beliefs pass 1)
    {"run.scale": 4.0, "population.townships_per_county": 8, "market.entry_threshold": 1.0,
     "market.entry_rate": 1.0}])
def test_compiled_month_gives_the_bits_of_the_numpy_month(monkeypatch, overrides):
    """The numba twins of ``Market.end_month`` (demand, beliefs, news) and ``Market.decide``
    (hiding, prices, offers, closures): the same columns, entries and draws after months of
    varied offers, clients, inspections, cases (repeated, county-wide, outside; none some
    months) and campaign launches, with and without the ban and the approval rule, a sample,
    and a region of four counties (whose own news can exceed its share of the region's)."""
    results = {}
    for mode in ("numba", "numpy"):
        monkeypatch.setenv("POPSIM_KERNELS", mode)
        m, p = market(3, **overrides)
        draw = np.random.default_rng(7)  # the same inputs on both paths
        c, months = m.col, []
        c["risk"][:] = draw.random(m.n) * 0.3
        c["risk"][:9] = 0.999
        c["demand"][:] = draw.random(m.n) * 20
        for t in range(8):
            m.start_month()
            c["offering"][:] = draw.random(m.n) < 0.5
            c["served"][:] = draw.integers(0, 9, m.n)
            c["inspected"][:] = draw.random(m.n) < 0.1
            m.local_seekers[:] = draw.integers(0, 30, m.townships)
            m.outside_seekers = int(draw.integers(0, 40))
            m.unmet[:] = draw.integers(0, 6, m.townships + 1)
            rows = draw.integers(0, m.n, int(draw.integers(0, 4)) * (t % 3 != 0))
            rows = np.r_[rows, np.flatnonzero(c["township"] == OUTSIDE)[: t % 2], rows[:1]]
            entries = m.end_month(p, campaign_launch=t % 4 == 1, case_rows=rows)
            m.decide(p)
            months.append((entries, m.n, {k: v.copy() for k, v in c.items()},
                           m._decision_rng.random(), m._entry_rng.random()))
        results[mode] = months
    if "market.entry_rate" in overrides:  # entrants join the columns on both paths
        assert any(month[0] for month in results["numpy"])
    for fast, reference in zip(results["numba"], results["numpy"]):
        assert fast[:2] == reference[:2] and fast[3:] == reference[3:]
        for name, col in reference[2].items():
            assert fast[2][name].dtype == col.dtype, name
            assert np.array_equal(fast[2][name], col, equal_nan=col.dtype.kind == "f"), name


def test_sanctions_fine_and_close():
    m, p = market(**{"enforcement.blacklist": 1.0})
    rows = np.array([0, 5, 7])
    m.col["offering"][rows] = True
    fines = m.sanction(rows, p.enforcement, p.market, np.random.default_rng(1))
    assert fines == 3 * p.enforcement.fine
    c = m.col
    assert c["blacklisted"][rows].all() and not c["open"][rows].any()
    assert not c["offering"][rows].any()
    assert (c["risk"][rows] >= p.market.risk_when_caught).all()
    assert (c["cases"][rows] == 1).all() and c["cases"].sum() == 3
    assert m.sanction(np.zeros(0, np.int64), p.enforcement, p.market,
                      np.random.default_rng(1)) == 0.0


def test_unmet_demand_draws_underground_and_mobile_entrants():
    m, p = market(**{"market.entry_rate": 1.0, "market.mobile_share": 0.5})
    n0 = m.n
    m.start_month()
    m.unmet[:16] = 10.0  # every township short of ten providers' worth of clients
    entries = m.end_month(p, campaign_launch=False, case_rows=np.zeros(0, np.int64))
    c = m.col
    new = np.arange(n0, m.n)
    assert entries == new.size > 0
    assert not c["registered_unit"][new].any() and c["has_us"][new].all()
    mobile = c["kind"][new] == MOBILE
    assert mobile.any() and (~mobile).any()
    assert (c["township"][new[mobile]] == COUNTY_WIDE).all()
    assert (c["kind"][new[~mobile]] == PRIVATE).all() and (c["township"][new[~mobile]] >= 0).all()
    # an entrant that stops offering closes; a registered provider that stops stays open
    c["demand"][:] = 0.0
    m.decide(p)
    assert not c["open"][new[~c["offering"][new]]].any()
    assert c["open"][:n0].all()


# --------------------------------------------------------------------------------------------
# the market in a run (paired seeds)

from conftest import run_cached  # noqa: E402

DECADE = {"run.start_year": 2003, "run.end_year": 2013, "run.burn_in_years": 25}
SEEDS = range(4)


def _price(ds, service: str = "sex_check") -> np.ndarray:
    """Mean price paid each year (yuan)."""
    return (ds["illegal_spending"].sel(service=service)
            / ds["illegal_purchases"].sel(service=service)).values


def test_a_sustained_crackdown_raises_prices_and_supply_persists():
    """Ten years of crackdown_only (2003-2013): the mean price paid for a sex check rises at
    least threefold (twofold against the list price, which follows income), and in every year
    of every run providers still offer and households still buy."""
    runs = [run_cached("crackdown_only", seed, **{k.replace(".", "__"): v
                                                  for k, v in DECADE.items()}) for seed in SEEDS]
    spend = sum(ds["illegal_spending"].sel(service="sex_check").values for ds in runs)
    bought = sum(ds["illegal_purchases"].sel(service="sex_check").values for ds in runs)
    price = spend / bought
    assert price[-1] > 3 * price[0], np.round(price)
    years = runs[0]["year"].values
    scenario = load_scenario("crackdown_only")
    listed = np.array([YearParams(scenario, y, y)[y].market.sd_price for y in years])
    assert price[-1] / listed[-1] > 2 * price[0] / listed[0], np.round(price / listed, 2)
    for ds in runs:
        assert (ds["clinics_offering"] > 0).all() and (ds["providers"] > 100).all()
        assert (ds["illegal_purchases"].sel(service="sex_check") > 0).all()
    # the late termination carries late_risk_ratio times the premium: a dearer package
    late = sum(ds["illegal_spending"].sel(service="late_termination").values for ds in runs)
    assert np.isnan(late).sum() == 0


def test_the_package_prices_are_of_the_reported_order():
    """The county's prices paid against the reports (illegal_prices.csv, bands of
    observations.csv): a sex check 40 yuan in 2003 (20-80) and 950 in 2013 (350-2,400), the
    package of a check and a late abortion 3,800 in 2013 (1,900-7,600)."""
    runs = [run_cached("county", seed, run__start_year=2003, run__end_year=2013)
            for seed in SEEDS]

    def pooled(service, year):
        s = sum(float(ds["illegal_spending"].sel(service=service, year=year)) for ds in runs)
        n = sum(float(ds["illegal_purchases"].sel(service=service, year=year)) for ds in runs)
        return s / n

    assert 20 <= pooled("sex_check", 2003) <= 80
    assert 350 <= pooled("sex_check", 2013) <= 2400
    assert 1900 <= pooled("sex_check", 2013) + pooled("late_termination", 2013) <= 7600
