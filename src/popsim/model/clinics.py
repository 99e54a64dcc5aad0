"""Clinics: the supply side of sex selection, as Mesa agents over columnar state.

Each provider is a :class:`Clinic` (a ``mesa.Agent``, in the model's ``clinics`` AgentSet) of one
of six kinds: county hospital, township health centre, private clinic, pharmacy, an
out-of-county provider reached by migrants and by households willing to travel, or a mobile
operator (a portable scanner reached county-wide through brokers). A clinic's numbers (risk
belief, hiding, prices, whether it offers illegal services, fines, cases) live in the columns of
the :class:`Market`, so that the monthly decision of all clinics is one vectorised pass; the
``Clinic`` properties read those columns, so ``model.clinics.select(lambda c: c.offering)``
works as in any Mesa model.

**Risk beliefs** (``risk``: the chance, per illegal act, that the act leads to a case against
the provider). Without news a belief decays toward ``market.prior_risk`` (toward 0 where no law
forbids sex determination) with a half-life of ``market.news_half_life`` months: publicity
fades. News raises it: each case against a provider of its own township by
``risk_per_case_township`` (word of mouth, not scaled by publicity), each other case publicised
in the county by ``risk_per_case_county`` x ``enforcement.publicity``, a campaign launch by
``risk_per_campaign``, an inspection of the provider itself by ``risk_per_inspection``; a
provider caught believes at least ``risk_when_caught``. Out-of-county providers hear only of the
cases pursued against providers outside (``risk_per_case_outside``).

**Hiding** responds continuously to risk: a provider hides ``hiding = hiding_max x risk /
(risk + hiding_half_risk)`` of its exposure (trusted clients only, brokers, moving the machine),
which divides the office's chance of catching it by an inspection or a tip by ``1 - hiding``
and loses it ``hiding_reach_loss x hiding`` of the seekers who would have come to it.

**Prices** carry the risk (Reuter & Kleiman 1986, "risks and prices"): a provider adds
``risk_pass_through`` x its expected penalty per act, ``risk x (1 - hiding) x L``, to the list
prices ``sd_price`` and ``late_abortion_price`` (``late_risk_ratio`` times that to a late
termination, the act the registration system can trace), where ``L = fine + blacklist x
licence_value + prosecute x criminal_cost`` is what a case costs it. A mobile operator's client
also pays the broker's fee.

**The offer decision**, monthly (after Becker 1968): a provider able to do ultrasound offers
illegal sex determination (with an unapproved late termination where approval is required)
when

    n x (price_sd + q x price_late)  -  risk_aversion x P(case | n) x L  -  moral cost + noise > 0

with ``n`` its expected clients (a moving average of those it served, or its share of the
seekers in reach if it does not offer), ``q`` the share who also buy a late termination and
``P(case | n) = 1 - exp(-n x risk x (1 - hiding) x (1 + q x late_risk_ratio))``. Revenue rises
with the price while the expected penalty grows with the risk, so that, with a
``risk_aversion`` above the pass-through, each provider has a belief above which it stops: the
supply bends, continuously, with the providers' beliefs, instead of breaking at the first case.
Pharmacies sell abortion drugs for early terminations, which are legal before 14 weeks; they
never offer sex determination and matter as inspection targets only.

**Entry**: where a township's unmet demand (seekers who found no provider) reaches
``entry_threshold`` a month, an underground provider (unregistered, so invisible to routine
inspections) may open, with chance ``entry_rate``, if selling would pay; a share
``mobile_share`` of them are mobile operators serving the whole county. Underground providers
that stop offering close.

**Sampling** (:func:`sample_townships`): a run with ``run.scale = k`` simulates a 1/k sample of
the county: ``population.townships / k`` townships of full size, each provider count of the
``[market]`` section divided by ``k`` (stochastic rounding), and the office's capacities
divided by ``k`` (:mod:`popsim.model.enforcement`); the county-wide news is the sample's cases
times ``k``. A region of more than ``population.townships_per_county`` townships is several
counties: each hears ``townships_per_county / townships`` of the region's cases as its news.
"""

from __future__ import annotations

import mesa
import numpy as np

from ..errors import ScenarioError
from ..scenario.year import EnforcementValues, YearValues
from . import kernels
from . import kernels_market as kmk
from .kernels_market import COUNTY_WIDE, OUTSIDE
from .streams import Streams

__all__ = ["Clinic", "Market", "KINDS", "MOBILE", "COUNTY_WIDE", "OUTSIDE", "penalty",
           "sample_townships", "SAMPLE_TOLERANCE", "MAX_PROVIDERS"]

KINDS = ("county_hospital", "township_centre", "private_clinic", "pharmacy", "out_of_county",
         "mobile_operator")
HOSPITAL, CENTRE, PRIVATE, PHARMACY, OUT, MOBILE = range(6)
# COUNTY_WIDE, OUTSIDE: the township of a county-wide provider (a county hospital or a mobile
# operator) and of one outside the county (defined in kernels_market, which compiles them in)
#: Largest relative error allowed between ``townships / scale`` and the whole number of
#: townships a sample simulates: beyond it the sample's households per township would differ
#: from the county's by more than this share.
SAMPLE_TOLERANCE = 0.05
#: Most providers a market may have: a household names hers in an ``int16`` column
#: (``Households.provider``; ``china`` has about 3,400).
MAX_PROVIDERS = int(np.iinfo(np.int16).max)

_COLUMNS = {
    "kind": np.int8, "township": np.int16, "has_us": np.bool_, "registered_unit": np.bool_,
    "ethics": np.float64, "risk": np.float64, "hiding": np.float64, "offering": np.bool_,
    "open": np.bool_, "blacklisted": np.bool_, "demand": np.float64, "served": np.int64,
    "acts": np.int64, "cases": np.int64, "fines": np.float64, "price_sd": np.float64,
    "price_late": np.float64, "inspected": np.bool_,
}


def sample_townships(townships: int, scale: float) -> int:
    """Townships simulated by a run of ``scale`` (a 1/scale sample of ``townships``, each of
    full size). Raises :class:`ScenarioError` naming the bound when no whole number of
    townships is within :data:`SAMPLE_TOLERANCE` of ``townships / scale``."""
    exact = townships / scale
    n = max(int(round(exact)), 1)
    if abs(n - exact) > SAMPLE_TOLERANCE * exact:
        divisors = [d for d in range(1, townships + 1) if townships % d == 0]
        raise ScenarioError(
            f"run.scale = {scale:g} cannot be honoured: a 1/{scale:g} sample of "
            f"population.townships = {townships} is {exact:.3g} townships, more than "
            f"{SAMPLE_TOLERANCE:.0%} from a whole number (and at least 1); use a scale that "
            f"divides the townships (e.g. {', '.join(str(d) for d in divisors[:6])}) or set "
            f"population.townships so that it does")
    return n


def _sampled(count: int, scale: float, rng: np.random.Generator) -> int:
    """A 1/scale sample of ``count`` providers: the whole part, plus one with the chance of the
    fraction (so that the expected count is exact)."""
    x = count / scale
    return int(x) + int(rng.random() < x - int(x))


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
        """Believed chance per illegal act of a case against it."""
        return float(self._col("risk"))

    @property
    def hiding(self) -> float:
        """Share of its exposure it hides from the office."""
        return float(self._col("hiding"))

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


def penalty(e: EnforcementValues, m) -> float:
    """What a case costs a provider (yuan): the fine, the expected loss of its licence and the
    expected cost of a prosecution."""
    return e.fine + e.blacklist * m.licence_value + e.prosecute * m.criminal_cost


def _late_terms(p: YearValues) -> tuple[float, float]:
    """The price of the late termination a provider sells with a sex check, and the illegal
    acts per client: where an approval is required the late termination is illegal too."""
    m = p.market
    if p.registration.approval_required:
        return m.late_abortion_price, 1 + m.late_share * m.late_risk_ratio
    return m.legal_abortion_price, 1.0


class Market:
    """Columns of all providers of one county (or of its sample), and the household-provider
    matching.

    ``model`` is the Mesa model the :class:`Clinic` agents belong to; ``townships`` the
    townships simulated (:func:`sample_townships`); the market's draws come from the streams
    ``clinics_setup``, ``clinic_decision`` and ``clinic_entry``.
    """

    def __init__(self, model: mesa.Model, townships: int, streams: Streams,
                 p: YearValues) -> None:
        self.model = model
        self.townships = towns = townships
        #: real providers each simulated one stands for (``run.scale``)
        self.scale = scale = p.run.scale
        #: the share of the region's cases that are one county's news: a region of more
        #: townships than a county is several counties, each hearing of its own cases
        self.news_share = min(1.0, p.population.townships_per_county / p.population.townships)
        self._decision_rng = streams.generator("clinic_decision")
        self._entry_rng = streams.generator("clinic_entry")
        m = p.market
        g = streams.generator("clinics_setup")
        counts = [(HOSPITAL, _sampled(m.county_hospitals, scale, g)),
                  (CENTRE, m.township_centres_per_township * towns),
                  (PRIVATE, _sampled(m.private_clinics, scale, g)),
                  (PHARMACY, _sampled(m.pharmacies, scale, g)),
                  (OUT, _sampled(m.out_of_county, scale, g))]
        kinds = np.concatenate([np.full(k, kind, np.int8) for kind, k in counts])
        self.col = {name: np.zeros(0, dtype=dt) for name, dt in _COLUMNS.items()}
        self.n = 0
        township = np.where(kinds == HOSPITAL, COUNTY_WIDE, np.where(kinds == OUT, OUTSIDE, 0))
        centre = kinds == CENTRE
        township[centre] = np.arange(centre.sum()) % towns
        other = (kinds == PRIVATE) | (kinds == PHARMACY)
        township[other] = g.integers(0, towns, other.sum())
        has_us = np.isin(kinds, [HOSPITAL, CENTRE, OUT]) | (
            (kinds == PRIVATE) & (g.random(kinds.size) < m.private_ultrasound_share))
        self.add(kinds, township, has_us, registered=kinds != OUT, p=p, rng=g,
                 risk=self._prior(p, township))
        self.unmet = np.zeros(towns + 1)
        self.local_seekers = np.zeros(towns)
        self.outside_seekers = 0
        self._reach_loss = m.hiding_reach_loss

    @staticmethod
    def _prior(p: YearValues, township: np.ndarray) -> np.ndarray:
        """The risk belief without news: ``prior_risk`` in the county and ``outside_risk`` out
        of it under the ban, 0 without it."""
        m = p.market
        if not p.enforcement.ban:
            return np.zeros(township.size)
        return np.where(township == OUTSIDE, m.outside_risk, m.prior_risk)

    @staticmethod
    def list_revenue(p: YearValues) -> float:
        """List revenue of a client (yuan): a sex check and, for ``late_share`` of them, a late
        termination; the unit of the moral cost."""
        m = p.market
        return m.sd_price + m.late_share * m.late_abortion_price

    def add(self, kinds, township, has_us, registered, p: YearValues, rng, risk,
            ethics=None) -> None:
        """Append providers (and their Mesa agents); moral cost drawn unless given."""
        k = len(kinds)
        if self.n + k > MAX_PROVIDERS:
            raise ScenarioError(f"the market would have {self.n + k:,} providers, more than the "
                                f"{MAX_PROVIDERS:,} a household's provider column (int16) can "
                                f"name: lower the provider counts of [market] or simulate a "
                                f"sample of them (run.scale)")
        if ethics is None:
            ethics = rng.exponential(p.market.ethics_mean, k) * np.where(
                np.isin(kinds, [HOSPITAL, CENTRE]), p.market.public_ethics, 1.0)
        new = {"kind": kinds, "township": township, "has_us": has_us,
               "registered_unit": registered, "ethics": ethics,
               "risk": np.broadcast_to(risk, (k,)), "open": np.ones(k, bool),
               "price_sd": np.full(k, p.market.sd_price),
               "price_late": np.full(k, p.market.late_abortion_price)}
        for name, dt in _COLUMNS.items():
            part = np.asarray(new[name], dtype=dt) if name in new else np.zeros(k, dtype=dt)
            self.col[name] = np.concatenate([self.col[name], part])
        for row in range(self.n, self.n + k):
            Clinic(self.model, self, row)
        self.n += k
        c, tw = self.col, self.col["township"]
        # a row's kind and township never change: the groups the monthly passes use
        self._rows = {"local": tw >= 0, "local_tw": tw[tw >= 0], "county_wide": tw == COUNTY_WIDE,
                      "outside": tw == OUTSIDE, "mobile": c["kind"] == MOBILE,
                      "underground": ~c["registered_unit"] & (tw != OUTSIDE)}

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
        (the lowest prices when none offers): what a household expects to pay."""
        c = self.col
        off = c["offering"]
        k = np.count_nonzero(off)  # (a mean is the sum over the count: the same bits)
        if not k:
            return float(c["price_sd"].min()), float(c["price_late"].min())
        return float(c["price_sd"][off].sum() / k), float(c["price_late"][off].sum() / k)

    def in_county(self) -> int:
        """Providers open in the county (every kind but out-of-county; underground included)."""
        c = self.col
        return int((c["open"] & (c["township"] != OUTSIDE)).sum())

    def sell(self, providers: np.ndarray) -> None:
        """One illegal act at each of ``providers`` (repeats count)."""
        np.add.at(self.col["acts"], providers, 1)

    @staticmethod
    def _hiding(p: YearValues, risk):
        """The share of its exposure a provider hides at ``risk`` (nothing to hide without the
        ban)."""
        m = p.market
        if not p.enforcement.ban:
            return np.zeros_like(risk)
        return m.hiding_max * risk / (risk + m.hiding_half_risk)

    def _gain(self, p: YearValues, clients, risk, ethics, noise, hiding=None) -> np.ndarray:
        """Expected monthly gain of offering illegal services (yuan), the rule in the module
        docstring, at the prices ``risk`` implies (and its ``hiding``, computed unless given);
        ``clients`` may be the expected clients of existing or would-be providers (a broker's
        fee is not the provider's revenue)."""
        m, e = p.market, p.enforcement
        exposure = risk * (1 - (self._hiding(p, risk) if hiding is None else hiding))
        loss = penalty(e, m) if e.ban else 0.0
        late_price, acts = _late_terms(p)
        revenue = clients * (m.sd_price + m.late_share * late_price
                             + m.risk_pass_through * exposure * loss * acts)
        p_case = -np.expm1(-clients * exposure * acts)
        moral = ethics * self.list_revenue(p) * (1.0 if e.ban else m.unbanned_ethics)
        return revenue - m.risk_aversion * p_case * loss - moral + noise

    def decide(self, p: YearValues) -> None:
        """Every open provider sets its hiding and prices and decides whether to offer illegal
        services this month.

        Underground providers exist only to sell these services: one that stops offering
        closes. Compiled (:func:`~popsim.model.kernels_market.decide_prices`,
        :func:`~popsim.model.kernels_market.decide_offer`) unless ``POPSIM_KERNELS=numpy``.
        """
        c, m, e = self.col, p.market, p.enforcement
        if kernels.use_kernels():
            return self._decide_compiled(p)
        risk = c["risk"]
        c["hiding"] = hiding = self._hiding(p, risk)
        self._reach_loss = m.hiding_reach_loss  # for this month's matching
        premium = m.risk_pass_through * risk * (1 - hiding) * (penalty(e, m) if e.ban else 0.0)
        c["price_sd"] = m.sd_price + premium + self._rows["mobile"] * m.broker_fee
        c["price_late"] = m.late_abortion_price + m.late_risk_ratio * premium
        # + 1 yuan: the noise keeps a spread when moral costs are zero
        noise = self._decision_rng.normal(
            0.0, m.decision_noise * m.ethics_mean * self.list_revenue(p) + 1.0, self.n)
        gain = self._gain(p, c["demand"], risk, c["ethics"], noise, hiding)
        c["offering"] = offering = c["open"] & c["has_us"] & (gain > 0)
        c["open"][self._rows["underground"] & ~offering] = False

    def _decide_compiled(self, p: YearValues) -> None:
        """:meth:`decide` in two kernels (:mod:`~popsim.model.kernels_market`); between them
        numpy computes ``expm1`` of the exponent of the chance of a case and draws the noise
        (the reference's draw, of the same size)."""
        c, m, e = self.col, p.market, p.enforcement
        self._reach_loss = m.hiding_reach_loss
        loss = penalty(e, m) if e.ban else 0.0
        late_price, acts = _late_terms(p)
        list_revenue = self.list_revenue(p)
        c["hiding"], c["price_sd"], c["price_late"], power = kmk.decide_prices(
            c["risk"], self._rows["mobile"], c["demand"], bool(e.ban), float(m.hiding_max),
            float(m.hiding_half_risk), float(m.risk_pass_through), float(loss),
            float(m.sd_price), float(m.broker_fee), float(m.late_abortion_price),
            float(m.late_risk_ratio), float(acts))
        expm1 = np.expm1(power)  # minus the chance of a case
        noise = self._decision_rng.normal(
            0.0, m.decision_noise * m.ethics_mean * list_revenue + 1.0, self.n)
        c["offering"] = kmk.decide_offer(
            c["demand"], c["risk"], c["hiding"], c["ethics"], noise, expm1,
            float(m.sd_price + m.late_share * late_price), float(m.risk_pass_through),
            float(loss), float(acts), float(list_revenue),
            1.0 if e.ban else float(m.unbanned_ethics), float(m.risk_aversion), c["open"],
            c["has_us"], self._rows["underground"])

    def search(self, township: np.ndarray, migrant: np.ndarray, travel: np.ndarray,
               u_order: np.ndarray, u_pick: np.ndarray,
               capacity: float) -> tuple[np.ndarray, np.ndarray]:
        """Match seekers to offering providers, within ``capacity`` clients per provider.

        Residents look in their township and among the county-wide providers (hospitals,
        mobile operators); if they find none (it is full, or hidden from them: a provider
        hiding ``h`` is missed with chance ``hiding_reach_loss x h``) and are willing to travel
        (``travel``) they look out of county, as migrants always do. Seekers are served in the
        order of ``u_order``; ``u_pick`` picks uniformly among the providers in reach (its
        remainder decides whether a hidden provider is found). Returns each seeker's provider
        row (-1 if none) and whether it is out of county. Compiled
        (:func:`~popsim.model.kernels_market.search_pass`) unless ``POPSIM_KERNELS=numpy``.
        """
        c = self.col
        if kernels.use_kernels():
            provider, out, migrants = kmk.search_pass(
                township, migrant, travel, u_order, u_pick, float(capacity), c["offering"],
                c["served"], c["township"], c["hiding"], float(self._reach_loss),
                self.townships, self.local_seekers, self.unmet)
            self.outside_seekers += migrants
            return provider, out
        cap = capacity
        n = township.size
        provider = np.full(n, -1, dtype=np.int64)
        np.add.at(self.local_seekers, township[~migrant], 1)
        self.outside_seekers += int(migrant.sum())
        # in the county: own township's providers, then the county-wide ones, in one list
        local = np.flatnonzero(~migrant)
        avail = c["offering"] & (c["served"] < cap)
        county = np.flatnonzero(avail & (c["township"] == COUNTY_WIDE))
        in_town = np.flatnonzero(avail & (c["township"] >= 0))
        in_town = in_town[np.argsort(c["township"][in_town], kind="stable")]
        start = np.searchsorted(c["township"][in_town], np.arange(self.townships + 1))
        t_s = township[local]
        n_town = start[t_s + 1] - start[t_s]
        n_all = n_town + county.size
        x = u_pick[local] * n_all
        k = np.minimum(x.astype(np.int64), np.maximum(n_all - 1, 0))
        in_own = k < n_town
        provider[local[in_own]] = in_town[start[t_s[in_own]] + k[in_own]]
        to_county = (n_all > 0) & ~in_own
        provider[local[to_county]] = county[k[to_county] - n_town[to_county]]
        self._hidden(provider, local, x - k)
        self._enforce_capacity(provider, u_order, cap, local)
        failed = local[provider[local] < 0]
        np.add.at(self.unmet, township[failed], 1)
        # out of county: migrants, and residents who found nothing and travel
        go_out = np.concatenate([np.flatnonzero(migrant), failed[travel[failed]]])
        outside = np.flatnonzero(avail & (c["township"] == OUTSIDE))
        if go_out.size and outside.size:
            x = u_pick[go_out] * outside.size
            k = np.minimum(x.astype(np.int64), outside.size - 1)
            provider[go_out] = outside[k]
            self._hidden(provider, go_out, x - k)
            self._enforce_capacity(provider, u_order, cap, go_out)
        found = provider >= 0
        np.add.at(c["served"], provider[found], 1)
        out_of_county = found & (c["township"][np.maximum(provider, 0)] == OUTSIDE)
        return provider, out_of_county

    def _hidden(self, provider, among, u) -> None:
        """Seekers of ``among`` miss a hiding provider: with chance ``reach_loss x hiding``
        (``u`` uniform, the remainder of the pick)."""
        sel = provider[among] >= 0
        who = among[sel]
        miss = u[sel] < self._reach_loss * self.col["hiding"][provider[who]]
        provider[who[miss]] = -1

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

    def end_month(self, p: YearValues, campaign_launch: bool, case_rows: np.ndarray) -> int:
        """Update demand expectations and risk beliefs; underground entry. Returns entries.

        ``case_rows``: the providers against which a case was pursued this month (repeats
        count). Compiled (:func:`~popsim.model.kernels_market.end_month_pass`) unless
        ``POPSIM_KERNELS=numpy``."""
        c, m = self.col, p.market
        if kernels.use_kernels():
            return self._end_month_compiled(p, campaign_launch, case_rows)
        towns = self.townships
        off, rows = c["offering"], self._rows
        local, cw, out, tw = rows["local"], rows["county_wide"], rows["outside"], rows["local_tw"]
        off_local = off[local]
        n_off_town = np.bincount(tw[off_local], minlength=towns)
        n_off_county = np.count_nonzero(off & cw)
        share = np.zeros(self.n)
        share[local] = self.local_seekers[tw] / (n_off_town[tw] + n_off_county + 1 - off_local)
        share[cw] = self.local_seekers.sum() / (n_off_town.sum() + n_off_county + 1 - off[cw])
        share[out] = self.outside_seekers / (np.count_nonzero(off & out) + 1 - off[out])
        c["demand"] += m.demand_smoothing * (np.where(off, c["served"], share) - c["demand"])
        self._learn(p, campaign_launch, case_rows)
        return self._entry(p)

    def _end_month_compiled(self, p: YearValues, campaign_launch: bool,
                            case_rows: np.ndarray) -> int:
        """:meth:`end_month` in one kernel, with the scalars of :meth:`_learn` in its order;
        the entry (numpy: its draws) only when a township's unmet demand reaches the
        threshold, as the reference draws nothing otherwise."""
        c, m, e = self.col, p.market, p.enforcement
        c["risk"], hot = kmk.end_month_pass(
            c["offering"], c["served"], c["demand"], c["township"], c["risk"], c["inspected"],
            self.local_seekers, int(self.outside_seekers), float(m.demand_smoothing),
            bool(e.ban), float(m.prior_risk), float(m.outside_risk),
            float(0.5 ** (1.0 / m.news_half_life)), float(m.risk_per_inspection), case_rows,
            float(self.news_share * self.scale), float(m.risk_per_case_township),
            float(e.publicity * m.risk_per_case_county),
            float(e.publicity * m.risk_per_case_outside * self.news_share * self.scale),
            bool(campaign_launch), float(m.risk_per_campaign), self.unmet,
            float(m.entry_threshold))
        return self._entry(p) if hot else 0

    def _learn(self, p: YearValues, campaign_launch: bool, case_rows: np.ndarray) -> None:
        """Risk beliefs: decay toward the prior, then this month's news (module docstring)."""
        c, m, e = self.col, p.market, p.enforcement
        tw = c["township"]
        prior = self._prior(p, tw)
        keep = 0.5 ** (1.0 / m.news_half_life)
        r = prior + (c["risk"] - prior) * keep
        r = r + m.risk_per_inspection * c["inspected"]
        if case_rows.size:  # (no case, no news: most months)
            case_tw = tw[case_rows]
            outside = case_tw == OUTSIDE
            n_out, n_in = int(outside.sum()), int((~outside).sum())
            # a provider knows the cases of its own township (county-wide ones: those against
            # county-wide providers) exactly; the rest of the county's news is the sample's
            # cases times ``scale`` (the real region's count) times ``news_share`` (one
            # county's share of the region's news)
            by_group = np.bincount(case_tw[~outside] + 1, minlength=self.townships + 1)
            own = np.where(tw == OUTSIDE, 0, by_group[np.maximum(tw, -1) + 1])
            county = np.maximum(self.news_share * self.scale * n_in - own, 0.0)
            news = (m.risk_per_case_township * own
                    + e.publicity * m.risk_per_case_county * county)
            news_out = (e.publicity * m.risk_per_case_outside * self.news_share * self.scale
                        * n_out)
            r = r + np.where(tw == OUTSIDE, news_out, news)
        if campaign_launch:
            r = np.where(tw != OUTSIDE, r + m.risk_per_campaign, r)
        c["risk"] = np.clip(r, 0.0, 1.0)

    def _entry(self, p: YearValues) -> int:
        """Underground entry where unmet demand is high and selling would pay."""
        c, m = self.col, p.market
        entry_rng = self._entry_rng
        hot = np.flatnonzero(self.unmet[:self.townships] >= m.entry_threshold)
        if hot.size == 0:
            return 0
        hot = hot[entry_rng.random(hot.size) < m.entry_rate]
        if hot.size == 0:
            return 0
        mobile = entry_rng.random(hot.size) < m.mobile_share
        # an entrant shares the beliefs of the providers of its township (county-wide ones for
        # a mobile operator)
        tw = c["township"]
        in_county = tw != OUTSIDE
        county_risk = float(c["risk"][in_county].mean())
        town_risk = np.bincount(tw[tw >= 0], weights=c["risk"][tw >= 0], minlength=self.townships)
        town_n = np.bincount(tw[tw >= 0], minlength=self.townships)
        risk = np.where(mobile | (town_n[hot] == 0), county_risk,
                        town_risk[hot] / np.maximum(town_n[hot], 1))
        ethics = m.underground_ethics * entry_rng.exponential(m.ethics_mean, hot.size)
        pays = self._gain(p, self.unmet[hot], risk, ethics, 0.0) > 0
        if not pays.any():
            return 0
        k = int(pays.sum())
        kinds = np.where(mobile[pays], MOBILE, PRIVATE).astype(np.int8)
        township = np.where(mobile[pays], COUNTY_WIDE, hot[pays]).astype(np.int16)
        self.add(kinds, township, np.ones(k, bool), registered=np.zeros(k, bool), p=p,
                 rng=entry_rng, risk=risk[pays], ethics=ethics[pays])
        return k

    def sanction(self, rows: np.ndarray, e: EnforcementValues, m,
                 rng: np.random.Generator) -> float:
        """Fine detected providers, blacklist some (they close). Returns the fines (yuan)."""
        c = self.col
        if rows.size == 0:
            return 0.0
        np.add.at(c["cases"], rows, 1)
        np.add.at(c["fines"], rows, e.fine)
        black = rows[rng.random(rows.size) < e.blacklist]
        black = black[~c["blacklisted"][black]]
        c["blacklisted"][black] = True
        c["open"][black] = False
        c["offering"][black] = False
        # a provider caught learns the risk is real
        c["risk"][rows] = np.maximum(c["risk"][rows], m.risk_when_caught)
        return e.fine * rows.size
