"""The Mesa model: one county, one month per step.

:class:`PopSimModel` owns the vectorised households (:mod:`popsim.households`), the providers
(:mod:`popsim.clinics`, Mesa agents in ``model.clinics``), the enforcement office
(:mod:`popsim.enforcement`, a Mesa agent) and the recorder (:mod:`popsim.recording`). The step
order is written once, in :meth:`PopSimModel.step`.
"""

from __future__ import annotations

import numpy as np
import mesa

from .clinics import Clinic, Market
from .enforcement import EnforcementOffice
from .households import (AGE_GROUPS, CHUNK, ROUTE_EARLY, ROUTE_ULTRASOUND, TRYING, WAITING, Households,
                         sigmoid)
from ..scenario.year import POLICY_LIMITS, YearParams
from .recording import Recorder
from ..scenario.parameters import Scenario
from .streams import Streams

__all__ = ["PopSimModel"]

_MALE, _FEMALE = 0, 1


class PopSimModel(mesa.Model):
    """Sex selection in one county under a package of policy levers.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`popsim.load_scenario`).
    seed : int, optional
        Root seed of every random stream; defaults to ``scenario.run.seed``.

    The model starts ``run.burn_in_years`` before ``run.start_year`` so that parity and the sexes
    of existing children are realistic when recording starts; :meth:`run_to_end` steps to
    December of ``run.end_year``.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.run.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.seed = seed
        # not ``self.scenario``: Mesa 3.5 reserves that name for its own Scenario objects
        self.config = scenario
        self.streams = Streams(seed)
        r = scenario.run
        self.first_year = r.start_year - r.burn_in_years
        self.years = YearParams(scenario, self.first_year, r.end_year)
        self.t = self.first_year * 12
        self.t_end = (r.end_year + 1) * 12
        self.p = self.years[self.first_year]
        self.townships = scenario.population.townships
        self.households = Households(r.households, self.townships, self.streams, self.t, self.p)
        self.market = Market(self, self.p)
        self.office = EnforcementOffice(self)
        self.recorder = Recorder(r.start_year, r.end_year, self.townships)
        self._last_reported = (0, 0)  # reported male, female births last year (before misreport)
        self._reported_now = np.zeros(2)
        self._misreport = 0.0
        self._limits = None  # the policy limits of the previous year
        self.market.decide(self.p)

    @property
    def clinics(self) -> mesa.agent.AgentSet:
        """The providers, as a Mesa AgentSet."""
        return self.agents_by_type[Clinic]

    @property
    def year(self) -> int:
        return self.t // 12

    @property
    def finished(self) -> bool:
        return self.t >= self.t_end

    def run_to_end(self) -> None:
        while not self.finished:
            self.step()

    def dataset(self):
        """The recorded years as an ``xarray.Dataset`` with provenance attrs."""
        from ..provenance import provenance

        s = self.config
        return self.recorder.to_dataset(s.run.scale, s.behaviour.natural_srb,
                                        provenance(s, self.seed))

    # ---------------------------------------------------------------------------------------

    def step(self) -> None:
        """One month. The order of events:

        1. **Policy schedule.** In January, the year's lever and context values are read
           (``model.p``) and the yearly pass runs (3 and 10 below). Campaign months multiply
           inspections.
        2. **Ageing, exits, entries.** Women reaching 50 leave; a 15-year-old takes each slot.
        3. **Norms** (January): secular decline, propaganda contacts, peer influence; women held
           back by the policy are re-evaluated (they may violate it or give up), and, when the
           policy's limits change, every woman who had stopped.
        4. **Conception.** Women whose wait ended conceive; the pregnancy is registered with
           probability ``registration.coverage`` (less for migrants, always if grey-listed).
        5. **Sex determination.** At gestation month 2 motivated households decide to seek it
           and choose the early blood test or the 16-week ultrasound; at month 4 ultrasound
           seekers search for a willing provider in reach and pay its price.
        6. **Abortion** of a fetus believed female: early (legal, no signal) or late (illegal
           without approval where the real-name rule holds; a registered pregnancy that
           disappears leaves a signal for the office).
        7. **Births** at month 9; female births may go unreported (concealment) and, under
           accountability pressure, male births may be under-reported; cash at a girl's birth.
        8. **Enforcement**: inspections, tips, follow-ups of signals, birth audits, sanctions,
           publicity, grey-listing (:class:`~popsim.enforcement.EnforcementOffice`).
        9. **Clinics** learn from the month's news, update demand and decide whether to offer
           illegal services next month; underground providers may open.
        10. **Incentives** (January): households that stopped with a qualifying family are
            certified; the present value of their benefit is booked as a cost.
        11. **Record** the month's counts; in December the year-end stocks.
        """
        t = self.t
        year, moy = divmod(t, 12)
        hh, market, rec = self.households, self.market, self.recorder
        if moy == 0:
            self._new_year(year)
        p = self.p
        limits = POLICY_LIMITS[p.policy.regime]
        # a campaign is a special action of the inspectors: none without inspections
        campaign = ((moy + 1) in p.enforcement.campaign_months
                    and p.enforcement.inspections_per_month > 0)
        county_risk = self.office.county_risk(campaign)
        market.start_month()

        # 2. ageing, exits, entries
        hh.exits_and_entries(t, p)

        # 4. conception (and re-evaluation of women whose wait ended)
        due = hh.due(t)
        status = hh.status[due]
        hh.conceive(due[status == TRYING], t, p, limits)
        waking = due[status == WAITING]
        for a in range(0, waking.size, CHUNK):  # bounded temporaries (the first months wake most)
            hh.evaluate(waking[a:a + CHUNK], t, p, limits)

        # 5-6. sex determination and abortion
        sd_price, late_price = market.expected_prices()
        self._early_window(t, p, limits, county_risk, sd_price, late_price)
        clients = self._ultrasound(t, p, limits, county_risk)

        # 7. births
        births = hh.give_birth(hh.pregnant_since(t, 9), t, p)
        self._record_births(births, t, p)

        # 8. enforcement
        cnt = self.office.act(t, campaign, clients, births)

        # 9. clinics
        launch = campaign and moy + 1 == min(p.enforcement.campaign_months)
        outside = cnt["cases_outside"]
        entries = market.end_month(p, launch, int(cnt["cases"].sum()) - outside, outside,
                                   self.streams.generator("clinic_entry"))
        market.decide(p)

        # 11. record
        if rec.active:
            for name, key in (("inspections", "inspections"), ("investigations", "investigations"),
                              ("women_investigated", "women_investigated"), ("cases", "cases"),
                              ("fines", "fines"), ("rewards_paid", "rewards"),
                              ("grey_listed_new", "grey_listed"), ("enforcement_cost", "cost"),
                              ("disappeared_pregnancies", "signals")):
                rec.add(name, cnt[key])
            rec.add("underground_entries", entries)
            rec.add("unmet_searches", market.unmet.sum())
            rec.add("clinics_offering", market.col["offering"].sum() / 12.0)
            rec.add("mean_illegal_price", sd_price / 12.0)
            if moy == 11:
                self._year_end()
        self.t += 1

    # ---------------------------------------------------------------------------------------

    def _access(self, idx: np.ndarray, t: int, p) -> np.ndarray:
        """Share of women who can reach prenatal sex determination (logistic in time)."""
        tech = p.technology
        when = t / 12.0 - tech.access_midpoint - self.households.rural[idx] * tech.rural_delay
        return sigmoid(tech.access_rate * when)

    def _incentive_pull(self, idx: np.ndarray, t: int, p, income: np.ndarray) -> np.ndarray:
        """Perceived value, in years of income, of keeping a daughter (``daughters_only``)."""
        if p.incentives.eligibility != "daughters_only":
            return np.zeros(idx.size)
        hh = self.households
        value = hh.incentive_value(idx, t, p) + p.incentives.girl_birth_cash
        return hh.inc_aware[idx] * value / income

    def _late_risk(self, idx, risk, approval: bool, p) -> np.ndarray:
        """Perceived risk of an unapproved late termination: the general risk plus, for a
        registered pregnancy, the chance its disappearance is followed up."""
        if not approval:
            return risk
        return np.minimum(risk + self.households.registered[idx] * p.behaviour.signal_risk, 1.0)

    def _abort_decision(self, idx, t, p, motivation, income, price, risk) -> np.ndarray:
        b = p.behaviour
        logit = (b.abort_intercept + b.abort_motivation * motivation - b.cost_weight * price / income
                 - b.risk_weight * risk
                 - b.incentive_weight * self._incentive_pull(idx, t, p, income))
        return self.streams.uniform("abort", t, idx) < sigmoid(logit)

    def _early_window(self, t, p, limits, county_risk, sd_price, late_price) -> None:
        """Gestation month 2: who seeks sex determination, by which route; early tests."""
        hh, b, rec = self.households, p.behaviour, self.recorder
        idx = hh.pregnant_since(t, 2)
        m = hh.motivation(idx, t, p, limits)
        idx, m = idx[m > 0], m[m > 0]
        if idx.size == 0:
            return
        income = hh.income(idx, p)
        risk = hh.perceived_risk(idx, county_risk, p)
        approval = bool(p.registration.approval_required)
        tech = p.technology
        # Route utilities (nested logit): the ultrasound at 16 weeks, with a late termination
        # that may be illegal and traceable, or, where available, the early blood test with a
        # legal early termination. Half of the tests find a girl, hence 0.5 x the termination.
        term_price = late_price if approval else p.market.legal_abortion_price
        u_us = (-b.cost_weight * (sd_price + 0.5 * term_price) / income
                - b.risk_weight * self._late_risk(idx, risk, approval, p))
        u_early = -b.cost_weight * (tech.early_test_price
                                    + 0.5 * p.market.legal_abortion_price) / income
        has_early = self.streams.uniform("early_access", t, idx) < tech.early_test_access
        u_best = np.where(has_early, np.logaddexp(u_us, u_early), u_us)
        logit = b.seek_intercept + b.seek_motivation * m + u_best
        seek = self.streams.uniform("seek", t, idx) < self._access(idx, t, p) * sigmoid(logit)
        early = seek & has_early & (self.streams.uniform("early_choice", t, idx)
                                    < sigmoid(u_early - u_us))
        idx, m, income, early = idx[seek], m[seek], income[seek], early[seek]
        hh.route[idx[~early]] = ROUTE_ULTRASOUND
        e_idx, e_m, e_inc = idx[early], m[early], income[early]
        hh.route[e_idx] = ROUTE_EARLY
        rec.add("sex_determinations", np.array([0.0, e_idx.size]))
        female = hh.test(e_idx, t, tech.early_test_accuracy)
        ab = female & self._abort_decision(e_idx, t, p, e_m, e_inc,
                                           p.market.legal_abortion_price, 0.0)
        self._record_abortions(e_idx[ab], 1)
        hh.abort(e_idx[ab], t, p)

    def _ultrasound(self, t, p, limits, county_risk) -> tuple[np.ndarray, np.ndarray]:
        """Gestation month 4: provider search, ultrasound, late termination decisions."""
        hh, market, rec, st = self.households, self.market, self.recorder, self.streams
        idx = hh.pregnant_since(t, 4)
        idx = idx[hh.route[idx] == ROUTE_ULTRASOUND]
        if idx.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        travel = st.uniform("travel", t, idx) < p.behaviour.travel_willingness
        prov, out = market.search(hh.township[idx], hh.migrant[idx], travel,
                                  st.uniform("search_order", t, idx),
                                  st.uniform("search_pick", t, idx))
        found = prov >= 0
        idx, prov, out = idx[found], prov[found], out[found]
        clients = (idx, prov)
        hh.provider[idx] = prov
        np.add.at(market.col["acts"], prov, 1)
        rec.add("sex_determinations", np.array([idx.size, 0.0]))
        rec.add("illegal_services", np.array([(~out).sum(), out.sum()], dtype=float))
        female = hh.test(idx, t, p.technology.accuracy)
        idx, prov, out = idx[female], prov[female], out[female]
        m = hh.motivation(idx, t, p, limits)
        income = hh.income(idx, p)
        approval = bool(p.registration.approval_required)
        if approval:
            price = market.col["price_late"][prov] + out * p.behaviour.travel_cost
            risk = self._late_risk(idx, hh.perceived_risk(idx, county_risk, p), True, p)
        else:
            price = np.full(idx.size, p.market.legal_abortion_price)
            risk = 0.0
        ab = self._abort_decision(idx, t, p, m, income, price, risk)
        idx, prov, out = idx[ab], prov[ab], out[ab]
        if approval:
            np.add.at(market.col["acts"], prov, 1)
            rec.add("illegal_services", np.array([(~out).sum(), out.sum()], dtype=float))
            sig = hh.registered[idx]
            self.office.add_signals(idx[sig], prov[sig], t)
        self._record_abortions(idx, 0)
        hh.abort(idx, t, p)
        return clients

    def _record_abortions(self, idx: np.ndarray, route: int) -> None:
        rec = self.recorder
        v = np.zeros(2)
        v[route] = idx.size
        rec.add("sex_selective_abortions", v)
        rec.add("misclassified_male_abortions", float(self.households.fetus_male[idx].sum()))

    def _record_births(self, births: dict, t: int, p) -> None:
        hh, rec, st = self.households, self.recorder, self.streams
        idx, male = births["idx"], births["male"]
        if idx.size == 0:
            return
        parity = np.minimum(births["parity_before"], 2)
        sex = np.where(male, _MALE, _FEMALE)
        hidden = np.where(male, st.uniform("misreport", t, idx) < self._misreport,
                          st.uniform("concealment", t, idx) < p.behaviour.concealment)
        shown = ~hidden
        # what the office sees before any misreporting of its own (for accountability)
        self._reported_now += [male.sum(), (~male & shown).sum()]
        inc = p.incentives
        girls_paid = 0
        if inc.eligibility == "daughters_only":
            girls_paid = int(np.sum(~male & (births["sons_before"] == 0)))
        elif inc.eligibility == "small_family":
            girls_paid = int(np.sum(~male & (births["parity_before"] == 0)))
        if not rec.active:
            return
        rec.add_at("births", (parity, sex))
        rec.add_at("reported_births", (parity[shown], sex[shown]))
        rec.add_at("births_by_township", (hh.township[idx], sex))
        age = (t - hh.birth_month[idx]) // 60 - 3
        rec.add_at("births_by_age", (np.clip(age, 0, len(AGE_GROUPS) - 1),))
        rec.add("incentive_payments", girls_paid * inc.girl_birth_cash)

    # ---------------------------------------------------------------------------------------

    def _new_year(self, year: int) -> None:
        hh, rec = self.households, self.recorder
        self.p = p = self.years[year]
        rec.set_year(year)
        m, f = self._reported_now
        last = 100.0 * m / f if f > 0 else float("nan")
        self._reported_now = np.zeros(2)
        self.office.yearly(last)
        over = max(0.0, last - p.enforcement.srb_target) if np.isfinite(last) else 0.0
        self._misreport = min(0.5, p.enforcement.misreport * over)
        t = year * 12
        contacts = hh.yearly_norms(t, p)
        limits = POLICY_LIMITS[p.policy.regime]
        changed = self._limits is not None and limits != self._limits
        for idx in hh.to_reevaluate(changed):
            hh.evaluate(idx, t, p, limits,
                        lag_months=p.fertility.policy_response_months if changed else 0.0)
        self._limits = limits
        n_cert, value = hh.certify(t, p)
        if rec.active:
            rec.add("propaganda_contacts", contacts)
            rec.add("propaganda_cost", contacts * p.propaganda.cost_per_contact)
            rec.add("certified_households", n_cert)
            rec.add("incentive_payments", value)
            rec.set("effort_multiplier", self.office.effort_multiplier)
            women = np.zeros(len(AGE_GROUPS))
            for s in hh.chunks():
                age = (t + 6 - hh.birth_month[s]) // 60 - 3
                women += np.bincount(np.clip(age, 0, len(AGE_GROUPS) - 1),
                                     minlength=len(AGE_GROUPS))
            rec.add("women_by_age", women)

    def _year_end(self) -> None:
        hh, rec, p = self.households, self.recorder, self.p
        risk = self.office.county_risk(False)
        sp = n_need = r = 0.0
        for s in hh.chunks():
            x = hh.son_pref[s]
            sp += float(x.sum(dtype=np.float64))
            n_need += int((x > p.son_preference.threshold).sum())
            r += float(np.minimum(hh.law_aware[s] * risk + hh.grey[s] * p.behaviour.grey_risk,
                                  1.0).sum())
        n = hh.n
        rec.set("mean_son_preference", sp / n)
        rec.set("share_needing_son", n_need / n)
        rec.set("mean_perceived_risk", r / n)
        rec.set("grey_listed", float(hh.grey.sum()))
        rec.set("clinics_closed", float(self.market.col["blacklisted"].sum()))

