"""Clinics: the providers' setup, the offer decision, matching within capacity, beliefs, sanctions."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from popsim.model.clinics import COUNTY_WIDE, KINDS, OUTSIDE, Clinic, Market
from popsim.model.streams import Streams
from popsim.scenario import load_scenario
from popsim.scenario.year import YearParams


def values(**overrides):
    return YearParams(load_scenario("county", overrides), 2005, 2005)[2005]


def market(seed: int = 1, **overrides) -> tuple[Market, object]:
    p = values(**overrides)
    return Market(mesa.Model(rng=seed), p.population.townships, Streams(seed), p), p


def test_setup_follows_the_market_section():
    m, p = market()
    mk = p.market
    kinds = [KINDS[k] for k in m.col["kind"]]
    assert kinds.count("county_hospital") == mk.county_hospitals
    assert kinds.count("township_centre") == mk.township_centres_per_township * 16
    assert kinds.count("private_clinic") == mk.private_clinics
    assert kinds.count("pharmacy") == mk.pharmacies
    assert kinds.count("out_of_county") == mk.out_of_county
    c = m.col
    assert (c["township"][c["kind"] == 0] == COUNTY_WIDE).all()
    assert (c["township"][c["kind"] == 4] == OUTSIDE).all()
    assert not c["has_us"][c["kind"] == 3].any()  # pharmacies have no ultrasound
    assert (c["risk"] == mk.initial_risk).all()
    # public providers carry public_ethics times the moral cost of private ones, on average
    public, private = c["ethics"][np.isin(c["kind"], [0, 1])], c["ethics"][c["kind"] == 2]
    assert public.mean() > 1.5 * private.mean()
    agents = m.model.agents_by_type[Clinic]
    assert len(agents) == m.n and all(a.market is m for a in agents)
    first = next(iter(agents))
    assert first.kind == KINDS[c["kind"][first.row]] and first.risk_belief == mk.initial_risk


def test_the_offer_decision_weighs_profit_against_penalty():
    counts = {}
    for fine in (0.0, 20_000.0, 2_000_000.0):
        m, p = market(**{"enforcement.fine": fine})
        m.col["demand"][:] = 10.0
        m.col["risk"][:] = 0.005
        m.decide(p)
        c = m.col
        assert not (c["offering"] & ~c["has_us"]).any()
        assert c["price_sd"] == pytest.approx(p.market.sd_price * (1 + p.market.price_risk_markup
                                                                   * 0.005))
        counts[fine] = c["offering"].copy()
    # the same noise (the same stream): a dearer fine only removes offers
    assert not (counts[2_000_000.0] & ~counts[20_000.0]).any()
    assert not (counts[20_000.0] & ~counts[0.0]).any()
    assert counts[0.0].sum() > counts[2_000_000.0].sum()


def test_search_respects_capacity_and_reach():
    m, p = market(**{"market.capacity": 2.0})
    c = m.col
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


def test_beliefs_learn_from_inspections_and_news_and_decay():
    m, p = market()
    c, mk, e = m.col, p.market, p.enforcement
    c["risk"][:] = 0.1
    m.start_month()
    c["inspected"][:3] = True
    m.end_month(p, campaign_launch=False, publicised=0, publicised_outside=0)
    decayed = 0.1 * (1 - mk.risk_decay)
    assert c["risk"][:3] == pytest.approx(decayed + mk.inspection_learning
                                          * (e.detection - decayed))
    assert c["risk"][3:] == pytest.approx(decayed)
    before = c["risk"].copy()
    m.start_month()
    m.end_month(p, campaign_launch=False, publicised=2, publicised_outside=0)
    inside = c["township"] != OUTSIDE
    assert (c["risk"][inside] > before[inside] * (1 - mk.risk_decay) + 1e-12).all()
    assert c["risk"][~inside] == pytest.approx(before[~inside] * (1 - mk.risk_decay))


def test_sanctions_fine_and_close():
    m, p = market(**{"enforcement.blacklist": 1.0})
    rows = np.array([0, 5, 7])
    m.col["offering"][rows] = True
    fines = m.sanction(rows, p.enforcement, np.random.default_rng(1))
    assert fines == 3 * p.enforcement.fine
    c = m.col
    assert c["blacklisted"][rows].all() and not c["open"][rows].any()
    assert not c["offering"][rows].any() and (c["risk"][rows] >= p.enforcement.detection).all()
    assert (c["cases"][rows] == 1).all() and c["cases"].sum() == 3
    assert m.sanction(np.zeros(0, np.int64), p.enforcement, np.random.default_rng(1)) == 0.0
