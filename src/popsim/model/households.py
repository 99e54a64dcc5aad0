"""Households: one woman aged 15-49 and her partner, stored as a struct of numpy arrays.

No household is ever a Python object. Every rule below acts on an index array of the households
it concerns in that month, and most months touch only the few percent of households that have an
event: a conception, a pregnancy milestone, the end of a postpartum wait, or entry at 15. Each
household's next wake-up month is ``next_event``; a pregnant woman's is minus her conception
month, by which the milestones of her pregnancy find her. A yearly pass (norms, child mortality,
re-evaluation of women held back by the policy, incentive certification, the year-end census)
runs over all households in chunks so that peak memory stays near the state itself (see
:data:`BYTES_PER_HOUSEHOLD`).

This module holds the state and the life course; the decisions about sex selection and the
survival of girls are in :mod:`popsim.model.selection`, the local fertility rules and the
over-quota decision in :mod:`popsim.model.fertility_policy`, each woman's children in
:mod:`popsim.model.children`, the incentive rules in :mod:`popsim.model.incentives`.

Life course (after Kashyap & Villavicencio 2016, "willing, able, ready"):

* **Entry.** Each slot takes a new 15-year-old when its woman reaches 50; the slot is filled
  with probability ``population.cohort_size`` (cohorts grow and shrink), otherwise it stays
  INACTIVE until the next entry 35 years later. Her son preference is drawn from a Beta
  distribution around her cohort's mean; her desired family size follows the year's level
  (``1 + Poisson(desired - 1)`` for some women, the integers next to it for the others; she
  keeps her rank as the level changes, :meth:`Households.desired_size`);
  her residence from ``population.rural_share`` of her entry year, her local fertility rule group
  (:func:`~popsim.model.fertility_policy.draw_groups`); she starts childbearing at a union age
  ~ N(union_age, union_age_sd).
* **Prepared births** (:meth:`Households.prepared`): her desired size, plus
  ``fertility.son_seeking_extra`` if she needs a son (son preference above ``threshold``): the
  squeeze on sex selection is full at the last of them.
* **Wants another child** if below her desired size, or if she has no living son and needs one
  (below ``son_seeking_max_parity``: son-preferring stopping). Over her local
  limit she has it anyway with the over-quota probability
  (:func:`~popsim.model.fertility_policy.overquota_probability`, the maintenance fee); otherwise
  she is held back and may give up the wish. A household pledged to a small-family reward
  (:meth:`~popsim.model.incentives.Eligibility.pledges`) wants no second child.
* **Conception** after a geometric wait with the monthly fecundability times the Coale-Trussell
  natural-fertility age pattern. Fetus male with probability ``srb/(100+srb)``.
* **Births** add a child (:mod:`~popsim.model.children`); ``parity`` counts children ever born,
  ``sons`` and ``daughters`` the living ones. An over-quota birth may be hidden from
  registration; if not, its fee is collected with ``policy.fee_collection``. A hidden daughter
  of a family without a living son lives away from its household (``child_away``: given to
  relatives or another family, or kept from the census; only the census roster sees it). A
  postpartum wait follows.
"""

from __future__ import annotations

import numpy as np

from ..scenario.year import YearValues
from . import fertility_policy as fp
from . import kernels
from . import kernels_calls as calls
from . import kernels_monthly as km
from .children import (CENSUS, MAX_CHILDREN, Births, bury_children, census,
                       store_children)
from .coords import AGE_GROUPS, age_group_index
from .incentives import Eligibility
from .streams import Streams

__all__ = ["Households", "Births", "WAITING", "TRYING", "PREGNANT", "DONE", "HELD", "INACTIVE",
           "ROUTE_NONE", "ROUTE_EARLY", "ROUTE_ULTRASOUND", "BYTES_PER_HOUSEHOLD", "CHUNK"]

#: WAITING: before union, or in a postpartum/post-abortion wait; TRYING: waiting to conceive;
#: DONE: wants no more children; HELD: wants another but the policy limit holds her back
#: (re-evaluated every year: she may go over the limit or give up); INACTIVE: an empty slot (its
#: cohort was smaller than the largest), no woman.
WAITING, TRYING, PREGNANT, DONE, HELD, INACTIVE = 0, 1, 2, 3, 4, 5
#: Months (12 x year + month) are int16: those of the schema's years, their negatives and the
#: longest waits fit, below NO_EVENT.
NO_EVENT = np.iinfo(np.int16).max
ENTRY_AGE, EXIT_AGE = 15, 50
LIFE_MONTHS = (EXIT_AGE - ENTRY_AGE) * 12
#: Natural fertility by age group relative to 20-24 (Coale & Trussell 1974, n(a)).
NATURAL_FERTILITY = np.array([0.89, 1.0, 0.94, 0.86, 0.70, 0.36, 0.05])
#: What the kernels of :meth:`Households.evaluate` need of the constants above and below.
_CONSTANTS = (tuple(NATURAL_FERTILITY), EXIT_AGE, LIFE_MONTHS, TRYING, HELD, DONE, NO_EVENT)
#: Households per chunk of a pass over many (bounds temporaries; the yearly float sums round
#: by CHUNK, so it stays); decisions (each a household's own) take the smaller DECISION_CHUNK.
CHUNK, DECISION_CHUNK = 1 << 20, 1 << 18
#: The gestation months at which the model asks who is pregnant (:meth:`Households.wake`):
#: the choice of sex determination, the ultrasound, the birth.
MILESTONES = (2, 4, 9)

_STATE = {  # name: dtype, or (dtype, columns). One entry per household.
    "birth_month": np.int16, "township": np.int16, "rural": np.bool_, "migrant": np.bool_,
    "income_mult": np.float32, "desired": np.int8, "parity": np.int8, "sons": np.int8,
    "daughters": np.int8, "son_pref": np.float32, "status": np.int8,
    "next_event": np.int16, "fetus_male": np.bool_, "registered": np.bool_, "route": np.int8,
    "provider": np.int16, "law_aware": np.bool_, "inc_aware": np.bool_, "grey": np.bool_,
    "certified": np.bool_, "rule": np.int8, "resigned": np.bool_,
    "child_male": np.uint8, "child_dead": np.uint8, "child_away": np.uint8,
    "child_born": (np.int16, MAX_CHILDREN),
}
#: Bytes of state per household (51: the children's arrays take 19).
BYTES_PER_HOUSEHOLD = sum(np.dtype(d[0]).itemsize * d[1] if isinstance(d, tuple)
                          else np.dtype(d).itemsize for d in _STATE.values())

#: The sex-determination route a pregnant woman has chosen (the ``route`` state).
ROUTE_NONE, ROUTE_EARLY, ROUTE_ULTRASOUND = 0, 1, 2


def _allocate(n: int) -> list[np.ndarray]:
    """Zeroed state arrays of ``n`` households (in the order of ``_STATE``), views into one
    buffer: the kernels read a dozen arrays at random slots, and one large buffer gets huge
    pages (numpy asks above 4 MB) where megabyte arrays would not: fewer page-table walks."""
    specs = [((n, d[1]), np.dtype(d[0])) if isinstance(d, tuple) else ((n,), np.dtype(d))
             for d in _STATE.values()]
    sizes = [int(np.prod(shape)) * dt.itemsize for shape, dt in specs]
    starts = np.cumsum([0] + [-(-z // 64) * 64 for z in sizes])  # 64-byte aligned
    buf = np.zeros(int(starts[-1]), dtype=np.uint8)
    return [buf[a:a + z].view(dt).reshape(shape) for (shape, dt), z, a in zip(specs, sizes, starts)]


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
    son_pref: np.ndarray
    status: np.ndarray
    #: the next wake-up month (NO_EVENT: none); while pregnant, minus the conception month
    next_event: np.ndarray
    fetus_male: np.ndarray
    registered: np.ndarray
    route: np.ndarray
    provider: np.ndarray
    law_aware: np.ndarray
    inc_aware: np.ndarray
    grey: np.ndarray
    certified: np.ndarray
    rule: np.ndarray
    #: held back by the policy, she has given up further children for good (her desired size
    #: stays at her parity, she no longer seeks a son)
    resigned: np.ndarray
    child_male: np.ndarray
    child_dead: np.ndarray
    child_born: np.ndarray

    def __init__(self, n: int, townships: int, streams: Streams, t0: int,
                 p: YearValues) -> None:
        self.n = n
        self.townships = townships
        self.streams = streams
        for name, view in zip(_STATE, _allocate(n)):
            setattr(self, name, view)
        self.next_event[:] = NO_EVENT
        self.provider[:] = -1
        # Slot i takes a new 15-year-old every LIFE_MONTHS months, in month i * LIFE_MONTHS // n
        # (slots sorted by it, so each month's exits are one block: from ceil(ph * n / L) on)
        self._block_start = -(-np.arange(LIFE_MONTHS + 1, dtype=np.int64) * n // LIFE_MONTHS)
        self._milestones: tuple[int, dict[int, np.ndarray]] = (t0 - 1, {})  # see wake
        # Initial women: every age 15-49 present at t0, all as if just entered (the burn-in
        # gives them their histories).
        for ph in range(LIFE_MONTHS):
            a, b = self._block_start[ph], self._block_start[ph + 1]
            if a == b:
                continue
            age_months = ENTRY_AGE * 12 + (t0 - ph) % LIFE_MONTHS
            self._enter(np.arange(a, b), t0, p, birth_month=t0 - age_months)
        for s in self.chunks():
            self._leave_empty(np.arange(s.start, s.stop), t0, p)

    # ---------------------------------------------------------------------------------------
    # helpers

    def age_years(self, idx: np.ndarray, t: int) -> np.ndarray:
        return (t - self.birth_month[idx].astype(np.int64)) / 12.0

    def _schedule(self, idx: np.ndarray, months: np.ndarray | int) -> None:
        """Set each household's next wake-up month."""
        self.next_event[idx] = months

    def due(self, t: int, s: slice = slice(0, None)) -> np.ndarray:
        """Households (among the slots ``s``) whose wake-up month is ``t``.

        One comparison over ``next_event`` (about 0.3 ms a month per million households) is
        cheaper than keeping an event calendar, and a slot can never be returned twice."""
        return s.start + np.flatnonzero(self.next_event[s] == t)

    def pregnant_since(self, t: int, months: int) -> np.ndarray:
        """Households (int64, in slot order) whose current pregnancy began ``months`` months
        before ``t``: for the :data:`MILESTONES` of month ``t``, the lists of the month's scan
        (:meth:`wake`; a pregnancy ended after it, such as an abortion at month 2, stays in
        its list), else a scan now."""
        month, lists = self._milestones
        if month == t and months in lists:
            return lists[months]
        return np.flatnonzero(self.next_event == months - t)  # (only a pregnancy's is < 0)

    def limit(self, idx: np.ndarray, regime: str, if_girl: bool = False) -> np.ndarray:
        """Births each household's local fertility rule allows under the national ``regime``.

        With ``if_girl`` a household still without children is judged as if its first child
        were a girl: the case that matters for the squeeze on a first pregnancy.
        """
        if kernels.use_kernels():
            return km.limits(idx, self.parity, self.child_male, self.rural, self.rule,
                                  fp.limit_table(regime), if_girl)
        parity = self.parity[idx]
        first_girl = ((parity >= 1) & ((self.child_male[idx] & 1) == 0)) | (if_girl & (parity == 0))
        return fp.limit(regime, self.rural[idx], self.rule[idx], first_girl)

    def local_regime(self, idx, regime: str) -> np.ndarray:
        """Index into :data:`~popsim.model.coords.REGIMES` of each household's local rule."""
        return fp.local_regime(regime, self.rural[idx], self.rule[idx])

    def mean_income(self, idx: np.ndarray, p: YearValues) -> np.ndarray:
        """Mean household income of each household's residence (yuan per year)."""
        return p.population.income_rural * np.where(self.rural[idx], 1.0,
                                                     p.population.urban_income_ratio)

    def income(self, idx: np.ndarray, p: YearValues) -> np.ndarray:
        """Household income in yuan per year."""
        return self.mean_income(idx, p) * self.income_mult[idx]

    def _woman_draw(self, name: str, idx: np.ndarray) -> np.ndarray:
        """A uniform draw fixed for the woman in each slot (keyed by her birth month): the same
        at every decision of her life."""
        if kernels.use_kernels():
            return kernels.hash_uniform_woman(self.streams.key(name, 0), idx, self.birth_month,
                                              self.n)
        return self.streams.uniform(name, 0, idx + self.birth_month[idx].astype(np.int64) * self.n)

    def desired_size(self, idx: np.ndarray, p: YearValues) -> np.ndarray:
        """Desired family size at this year's level ``D`` (``desired_children``, plus
        ``rural_extra_children`` if rural): for a share ``desired_spread`` of women (fixed per
        woman) ``1 + Poisson(D - 1)``, for the others the integers next to ``D`` (``floor(D)``
        or ``floor(D) + 1``, mean ``D``); at most ``desired_max``. Each is the quantile of a draw
        fixed for the woman, so that she keeps her rank as the level changes."""
        fe = p.fertility
        if kernels.use_kernels():
            return calls.desired_size(self, idx, fe)
        level = np.maximum(fe.desired_children + self.rural[idx] * fe.rural_extra_children, 1.0)
        u = self._woman_draw("desired", idx)
        lam = level - 1.0
        pmf = np.exp(-lam)
        cdf, k = pmf.copy(), np.zeros(idx.size, dtype=np.int64)
        for j in range(1, fe.desired_max):
            k += u > cdf
            pmf = pmf * lam / j
            cdf += pmf
        low = np.floor(level)
        near = low + (u > 1.0 - (level - low))
        spread = self._woman_draw("desired_spread", idx) < fe.desired_spread
        return np.minimum(np.where(spread, 1 + k, near), fe.desired_max).astype(np.int8)

    def prepared(self, idx: np.ndarray, p: YearValues) -> np.ndarray:
        """Births she is ready to have before she selects (Kashyap & Villavicencio's "ready"):
        her desired size, plus ``son_seeking_extra`` (the floor or the ceiling, fixed per
        woman) if she needs a son. The fertility squeeze is full at the last of them."""
        x = p.fertility.son_seeking_extra
        extra = np.floor(x) + (self._woman_draw("son_extra", idx) < x - np.floor(x))
        needs = self.son_pref[idx] > p.son_preference.threshold
        return self.desired[idx] + needs * extra.astype(np.int64)

    def needs_son(self, idx: np.ndarray, p: YearValues) -> np.ndarray:
        """No living son, a son preference above the threshold, below
        ``son_seeking_max_parity``, and she has not given up (:attr:`resigned`)."""
        return ((self.sons[idx] == 0) & (self.son_pref[idx] > p.son_preference.threshold)
                & (self.parity[idx] < p.fertility.son_seeking_max_parity) & ~self.resigned[idx])

    # ---------------------------------------------------------------------------------------
    # entry and exit

    def _enter(self, idx: np.ndarray, t: int, p: YearValues,
               birth_month: int | None = None) -> None:
        """Reset slots ``idx`` to new women (age 15 unless ``birth_month`` says otherwise)."""
        if kernels.use_kernels():
            return calls.enter(self, idx, t, p, birth_month, ENTRY_AGE, WAITING)
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
        self.desired[idx] = self.desired_size(idx, p)
        mean = sp.cohort_mean + rural * sp.rural_shift
        m = np.clip(mean, 0.01, 0.99)
        self.son_pref[idx] = g.beta(m * sp.concentration, (1 - m) * sp.concentration) * (mean > 0)
        self.rule[idx] = fp.draw_groups(g.random(k), rural, p)
        for name in ("parity", "sons", "daughters", "route", "child_male", "child_dead",
                     "child_away"):
            getattr(self, name)[idx] = 0
        for name in ("fetus_male", "registered", "grey", "certified", "resigned"):
            getattr(self, name)[idx] = False
        self.provider[idx] = -1
        self.law_aware[idx] = g.random(k) < p.behaviour.law_awareness_base
        self.inc_aware[idx] = g.random(k) < p.incentives.base_awareness
        self.status[idx] = WAITING
        union = np.clip(g.normal(fe.union_age, fe.union_age_sd, k), ENTRY_AGE, fe.union_age_max)
        age_now = (t - self.birth_month[idx].astype(np.int64)) / 12.0
        self._schedule(idx, (t + np.maximum(np.ceil((union - age_now) * 12), 1)).astype(np.int32))

    def _leave_empty(self, idx: np.ndarray, t: int, p: YearValues) -> None:
        """Slots beyond this cohort's size (``population.cohort_size``) stay empty."""
        empty = idx[self.streams.uniform("cohort", t, idx) >= p.population.cohort_size]
        self.status[empty] = INACTIVE
        self.next_event[empty] = NO_EVENT

    def exits_and_entries(self, t: int, p: YearValues) -> int:
        """Women reaching 50 leave; a new 15-year-old takes each slot with probability
        ``population.cohort_size``. Returns the number of women entering."""
        ph = t % LIFE_MONTHS
        a, b = self._block_start[ph], self._block_start[ph + 1]
        if a == b:
            return 0
        idx = np.arange(a, b)
        self._enter(idx, t, p)
        self._leave_empty(idx, t, p)
        return int((self.status[idx] != INACTIVE).sum())

    def active(self, s: slice) -> np.ndarray:
        """Slots of chunk ``s`` holding a woman."""
        return self.status[s] != INACTIVE

    # ---------------------------------------------------------------------------------------
    # desires and conception

    def wake(self, t: int, p: YearValues, regime: str, eligibility: Eligibility) -> None:
        """Women whose wait ends this month: those trying conceive (:meth:`conceive`), those
        waiting (after union, a birth or an abortion) decide whether to try (:meth:`evaluate`).
        The same scan of ``next_event`` finds the pregnancies at the :data:`MILESTONES` for
        :meth:`pregnant_since` (nothing else this month starts or ends one of them before it
        is asked for: entries and exits come first, the decisions here wake nobody now)."""
        found = []
        for s in self.chunks(DECISION_CHUNK):  # bounded temporaries (the first months wake most)
            trying, waiting, *pregnant = calls.month_scan(self, t, s, (TRYING, WAITING),
                                                          MILESTONES)
            self.evaluate(waiting, t, p, regime, eligibility)
            found.append((trying, *pregnant))
        trying, *later = (np.concatenate(x) for x in zip(*found))
        self._milestones = (t, dict(zip(MILESTONES, later)))
        self.conceive(trying, t, p)  # other slots: the order does not matter

    def evaluate(self, idx: np.ndarray, t: int, p: YearValues, regime: str,
                 eligibility: Eligibility, lag_months: float = 0.0) -> None:
        """Decide who tries for another child now; the rest stop (re-evaluated yearly).

        ``lag_months`` spreads the start of trying uniformly over that many months (couples
        take time to act on a change of the policy).
        """
        if idx.size == 0:
            return
        if kernels.use_kernels():
            calls.evaluate(self, idx, t, p, regime, eligibility, lag_months, _CONSTANTS)
            return
        parity = self.parity[idx]
        need_son = self.needs_son(idx, p)
        pledged = self.pledged(idx, t, p, eligibility) & (parity >= 1)
        want = ((parity < self.desired[idx]) | need_son) & ~pledged
        lim = self.limit(idx, regime)
        over = parity >= lim
        go_over = (self.streams.uniform("overquota", t, idx)
                   < fp.overquota_probability(need_son, self.rural[idx], self.income_mult[idx],
                                              parity + 1 - lim, p))
        tries = want & (~over | go_over)
        held = want & over & ~go_over
        # the wish adapts to the rule, for good: her desired size falls to her parity and she
        # no longer seeks a son (a son-seeker gives up more slowly)
        rate = np.where(need_son, p.fertility.son_adaptation, p.fertility.desire_adaptation)
        give_up = held & (self.streams.uniform("adaptation", t, idx) < rate)
        self.desired[idx[give_up]] = np.minimum(self.desired[idx[give_up]], parity[give_up])
        self.resigned[idx[give_up]] = True
        age = self.age_years(idx, t)
        group = np.clip(((age - ENTRY_AGE) // 5).astype(np.int64), 0, 6)
        f = p.fertility.fecundability * NATURAL_FERTILITY[group]
        tries &= (f > 0) & (age < EXIT_AGE)
        u = self.streams.uniform("conception_wait", t, idx)
        wait = 1 + np.floor(np.log1p(-u) / np.log1p(-np.minimum(f, 0.999)))
        # a permitted birth waits for the spacing the local rule requires since the last one
        spaced = ~over & (parity >= 1) & (regime != "none")
        last = self.child_born[idx, np.minimum(parity, MAX_CHILDREN) - 1].astype(np.int64)
        wait += spaced * np.maximum(last + p.policy.birth_spacing - 9 - t, 0)
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
        """Trying women whose wait ended conceive, unless their wish has lapsed meanwhile.
        Returns those who conceived."""
        if kernels.use_kernels():
            return calls.conceive(self, idx, t, p, (DONE, PREGNANT, NO_EVENT, ROUTE_NONE))
        srb, reg = p.behaviour.natural_srb, p.registration
        still = (self.parity[idx] < self.desired[idx]) | self.needs_son(idx, p)
        lapsed = idx[~still]
        self.status[lapsed] = DONE
        self.next_event[lapsed] = NO_EVENT
        idx = idx[still]
        self.fetus_male[idx] = self.streams.uniform("fetus_sex", t, idx) < srb / (100.0 + srb)
        cover = np.where(self.migrant[idx], reg.coverage * reg.migrant_factor, reg.coverage)
        self.registered[idx] = self.grey[idx] | (self.streams.uniform("registration", t, idx)
                                                 < cover)
        self.status[idx] = PREGNANT
        self.next_event[idx] = -t
        self.route[idx] = ROUTE_NONE
        self.provider[idx] = -1
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
        u = self._woman_draw("pledge", idx)
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
        self._schedule(idx, t + max(int(round(p.fertility.post_abortion_months)), 1))

    def give_birth(self, idx: np.ndarray, t: int, p: YearValues, regime: str) -> Births:
        """Births at gestation month 9 (the postpartum wait spreads uniformly around its mean).

        A birth above the local limit is over quota: hidden from registration with
        ``behaviour.overquota_concealment``, else its maintenance fee is collected with
        ``policy.fee_collection``."""
        if kernels.use_kernels():
            return Births(*calls.births(self, idx, t, p, regime, WAITING))
        male = self.fetus_male[idx]
        parity_before = self.parity[idx].copy()
        sons_before = self.sons[idx].copy()
        daughters_before = self.daughters[idx].copy()
        excess = parity_before + 1 - self.limit(idx, regime)
        over = excess > 0
        hidden = over & (self.streams.uniform("overquota_hidden", t, idx)
                         < p.behaviour.overquota_concealment)
        collected = over & ~hidden & (self.streams.uniform("fee", t, idx) < p.policy.fee_collection)
        fee = (collected * p.policy.maintenance_fee * fp.fee_multiple(excess)
               * self.mean_income(idx, p))
        store_children(self.child_male, self.child_away, self.child_born, idx, parity_before,
                       male, hidden & ~male & (sons_before == 0), t)
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
                      daughters_before=daughters_before, provider=self.provider[idx].copy(),
                      rural=self.rural[idx].copy(), regime=self.local_regime(idx, regime),
                      overquota=over, hidden=hidden, fee=fee)

    def bury(self, idx: np.ndarray, k: np.ndarray) -> None:
        """Child ``k`` of each mother ``idx`` has died (a mother may appear more than once)."""
        bury = km.bury_pass if kernels.use_kernels() else bury_children
        bury(idx, k, self.child_male, self.child_dead, self.sons, self.daughters)

    # ---------------------------------------------------------------------------------------
    # the yearly pass

    def chunks(self, size: int = CHUNK):
        for a in range(0, self.n, size):
            yield slice(a, min(a + size, self.n))

    def yearly_norms(self, t: int, p: YearValues) -> float:
        """Secular decline, propaganda and peer influence; returns propaganda contacts. Desired
        family sizes follow this year's level (:meth:`desired_size`), except those of women who
        have given up (:attr:`resigned`).

        Propaganda reaches each household ``k ~ Binomial(12, reach)`` times a year; a household
        reached at least once (probability ``1-(1-reach)^12``) gets the mean effect of ``k`` given
        ``k >= 1``: son preference times ``(1-persuasion)^k``, and law and incentive awareness
        each with probability ``1-(1-awareness)^k``.
        """
        sp, pr = p.son_preference, p.propaganda
        p_reach = 1.0 - (1.0 - pr.reach) ** 12
        k = 12 * pr.reach / p_reach if p_reach > 0 else 0.0
        if kernels.use_kernels():
            return calls.yearly_norms(self, t, p, p_reach, k, INACTIVE, CHUNK) * k
        sums = np.zeros(self.townships)
        counts = np.zeros(self.townships)
        for s in self.chunks():
            on = self.active(s)
            sums += np.bincount(self.township[s][on], weights=self.son_pref[s][on],
                                minlength=self.townships)
            counts += np.bincount(self.township[s][on], minlength=self.townships)
        town_mean = (sums / np.maximum(counts, 1)).astype(np.float32)
        contacts = 0
        for s in self.chunks():
            idx = np.arange(s.start, s.stop)
            x = self.son_pref[s] * np.float32(1.0 - sp.secular_decline)
            x += np.float32(sp.peer_influence) * (town_mean[self.township[s]] - x)
            if p_reach > 0:
                reached = (self.streams.uniform("propaganda", t, idx) < p_reach) & self.active(s)
                contacts += int(reached.sum())
                x[reached] *= np.float32((1.0 - pr.persuasion) ** k)
                law = (self.streams.uniform("law_awareness", t, idx)
                       < 1 - (1 - pr.law_awareness) ** k)
                inc = (self.streams.uniform("inc_awareness", t, idx)
                       < 1 - (1 - pr.incentive_awareness) ** k)
                self.law_aware[s] |= reached & law
                self.inc_aware[s] |= reached & inc
            self.son_pref[s] = np.clip(x, 0.0, 1.0)
            follow = idx[self.active(s) & ~self.resigned[s]]
            self.desired[follow] = self.desired_size(follow, p)
        return contacts * k

    def to_reevaluate(self, limits_changed: bool):
        """Women whose wish for another child must be looked at again this year, in chunks of
        indices: those held back by the policy, and, when the policy's limits change, also
        those who had stopped.

        A woman who stopped does not start again otherwise (but for the death of a child,
        :meth:`popsim.model.model.PopSimModel.step`): her son preference only falls, and her
        desired size follows the year's level, which falls in every embedded history (peer
        influence can raise a preference slightly, a level can rise; both are ignored until the
        next policy change)."""
        for s in self.chunks(DECISION_CHUNK):
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
            women += np.bincount(age_group_index(t - self.birth_month[s][self.active(s)]),
                                 minlength=len(AGE_GROUPS))
        return women

    def census(self, t_end: int, regime: str) -> dict[str, np.ndarray]:
        """The year-end census of the women present at month ``t_end`` (1 January): the
        sibship table, living children, women by children ever born and by local rule
        (:func:`popsim.model.children.census`)."""
        total = {name: np.zeros(shape) for name, shape in CENSUS.items()}
        if kernels.use_kernels():
            return calls.census(self, t_end, regime, INACTIVE)
        for s in self.chunks():
            i = s.start + np.flatnonzero(self.active(s))
            part = census(t_end, self.birth_month[i], self.parity[i], self.child_male[i],
                          self.child_dead[i], self.child_born[i], self.local_regime(i, regime),
                          self.child_away[i])
            for name, v in part.items():
                total[name] += v
        return total

