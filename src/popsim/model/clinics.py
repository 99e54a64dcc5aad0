"""Clinics: the supply side of sex selection, as Mesa agents over columnar state.

Each provider is a :class:`Clinic` (a ``mesa.Agent``, in the model's ``clinics`` AgentSet) of one
of five kinds: county hospital, township health centre, private clinic, pharmacy, or an
out-of-county provider reached by migrants and by households willing to travel. A clinic's numbers
(risk belief, price, whether it offers illegal services, fines, cases) live in the columns of the
:class:`Market`, so that the monthly decision of all clinics is one vectorised pass (the Mesa
agents stay a small share of the run time); the ``Clinic`` properties read those columns, so
``model.clinics.select(lambda c: c.offering)`` works as in any Mesa model.

Monthly decision, after Becker's (1968) economics of crime. A clinic able to do ultrasound offers
illegal sex determination together with unapproved late termination when

    expected clients x (price_sd + q x price_late)
      - P(caught | clients) x (fine + blacklist x licence + prosecution x criminal cost)
      - moral cost + noise  >  0,

where ``P(caught) = 1 - (1 - risk belief)^clients``, ``q`` is the share of clients who also buy
a late termination (``market.late_share``), prices rise with the clinic's risk belief
(``price x (1 + markup x risk)``; reported prices rose ten-fold 2003-2013 as enforcement grew),
and expected clients are a moving average of the seekers in the clinic's reach divided among the
providers offering there. Risk beliefs rise with the clinic's own inspections (a share
``market.inspection_learning`` of the way to the inspectors' real detection chance), with each
publicised case in the county and at each campaign launch, and decay by ``risk_decay`` a month
without news. Pharmacies sell abortion drugs for early terminations, which are legal before 14
weeks; in the model they never offer sex determination and matter as inspection targets only.
Underground providers (unregistered, so invisible to routine inspections) open where a
township's unmet demand is high.
"""

from __future__ import annotations

import mesa
import numpy as np

from ..scenario.year import EnforcementValues, YearValues
from .streams import Streams

__all__ = ["Clinic", "Market", "KINDS", "COUNTY_WIDE", "OUTSIDE"]

KINDS = ("county_hospital", "township_centre", "private_clinic", "pharmacy", "out_of_county")
HOSPITAL, CENTRE, PRIVATE, PHARMACY, OUT = range(5)
#: The township of a county hospital (serves every township) and of a provider outside.
COUNTY_WIDE, OUTSIDE = -1, -2

_COLUMNS = {
    "kind": np.int8, "township": np.int16, "has_us": np.bool_, "registered_unit": np.bool_,
    "ethics": np.float64, "risk": np.float64, "offering": np.bool_, "open": np.bool_,
    "blacklisted": np.bool_, "demand": np.float64, "served": np.int64, "acts": np.int64,
    "cases": np.int64, "fines": np.float64, "price_sd": np.float64, "price_late": np.float64,
    "inspected": np.bool_,
}


class Clinic(mesa.Agent):
    """One provider. Its state is a row of :class:`Market`; these properties expose it."""

    def __init__(self, model: mesa.Model, market: Market, row: int):
        super().__init__(model)
        self.market = market
        self.row = row

    def _col(self, name: str):
        return self.market.col[name][self.row]

    @property
    def kind(self) -> str:
        return KINDS[self._col("kind")]

    @property
    def township(self) -> int:
        """Township index; -1 serves the whole county, -2 is outside the county."""
        return int(self._col("township"))

    @property
    def has_ultrasound(self) -> bool:
        return bool(self._col("has_us"))

    @property
    def risk_belief(self) -> float:
        return float(self._col("risk"))

    @property
    def offering(self) -> bool:
        """Offers illegal sex determination and unapproved late termination this month."""
        return bool(self._col("offering"))

    @property
    def status(self) -> str:
        if self._col("blacklisted"):
            return "blacklisted"
        return "open" if self._col("open") else "closed"

    @property
    def price(self) -> float:
        return float(self._col("price_sd"))

    @property
    def cases(self) -> int:
        return int(self._col("cases"))

    @property
    def fines_paid(self) -> float:
        return float(self._col("fines"))


class Market:
    """Columns of all providers of one county, and the household-provider matching.

    ``model`` is the Mesa model the :class:`Clinic` agents belong to; the market's draws come
    from the streams ``clinics_setup``, ``clinic_decision`` and ``clinic_entry``.
    """

    def __init__(self, model: mesa.Model, townships: int, streams: Streams,
                 p: YearValues) -> None:
        self.model = model
        self.townships = towns = townships
        self._decision_rng = streams.generator("clinic_decision")
        self._entry_rng = streams.generator("clinic_entry")
        m = p.market
        g = streams.generator("clinics_setup")
        kinds = ([HOSPITAL] * m.county_hospitals + [CENTRE] * (m.township_centres_per_township
                                                                * towns)
                 + [PRIVATE] * m.private_clinics + [PHARMACY] * m.pharmacies
                 + [OUT] * m.out_of_county)
        self.col = {name: np.zeros(0, dtype=dt) for name, dt in _COLUMNS.items()}
        self.n = 0
        kinds = np.array(kinds, dtype=np.int8)
        township = np.where(kinds == HOSPITAL, COUNTY_WIDE, np.where(kinds == OUT, OUTSIDE, 0))
        centre = kinds == CENTRE
        township[centre] = np.arange(centre.sum()) % towns
        other = (kinds == PRIVATE) | (kinds == PHARMACY)
        township[other] = g.integers(0, towns, other.sum())
        has_us = np.isin(kinds, [HOSPITAL, CENTRE, OUT]) | (
            (kinds == PRIVATE) & (g.random(kinds.size) < m.private_ultrasound_share))
        self.add(kinds, township, has_us, registered=kinds != OUT, p=p, rng=g,
                 risk=m.initial_risk)

    def add(self, kinds, township, has_us, registered, p: YearValues, rng, risk: float,
            ethics=None) -> None:
        """Append providers (and their Mesa agents); moral cost drawn unless given."""
        k = len(kinds)
        if ethics is None:
            ethics = rng.exponential(p.market.ethics_mean, k) * np.where(
                np.isin(kinds, [HOSPITAL, CENTRE]), p.market.public_ethics, 1.0)
        new = {"kind": kinds, "township": township, "has_us": has_us,
               "registered_unit": registered, "ethics": ethics, "risk": np.full(k, risk),
               "open": np.ones(k, bool), "price_sd": np.full(k, p.market.sd_price),
               "price_late": np.full(k, p.market.late_abortion_price)}
        for name, dt in _COLUMNS.items():
            part = np.asarray(new[name], dtype=dt) if name in new else np.zeros(k, dtype=dt)
            self.col[name] = np.concatenate([self.col[name], part])
        for row in range(self.n, self.n + k):
            Clinic(self.model, self, row)
        self.n += k

    # ---------------------------------------------------------------------------------------

    def start_month(self) -> None:
        for name in ("served", "acts"):
            self.col[name][:] = 0
        self.col["inspected"][:] = False
        self.unmet = np.zeros(self.townships + 1)
        self.local_seekers = np.zeros(self.townships)
        self.outside_seekers = 0

    def expected_prices(self) -> tuple[float, float]:
        """Mean sex-determination and late-termination prices among providers offering now
        (the list prices when none offers): what a household expects to pay."""
        c = self.col
        off = c["offering"]
        if not off.any():
            return float(c["price_sd"].min()), float(c["price_late"].min())
        return float(c["price_sd"][off].mean()), float(c["price_late"][off].mean())

    def sell(self, providers: np.ndarray) -> None:
        """One illegal act at each of ``providers`` (repeats count)."""
        np.add.at(self.col["acts"], providers, 1)

    def _gain(self, p: YearValues, clients, risk, ethics, noise) -> np.ndarray:
        """Expected monthly gain of offering illegal services (yuan), the rule in the module
        docstring; ``clients`` may be the expected clients of existing or would-be providers."""
        m, e = p.market, p.enforcement
        markup = 1 + m.price_risk_markup * risk
        revenue = clients * markup * (m.sd_price + m.late_share * m.late_abortion_price)
        penalty = e.fine + e.blacklist * m.licence_value + e.prosecute * m.criminal_cost
        p_caught = -np.expm1(clients * np.log1p(-np.minimum(risk, 0.999)))
        return revenue - p_caught * penalty - ethics + noise

    def decide(self, p: YearValues) -> None:
        """Every open provider decides whether to offer illegal services this month.

        Underground providers exist only to sell these services: one that stops offering
        closes.
        """
        c, m = self.col, p.market
        c["price_sd"] = m.sd_price * (1 + m.price_risk_markup * c["risk"])
        c["price_late"] = m.late_abortion_price * (1 + m.price_risk_markup * c["risk"])
        # + 1 yuan: the noise keeps a spread when moral costs are zero
        noise = self._decision_rng.normal(0.0, m.decision_noise * m.ethics_mean + 1.0, self.n)
        gain = self._gain(p, c["demand"], c["risk"], c["ethics"], noise)
        c["offering"] = c["open"] & c["has_us"] & (gain > 0)
        quit_ = ~c["registered_unit"] & (c["township"] != OUTSIDE) & c["open"] & ~c["offering"]
        c["open"][quit_] = False

    def search(self, township: np.ndarray, migrant: np.ndarray, travel: np.ndarray,
               u_order: np.ndarray, u_pick: np.ndarray,
               capacity: float) -> tuple[np.ndarray, np.ndarray]:
        """Match seekers to offering providers, within ``capacity`` clients per provider.

        Residents look in their township and at county hospitals; if they find none (or it is
        full) and are willing to travel (``travel``) they look out of county, as migrants always
        do. Seekers are served in the order of ``u_order``; ``u_pick`` picks uniformly among the
        providers in reach. Returns each seeker's provider row (-1 if none) and whether it is out
        of county.
        """
        c = self.col
        cap = capacity
        n = township.size
        provider = np.full(n, -1, dtype=np.int64)
        np.add.at(self.local_seekers, township[~migrant], 1)
        self.outside_seekers += int(migrant.sum())
        # in the county: own township's providers, then the county hospitals, in one list
        local = np.flatnonzero(~migrant)
        avail = c["offering"] & (c["served"] < cap)
        county = np.flatnonzero(avail & (c["township"] == COUNTY_WIDE))
        in_town = np.flatnonzero(avail & (c["township"] >= 0))
        in_town = in_town[np.argsort(c["township"][in_town], kind="stable")]
        start = np.searchsorted(c["township"][in_town], np.arange(self.townships + 1))
        t_s = township[local]
        n_town = start[t_s + 1] - start[t_s]
        n_all = n_town + county.size
        k = np.minimum((u_pick[local] * n_all).astype(np.int64), np.maximum(n_all - 1, 0))
        in_own = k < n_town
        provider[local[in_own]] = in_town[start[t_s[in_own]] + k[in_own]]
        to_county = (n_all > 0) & ~in_own
        provider[local[to_county]] = county[k[to_county] - n_town[to_county]]
        self._enforce_capacity(provider, u_order, cap, local)
        failed = local[provider[local] < 0]
        np.add.at(self.unmet, township[failed], 1)
        # out of county: migrants, and residents who found nothing and travel
        go_out = np.concatenate([np.flatnonzero(migrant), failed[travel[failed]]])
        outside = np.flatnonzero(avail & (c["township"] == OUTSIDE))
        if go_out.size and outside.size:
            k = np.minimum((u_pick[go_out] * outside.size).astype(np.int64), outside.size - 1)
            provider[go_out] = outside[k]
            self._enforce_capacity(provider, u_order, cap, go_out)
        found = provider >= 0
        np.add.at(c["served"], provider[found], 1)
        out_of_county = found & (c["township"][np.maximum(provider, 0)] == OUTSIDE)
        return provider, out_of_county

    def _enforce_capacity(self, provider, u_order, cap, among) -> None:
        """Seekers (of ``among``) beyond a provider's remaining capacity, in ``u_order``, lose
        it."""
        sel = among[provider[among] >= 0]
        if sel.size == 0:
            return
        order = sel[np.lexsort((u_order[sel], provider[sel]))]
        prov = provider[order]
        first = np.r_[0, np.flatnonzero(np.diff(prov)) + 1]
        pos = np.arange(order.size) - np.repeat(first, np.diff(np.r_[first, order.size]))
        room = cap - self.col["served"][prov]
        provider[order[pos >= room]] = -1

    def end_month(self, p: YearValues, campaign_launch: bool, publicised: int,
                  publicised_outside: int) -> int:
        """Update demand expectations and risk beliefs; underground entry. Returns entries.

        ``publicised``: cases pursued this month against providers in the county;
        ``publicised_outside``: against providers outside it."""
        c, m, e = self.col, p.market, p.enforcement
        towns = self.townships
        entry_rng = self._entry_rng
        off = c["offering"]
        n_off_town = np.bincount(c["township"][off & (c["township"] >= 0)], minlength=towns)
        n_off_county = int((off & (c["township"] == COUNTY_WIDE)).sum())
        n_off_out = int((off & (c["township"] == OUTSIDE)).sum())
        tw = c["township"]
        share = np.zeros(self.n)
        local = tw >= 0
        share[local] = self.local_seekers[tw[local]] / (n_off_town[tw[local]] + n_off_county + 1
                                                        - off[local])
        cw = tw == COUNTY_WIDE
        share[cw] = self.local_seekers.sum() / (n_off_town.sum() + n_off_county + 1 - off[cw])
        out = tw == OUTSIDE
        share[out] = self.outside_seekers / (n_off_out + 1 - off[out])
        c["demand"] += m.demand_smoothing * (np.where(off, c["served"], share) - c["demand"])
        # beliefs
        r = c["risk"] * (1 - m.risk_decay)
        r = np.where(c["inspected"], r + m.inspection_learning * (e.detection - r), r)
        launched = campaign_launch and e.inspections_per_month > 0
        news = e.publicity * publicised + (e.publicity if launched else 0.0)
        # news of a case pursued across the county border travels among outside providers
        news_out = e.publicity * publicised_outside
        r = np.where(c["township"] != OUTSIDE, r + news * (1 - r), r + news_out * (1 - r))
        c["risk"] = np.clip(r, 0.0, 1.0)
        # underground entry where unmet demand is high and selling would pay
        entries = 0
        hot = np.flatnonzero(self.unmet[:towns] >= m.entry_threshold)
        if hot.size:
            hot = hot[entry_rng.random(hot.size) < m.entry_rate]
            in_county = c["registered_unit"] | (c["township"] >= 0)
            risk = float(c["risk"][in_county].mean())
            ethics = m.underground_ethics * entry_rng.exponential(m.ethics_mean, hot.size)
            pays = self._gain(p, self.unmet[hot], risk, ethics, 0.0) > 0
            enter = hot[pays]
            if enter.size:
                k = enter.size
                self.add(np.full(k, PRIVATE, np.int8), enter.astype(np.int16),
                         np.ones(k, bool), registered=np.zeros(k, bool), p=p, rng=entry_rng,
                         risk=risk, ethics=ethics[pays])
                entries = k
        return entries

    def sanction(self, rows: np.ndarray, e: EnforcementValues, rng: np.random.Generator) -> float:
        """Fine detected providers, blacklist some (they close). Returns the fines (yuan)."""
        c = self.col
        if rows.size == 0:
            return 0.0
        c["cases"][rows] += 1
        c["fines"][rows] += e.fine
        black = rows[rng.random(rows.size) < e.blacklist]
        black = black[~c["blacklisted"][black]]
        c["blacklisted"][black] = True
        c["open"][black] = False
        c["offering"][black] = False
        # a provider caught learns the risk is real
        c["risk"][rows] = np.maximum(c["risk"][rows], e.detection)
        return e.fine * rows.size
