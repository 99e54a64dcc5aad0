"""Compiled kernels (numba) of the market's monthly passes over the provider columns of
:class:`~popsim.model.clinics.Market`; see :mod:`popsim.model.kernels` for the rules they
follow (bitwise twins of the numpy reference, no transcendental function, cached compilation,
``POPSIM_KERNELS``).

The market has only a few hundred providers, so its numpy passes cost little arithmetic but
some eighty small numpy calls a month; each kernel here is one call instead:

* :func:`search_pass` the matching of seekers to providers (:meth:`Market.search
  <popsim.model.clinics.Market.search>`);
* :func:`end_month_pass` expected clients and risk beliefs (:meth:`Market.end_month
  <popsim.model.clinics.Market.end_month>` with its news, ``Market._learn``);
* :func:`decide_prices` and :func:`decide_offer` hiding, prices and the offer decision
  (:meth:`Market.decide <popsim.model.clinics.Market.decide>`), two kernels because the chance
  of a case, ``-expm1(...)``, is computed in numpy between them.

Every kernel returns new arrays where the numpy reference assigns a new column, and writes in
place where it assigns into one. The other passes stay numpy: the entry runs a few times a run
(its draws and the gain of would-be entrants), and the expected prices are means of prices,
whose bits are numpy's pairwise sum; a kernel also costs some milliseconds to load in each
process, more than these would save.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["COUNTY_WIDE", "OUTSIDE", "search_pass", "end_month_pass", "decide_prices",
           "decide_offer"]

#: The township of a county-wide provider (a county hospital or a mobile operator: it serves
#: every township) and of a provider outside the county (``popsim.model.clinics`` re-exports
#: them; they are here because the kernels compile them in).
COUNTY_WIDE, OUTSIDE = -1, -2


@njit(cache=True)
def search_pass(township, migrant, travel, u_order, u_pick, cap, offering, served, prov_tw,
                hiding, reach_loss, towns, local_seekers, unmet):
    """:meth:`Market.search <popsim.model.clinics.Market.search>` in one pass
    (``local_seekers``, ``unmet`` and ``served`` in place); also returns the migrants, which
    the caller adds to ``outside_seekers``."""
    n = township.size
    provider = np.full(n, -1, np.int64)
    avail = offering & (served < cap)
    # the providers in reach as the numpy path lists them: in-town ones by township, then row
    in_town = np.flatnonzero(avail & (prov_tw >= 0))
    in_town = in_town[np.argsort(prov_tw[in_town], kind="mergesort")]
    start = np.searchsorted(prov_tw[in_town], np.arange(towns + 1))
    county = np.flatnonzero(avail & (prov_tw == COUNTY_WIDE))
    outside = np.flatnonzero(avail & (prov_tw == OUTSIDE))
    local, go_out = np.empty(n, np.int64), np.empty(n, np.int64)
    n_local = n_go = 0
    for j in range(n):
        if migrant[j]:  # migrants look out of county first, in their order
            go_out[n_go] = j
            n_go += 1
            continue
        local[n_local] = j
        n_local += 1
        t = township[j]
        local_seekers[t] += 1.0
        n_town = start[t + 1] - start[t]
        n_all = n_town + county.size
        x = u_pick[j] * n_all
        k = min(np.int64(x), max(n_all - 1, 0))
        if k < n_town:
            provider[j] = in_town[start[t] + k]
        elif n_all > 0:
            provider[j] = county[k - n_town]
        if provider[j] >= 0 and x - k < reach_loss * hiding[provider[j]]:
            provider[j] = -1
    n_mig = n_go
    _capacity(provider, local[:n_local], u_order, cap, served)
    for j in local[:n_local]:
        if provider[j] < 0:
            unmet[township[j]] += 1.0
            if travel[j]:  # then the residents who found nothing and travel
                go_out[n_go] = j
                n_go += 1
    if n_go and outside.size:
        for j in go_out[:n_go]:
            x = u_pick[j] * outside.size
            k = min(np.int64(x), outside.size - 1)
            provider[j] = outside[k]
            if x - k < reach_loss * hiding[provider[j]]:
                provider[j] = -1
        _capacity(provider, go_out[:n_go], u_order, cap, served)
    out = np.zeros(n, np.bool_)
    for j in range(n):
        if provider[j] >= 0:
            served[provider[j]] += 1
            out[j] = prov_tw[provider[j]] == OUTSIDE
    return provider, out, n_mig


@njit(cache=True, inline="always")
def _capacity(provider, among, u_order, cap, served):
    """``Market._enforce_capacity``: a seeker's place at its provider is its rank among the
    provider's seekers by ``u_order`` (ties by position), the order of ``np.lexsort``."""
    sel = among[provider[among] >= 0]
    ahead = np.zeros(served.size, np.int64)
    for j in sel[np.argsort(u_order[sel], kind="mergesort")]:
        r = provider[j]
        if ahead[r] >= cap - served[r]:
            provider[j] = -1
        ahead[r] += 1


@njit(cache=True)
def end_month_pass(offering, served, demand, township, risk, inspected, local_seekers,
                   outside_seekers, smoothing, ban, prior_risk, outside_risk, keep,
                   per_inspection, case_rows, county_factor, per_case_township,
                   per_case_county, news_out_factor, campaign, per_campaign, unmet,
                   entry_threshold):
    """:meth:`Market.end_month <popsim.model.clinics.Market.end_month>` up to its entry:
    ``demand`` moved toward this month's clients (in place) and the new risk beliefs
    (returned). The scalars are the reference's, left to right: ``keep`` the monthly decay
    ``0.5 ** (1 / news_half_life)``, ``county_factor = news_share x scale``,
    ``per_case_county = publicity x risk_per_case_county``, ``news_out_factor = publicity x
    risk_per_case_outside x news_share x scale``. Also returns how many townships' ``unmet``
    demand reaches ``entry_threshold`` (the entry draws nothing without one).

    The seekers are counts (whole numbers in float64), so their sum is exact in any order:
    the same bits as numpy's pairwise sum."""
    n, towns = township.size, local_seekers.size
    n_off_town = np.zeros(towns, np.int64)
    n_off_county = n_off_out = 0
    for i in range(n):
        if offering[i]:
            t = township[i]
            if t >= 0:
                n_off_town[t] += 1
            elif t == COUNTY_WIDE:
                n_off_county += 1
            else:
                n_off_out += 1
    all_seekers = 0.0
    for t in range(towns):
        all_seekers += local_seekers[t]
    n_off_all = n_off_town.sum()
    # the news: cases against providers of each township (index 0: county-wide ones)
    by_group = np.zeros(towns + 1, np.int64)
    n_in = n_out = 0
    for row in case_rows:
        t = township[row]
        if t == OUTSIDE:
            n_out += 1
        else:
            n_in += 1
            by_group[t + 1] += 1
    county_news = county_factor * n_in
    news_out = news_out_factor * n_out
    new_risk = np.empty(n)
    for i in range(n):
        t = township[i]
        off = 1 if offering[i] else 0
        if offering[i]:
            v = np.float64(served[i])
        elif t >= 0:
            v = local_seekers[t] / np.float64(n_off_town[t] + n_off_county + 1 - off)
        elif t == COUNTY_WIDE:
            v = all_seekers / np.float64(n_off_all + n_off_county + 1 - off)
        else:
            v = outside_seekers / np.float64(n_off_out + 1 - off)
        demand[i] = demand[i] + smoothing * (v - demand[i])
        # risk beliefs: decay toward the prior, then the news (``Market._learn``)
        prior = (outside_risk if t == OUTSIDE else prior_risk) if ban else 0.0
        r = prior + (risk[i] - prior) * keep
        r = r + per_inspection * (1.0 if inspected[i] else 0.0)
        if case_rows.size:
            if t == OUTSIDE:
                r = r + news_out
            else:
                own = by_group[t + 1]
                county = county_news - own
                if not (county >= 0.0 or county != county):  # np.maximum(county, 0.0)
                    county = 0.0
                r = r + (per_case_township * own + per_case_county * county)
        if campaign and t != OUTSIDE:
            r = r + per_campaign
        # np.clip(r, 0.0, 1.0): max(r, 0) is r if r > 0 (else 0.0), then min(., 1) is . if
        # below 1 (else 1.0); a NaN stays
        new_risk[i] = r if r != r else (0.0 if not r > 0.0 else (r if r < 1.0 else 1.0))
    hot = 0
    for t in range(towns):
        if unmet[t] >= entry_threshold:
            hot += 1
    return new_risk, hot


@njit(cache=True)
def decide_prices(risk, mobile, demand, ban, hiding_max, hiding_half_risk, pass_through, loss,
                  sd_price, broker_fee, late_price, late_risk_ratio, acts):
    """First half of :meth:`Market.decide <popsim.model.clinics.Market.decide>`: each
    provider's hiding, its prices (``loss`` what a case costs it, 0 without the ban) and the
    exponent ``-clients x exposure x acts`` of its chance of a case (``acts`` the illegal acts
    per client, as the law counts them), whose ``expm1`` the caller computes in numpy."""
    n = risk.size
    hiding, price_sd, price_late, power = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        r = risk[i]
        h = hiding_max * r / (r + hiding_half_risk) if ban else 0.0
        hiding[i] = h
        premium = pass_through * r * (1.0 - h) * loss
        price_sd[i] = sd_price + premium + (1.0 if mobile[i] else 0.0) * broker_fee
        price_late[i] = late_price + late_risk_ratio * premium
        power[i] = -demand[i] * (r * (1.0 - h)) * acts
    return hiding, price_sd, price_late, power


@njit(cache=True)
def decide_offer(demand, risk, hiding, ethics, noise, expm1, list_price, pass_through, loss,
                 acts, moral_price, moral_weight, risk_aversion, is_open, has_us, underground):
    """Second half of :meth:`Market.decide <popsim.model.clinics.Market.decide>`: the gain of
    offering (``Market._gain``: ``list_price`` a client's list revenue at this year's law,
    ``moral_price x moral_weight`` what a unit of moral cost weighs, ``expm1`` numpy's of the
    exponent from :func:`decide_prices`, minus the chance of a case) and the decision,
    returned; an underground provider that does not offer closes (``is_open`` in place)."""
    n = risk.size
    offering = np.empty(n, np.bool_)
    for i in range(n):
        exposure = risk[i] * (1.0 - hiding[i])
        revenue = demand[i] * (list_price + pass_through * exposure * loss * acts)
        moral = ethics[i] * moral_price * moral_weight
        p_case = -expm1[i]
        gain = revenue - risk_aversion * p_case * loss - moral + noise[i]
        offering[i] = is_open[i] and has_us[i] and gain > 0
        if underground[i] and not offering[i]:
            is_open[i] = False
    return offering
