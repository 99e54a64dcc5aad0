"""Households: one woman aged 15-49 and her partner, stored as a struct of numpy arrays.

No household is ever a Python object. Every rule below acts on an index array of the households
it concerns in that month, and most months touch only the few percent of households that have an
event: a conception, a pregnancy milestone, the end of a postpartum wait, or entry at 15. Each
household's next wake-up month is ``next_event``; pregnancies are found by their conception
month. A yearly pass (norms, re-evaluation of women held back by the policy, incentive
certification) runs over all households in chunks of 2^20 so that peak memory stays near the
state itself (see :data:`BYTES_PER_HOUSEHOLD`).

This module holds the state and the life course; the decisions about sex selection are in
:mod:`popsim.model.selection`, the incentive rules in :mod:`popsim.model.incentives`.

Life course (after Kashyap & Villavicencio 2016, "willing, able, ready"):

* A woman enters at 15 in the slot of one who left at 50 (constant population). Her son
  preference is drawn from a Beta distribution around her cohort's mean; her desired family size
  is ``1 + Poisson(desired - 1)``; she starts childbearing at a union age
  ~ N(union_age, union_age_sd).
* **Wants another child** if below her desired size, or if she has no son, "needs a son"
  (son preference above ``threshold``) and is below ``son_seeking_max_parity`` (son-preferring
  stopping). The fertility-policy limit applies; a household over it has the child anyway with
  probability ``policy.violation`` per year. A household pledged to a small-family reward
  (:meth:`~popsim.model.incentives.Eligibility.pledges`) wants no second child.
* **Conception** after a geometric wait with the monthly fecundability times the Coale-Trussell
  natural-fertility age pattern. Fetus male with probability ``srb/(100+srb)``.
* Births update parity and children by sex; a postpartum wait follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario.year import YearValues
from .coords import AGE_GROUPS, age_group_index
from .incentives import Eligibility
from .streams import Streams

__all__ = ["Households", "Births", "WAITING", "TRYING", "PREGNANT", "DONE", "HELD",
           "ROUTE_NONE", "ROUTE_EARLY", "ROUTE_ULTRASOUND", "BYTES_PER_HOUSEHOLD", "CHUNK"]

#: WAITING: before union, or in a postpartum/post-abortion wait; TRYING: waiting to conceive;
#: DONE: wants no more children; HELD: wants another but the policy limit holds her back
#: (re-evaluated every year: she may violate the limit or give up).
WAITING, TRYING, PREGNANT, DONE, HELD = 0, 1, 2, 3, 4
NO_EVENT = np.iinfo(np.int32).max
ENTRY_AGE, EXIT_AGE = 15, 50
LIFE_MONTHS = (EXIT_AGE - ENTRY_AGE) * 12
#: Natural fertility by age group relative to 20-24 (Coale & Trussell 1974, n(a)).
NATURAL_FERTILITY = np.array([0.89, 1.0, 0.94, 0.86, 0.70, 0.36, 0.05])
#: Households per chunk in passes over many of them (bounds temporary memory).
CHUNK = 1 << 20

_STATE = {  # name: dtype. One entry per household.
    "birth_month": np.int32, "township": np.int16, "rural": np.bool_, "migrant": np.bool_,
    "income_mult": np.float32, "desired": np.int8, "parity": np.int8, "sons": np.int8,
    "daughters": np.int8, "first_girl": np.bool_, "son_pref": np.float32, "status": np.int8,
    "next_event": np.int32, "conceived": np.int32, "fetus_male": np.bool_,
    "registered": np.bool_, "route": np.int8, "provider": np.int32, "law_aware": np.bool_,
    "inc_aware": np.bool_, "grey": np.bool_, "certified": np.bool_,
}
#: Bytes of state per household.
BYTES_PER_HOUSEHOLD = sum(np.dtype(d).itemsize for d in _STATE.values())

#: The sex-determination route a pregnant woman has chosen (the ``route`` state).
ROUTE_NONE, ROUTE_EARLY, ROUTE_ULTRASOUND = 0, 1, 2


@dataclass(frozen=True)
class Births:
    """The births of one month: the mothers (``idx``) and the facts before the birth that the
    recorder, the office and the incentives need."""

    idx: np.ndarray
    male: np.ndarray
    parity_before: np.ndarray
    sons_before: np.ndarray
    daughters_before: np.ndarray
    #: provider row that sold the mother an illegal sex determination (-1 if none)
    provider: np.ndarray


class Households:
    """The household population of one run (arrays of length ``n``)."""

    birth_month: np.ndarray
    township: np.ndarray
    rural: np.ndarray
    migrant: np.ndarray
    income_mult: np.ndarray
    desired: np.ndarray
    parity: np.ndarray
    sons: np.ndarray
    daughters: np.ndarray
    first_girl: np.ndarray
    son_pref: np.ndarray
    status: np.ndarray
    next_event: np.ndarray
    conceived: np.ndarray
    fetus_male: np.ndarray
    registered: np.ndarray
    route: np.ndarray
    provider: np.ndarray
    law_aware: np.ndarray
    inc_aware: np.ndarray
    grey: np.ndarray
    certified: np.ndarray

    def __init__(self, n: int, townships: int, streams: Streams, t0: int,
                 p: YearValues) -> None:
        self.n = n
        self.townships = townships
        self.streams = streams
        for name, dtype in _STATE.items():
            setattr(self, name, np.zeros(n, dtype=dtype))
        self.next_event[:] = NO_EVENT
        self.provider[:] = -1
        # Slot i takes a new 15-year-old every LIFE_MONTHS months, in month phase[i]; sorting
        # slots by phase makes each month's exits one contiguous block.
        phase = (np.arange(n, dtype=np.int64) * LIFE_MONTHS) // n
        self._block_start = np.searchsorted(phase, np.arange(LIFE_MONTHS + 1)).astype(np.int64)
        self._conceptions: dict[int, np.ndarray] = {}
        # Initial women: every age 15-49 present at t0, all as if just entered (the burn-in
        # gives them their histories).
        for ph in range(LIFE_MONTHS):
            a, b = self._block_start[ph], self._block_start[ph + 1]
            if a == b:
                continue
            age_months = ENTRY_AGE * 12 + (t0 - ph) % LIFE_MONTHS
            self._enter(np.arange(a, b), t0, p, birth_month=t0 - age_months)

    # ---------------------------------------------------------------------------------------
    # helpers

    def age_years(self, idx: np.ndarray, t: int) -> np.ndarray:
        return (t - self.birth_month[idx]) / 12.0

    def _schedule(self, idx: np.ndarray, months: np.ndarray) -> None:
        """Set each household's next wake-up month."""
        self.next_event[idx] = months

    def due(self, t: int) -> np.ndarray:
        """Households whose wake-up month is ``t``.

        One comparison over ``next_event`` (about 0.3 ms a month per million households) is
        cheaper than keeping an event calendar, and a slot can never be returned twice."""
        return np.flatnonzero(self.next_event == t)

    def pregnant_since(self, t: int, months: int) -> np.ndarray:
        """Households whose current pregnancy began ``months`` months before ``t``."""
        idx = self._conceptions.get(t - months)
        if idx is None:
            return np.empty(0, dtype=np.int64)
        return idx[(self.status[idx] == PREGNANT) & (self.conceived[idx] == t - months)]

    def limit(self, idx: np.ndarray, regime_limits: tuple[int, int, int],
              if_girl: bool = False) -> np.ndarray:
        """Births allowed by the fertility policy for each household.

        With ``if_girl`` a household still without children is judged as if its first child
        were a girl: the case that matters for the squeeze on a first pregnancy.
        """
        urban, rural_boy, rural_girl = regime_limits
        girl_first = self.first_girl[idx] | (if_girl & (self.parity[idx] == 0))
        return np.where(self.rural[idx], np.where(girl_first, rural_girl, rural_boy), urban)

    def income(self, idx: np.ndarray, p: YearValues) -> np.ndarray:
        """Household income in yuan per year."""
        base = np.where(self.rural[idx], 1.0, p.population.urban_income_ratio)
        return p.population.income_rural * base * self.income_mult[idx]

    # ---------------------------------------------------------------------------------------
    # entry and exit

    def _enter(self, idx: np.ndarray, t: int, p: YearValues,
               birth_month: int | None = None) -> None:
        """Reset slots ``idx`` to new women (age 15 unless ``birth_month`` says otherwise)."""
        g = self.streams.generator("entry")
        k = idx.size
        pop, sp, fe = p.population, p.son_preference, p.fertility
        self.birth_month[idx] = t - ENTRY_AGE * 12 if birth_month is None else birth_month
        self.township[idx] = g.integers(0, self.townships, k)
        rural = g.random(k) < pop.rural_share
        self.rural[idx] = rural
        self.migrant[idx] = g.random(k) < np.where(rural, pop.migrant_share_rural,
                                                   pop.migrant_share_urban)
        s = pop.income_sigma
        self.income_mult[idx] = np.exp(s * g.standard_normal(k) - 0.5 * s * s)
        mean_desired = fe.desired_children + rural * fe.rural_extra_children
        self.desired[idx] = np.minimum(1 + g.poisson(np.maximum(mean_desired - 1.0, 0.0)),
                                       fe.desired_max)
        mean = sp.cohort_mean + rural * sp.rural_shift
        m = np.clip(mean, 0.01, 0.99)
        self.son_pref[idx] = g.beta(m * sp.concentration, (1 - m) * sp.concentration) * (mean > 0)
        for name in ("parity", "sons", "daughters", "route"):
            getattr(self, name)[idx] = 0
        for name in ("first_girl", "fetus_male", "registered", "grey", "certified"):
            getattr(self, name)[idx] = False
        self.provider[idx] = -1
        self.law_aware[idx] = g.random(k) < p.behaviour.law_awareness_base
        self.inc_aware[idx] = g.random(k) < p.incentives.base_awareness
        self.status[idx] = WAITING
        union = np.clip(g.normal(fe.union_age, fe.union_age_sd, k), ENTRY_AGE, fe.union_age_max)
        age_now = (t - self.birth_month[idx]) / 12.0
        self._schedule(idx, (t + np.maximum(np.ceil((union - age_now) * 12), 1)).astype(np.int32))

    def exits_and_entries(self, t: int, p: YearValues) -> int:
        """Women reaching 50 leave; a new 15-year-old takes each slot. Returns the count."""
        ph = t % LIFE_MONTHS
        a, b = self._block_start[ph], self._block_start[ph + 1]
        if a < b:
            self._enter(np.arange(a, b), t, p)
        return int(b - a)

    # ---------------------------------------------------------------------------------------
    # desires and conception

    def wake(self, t: int, p: YearValues, regime_limits: tuple[int, int, int],
             eligibility: Eligibility) -> None:
        """Women whose wait ends this month: those trying conceive (:meth:`conceive`), those
        waiting (after union, a birth or an abortion) decide whether to try (:meth:`evaluate`)."""
        due = self.due(t)
        status = self.status[due]
        self.conceive(due[status == TRYING], t, p)
        waking = due[status == WAITING]
        for a in range(0, waking.size, CHUNK):  # bounded temporaries (the first months wake most)
            self.evaluate(waking[a:a + CHUNK], t, p, regime_limits, eligibility)

    def evaluate(self, idx: np.ndarray, t: int, p: YearValues,
                 regime_limits: tuple[int, int, int], eligibility: Eligibility,
                 lag_months: float = 0.0) -> None:
        """Decide who tries for another child now; the rest stop (re-evaluated yearly).

        ``lag_months`` spreads the start of trying uniformly over that many months (couples
        take time to act on a change of the policy).
        """
        if idx.size == 0:
            return
        parity = self.parity[idx]
        need_son = ((self.sons[idx] == 0) & (self.son_pref[idx] > p.son_preference.threshold)
                    & (parity < p.fertility.son_seeking_max_parity))
        pledged = self.pledged(idx, t, p, eligibility) & (parity >= 1)
        want = ((parity < self.desired[idx]) | need_son) & ~pledged
        over = parity >= self.limit(idx, regime_limits)
        violate = self.streams.uniform("violation", t, idx) < p.policy.violation
        tries = want & (~over | violate)
        held = want & over & ~violate
        give_up = held & ~need_son & (self.streams.uniform("adaptation", t, idx)
                                      < p.fertility.desire_adaptation)
        self.desired[idx[give_up]] = parity[give_up]
        age = self.age_years(idx, t)
        group = np.clip(((age - ENTRY_AGE) // 5).astype(np.int64), 0, 6)
        f = p.fertility.fecundability * NATURAL_FERTILITY[group]
        tries &= (f > 0) & (age < EXIT_AGE)
        u = self.streams.uniform("conception_wait", t, idx)
        wait = 1 + np.floor(np.log1p(-u) / np.log1p(-np.minimum(f, 0.999)))
        if lag_months > 0:
            wait += np.floor(self.streams.uniform("policy_lag", t, idx) * lag_months)
        wait = np.minimum(wait, LIFE_MONTHS)
        go = idx[tries]
        self.status[go] = TRYING
        self._schedule(go, (t + wait[tries]).astype(np.int32))
        stop = idx[~tries]
        self.status[stop] = np.where((held & ~give_up)[~tries], HELD, DONE)
        self.next_event[stop] = NO_EVENT

    def conceive(self, idx: np.ndarray, t: int, p: YearValues) -> np.ndarray:
        """Trying women whose wait ended conceive, unless their wish has lapsed meanwhile."""
        parity = self.parity[idx]
        need_son = ((self.sons[idx] == 0) & (self.son_pref[idx] > p.son_preference.threshold)
                    & (parity < p.fertility.son_seeking_max_parity))
        still = (parity < self.desired[idx]) | need_son
        lapsed = idx[~still]
        self.status[lapsed] = DONE
        self.next_event[lapsed] = NO_EVENT
        idx = idx[still]
        srb = p.behaviour.natural_srb
        self.fetus_male[idx] = self.streams.uniform("fetus_sex", t, idx) < srb / (100.0 + srb)
        cover = np.where(self.migrant[idx], p.registration.coverage * p.registration.migrant_factor,
                         p.registration.coverage)
        self.registered[idx] = self.grey[idx] | (self.streams.uniform("registration", t, idx)
                                                 < cover)
        self.status[idx] = PREGNANT
        self.conceived[idx] = t
        self.next_event[idx] = NO_EVENT
        self.route[idx] = ROUTE_NONE
        self.provider[idx] = -1
        self._conceptions[t] = idx
        self._conceptions.pop(t - 10, None)
        return idx

    # ---------------------------------------------------------------------------------------
    # incentives

    def pledged(self, idx: np.ndarray, t: int, p: YearValues,
                eligibility: Eligibility) -> np.ndarray:
        """Households that plan to stop at one child to earn a small-family reward
        (:meth:`~popsim.model.incentives.Eligibility.pledges`). The draw is fixed per woman
        (keyed by her birth month), so her plan is the same at every decision."""
        if not eligibility.pledging:
            return np.zeros(idx.size, dtype=bool)
        u = self.streams.uniform("pledge", 0, idx + self.birth_month[idx].astype(np.int64) * self.n)
        return eligibility.pledges(self.inc_aware[idx], self.age_years(idx, t), self.income(idx, p),
                                   u)

    # ---------------------------------------------------------------------------------------
    # sex determination, abortion, birth

    def test(self, idx: np.ndarray, t: int, accuracy: float) -> np.ndarray:
        """Sex determination: returns True where the fetus is believed female."""
        correct = self.streams.uniform("test_accuracy", t, idx) < accuracy
        return np.where(correct, ~self.fetus_male[idx], self.fetus_male[idx])

    def abort(self, idx: np.ndarray, t: int, p: YearValues) -> None:
        """The pregnancies of ``idx`` end in an abortion; a short wait follows."""
        self.status[idx] = WAITING
        self.provider[idx] = -1
        months = np.full(idx.size, t + max(int(round(p.fertility.post_abortion_months)), 1),
                         dtype=np.int32)
        self._schedule(idx, months)

    def give_birth(self, idx: np.ndarray, t: int, p: YearValues) -> Births:
        """Births at gestation month 9 (the postpartum wait spreads uniformly around its mean)."""
        male = self.fetus_male[idx]
        parity_before = self.parity[idx].copy()
        sons_before = self.sons[idx].copy()
        daughters_before = self.daughters[idx].copy()
        self.first_girl[idx] |= (parity_before == 0) & ~male
        self.parity[idx] = parity_before + 1
        self.sons[idx] += male
        self.daughters[idx] += ~male
        self.status[idx] = WAITING
        u = self.streams.uniform("postpartum", t, idx)
        fe = p.fertility
        spread = fe.postpartum_spread
        wait = np.maximum(np.round(fe.postpartum_months * ((1.0 - spread) + 2.0 * spread * u)), 1)
        self._schedule(idx, (t + wait).astype(np.int32))
        return Births(idx=idx, male=male, parity_before=parity_before, sons_before=sons_before,
                      daughters_before=daughters_before, provider=self.provider[idx].copy())

    # ---------------------------------------------------------------------------------------
    # the yearly pass

    def chunks(self):
        for a in range(0, self.n, CHUNK):
            yield slice(a, min(a + CHUNK, self.n))

    def yearly_norms(self, t: int, p: YearValues) -> float:
        """Secular decline, propaganda and peer influence; returns propaganda contacts.

        Propaganda reaches each household ``k ~ Binomial(12, reach)`` times a year; a household
        reached at least once (probability ``1-(1-reach)^12``) gets the mean effect of ``k`` given
        ``k >= 1``: son preference times ``(1-persuasion)^k``, and law and incentive awareness
        each with probability ``1-(1-awareness)^k``.
        """
        sp, pr = p.son_preference, p.propaganda
        p_reach = 1.0 - (1.0 - pr.reach) ** 12
        k = 12 * pr.reach / p_reach if p_reach > 0 else 0.0
        sums = np.zeros(self.townships)
        counts = np.zeros(self.townships)
        for s in self.chunks():
            sums += np.bincount(self.township[s], weights=self.son_pref[s],
                                minlength=self.townships)
            counts += np.bincount(self.township[s], minlength=self.townships)
        town_mean = (sums / np.maximum(counts, 1)).astype(np.float32)
        contacts = 0
        for s in self.chunks():
            idx = np.arange(s.start, s.stop)
            x = self.son_pref[s] * np.float32(1.0 - sp.secular_decline)
            x += np.float32(sp.peer_influence) * (town_mean[self.township[s]] - x)
            if p_reach > 0:
                reached = self.streams.uniform("propaganda", t, idx) < p_reach
                contacts += int(reached.sum())
                x[reached] *= np.float32((1.0 - pr.persuasion) ** k)
                law = (self.streams.uniform("law_awareness", t, idx)
                       < 1 - (1 - pr.law_awareness) ** k)
                inc = (self.streams.uniform("inc_awareness", t, idx)
                       < 1 - (1 - pr.incentive_awareness) ** k)
                self.law_aware[s] |= reached & law
                self.inc_aware[s] |= reached & inc
            self.son_pref[s] = np.clip(x, 0.0, 1.0)
        return contacts * k

    def to_reevaluate(self, limits_changed: bool):
        """Women whose wish for another child must be looked at again this year, in chunks of
        indices: those held back by the policy, and, when the policy's limits change, also
        those who had stopped.

        A woman who stopped does not start again otherwise: her desired size and her son
        preference only fall (peer influence can raise a preference slightly; that is ignored
        until the next policy change)."""
        for s in self.chunks():
            st = self.status[s]
            mask = (st == HELD) | ((st == DONE) if limits_changed else False)
            yield s.start + np.flatnonzero(mask)

    def certify(self, t: int, eligibility: Eligibility) -> tuple[int, float]:
        """Certify newly qualifying households that have stopped; returns (count, PV in yuan).

        Who qualifies is :meth:`~popsim.model.incentives.Eligibility.qualifies_at_certification`;
        the cost booked is the present value of the benefit stream at certification (the
        county's commitment).
        """
        if not eligibility.certifies:
            return 0, 0.0
        count, value = 0, 0.0
        for s in self.chunks():
            idx = s.start + np.flatnonzero((self.status[s] == DONE) & ~self.certified[s])
            idx = idx[eligibility.qualifies_at_certification(self.sons[idx], self.daughters[idx],
                                                             self.parity[idx])]
            self.certified[idx] = True
            count += idx.size
            value += float(eligibility.present_value(self.age_years(idx, t)).sum())
        return count, value

    def women_by_age(self, t: int) -> np.ndarray:
        """Women in each of :data:`~popsim.model.coords.AGE_GROUPS` in month ``t``."""
        women = np.zeros(len(AGE_GROUPS))
        for s in self.chunks():
            women += np.bincount(age_group_index(t - self.birth_month[s]),
                                 minlength=len(AGE_GROUPS))
        return women
