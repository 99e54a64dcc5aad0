"""Compiled kernels (numba) of the monthly household passes; see :mod:`popsim.model.kernels`
for the rules they follow (bitwise twins of the numpy reference, no transcendental function,
cached compilation, ``POPSIM_KERNELS``).

* :func:`limits` the births each local rule allows;
* :func:`evaluate_wish`, :func:`evaluate_decide`, :func:`evaluate_schedule` the decision to try
  for another child (:meth:`~popsim.model.households.Households.evaluate`);
* :func:`births_pass`, :func:`infant_pass`, :func:`bury_pass` births, infant deaths, burials;
* :func:`motivation_pass` and :func:`seek_utilities` the motivation and the route utilities of
  sex determination (:mod:`popsim.model.selection`);
* :func:`enter_first`, :func:`enter_rest` the new women's state;
* :func:`month_scan` the month's wake-ups and pregnancy milestones, :func:`conceive_pass` the
  conceptions.

The kernels that read the state at the slots of an index prefetch the slots ahead
(:func:`~popsim.model.kernels.ahead`: 2-4x fewer ns per slot at 1M households), but for
:func:`births_pass`, which it did not speed up.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from .kernels import ahead, girl_risk, unit_draw

__all__ = ["limits", "evaluate_wish", "evaluate_decide", "evaluate_schedule",
           "births_pass", "infant_pass", "bury_pass", "motivation_pass", "seek_utilities",
           "enter_first", "enter_rest", "month_scan", "conceive_pass"]


@njit(cache=True)
def limits(idx, parity, child_male, rural, rule, table, if_girl):
    """Births each household's local rule allows: ``table[rural, group, first_girl]``
    (:meth:`~popsim.model.households.Households.limit`)."""
    out = np.empty(idx.size, dtype=np.int64)
    for j in range(idx.size):
        i = idx[j]
        par = parity[i]
        girl = (par >= 1 and (child_male[i] & 1) == 0) or (if_girl and par == 0)
        out[j] = table[1 if rural[i] else 0, rule[i], 1 if girl else 0]
    return out


@njit(cache=True, inline="always")
def _needs_son(i, sons, son_pref, parity, resigned, threshold, max_parity):
    """:meth:`~popsim.model.households.Households.needs_son` of slot ``i`` (``threshold``
    float32, as numpy compares a float32 preference with a Python float)."""
    return (sons[i] == 0 and son_pref[i] > threshold and parity[i] < max_parity
            and not resigned[i])


@njit(cache=True)
def evaluate_wish(idx, parity, sons, son_pref, resigned, desired, child_male, rural, rule,
                  limit, pledged, threshold, max_parity):
    """First step of :meth:`~popsim.model.households.Households.evaluate`: who needs a son
    (``threshold`` float32, as numpy compares a float32 preference with a Python float), who
    wants another child (``pledged`` per index, or empty when nobody pledges) and each one's
    limit (``limit`` the table of this year's regime). Also returns the positions of those who
    want a child over their limit, and how far over it the child would be."""
    m = idx.size
    need = np.empty(m, dtype=np.bool_)
    want = np.empty(m, dtype=np.bool_)
    lim = np.empty(m, dtype=np.int64)
    over = np.empty(m, dtype=np.int64)
    count = 0
    for j in range(m):
        ahead(idx, j, (parity, sons, son_pref, resigned, desired, child_male, rural, rule))
        i = idx[j]
        par = parity[i]
        n = _needs_son(i, sons, son_pref, parity, resigned, threshold, max_parity)
        need[j] = n
        w = par < desired[i] or n
        if pledged.size and pledged[j]:
            w = False
        want[j] = w
        girl = par >= 1 and (child_male[i] & 1) == 0
        lim[j] = limit[1 if rural[i] else 0, rule[i], 1 if girl else 0]
        if w and par >= lim[j]:
            over[count] = j
            count += 1
    over = over[:count].copy()
    excess = np.empty(count, dtype=np.int64)
    for c in range(count):
        excess[c] = np.int64(parity[idx[over[c]]]) + 1 - lim[over[c]]
    return need, want, lim, over, excess


@njit(cache=True)
def evaluate_decide(idx, t, parity, birth_month, desired, resigned, need, want, lim, prob,
                    keys, son_adaptation, desire_adaptation, fecundability, exit_age):
    """Second step: over quota or not, giving up (in place: ``desired``, ``resigned``), and who
    tries; ``prob`` the over-quota probability where wanted over the limit, ``keys`` those of
    overquota, adaptation and conception_wait this month, ``fecundability`` by age group.
    Returns tries, held (and not given up), the conception-wait draw and the age group."""
    m = idx.size
    tries = np.empty(m, dtype=np.bool_)
    held_on = np.empty(m, dtype=np.bool_)
    u_wait = np.zeros(m)
    group = np.empty(m, dtype=np.int64)
    for j in range(m):
        ahead(idx, j, (parity, birth_month, desired, resigned))
        i = np.int64(idx[j])
        over = parity[i] >= lim[j]
        go_over = unit_draw(i, keys[0]) < prob[j] if over and want[j] else False
        tr = want[j] and (not over or go_over)
        held = want[j] and over and not go_over
        give_up = False
        if held:
            rate = son_adaptation if need[j] else desire_adaptation
            give_up = unit_draw(i, keys[1]) < rate
            if give_up:
                desired[i] = min(desired[i], parity[i])
                resigned[i] = True
        age = (t - np.int64(birth_month[i])) / 12.0
        g = np.int64((age - 15.0) // 5.0)
        g = min(max(g, 0), 6)
        group[j] = g
        f = fecundability[g]
        tr = tr and f > 0 and age < exit_age
        tries[j] = tr
        held_on[j] = held and not give_up
        if tr:
            u_wait[j] = unit_draw(i, keys[2])
    return tries, held_on, u_wait, group


@njit(cache=True)
def evaluate_schedule(idx, t, tries, held_on, log_u, log_f, group, lim, parity, child_born,
                      spacing, limited, lag, lag_key, life_months, status, next_event, trying,
                      held_status, done, no_event):
    """Last step: the conception wait of those who try (``log_u`` = log1p(-u) of each of them
    in order, ``log_f`` = log1p(-min(f, 0.999)) by age group; the spacing the local rule
    requires after a permitted birth if ``limited``; the policy lag), in place."""
    n = 0
    for j in range(idx.size):
        ahead(idx, j, (status, next_event, parity, child_born))
        i = np.int64(idx[j])
        if not tries[j]:
            status[i] = held_status if held_on[j] else done
            next_event[i] = no_event
            continue
        wait = 1.0 + np.floor(log_u[n] / log_f[group[j]])
        n += 1
        par = np.int64(parity[i])
        if limited and par >= 1 and par < lim[j]:
            last = np.int64(child_born[i, min(par, child_born.shape[1]) - 1])
            wait += max(last + spacing - 9 - t, 0.0)
        if lag > 0:
            wait += np.floor(unit_draw(i, lag_key) * lag)
        wait = min(wait, life_months)
        status[i] = trying
        next_event[i] = np.int32(t + wait)


@njit(cache=True)
def births_pass(idx, t, fetus_male, parity, sons, daughters, rural, rule, child_male,
                child_away, child_born, provider, status, next_event, limit, local, keys,
                concealment, collection, maintenance_fee, income_rural, urban_ratio, postpartum,
                spread, waiting, max_children):
    """:meth:`~popsim.model.households.Households.give_birth` in place: returns the facts
    before each birth (male, parity, sons, daughters, provider, rural, local rule) and the
    over-quota, hidden and fee of each. ``limit``/``local`` the tables of this year's regime,
    ``keys`` those of overquota_hidden, fee and postpartum this month. The postpartum wait is
    rounded half to even, as ``np.round``."""
    m = idx.size
    male = np.empty(m, dtype=np.bool_)
    par0 = np.empty(m, dtype=np.int8)
    sons0 = np.empty(m, dtype=np.int8)
    daughters0 = np.empty(m, dtype=np.int8)
    prov = np.empty(m, dtype=provider.dtype)
    rur = np.empty(m, dtype=np.bool_)
    regime = np.empty(m, dtype=local.dtype)
    over = np.empty(m, dtype=np.bool_)
    hidden = np.empty(m, dtype=np.bool_)
    fee = np.empty(m)
    for j in range(m):
        i = np.int64(idx[j])
        b = fetus_male[i]
        p0 = parity[i]
        r = 1 if rural[i] else 0
        male[j], par0[j], sons0[j], daughters0[j] = b, p0, sons[i], daughters[i]
        prov[j], rur[j], regime[j] = provider[i], rural[i], local[r, rule[i]]
        girl = p0 >= 1 and (child_male[i] & 1) == 0
        excess = np.int64(p0) + 1 - limit[r, rule[i], 1 if girl else 0]
        ov = excess > 0
        hid = ov and unit_draw(i, keys[0]) < concealment
        collected = ov and not hid and unit_draw(i, keys[1]) < collection
        over[j], hidden[j] = ov, hid
        fee[j] = (((1.0 if collected else 0.0) * maintenance_fee) * np.float64(max(excess, 1))
                  * (income_rural * (1.0 if rural[i] else urban_ratio)))
        if p0 < max_children:
            child_male[i] |= np.uint8(b) << np.uint8(p0)
            if hid and not b and sons[i] == 0:
                child_away[i] |= np.uint8(1) << np.uint8(p0)
            child_born[i, p0] = t
        parity[i] = p0 + 1
        if b:
            sons[i] += 1
        else:
            daughters[i] += 1
        status[i] = waiting
        u = unit_draw(i, keys[2])
        wait = max(np.rint(postpartum * ((1.0 - spread) + 2.0 * spread * u)), 1.0)
        next_event[i] = np.int32(t + wait)
    return male, par0, sons0, daughters0, prov, rur, regime, over, hidden, fee


@njit(cache=True)
def infant_pass(idx, male, sons_before, parity_before, law_aware, grey, son_pref, income_mult,
                key, infant, male_ratio, county, grey_risk, neglect, with_son, max_children):
    """Which newborns die in infancy (:func:`popsim.model.selection.infant_deaths`): the
    death and the girls' excess flag of each birth."""
    m = idx.size
    dies = np.zeros(m, dtype=np.bool_)
    excess = np.zeros(m, dtype=np.bool_)
    for j in range(m):
        ahead(idx, j, (law_aware, grey, son_pref, income_mult))
        i = np.int64(idx[j])
        natural = infant * (male_ratio if male[j] else 1.0)
        ex = 0.0
        if not male[j]:
            ex = girl_risk(i, sons_before[j] > 0, law_aware, grey, son_pref, income_mult,
                             county, grey_risk, neglect, with_son)
        u = unit_draw(i, key)
        dies[j] = u < natural + ex and parity_before[j] < max_children
        excess[j] = u >= natural and not male[j]
    return dies, excess


@njit(cache=True)
def bury_pass(idx, k, child_male, child_dead, sons, daughters):
    """Child ``k[j]`` of mother ``idx[j]`` has died (a mother may appear more than once)."""
    for j in range(idx.size):
        i = idx[j]
        bit = np.uint8(1) << np.uint8(k[j])
        child_dead[i] |= bit
        if child_male[i] & bit:
            sons[i] -= 1
        else:
            daughters[i] -= 1


@njit(cache=True)
def motivation_pass(idx, parity, sons, daughters, desired, son_pref, rural, rule, child_male,
                    birth_month, n, limit, pledged, extra_key, extra_floor, extra_frac,
                    threshold, squeeze, daughter_preference):
    """:func:`popsim.model.selection.motivation`: ``limit`` the table of this year's regime
    (judged as if a first child were a girl), ``pledged`` per index (or empty), the
    son-seekers' extra births ``extra_floor`` plus one with chance ``extra_frac`` (the draw of
    ``extra_key``, fixed per woman), ``threshold`` float32, ``squeeze[r]`` the squeeze of ``r``
    remaining births (numpy's powers)."""
    out = np.empty(idx.size)
    for j in range(idx.size):
        ahead(idx, j, (parity, sons, daughters, desired, son_pref, rural, rule, child_male,
                       birth_month))
        i = np.int64(idx[j])
        par = np.int64(parity[i])
        after = par + 1
        son = sons[i] == 0
        if son:
            ready = np.int64(desired[i])
            if son_pref[i] > threshold:
                u = unit_draw(i + np.int64(birth_month[i]) * n, extra_key)
                ready += np.int64(extra_floor + (1.0 if u < extra_frac else 0.0))
        else:
            ready = np.int64(desired[i])
        girl = par == 0 or (child_male[i] & 1) == 0
        lim = limit[1 if rural[i] else 0, rule[i], 1 if girl else 0]
        remaining = max(min(ready, lim) - after, 0)
        if pledged.size and pledged[j] and after == 1:
            remaining = 0
        if son:
            strength = np.float64(son_pref[i])
        elif daughters[i] == 0 and (sons[i] >= 2 or parity[i] >= desired[i]):
            strength = daughter_preference
        else:
            strength = 0.0
        out[j] = strength * squeeze[remaining]
    return out


@njit(cache=True)
def seek_utilities(idx, mot, rural, income_mult, law_aware, grey, registered, parity, keys,
                   income_rural, urban_ratio, county, grey_risk, signal_risk, approval,
                   us_numerator, early_numerator, risk_weight, early_access, seek_intercept,
                   seek_motivation, reluctance):
    """The algebra of :func:`popsim.model.selection.seek` (no ``exp``/``log``): income, the
    route utilities, early-test access, the logit without the inclusive value, and the draws
    of seek and early_choice (``keys``: early_access, seek, early_choice this month)."""
    m = idx.size
    income = np.empty(m)
    u_us = np.empty(m)
    u_early = np.empty(m)
    has_early = np.empty(m, dtype=np.bool_)
    pre = np.empty(m)
    first = np.empty(m)
    u_seek = np.empty(m)
    u_choice = np.empty(m)
    for j in range(m):
        ahead(idx, j, (rural, income_mult, law_aware, grey, registered, parity))
        i = np.int64(idx[j])
        inc = (income_rural * (1.0 if rural[i] else urban_ratio)) * np.float64(income_mult[i])
        risk = min((1.0 if law_aware[i] else 0.0) * county
                   + (1.0 if grey[i] else 0.0) * grey_risk, 1.0)
        if approval:
            risk = min(risk + (1.0 if registered[i] else 0.0) * signal_risk, 1.0)
        income[j] = inc
        u_us[j] = us_numerator / inc - risk_weight * risk
        u_early[j] = early_numerator / inc
        has_early[j] = unit_draw(i, keys[0]) < early_access
        pre[j] = seek_intercept + seek_motivation * mot[j]
        first[j] = reluctance * (1.0 if parity[i] == 0 else 0.0)
        u_seek[j] = unit_draw(i, keys[1])
        u_choice[j] = unit_draw(i, keys[2])
    return income, u_us, u_early, has_early, pre, first, u_seek, u_choice


@njit(cache=True)
def enter_first(idx, birth_month_value, township_draw, u_rural, u_migrant, rural_share,
                migrant_rural, migrant_urban, birth_month, township, rural, migrant):
    """First writes of :meth:`~popsim.model.households.Households._enter`: birth month,
    township, residence and migration of the new women; returns their residences."""
    out = np.empty(idx.size, dtype=np.bool_)
    for j in range(idx.size):
        i = idx[j]
        birth_month[i] = birth_month_value
        township[i] = township_draw[j]
        r = u_rural[j] < rural_share
        out[j] = r
        rural[i] = r
        migrant[i] = u_migrant[j] < (migrant_rural if r else migrant_urban)
    return out


@njit(cache=True)
def enter_rest(idx, t, new_rural, new_income_mult, new_desired, new_son_pref, u_rule, edges,
               u_law, law_base, u_inc, inc_base, union, entry_age, union_max, waiting,
               income_mult, desired, son_pref, rule, parity, sons, daughters, route, child_male,
               child_dead, child_away, fetus_male, registered, grey, certified, resigned, provider,
               law_aware, inc_aware, status, birth_month, next_event):
    """The rest of :meth:`~popsim.model.households.Households._enter`: the income
    multiplier, desired size and son preference drawn (``new_*``), local rule group
    (:func:`~popsim.model.fertility_policy.draw_groups`, ``edges`` its cumulative shares),
    a clean history, awareness, and the first wake-up at the union age (``union`` drawn)."""
    for j in range(idx.size):
        i = idx[j]
        income_mult[i] = new_income_mult[j]
        desired[i] = new_desired[j]
        son_pref[i] = new_son_pref[j]
        u = u_rule[j]
        g = 1 if u < edges[0] else (2 if u < edges[1] else (3 if u < edges[2] else 0))
        rule[i] = g if new_rural[j] else 0
        parity[i] = 0
        sons[i] = 0
        daughters[i] = 0
        route[i] = 0
        child_male[i] = 0
        child_dead[i] = 0
        child_away[i] = 0
        fetus_male[i] = False
        registered[i] = False
        grey[i] = False
        certified[i] = False
        resigned[i] = False
        provider[i] = -1
        law_aware[i] = u_law[j] < law_base
        inc_aware[i] = u_inc[j] < inc_base
        status[i] = waiting
        un = min(max(union[j], entry_age), union_max)
        age_now = (t - np.int64(birth_month[i])) / 12.0
        next_event[i] = np.int32(t + max(np.ceil((un - age_now) * 12), 1.0))


@njit(cache=True)
def month_scan(next_event, status, t, trying, waiting, conceived):
    """The month's one scan of ``next_event`` (:meth:`~popsim.model.households.Households.wake`):
    the slots due in month ``t`` that are trying, those that are waiting, then for each of the
    three months ``conceived`` the slots pregnant since it (a pregnant woman's next_event is
    minus her conception month, and only hers is negative); each list in slot order.

    Few slots match: a block's match codes (bit 0 due, bit 1 + k pregnant since month k) come
    from a loop the compiler vectorises, then the codes are read eight at a time, one set bit
    (one matching slot) after another."""
    n = next_event.size
    t0 = np.int16(t)
    e0, e1, e2 = np.int16(-conceived[0]), np.int16(-conceived[1]), np.int16(-conceived[2])
    block = 2048
    cap = max(n // 32, 2 * block)  # (grown as needed: the first months wake most women)
    out = np.empty((4, cap), dtype=np.int64)
    count = np.zeros(4, dtype=np.int64)
    code = np.zeros(block, dtype=np.uint8)
    words = code.view(np.uint64)
    for a in range(0, n, block):
        m = min(block, n - a)
        if count.max() + block > out.shape[1]:
            grown = np.empty((4, 2 * out.shape[1]), dtype=np.int64)
            grown[:, :out.shape[1]] = out
            out = grown
        seg = next_event[a:a + m]
        for j in range(m):  # (selects on a slice: this form vectorises, shifts of bools not)
            v = seg[j]
            code[j] = (np.uint8(1 if v == t0 else 0) + np.uint8(2 if v == e0 else 0)
                       + np.uint8(4 if v == e1 else 0) + np.uint8(8 if v == e2 else 0))
        for j in range(m, block):
            code[j] = 0
        for w in range(block // 8):
            x = words[w]
            while x != 0:  # one set bit per matching slot (its lists exclude each other)
                b = trailing_zeros(x)
                x &= x - np.uint64(1)
                row = b & 7
                out[row, count[row]] = a + 8 * w + (b >> 3)
                count[row] += 1
    c0 = count[0]
    due = out[0, :c0]
    tried = np.empty(c0, dtype=np.int64)
    waited = np.empty(c0, dtype=np.int64)
    nt = nw = 0
    for j in range(c0):
        i = due[j]
        s = status[i]
        tried[nt] = i
        waited[nw] = i
        nt += s == trying
        nw += s == waiting
    return tried[:nt], waited[:nw], out[1, :count[1]], out[2, :count[2]], out[3, :count[3]]


@njit(cache=True)
def conceive_pass(idx, t, parity, desired, sons, son_pref, resigned, migrant, grey, fetus_male,
                  registered, status, next_event, route, provider, keys, threshold, max_parity,
                  male_share, coverage, migrant_coverage, done, pregnant, no_event, no_route):
    """:meth:`~popsim.model.households.Households.conceive` in place: a woman whose wish has
    lapsed is done, the others conceive (``keys``: fetus_sex and registration this month,
    ``threshold`` float32). Returns the slots that conceived, in order."""
    out = np.empty(idx.size, dtype=np.int64)
    count = 0
    for j in range(idx.size):
        ahead(idx, j, (parity, desired, sons, son_pref, resigned, migrant, grey, fetus_male,
                       registered, status, next_event, route, provider))
        i = np.int64(idx[j])
        par = parity[i]
        need = _needs_son(i, sons, son_pref, parity, resigned, threshold, max_parity)
        if not (par < desired[i] or need):
            status[i] = done
            next_event[i] = no_event
            continue
        fetus_male[i] = unit_draw(i, keys[0]) < male_share
        cover = migrant_coverage if migrant[i] else coverage
        registered[i] = grey[i] or unit_draw(i, keys[1]) < cover
        status[i] = pregnant
        next_event[i] = -t
        route[i] = no_route
        provider[i] = -1
        out[count] = i
        count += 1
    return out[:count]
