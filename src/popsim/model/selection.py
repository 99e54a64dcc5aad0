"""Sex selection: the household decisions from motivation to abortion, and the survival of girls.

Each function decides for the households given to it and returns what they decided (indices,
routes, abortions, deaths); the model applies the result to the households and records it. The
rules follow Kashyap & Villavicencio (2016): a household must be *willing* (motivation: son
preference x no living son yet x fertility squeeze, Guilmoto 2009), *able* (access to the
technology and money to pay) and *ready* (the choice is acceptable given cost, risk and rewards).

* **Motivation** (:func:`motivation`) in [0, 1]: for a household without a living son, son
  preference x squeeze; for one with sons and no daughter that has two sons or has this child
  beyond her desired size (for the daughter), ``son_preference.daughter_preference`` x
  squeeze, and it selects against a boy. The squeeze is ``squeeze_decay ** r``, ``r`` the
  further births still possible after this one within both her prepared births
  (:meth:`~popsim.model.households.Households.prepared`: her desired size, plus the extra births
  a son-seeker is ready for) and her local limit: strongest at the birth that would complete her
  family, with or without a limit. A first pregnancy is rarely tested
  (``behaviour.first_birth_reluctance``).
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
* **Abortion** (:func:`abortion_decision`) of a fetus believed to be of the unwanted sex: a
  logit in motivation, price / income, perceived risk and the incentive pull
  (:meth:`popsim.model.incentives.Eligibility.pull`, felt by son-seekers).
* **Survival** (:func:`infant_deaths` at birth, :func:`child_deaths` each January): natural
  infant and child mortality (boys' higher), and an excess risk for girls in son-preferring
  households (abandonment and neglect, 溺弃女婴): ``behaviour.girl_neglect`` x son preference,
  lower if she has a living brother, higher in poorer households, deterred by the perceived risk
  of being caught (propaganda spreads awareness of the law, cases raise the risk).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..scenario.year import BehaviourValues, TechnologyValues, YearValues
from . import kernels, kernels_calls
from . import kernels_monthly as km
from .children import MAX_CHILDREN, bit
from .clinics import Market
from .households import ROUTE_ULTRASOUND, Births, Households
from .incentives import Eligibility
from .streams import Streams

__all__ = ["Month", "Seeking", "Clients", "LateAbortions", "Deaths", "sigmoid", "county_risk",
           "perceived_risk", "late_risk", "access", "motivation", "abortion_decision", "seek",
           "find_providers", "late_abortions", "girls_excess_risk", "infant_deaths",
           "child_deaths"]

_EMPTY = np.zeros(0, dtype=np.int64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large negative logits (tiny incomes make
    price/income terms huge); scipy's expit is exact at both ends."""
    return expit(x)


@dataclass(frozen=True)
class Month:
    """What the households' decisions of one month depend on besides their own state."""

    t: int
    p: YearValues
    #: this year's national fertility-policy regime (each household's local rule follows from
    #: it: :mod:`popsim.model.fertility_policy`)
    regime: str
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
    #: abortions of a boy by a household seeking a son (a misread test)
    misclassified: int = 0


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
    #: abortions of a boy by a household seeking a son (a misread scan)
    misclassified: int = 0


@dataclass(frozen=True)
class Deaths:
    """Children who died: their mothers, their slot in the mothers' children, their sex, their
    age band (index into ``coords.CHILD_AGES``) and whether the death is the girls' excess."""

    mothers: np.ndarray
    slots: np.ndarray
    male: np.ndarray
    age_band: np.ndarray
    excess: np.ndarray


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


def wants_son(hh: Households, idx: np.ndarray) -> np.ndarray:
    """Households whose selection is against a girl (no living son); the others with a
    motivation select against a boy."""
    return hh.sons[idx] == 0


def motivation(hh: Households, idx: np.ndarray, t: int, p: YearValues, regime: str,
               eligibility: Eligibility) -> np.ndarray:
    """Motivation to select the sex of this pregnancy, in [0, 1]: son preference without a
    living son, or ``daughter_preference`` for a daughter-seeker with only sons; times the
    fertility squeeze (see the module docstring)."""
    if kernels.use_kernels():
        return kernels_calls.motivation(hh, idx, t, p, regime, eligibility)
    parity_after = hh.parity[idx].astype(np.int64) + 1
    son = wants_son(hh, idx)
    # a household with sons and no daughter selects against a boy once it has two sons, or at a
    # birth beyond its desired size (one it has for the daughter); a second child after one son
    # is wanted whatever its sex
    daughter = (~son & (hh.daughters[idx] == 0)
                & ((hh.sons[idx] >= 2) | (hh.parity[idx] >= hh.desired[idx])))
    ready = np.where(son, hh.prepared(idx, p), hh.desired[idx]).astype(np.int64)
    # births still possible after this one within both her plan and her local rule; an
    # over-quota birth is not counted on (it is decided later, against the fee)
    remaining = np.maximum(np.minimum(ready, hh.limit(idx, regime, if_girl=True))
                           - parity_after, 0)
    remaining = np.where(hh.pledged(idx, t, p, eligibility) & (parity_after == 1), 0, remaining)
    squeeze = p.behaviour.squeeze_decay ** remaining
    strength = np.where(son, hh.son_pref[idx],
                        np.where(daughter, p.son_preference.daughter_preference, 0.0))
    return strength * squeeze


def abortion_decision(hh: Households, streams: Streams, idx: np.ndarray, m: Month,
                      motivation: np.ndarray, income: np.ndarray, price, risk) -> np.ndarray:
    """Who aborts a fetus believed to be of the unwanted sex, at ``price`` (yuan) and perceived
    ``risk``; the incentive pull (the value of keeping a daughter) is felt by son-seekers."""
    b = m.p.behaviour
    pull = m.eligibility.pull(hh.inc_aware[idx], hh.age_years(idx, m.t), income)
    pull = np.where(wants_son(hh, idx), pull, 0.0)
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
    mot = motivation(hh, idx, t, p, m.regime, m.eligibility)
    idx, mot = idx[mot > 0], mot[mot > 0]
    if idx.size == 0:
        return Seeking(_EMPTY, _EMPTY, _EMPTY)
    if kernels.use_kernels():
        seeks, early, income = _seeks(hh, streams, idx, mot, m)
    else:
        seeks, early, income = _seeks_numpy(hh, streams, idx, mot, m)
    idx, mot, income, early = idx[seeks], mot[seeks], income[seeks], early[seeks]
    e_idx = idx[early]
    if e_idx.size == 0:  # no early test: nothing to decide (the draws are hashes, order-free)
        return Seeking(ultrasound=idx, early=e_idx, aborted=e_idx)
    unwanted = hh.test(e_idx, t, tech.early_test_accuracy) == wants_son(hh, e_idx)
    aborts = unwanted & abortion_decision(hh, streams, e_idx, m, mot[early], income[early],
                                          mk.legal_abortion_price, 0.0)
    return Seeking(ultrasound=idx[~early], early=e_idx, aborted=e_idx[aborts],
                   misclassified=_misclassified(hh, e_idx[aborts]))


def _seeks_numpy(hh: Households, streams: Streams, idx: np.ndarray, mot: np.ndarray,
                 m: Month) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who of ``idx`` seeks, who of them by the early test, and their incomes."""
    t, p = m.t, m.p
    b, tech, mk = p.behaviour, p.technology, p.market
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
    logit = (b.seek_intercept + b.seek_motivation * mot + u_best
             - b.first_birth_reluctance * (hh.parity[idx] == 0))
    seeks = streams.uniform("seek", t, idx) < access(hh, idx, t, tech) * sigmoid(logit)
    early = seeks & has_early & (streams.uniform("early_choice", t, idx)
                                 < sigmoid(u_early - u_us))
    return seeks, early, income


def _seeks(hh: Households, streams: Streams, idx: np.ndarray, mot: np.ndarray,
           m: Month) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_seeks_numpy` with the algebra in a kernel and the logits in numpy."""
    t, p = m.t, m.p
    b, tech, mk, pop = p.behaviour, p.technology, p.market, p.population
    approval = bool(p.registration.approval_required)
    girl = b.expected_girl_share
    term_price = m.late_price if approval else mk.legal_abortion_price
    keys = streams.keys(("early_access", "seek", "early_choice"), t)
    income, u_us, u_early, has_early, pre, first, u_seek, u_choice = km.seek_utilities(
        idx, mot, hh.rural, hh.income_mult, hh.law_aware, hh.grey, hh.registered, hh.parity,
        keys, pop.income_rural, pop.urban_income_ratio, m.county_risk, b.grey_risk,
        b.signal_risk, approval, -b.cost_weight * (m.sd_price + girl * term_price),
        -b.cost_weight * (tech.early_test_price + girl * mk.legal_abortion_price),
        b.risk_weight, tech.early_test_access, b.seek_intercept, b.seek_motivation,
        b.first_birth_reluctance)
    u_best = u_us.copy()
    u_best[has_early] = np.logaddexp(u_us[has_early], u_early[has_early])
    seeks = u_seek < access(hh, idx, t, tech) * sigmoid(pre + u_best - first)
    early = seeks & has_early & (u_choice < sigmoid(u_early - u_us))
    return seeks, early, income


def _misclassified(hh: Households, aborted: np.ndarray) -> int:
    """Aborted boys of son-seekers (a test misread as a girl)."""
    return int((hh.fetus_male[aborted] & wants_son(hh, aborted)).sum())


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
    unwanted = (hh.test(clients.women, t, p.technology.accuracy)
                == wants_son(hh, clients.women))
    idx, prov = clients.women[unwanted], clients.providers[unwanted]
    out = clients.out_of_county[unwanted]
    illegal = bool(p.registration.approval_required)
    if idx.size == 0:  # nobody to decide (the draws are hashes: skipping moves no stream)
        return LateAbortions(idx, prov, out, illegal, np.zeros(0, dtype=bool))
    mot = motivation(hh, idx, t, p, m.regime, m.eligibility)
    income = hh.income(idx, p)
    if illegal:
        price = market.col["price_late"][prov] + out * b.travel_cost
        risk = late_risk(perceived_risk(hh.law_aware[idx], hh.grey[idx], m.county_risk, b),
                         hh.registered[idx], True, b)
    else:
        price = np.full(idx.size, p.market.legal_abortion_price)
        risk = 0.0
    aborts = abortion_decision(hh, streams, idx, m, mot, income, price, risk)
    idx, prov, out = idx[aborts], prov[aborts], out[aborts]
    return LateAbortions(idx, prov, out, illegal, hh.registered[idx] & illegal,
                         _misclassified(hh, idx))


# --------------------------------------------------------------------------------------------
# survival of children: natural mortality and the excess risk of girls


def girls_excess_risk(hh: Households, idx: np.ndarray, has_son: np.ndarray, p: YearValues,
                      county: float) -> np.ndarray:
    """Excess infant death risk of a girl of household ``idx`` (abandonment, neglect):
    ``girl_neglect`` x son preference x (``neglect_with_son`` if she has a living brother) x
    the household's relative poverty (mean income / its income, at most 3) x (1 - perceived
    risk of being caught)."""
    b = p.behaviour
    risk = perceived_risk(hh.law_aware[idx], hh.grey[idx], county, b)
    poverty = np.minimum(1.0 / hh.income_mult[idx], 3.0)
    brother = np.where(has_son, b.neglect_with_son, 1.0)
    return b.girl_neglect * hh.son_pref[idx] * brother * poverty * (1.0 - risk)


def _die(u: np.ndarray, natural: np.ndarray, excess: np.ndarray) -> tuple[np.ndarray, ...]:
    """Deaths from one draw: natural if ``u < natural``, excess if just above it."""
    return u < natural + excess, u >= natural


def infant_deaths(hh: Households, streams: Streams, births: Births, m: Month) -> Deaths:
    """Which of this month's newborns die in infancy (drawn at birth: infant deaths come
    mostly in the first weeks)."""
    p = m.p
    pop = p.population
    if kernels.use_kernels():
        b = p.behaviour
        dies, is_excess = km.infant_pass(
            births.idx, births.male, births.sons_before, births.parity_before, hh.law_aware,
            hh.grey, hh.son_pref, hh.income_mult, streams.key("infant_death", m.t),
            pop.infant_mortality, pop.male_mortality_ratio, m.county_risk, b.grey_risk,
            np.float32(b.girl_neglect), b.neglect_with_son, MAX_CHILDREN)
        return Deaths(births.idx[dies], births.parity_before[dies].astype(np.int64),
                      births.male[dies], np.zeros(int(dies.sum()), dtype=np.int64),
                      is_excess[dies])
    natural = pop.infant_mortality * np.where(births.male, pop.male_mortality_ratio, 1.0)
    excess = np.where(births.male, 0.0, girls_excess_risk(hh, births.idx, births.sons_before > 0,
                                                          p, m.county_risk))
    dies, is_excess = _die(streams.uniform("infant_death", m.t, births.idx), natural, excess)
    dies &= births.parity_before < MAX_CHILDREN
    return Deaths(births.idx[dies], births.parity_before[dies].astype(np.int64),
                  births.male[dies], np.zeros(int(dies.sum()), dtype=np.int64),
                  is_excess[dies] & ~births.male[dies])


def child_deaths(hh: Households, streams: Streams, idx: np.ndarray, t: int, p: YearValues,
                 county: float) -> Deaths:
    """Which living children aged 1-17 of the mothers ``idx`` die in the coming year (drawn in
    January): at 1-4 ``mortality_1_4`` x infant mortality (and x the girls' excess risk), at
    5-17 ``mortality_5_17`` x infant mortality; boys x ``male_mortality_ratio``."""
    pop = p.population
    if kernels.use_kernels():
        b = p.behaviour
        keys = np.array([streams.key(f"child_death_{k}", t) for k in range(MAX_CHILDREN)],
                        dtype=np.uint64)
        return Deaths(*kernels.child_deaths_pass(
            idx, t, hh.parity, hh.child_dead, hh.child_born, hh.child_male, hh.sons,
            hh.law_aware, hh.grey, hh.son_pref, hh.income_mult, keys, pop.infant_mortality,
            pop.mortality_1_4, pop.mortality_5_17, pop.male_mortality_ratio, county,
            b.grey_risk, np.float32(b.girl_neglect), b.neglect_with_son, MAX_CHILDREN))
    out = []
    for k in range(MAX_CHILDREN):
        has = hh.parity[idx] > k
        if not has.any():
            break
        i = idx[has & ~bit(hh.child_dead[idx], k)]
        age = t - hh.child_born[i, k].astype(np.int64)
        young, older = (age >= 12) & (age < 60), (age >= 60) & (age < 18 * 12)
        i, young, older = i[young | older], young[young | older], older[young | older]
        male = bit(hh.child_male[i], k)
        level = pop.infant_mortality * np.where(young, pop.mortality_1_4, pop.mortality_5_17)
        natural = level * np.where(male, pop.male_mortality_ratio, 1.0)
        excess = np.where(young & ~male, pop.mortality_1_4
                          * girls_excess_risk(hh, i, hh.sons[i] > 0, p, county), 0.0)
        dies, is_excess = _die(streams.uniform(f"child_death_{k}", t, i), natural, excess)
        out.append((i[dies], np.full(int(dies.sum()), k), male[dies],
                    np.where(young[dies], 1, 2), is_excess[dies] & ~male[dies]))
    if not out:
        e = np.zeros(0, dtype=np.int64)
        return Deaths(e, e, e.astype(bool), e, e.astype(bool))
    return Deaths(*(np.concatenate(parts) for parts in zip(*out)))
