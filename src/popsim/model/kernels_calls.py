"""The calls of the compiled kernels (:mod:`popsim.model.kernels`) from the model's parts.

Each function here takes a part of the model (the households, duck-typed: this module sits
below :mod:`popsim.model.households` in the imports) and the year's values, gathers what its
kernel needs (stream keys, float32 constants, the small per-group tables that hold every
transcendental function, computed with the numpy operations of the reference) and returns what
the numpy reference returns. The parts call them when :func:`~popsim.model.kernels.use_kernels`
says so.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..scenario.year import FertilityValues, YearValues
from . import kernels
from . import kernels_monthly as km
from .children import CENSUS, GROUP_MONTHS, SIBSHIP_AGES
from .fertility_policy import limit_table, local_table, overquota_probability

__all__ = ["desired_tables", "desired_size", "yearly_norms", "census", "evaluate", "births",
           "motivation", "enter", "conceive"]


@lru_cache(maxsize=64)
def desired_tables(desired: float, rural_extra: float, desired_max: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Poisson tables of :meth:`~popsim.model.households.Households.desired_size` for urban
    and rural women (index 0, 1): the cumulative probabilities it compares a draw with
    (``desired_max - 1`` of them), the level and its floor; the same numpy operations as the
    reference, on the two residences instead of every woman."""
    level = np.maximum(desired + np.array([False, True]) * rural_extra, 1.0)
    lam = level - 1.0
    pmf = np.exp(-lam)
    cdf, cols = pmf.copy(), []
    for j in range(1, desired_max):
        cols.append(cdf.copy())
        pmf = pmf * lam / j
        cdf += pmf
    table = np.stack(cols, axis=1) if cols else np.zeros((2, 0))
    return table, level, np.floor(level)


def _desired_args(streams, fe: FertilityValues) -> tuple:
    return (streams.key("desired", 0), streams.key("desired_spread", 0),
            *desired_tables(fe.desired_children, fe.rural_extra_children, fe.desired_max),
            fe.desired_spread, fe.desired_max)


def desired_size(hh, idx: np.ndarray, fe: FertilityValues) -> np.ndarray:
    """:meth:`~popsim.model.households.Households.desired_size` (int8)."""
    return kernels.desired_sizes(idx, hh.rural, hh.birth_month, hh.n,
                                 *_desired_args(hh.streams, fe))


def yearly_norms(hh, t: int, p: YearValues, p_reach: float, k: float, inactive: int,
                 chunk: int) -> int:
    """:meth:`~popsim.model.households.Households.yearly_norms`, in place; returns the
    households reached (the caller multiplies by ``k``, the mean contacts of one reached)."""
    sp, pr = p.son_preference, p.propaganda
    key = hh.streams.key
    keys = np.array([key("propaganda", t), key("law_awareness", t), key("inc_awareness", t)],
                    dtype=np.uint64)
    d_key, s_key, cdf, level, low, spread, dmax = _desired_args(hh.streams, p.fertility)
    keys = np.append(keys, np.array([d_key, s_key], dtype=np.uint64))
    return kernels.norms_pass(
        hh.son_pref, hh.township, hh.status, hh.resigned, hh.law_aware, hh.inc_aware,
        hh.desired, hh.rural, hh.birth_month, hh.townships, inactive, chunk,
        np.float32(1.0 - sp.secular_decline), np.float32(sp.peer_influence), keys, p_reach,
        np.float32((1.0 - pr.persuasion) ** k), 1 - (1 - pr.law_awareness) ** k,
        1 - (1 - pr.incentive_awareness) ** k, cdf, level, low, spread, dmax)


def census(hh, t_end: int, regime: str, inactive: int) -> dict[str, np.ndarray]:
    """:meth:`~popsim.model.households.Households.census` over every slot at once."""
    total = {name: np.zeros(shape) for name, shape in CENSUS.items()}
    sib = np.zeros((3,) + CENSUS["sibship_women"])
    kernels.census_pass(0, hh.n, t_end, hh.status, inactive, hh.birth_month, hh.parity,
                        hh.child_male, hh.child_dead, hh.child_away, hh.child_born, hh.rural,
                        hh.rule, local_table(regime), GROUP_MONTHS, SIBSHIP_AGES[0] * 12,
                        SIBSHIP_AGES[1] * 12, sib, total["living_children"],
                        total["women_by_children"], total["women_by_regime"])
    for j, name in enumerate(("sibship_women", "sibship_another", "sibship_next_male")):
        total[name] = sib[j]
    return total


_NO_PLEDGE = np.zeros(0, dtype=np.bool_)


@lru_cache(maxsize=64)
def _fecundity(fecundability: float, natural: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The monthly fecundability by age group and ``log1p(-min(f, 0.999))`` of each (the
    conception wait's denominator), with the reference's numpy operations, once a year."""
    fec = fecundability * np.array(natural)
    return fec, np.log1p(-np.minimum(fec, 0.999))


def evaluate(hh, idx: np.ndarray, t: int, p: YearValues, regime: str, eligibility,
             lag_months: float, constants: tuple) -> None:
    """:meth:`~popsim.model.households.Households.evaluate` in three kernels; numpy computes
    the over-quota probabilities (``exp``) of the women who want a child over their limit and
    the logarithms of the conception waits of those who try. ``constants``: the households'
    natural fertility by age group (a tuple), exit age, months of life, statuses and no-event
    month."""
    natural, exit_age, life_months, trying, held, done, no_event = constants
    fe, key = p.fertility, hh.streams.key
    pledged = _NO_PLEDGE
    if eligibility.pledging:
        pledged = hh.pledged(idx, t, p, eligibility) & (hh.parity[idx] >= 1)
    need, want, lim, over, excess = km.evaluate_wish(
        idx, hh.parity, hh.sons, hh.son_pref, hh.resigned, hh.desired, hh.child_male, hh.rural,
        hh.rule, limit_table(regime), pledged, np.float32(p.son_preference.threshold),
        fe.son_seeking_max_parity)
    prob = np.zeros(idx.size)
    if over.size:
        i = idx[over]
        prob[over] = overquota_probability(need[over], hh.rural[i], hh.income_mult[i], excess,
                                           p)
    fec, log_f = _fecundity(fe.fecundability, natural)
    keys = hh.streams.keys(("overquota", "adaptation", "conception_wait"), t)
    tries, held_on, u, group = km.evaluate_decide(
        idx, t, hh.parity, hh.birth_month, hh.desired, hh.resigned, need, want, lim, prob, keys,
        fe.son_adaptation, fe.desire_adaptation, fec, float(exit_age))
    km.evaluate_schedule(
        idx, t, tries, held_on, np.log1p(-u[tries]), log_f, group,
        lim, hh.parity, hh.child_born, float(p.policy.birth_spacing), regime != "none",
        float(lag_months), key("policy_lag", t), float(life_months), hh.status, hh.next_event,
        trying, held, done, no_event)


def births(hh, idx: np.ndarray, t: int, p: YearValues, regime: str, waiting: int) -> tuple:
    """:meth:`~popsim.model.households.Households.give_birth`: the fields of its ``Births``
    in order (idx, male, parity, sons and daughters before, provider, rural, local rule,
    over quota, hidden, fee)."""
    pol, pop, fe = p.policy, p.population, p.fertility
    keys = hh.streams.keys(("overquota_hidden", "fee", "postpartum"), t)
    out = km.births_pass(
        idx, t, hh.fetus_male, hh.parity, hh.sons, hh.daughters, hh.rural, hh.rule,
        hh.child_male, hh.child_away, hh.child_born, hh.provider, hh.status, hh.next_event,
        limit_table(regime), local_table(regime), keys, p.behaviour.overquota_concealment,
        pol.fee_collection, pol.maintenance_fee, pop.income_rural, pop.urban_income_ratio,
        fe.postpartum_months, fe.postpartum_spread, waiting, hh.child_born.shape[1])
    return (idx, *out)


@lru_cache(maxsize=64)
def _squeeze(decay: float, size: int) -> np.ndarray:
    """``decay ** r`` for r = 0..size-1, with numpy's power as in the reference."""
    return decay ** np.arange(size, dtype=np.int64)


def motivation(hh, idx: np.ndarray, t: int, p: YearValues, regime: str,
               eligibility) -> np.ndarray:
    """:func:`popsim.model.selection.motivation`."""
    x = p.fertility.son_seeking_extra
    fx = np.floor(x)
    table = limit_table(regime)
    pledged = _NO_PLEDGE
    if eligibility.pledging:
        pledged = hh.pledged(idx, t, p, eligibility)
    return km.motivation_pass(
        idx, hh.parity, hh.sons, hh.daughters, hh.desired, hh.son_pref, hh.rural, hh.rule,
        hh.child_male, hh.birth_month, hh.n, table, pledged, hh.streams.key("son_extra", 0),
        float(fx), float(x - fx), np.float32(p.son_preference.threshold),
        _squeeze(p.behaviour.squeeze_decay, int(table.max()) + 1),
        p.son_preference.daughter_preference)


@lru_cache(maxsize=64)
def _entry_tables(cohort_mean: float, rural_shift: float, concentration: float,
                  shares: tuple[float, float, float]) -> tuple[np.ndarray, ...]:
    """What :meth:`~popsim.model.households.Households._enter` computes for every new woman
    from her residence alone, by residence (urban, rural), with the reference's numpy
    operations: the Beta parameters of her son preference and whether its mean is positive;
    and the cumulative shares of the local rule groups
    (:func:`~popsim.model.fertility_policy.draw_groups`)."""
    mean = cohort_mean + np.array([False, True]) * rural_shift
    m = np.clip(mean, 0.01, 0.99)
    edges = np.minimum(np.cumsum(shares), 1.0)
    return m * concentration, (1 - m) * concentration, mean > 0, edges


def enter(hh, idx: np.ndarray, t: int, p: YearValues, birth_month: int | None,
          entry_age: int, waiting: int) -> None:
    """:meth:`~popsim.model.households.Households._enter`: the generator's draws in the
    reference's order, the writes in two kernels, ``exp`` and the Beta draw in numpy (its
    parameters from per-residence tables)."""
    g = hh.streams.generator("entry")
    k = idx.size
    pop, sp, fe = p.population, p.son_preference, p.fertility
    bm = t - entry_age * 12 if birth_month is None else birth_month
    township = g.integers(0, hh.townships, k)
    rural = km.enter_first(idx, bm, township, g.random(k), g.random(k), pop.rural_share,
                           pop.migrant_share_rural, pop.migrant_share_urban, hh.birth_month,
                           hh.township, hh.rural, hh.migrant)
    s = pop.income_sigma
    income_mult = np.exp(s * g.standard_normal(k) - 0.5 * s * s)
    desired = desired_size(hh, idx, fe)
    pol = p.policy
    a, b, on, edges = _entry_tables(sp.cohort_mean, sp.rural_shift, sp.concentration,
                                    (pol.rural_one_child_share, pol.two_child_share,
                                     pol.three_child_share))
    r = rural.view(np.uint8)  # the residence as a table index: a[r] is where(rural, a[1], a[0])
    son_pref = g.beta(a[r], b[r]) * on[r]
    u_rule, u_law, u_inc = g.random(k), g.random(k), g.random(k)
    union = g.normal(fe.union_age, fe.union_age_sd, k)
    km.enter_rest(idx, t, rural, income_mult, desired, son_pref, u_rule, edges, u_law,
                  p.behaviour.law_awareness_base, u_inc, p.incentives.base_awareness, union,
                  float(entry_age), float(fe.union_age_max), waiting, hh.income_mult,
                  hh.desired, hh.son_pref, hh.rule, hh.parity, hh.sons, hh.daughters, hh.route,
                  hh.child_male, hh.child_dead, hh.child_away, hh.fetus_male, hh.registered,
                  hh.grey, hh.certified, hh.resigned, hh.provider, hh.law_aware, hh.inc_aware,
                  hh.status, hh.birth_month, hh.next_event)


def month_scan(hh, t: int, s: slice, statuses: tuple[int, int], milestones: tuple) -> list:
    """The slots among ``s`` due in month ``t`` that are trying and those waiting
    (``statuses``), then those pregnant since each of ``milestones`` months, in slot order
    (:meth:`~popsim.model.households.Households.wake`); the numpy path when the kernels are
    off. A pregnant woman's ``next_event`` is minus her conception month."""
    if kernels.use_kernels():
        out = km.month_scan(hh.next_event[s], hh.status[s], t, *statuses,
                            t - np.array(milestones))
        return [s.start + x for x in out]
    due = hh.due(t, s)
    return ([due[hh.status[due] == st] for st in statuses]
            + [s.start + np.flatnonzero(hh.next_event[s] == m - t) for m in milestones])


def conceive(hh, idx: np.ndarray, t: int, p: YearValues, constants: tuple) -> np.ndarray:
    """:meth:`~popsim.model.households.Households.conceive`; ``constants``: the statuses done
    and pregnant, the no-event month and the route of no sex determination."""
    if idx.size == 0:
        return idx
    srb, reg = p.behaviour.natural_srb, p.registration
    return km.conceive_pass(
        idx, t, hh.parity, hh.desired, hh.sons, hh.son_pref, hh.resigned, hh.migrant, hh.grey,
        hh.fetus_male, hh.registered, hh.status, hh.next_event, hh.route, hh.provider,
        hh.streams.keys(("fetus_sex", "registration"), t), np.float32(p.son_preference.threshold),
        p.fertility.son_seeking_max_parity, srb / (100.0 + srb), reg.coverage,
        reg.coverage * reg.migrant_factor, *constants)
