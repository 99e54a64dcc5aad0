"""Compiled kernels (numba) of the hottest household passes, bitwise twins of the numpy code.

Each kernel here does in one compiled loop what a numpy expression elsewhere does in several
array passes, and gives the same bits: the same integer hash, the same IEEE operations on the
same types in the same order (float32 where numpy computes in float32, a Python float being a
"weak" scalar under NEP 50), no fused multiply-adds (numba's default), and no transcendental
function (``exp``, ``log``, ``log1p``: numpy's SIMD versions and the C library's may differ in
the last bit), which the callers compute in numpy or on a few per-group values. The numpy code
stays the reference: set the environment variable ``POPSIM_KERNELS=numpy`` (read when a run's
streams are made and at every month of a model, see :func:`use_kernels`) to run it;
``tests/test_kernels.py`` checks that both paths give identical datasets and that each kernel
matches its numpy twin on random inputs.

Kernels are compiled on first use and cached on disk (``cache=True``: numba's cache directory,
``__pycache__`` next to this file unless ``NUMBA_CACHE_DIR`` says otherwise), so a second
process loads them instead of compiling them (see docs/performance.md for both costs).

* :func:`hash_uniform` the counter-based stream hash of
  :meth:`~popsim.model.streams.Streams.uniform` (SplitMix64 of ``slot x golden + key``), and
  :func:`hash_uniform_woman` its variant keyed by the woman (slot + birth month x n);
* :func:`desired_sizes` desired family sizes from the per-residence Poisson tables
  (:meth:`~popsim.model.households.Households.desired_size`);
* :func:`norms_pass` the yearly norms over every household (town means, secular decline, peer
  influence, propaganda contacts, awareness:
  :meth:`~popsim.model.households.Households.yearly_norms`);
* :func:`child_deaths_pass` the yearly child deaths (:func:`popsim.model.selection.child_deaths`);
* :func:`census_pass` the year-end census counts (:func:`popsim.model.children.census`);
* :func:`prefetch` and :func:`ahead`, the cache hint of the monthly kernels that read the state
  at the slots of an index (it changes no value).

The kernels of the monthly passes are in :mod:`popsim.model.kernels_monthly`; the calls that
gather their arguments from the model's parts in :mod:`popsim.model.kernels_calls`.
"""

from __future__ import annotations

import os

import numpy as np
from llvmlite import ir
from numba import literal_unroll, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ..errors import UsageError

__all__ = ["use_kernels", "refresh", "MODES", "unit_draw", "hash_uniform",
           "hash_uniform_woman", "prefetch", "AHEAD", "ahead", "desired_sizes", "norms_pass",
           "girl_risk", "child_deaths_pass", "census_pass"]

#: Values of ``POPSIM_KERNELS``: ``numba`` (the default) runs the kernels, ``numpy`` the
#: reference numpy code.
MODES = ("numba", "numpy")


_ON: bool | None = None  # the mode last read by refresh()


def use_kernels() -> bool:
    """Whether the compiled kernels run (``POPSIM_KERNELS`` unset or ``numba``) or the numpy
    reference (``numpy``): the mode :func:`refresh` last read. The parts ask thousands of times
    a run, so the variable is read once per run and month, not at every call: when a run's
    streams are made (:class:`~popsim.model.streams.Streams`) and at the start of every month
    of a model; a test or a user can switch between runs (or call :func:`refresh`)."""
    on = _ON
    return refresh() if on is None else on


def refresh() -> bool:
    """Read ``POPSIM_KERNELS`` now (for :func:`use_kernels`); an unknown value is a
    :class:`~popsim.errors.UsageError`."""
    global _ON
    mode = os.environ.get("POPSIM_KERNELS", "numba")
    if mode in MODES:
        _ON = mode == "numba"
        return _ON
    from ..errors import did_you_mean

    raise UsageError(f"environment variable POPSIM_KERNELS = {mode!r} is not one of "
                     f"{', '.join(MODES)}{did_you_mean(mode, MODES)}")


@intrinsic
def prefetch(typingctx, arr, i):
    """Ask the processor to start loading row ``i`` of ``arr`` (LLVM's prefetch, for a write,
    kept in every cache level): a hint that changes no value. The monthly kernels read a dozen
    arrays at the slots of a sorted index, each read a likely cache miss; naming the slots a
    few iterations ahead lets those misses overlap (about 1.8x on such a loop)."""
    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        at = [context.cast(builder, args[1], signature.args[1], types.intp)]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary,
                                       at + [zero] * (aryty.ndim - 1), wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 1), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, i), codegen


#: How many slots ahead the monthly kernels prefetch (:func:`ahead`).
AHEAD = 16


@njit(cache=True)
def ahead(idx, j, arrays):
    """Prefetch the slot ``idx[j + AHEAD]`` of each of the tuple ``arrays`` (if there is one)."""
    if j + AHEAD < idx.size:
        i = idx[j + AHEAD]
        for a in literal_unroll(arrays):
            prefetch(a, i)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 2.0**-53


@njit(cache=True, inline="always")
def unit_draw(slot, key):
    """The uniform [0, 1) of ``slot`` under ``key`` (uint64 wrap-around arithmetic)."""
    x = np.uint64(slot) * _GOLDEN + key
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return np.float64(x >> np.uint64(11)) * _TO_UNIT


@njit(cache=True)
def hash_uniform(key, idx):
    """Uniform draws of the slots ``idx`` under the stream-and-month ``key`` (uint64)."""
    out = np.empty(idx.size, dtype=np.float64)
    for j in range(idx.size):
        out[j] = unit_draw(np.int64(idx[j]), key)
    return out


@njit(cache=True)
def hash_uniform_woman(key, idx, birth_month, n):
    """Draws fixed for the woman in each slot: the slot ``i + birth_month[i] x n``."""
    out = np.empty(idx.size, dtype=np.float64)
    for j in range(idx.size):
        i = np.int64(idx[j])
        out[j] = unit_draw(i + np.int64(birth_month[i]) * n, key)
    return out


@njit(cache=True, inline="always")
def _desired_size(u, u_spread, above, floor, edge, spread_share, dmax):
    """The rule of a woman's desired size (:meth:`~popsim.model.households.Households.
    desired_size`) from her draws ``u`` and ``u_spread``, the count ``above`` of her residence's
    Poisson table entries below ``u``, and its level's ``floor`` and ``edge = 1 - (level -
    floor)``: 1 + Poisson for the spread share, else the whole number next to the level. In
    integers: the reference's floats are whole numbers below 2^53, so the values are exact."""
    size = 1 + above if u_spread < spread_share else floor + np.int64(u > edge)
    return np.int8(size if size < dmax else dmax)


@njit(cache=True)
def _desired(u, u_spread, r, cdf, level, low, spread_share, dmax):
    """One woman's desired size (see :func:`desired_sizes`)."""
    above = 0
    for j in range(cdf.shape[1]):
        above += np.int64(u > cdf[r, j])
    return _desired_size(u, u_spread, above, np.int64(low[r]), 1.0 - (level[r] - low[r]),
                         spread_share, dmax)


@njit(cache=True)
def desired_sizes(idx, rural, birth_month, n, key, key_spread, cdf, level, low, spread_share,
                  dmax):
    """Desired sizes of the women ``idx``: ``cdf[r]`` the Poisson table of residence ``r``
    (rural 0/1) up to ``dmax - 1`` terms, ``level`` and ``low = floor(level)`` by residence."""
    out = np.empty(idx.size, dtype=np.int8)
    for j in range(idx.size):
        i = np.int64(idx[j])
        slot = i + np.int64(birth_month[i]) * n
        r = 1 if rural[i] else 0
        out[j] = _desired(unit_draw(slot, key), unit_draw(slot, key_spread), r, cdf, level, low,
                          spread_share, dmax)
    return out


@njit(cache=True)
def norms_pass(son_pref, township, status, resigned, law_aware, inc_aware, desired, rural,
               birth_month, towns, inactive, chunk, decline, peer, keys, p_reach, shrink,
               law_p, inc_p, cdf, level, low, spread_share, dmax):
    """The yearly norms over every slot, in place; returns the households reached.

    ``decline``, ``peer`` and ``shrink`` are float32 (``1 - secular_decline``,
    ``peer_influence``, ``(1 - persuasion) ** k``); ``keys`` the uint64 keys of the streams
    propaganda, law_awareness, inc_awareness (this month), desired and desired_spread (month
    0). The town sums are added chunk by chunk (``chunk`` slots) as the numpy code does."""
    n = son_pref.size
    sums = np.zeros(towns)
    counts = np.zeros(towns)
    part_s = np.zeros(towns)
    part_c = np.zeros(towns)
    for a in range(0, n, chunk):
        part_s[:] = 0.0
        part_c[:] = 0.0
        for i in range(a, min(a + chunk, n)):
            if status[i] != inactive:
                part_s[township[i]] += np.float64(son_pref[i])
                part_c[township[i]] += 1.0
        sums += part_s
        counts += part_c
    town_mean = np.empty(towns, dtype=np.float32)
    for j in range(towns):
        town_mean[j] = np.float32(sums[j] / max(counts[j], 1.0))
    zero, one = np.float32(0.0), np.float32(1.0)
    contacts = 0
    # Block by block, each step a loop without branches that the compiler vectorises (a loop
    # with a data-dependent branch or a trip count it cannot see runs 2-3x slower): the draws;
    # the desired size of every woman at both residences' tables (a column of comparisons at a
    # time), picked by residence; then the rules, whose only branch (a propaganda contact) is
    # rare. The result is the numpy code's, value for value.
    block = 4096
    u_reach = np.empty(block)
    u_want = np.empty(block)
    u_spread = np.empty(block)
    above = np.empty((2, block), dtype=np.int64)  # table entries below the draw, by residence
    wish = np.empty(block, dtype=np.int8)
    floor0, floor1 = np.int64(low[0]), np.int64(low[1])
    edge0, edge1 = 1.0 - (level[0] - low[0]), 1.0 - (level[1] - low[1])
    for a in range(0, n, block):
        m = min(a + block, n) - a
        for j in range(m):
            slot = a + j + np.int64(birth_month[a + j]) * n
            u_want[j] = unit_draw(slot, keys[3])
            u_spread[j] = unit_draw(slot, keys[4])
            above[0, j] = 0
            above[1, j] = 0
        for c in range(cdf.shape[1]):
            c0, c1 = cdf[0, c], cdf[1, c]
            for j in range(m):
                above[0, j] += np.int64(u_want[j] > c0)
                above[1, j] += np.int64(u_want[j] > c1)
        for j in range(m):
            r = rural[a + j]
            wish[j] = _desired_size(u_want[j], u_spread[j], above[1, j] if r else above[0, j],
                                    floor1 if r else floor0, edge1 if r else edge0,
                                    spread_share, dmax)
        if p_reach > 0:
            for j in range(m):
                u_reach[j] = unit_draw(a + j, keys[0])
        for j in range(m):
            i = a + j
            on = status[i] != inactive
            x = son_pref[i] * decline
            x += peer * (town_mean[township[i]] - x)
            if p_reach > 0 and on and u_reach[j] < p_reach:
                contacts += 1
                x *= shrink
                if unit_draw(i, keys[1]) < law_p:
                    law_aware[i] = True
                if unit_draw(i, keys[2]) < inc_p:
                    inc_aware[i] = True
            son_pref[i] = min(max(x, zero), one)
            # a select, not a jump: resigned women keep theirs, and no branch to mispredict
            desired[i] = desired[i] if (not on) | resigned[i] else wish[j]
    return contacts


@njit(cache=True)
def girl_risk(i, has_son, law_aware, grey, son_pref, income_mult, county, grey_risk,
                neglect, with_son):
    """The girls' excess risk of :func:`popsim.model.selection.girls_excess_risk` for slot i."""
    risk = min((1.0 if law_aware[i] else 0.0) * county + (1.0 if grey[i] else 0.0) * grey_risk,
               1.0)
    poverty = min(np.float32(1.0) / income_mult[i], np.float32(3.0))
    brother = with_son if has_son else 1.0
    return np.float64(neglect * son_pref[i]) * brother * np.float64(poverty) * (1.0 - risk)


@njit(cache=True)
def child_deaths_pass(idx, t, parity, child_dead, child_born, child_male, sons, law_aware,
                      grey, son_pref, income_mult, keys, infant, m14, m517, male_ratio, county,
                      grey_risk, neglect, with_son, max_children):
    """Deaths in the coming year of the children aged 1-17 of the mothers ``idx``, in the
    order of the numpy code (by birth order, then mother): mothers, slots, male, age band,
    excess. ``neglect`` is float32 (``girl_neglect``), ``keys`` the child_death_k keys. One
    pass over the mothers into a growing buffer, then a stable sort by birth order.

    A death is rare (a few per thousand children a year), so each mother's children are first
    tested without a branch on their state (alive, age band, sex: selects, not jumps, which
    cost a misprediction each on random data); only a mother with a death takes the slow
    path that records it. Drawing for a dead or aged-out child changes nothing: the stream is a
    hash of (slot, month), not a sequence."""
    cap = 256
    buf = np.empty((cap, 3), dtype=np.int64)  # mother, birth order, 1 male + 2 young + 4 excess
    count = 0
    for j in range(idx.size):
        i = np.int64(idx[j])
        par = min(np.int64(parity[i]), max_children)
        if par == 0:
            continue
        dead = np.int64(child_dead[i])
        bits = np.int64(child_male[i])
        excess = m14 * girl_risk(i, sons[i] > 0, law_aware, grey, son_pref, income_mult,
                                 county, grey_risk, neglect, with_son)
        hits = 0
        for k in range(par):
            age = t - np.int64(child_born[i, k])
            young = (age >= 12) & (age < 60)
            older = (age >= 60) & (age < 216)
            male = ((bits >> k) & 1) == 1
            natural = infant * (m14 if young else m517) * (male_ratio if male else 1.0)
            threshold = natural + (excess if young & ~male else 0.0)
            u = unit_draw(i, keys[k])
            live = ((dead >> k) & 1) == 0
            hits |= np.int64((live & (young | older)) & (u < threshold)) << k
        if hits == 0:
            continue
        for k in range(par):
            if not (hits >> k) & 1:
                continue
            age = t - np.int64(child_born[i, k])
            young = age >= 12 and age < 60
            male = (bits >> k) & 1 == 1
            natural = infant * (m14 if young else m517) * (male_ratio if male else 1.0)
            if count == cap:
                cap *= 2
                grown = np.empty((cap, 3), dtype=np.int64)
                grown[:count] = buf[:count]
                buf = grown
            buf[count, 0] = i
            buf[count, 1] = k
            buf[count, 2] = ((1 if male else 0) + (2 if young else 0)
                             + (4 if unit_draw(i, keys[k]) >= natural and not male else 0))
            count += 1
    start = np.zeros(max_children + 1, dtype=np.int64)
    for r in range(count):
        start[buf[r, 1] + 1] += 1
    for k in range(max_children):
        start[k + 1] += start[k]
    mothers = np.empty(count, dtype=np.int64)
    slots = np.empty(count, dtype=np.int64)
    males = np.empty(count, dtype=np.bool_)
    bands = np.empty(count, dtype=np.int64)
    excess = np.empty(count, dtype=np.bool_)
    for r in range(count):
        k = buf[r, 1]
        w = start[k]
        start[k] += 1
        code = buf[r, 2]
        mothers[w] = buf[r, 0]
        slots[w] = k
        males[w] = code & 1 == 1
        bands[w] = 1 if code & 2 else 2
        excess[w] = code & 4 == 4
    return mothers, slots, males, bands, excess


@njit(cache=True)
def census_pass(a, b, t_end, status, inactive, birth_month, parity, child_male, child_dead,
                child_away, child_born, rural, rule, local, group_months, sib_lo, sib_hi, out_sib,
                out_living, out_children, out_regime):
    """Adds the census counts of the women among slots ``a..b-1`` to the ``out_*`` arrays
    (:func:`popsim.model.children.census`); ``local`` the local rule table of this year's
    national regime ``[rural, group]``, ``out_sib`` (3, compositions). Living children are
    counted by age in months and sex, then summed into the (overlapping) age groups."""
    top = 0
    for g in range(group_months.shape[0]):
        top = max(top, group_months[g, 1])
    by_age = np.zeros((top, 2), dtype=np.int64)
    for i in range(a, b):
        if status[i] == inactive:
            continue
        par = np.int64(parity[i])
        m = child_male[i]
        age = t_end - np.int64(birth_month[i])
        if age >= sib_lo and age < sib_hi and par >= 1:
            away = child_away[i]
            # (a child away is rare: then the roster is her children, with no loop)
            home, r = (par, np.int64(m)) if away == 0 else _roster(par, m, away,
                                                                    child_born.shape[1])
            b0, b1, b2, b3 = r & 1, (r >> 1) & 1, (r >> 2) & 1, (r >> 3) & 1
            if home >= 1:
                _sib_add(out_sib, 0 if b0 else 1, home, 1, b1)
            if home >= 2:
                _sib_add(out_sib, 2 if b0 and b1 else (3 if b0 != b1 else 4), home, 2, b2)
                if home >= 3 and not b0 and not b1 and not b2:
                    _sib_add(out_sib, 5, home, 3, b3)
        dead = child_dead[i]
        for k in range(min(par, child_born.shape[1])):
            if (dead >> k) & 1:
                continue
            age_k = t_end - np.int64(child_born[i, k])
            if age_k >= 0 and age_k < top:
                by_age[age_k, 0 if (m >> k) & 1 else 1] += 1
        out_children[min(par, out_children.size - 1)] += 1.0
        out_regime[local[1 if rural[i] else 0, rule[i]]] += 1.0
    for g in range(group_months.shape[0]):
        for age_k in range(max(group_months[g, 0], 0), group_months[g, 1]):
            for sex in range(2):
                out_living[g, sex] += by_age[age_k, sex]


@njit(cache=True)
def _roster(par, male, away, stored):
    """:func:`popsim.model.children.roster` of one woman: her children at home and their
    sexes in birth order (a bitmask)."""
    home, out, pos = par, 0, 0
    for k in range(min(par, stored)):
        if (away >> k) & 1:
            home -= 1
        else:
            out |= ((np.int64(male) >> k) & 1) << pos
            pos += 1
    return home, out


@njit(cache=True)
def _sib_add(out_sib, row, par, k, next_bit):
    out_sib[0, row] += 1.0
    if par > k:
        out_sib[1, row] += 1.0
        if next_bit:
            out_sib[2, row] += 1.0
