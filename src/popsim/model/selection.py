"""Sex selection: the household decisions from motivation to abortion.

Each function decides for the households given to it and returns what they decided (indices,
routes, abortions); the model applies the result to the households and records it. The rules
follow Kashyap & Villavicencio (2016): a household must be *willing* (motivation: son preference
x no son yet x fertility squeeze, Guilmoto 2009), *able* (access to the technology and money to
pay) and *ready* (the choice is acceptable given cost, risk and rewards).

* **Motivation** (:func:`motivation`) in [0, 1]: son preference x no son yet x squeeze, the
  squeeze ``squeeze_decay ** (further births still possible after this one)``, strongest when
  this birth is the last one the policy or the family plan allows.
* **Perceived risk** (:func:`county_risk`, :func:`perceived_risk`, :func:`late_risk`): what a
  household aware of the law fears from the cases publicised in the last months and from
  campaigns; grey-listed women fear more; an unapproved late termination of a registered
  pregnancy adds the chance its disappearance is followed up.
* **Seeking and route** (:func:`seek`, gestation month 2): a nested logit. Seeking uses the
  inclusive value of the routes open to her, the 16-week ultrasound (with a late termination,
  illegal and traceable where approval is required) or the early blood test (with a legal early
  termination); the route is a binary logit between them (McFadden 1978).
* **Provider search** (:func:`find_providers`, month 4): ultrasound seekers look for a willing
  provider in reach (:meth:`popsim.model.clinics.Market.search`).
* **Abortion** (:func:`abortion_decision`) of a fetus believed female: a logit in motivation,
  price / income, perceived risk and the incentive pull
  (:meth:`popsim.model.incentives.Eligibility.pull`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario.year import BehaviourValues, TechnologyValues, YearValues
from .clinics import Market
from .households import ROUTE_ULTRASOUND, Households
from .incentives import Eligibility
from .streams import Streams

__all__ = ["Month", "Seeking", "Clients", "LateAbortions", "sigmoid", "county_risk",
           "perceived_risk", "late_risk", "access", "motivation", "abortion_decision", "seek",
           "find_providers", "late_abortions"]

_EMPTY = np.zeros(0, dtype=np.int64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Month:
    """What the households' decisions of one month depend on besides their own state."""

    t: int
    p: YearValues
    #: births allowed by this year's fertility policy (see ``POLICY_LIMITS``)
    limits: tuple[int, int, int]
    eligibility: Eligibility
    campaign: bool
    #: the perceived risk of a household aware of the law (:func:`county_risk`)
    county_risk: float
    #: expected prices of an illegal sex determination and a late termination
    sd_price: float
    late_price: float


@dataclass(frozen=True)
class Seeking:
    """Gestation month 2: who sought sex determination, by which route, and early abortions."""

    ultrasound: np.ndarray
    early: np.ndarray
    aborted: np.ndarray


@dataclass(frozen=True)
class Clients:
    """Ultrasound seekers who found a provider: the women, their providers, whether the
    provider is outside the county."""

    women: np.ndarray
    providers: np.ndarray
    out_of_county: np.ndarray


@dataclass(frozen=True)
class LateAbortions:
    """Terminations after an ultrasound; ``illegal`` where approval is required (then each is a
    second illegal act, and ``signal`` marks registered pregnancies the office will see
    disappear)."""

    women: np.ndarray
    providers: np.ndarray
    out_of_county: np.ndarray
    illegal: bool
    signal: np.ndarray


# --------------------------------------------------------------------------------------------
# risk


def county_risk(recent_cases: int, campaign: bool, b: BehaviourValues) -> float:
    """Perceived chance of being caught, for a household aware of the law: ``risk_per_case``
    per case pursued in the last ``case_memory_months``, plus ``campaign_risk`` in campaign
    months."""
    return min(1.0, b.risk_per_case * recent_cases + (b.campaign_risk if campaign else 0.0))


def perceived_risk(law_aware: np.ndarray, grey: np.ndarray, county: float,
                   b: BehaviourValues) -> np.ndarray:
    """Each household's perceived chance of being caught for an illegal sex selection."""
    return np.minimum(law_aware * county + grey * b.grey_risk, 1.0)


def late_risk(risk: np.ndarray, registered: np.ndarray, approval: bool,
              b: BehaviourValues) -> np.ndarray:
    """Perceived risk of an unapproved late termination: the general risk plus, for a
    registered pregnancy, the chance its disappearance is followed up."""
    if not approval:
        return risk
    return np.minimum(risk + registered * b.signal_risk, 1.0)


# --------------------------------------------------------------------------------------------
# willing, able, ready


def access(hh: Households, idx: np.ndarray, t: int, tech: TechnologyValues) -> np.ndarray:
    """Share of women who can reach prenatal sex determination (logistic in time)."""
    when = t / 12.0 - tech.access_midpoint - hh.rural[idx] * tech.rural_delay
    return sigmoid(tech.access_rate * when)


def motivation(hh: Households, idx: np.ndarray, t: int, p: YearValues,
               limits: tuple[int, int, int], eligibility: Eligibility) -> np.ndarray:
    """Son preference x no son yet x fertility squeeze, in [0, 1]."""
    parity_after = hh.parity[idx].astype(np.int64) + 1
    most = np.minimum(hh.limit(idx, limits, if_girl=True), p.fertility.son_seeking_max_parity)
    needs = hh.son_pref[idx] > p.son_preference.threshold
    most = np.where(needs, most, np.minimum(most, hh.desired[idx]))
    remaining = np.maximum(most - parity_after, 0)
    remaining = np.where(hh.pledged(idx, t, p, eligibility) & (parity_after == 1), 0, remaining)
    squeeze = p.behaviour.squeeze_decay ** remaining
    return hh.son_pref[idx] * squeeze * (hh.sons[idx] == 0)


def abortion_decision(hh: Households, streams: Streams, idx: np.ndarray, m: Month,
                      motivation: np.ndarray, income: np.ndarray, price, risk) -> np.ndarray:
    """Who aborts a fetus believed female, at ``price`` (yuan) and perceived ``risk``."""
    b = m.p.behaviour
    pull = m.eligibility.pull(hh.inc_aware[idx], hh.age_years(idx, m.t), income)
    logit = (b.abort_intercept + b.abort_motivation * motivation
             - b.cost_weight * price / income
             - b.risk_weight * risk
             - b.incentive_weight * pull)
    return streams.uniform("abort", m.t, idx) < sigmoid(logit)


# --------------------------------------------------------------------------------------------
# the pregnancy: month 2 and month 4


def seek(hh: Households, streams: Streams, m: Month) -> Seeking:
    """Gestation month 2: who seeks sex determination, by which route; early tests and the
    abortions that follow them."""
    t, p = m.t, m.p
    b, tech, mk = p.behaviour, p.technology, p.market
    idx = hh.pregnant_since(t, 2)
    mot = motivation(hh, idx, t, p, m.limits, m.eligibility)
    idx, mot = idx[mot > 0], mot[mot > 0]
    if idx.size == 0:
        return Seeking(_EMPTY, _EMPTY, _EMPTY)
    income = hh.income(idx, p)
    risk = perceived_risk(hh.law_aware[idx], hh.grey[idx], m.county_risk, b)
    approval = bool(p.registration.approval_required)
    # Route utilities: the ultrasound at 16 weeks, with a late termination that may be illegal
    # and traceable, or, where available, the early blood test with a legal early termination;
    # a test finds a girl with the expected share, which weights the termination price.
    girl = b.expected_girl_share
    term_price = m.late_price if approval else mk.legal_abortion_price
    u_us = (-b.cost_weight * (m.sd_price + girl * term_price) / income
            - b.risk_weight * late_risk(risk, hh.registered[idx], approval, b))
    u_early = -b.cost_weight * (tech.early_test_price + girl * mk.legal_abortion_price) / income
    has_early = streams.uniform("early_access", t, idx) < tech.early_test_access
    u_best = np.where(has_early, np.logaddexp(u_us, u_early), u_us)
    logit = b.seek_intercept + b.seek_motivation * mot + u_best
    seeks = streams.uniform("seek", t, idx) < access(hh, idx, t, tech) * sigmoid(logit)
    early = seeks & has_early & (streams.uniform("early_choice", t, idx)
                                 < sigmoid(u_early - u_us))
    idx, mot, income, early = idx[seeks], mot[seeks], income[seeks], early[seeks]
    e_idx = idx[early]
    female = hh.test(e_idx, t, tech.early_test_accuracy)
    aborts = female & abortion_decision(hh, streams, e_idx, m, mot[early], income[early],
                                        mk.legal_abortion_price, 0.0)
    return Seeking(ultrasound=idx[~early], early=e_idx, aborted=e_idx[aborts])


def find_providers(hh: Households, market: Market, streams: Streams, m: Month) -> Clients:
    """Gestation month 4: ultrasound seekers search for a willing provider in reach; those who
    find nobody continue their pregnancy. Non-migrants who find none travel out of the county
    with probability ``travel_willingness``."""
    t, p = m.t, m.p
    idx = hh.pregnant_since(t, 4)
    idx = idx[hh.route[idx] == ROUTE_ULTRASOUND]
    if idx.size == 0:
        return Clients(_EMPTY, _EMPTY, np.zeros(0, dtype=bool))
    travel = streams.uniform("travel", t, idx) < p.behaviour.travel_willingness
    prov, out = market.search(hh.township[idx], hh.migrant[idx], travel,
                              streams.uniform("search_order", t, idx),
                              streams.uniform("search_pick", t, idx), float(p.market.capacity))
    found = prov >= 0
    return Clients(idx[found], prov[found], out[found])


def late_abortions(hh: Households, market: Market, streams: Streams, m: Month,
                   clients: Clients) -> LateAbortions:
    """Gestation month 4, after the scan: the late termination decision of the clients whose
    fetus is believed female (at the provider's late price where approval is required)."""
    t, p = m.t, m.p
    b = p.behaviour
    female = hh.test(clients.women, t, p.technology.accuracy)
    idx, prov = clients.women[female], clients.providers[female]
    out = clients.out_of_county[female]
    mot = motivation(hh, idx, t, p, m.limits, m.eligibility)
    income = hh.income(idx, p)
    illegal = bool(p.registration.approval_required)
    if illegal:
        price = market.col["price_late"][prov] + out * b.travel_cost
        risk = late_risk(perceived_risk(hh.law_aware[idx], hh.grey[idx], m.county_risk, b),
                         hh.registered[idx], True, b)
    else:
        price = np.full(idx.size, p.market.legal_abortion_price)
        risk = 0.0
    aborts = abortion_decision(hh, streams, idx, m, mot, income, price, risk)
    idx, prov, out = idx[aborts], prov[aborts], out[aborts]
    return LateAbortions(idx, prov, out, illegal, hh.registered[idx] & illegal)
