"""The Mesa model: one county, one month per step; the clock of the model's parts.

:class:`PopSimModel` builds the parts and calls them in the order written once, in the docstring
of :meth:`PopSimModel.step`: the vectorised households (:mod:`~popsim.model.households`), their
decisions (:mod:`~popsim.model.selection`), the incentives (:mod:`~popsim.model.incentives`), the
providers (:mod:`~popsim.model.clinics`, Mesa agents in ``model.clinics``), the enforcement
office (:mod:`~popsim.model.enforcement`, a Mesa agent), accountability
(:mod:`~popsim.model.accountability`) and the recorder (:mod:`~popsim.model.recording`). Each
part decides and returns what happened; the model applies it and hands it to the recorder.

As a Mesa model: ``model.step()`` advances one month, ``model.running`` turns False after
December of ``run.end_year`` (so ``while model.running: model.step()`` runs to the end), levers
are keyword arguments (``PopSimModel("county", seed=1, **{"enforcement.fine": 5000})`` or
``enforcement__fine=5000``), and ``model.datacollector`` (a ``mesa.DataCollector``) holds a few
outcomes to date after every step, so that ``mesa.batch_run`` works.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from ..provenance import provenance
from ..scenario.loader import check_seed, load_scenario, parse_overrides
from ..scenario.parameters import Scenario
from ..scenario.year import YearParams, YearValues
from . import kernels, selection
from .accountability import Accountability
from .clinics import Clinic, Market, sample_townships
from .enforcement import EnforcementOffice, OfficeMonth
from .households import DONE, ROUTE_EARLY, ROUTE_ULTRASOUND, Births, Households
from .incentives import Eligibility
from .recording import Recorder
from .selection import Clients, Month
from .streams import Streams

__all__ = ["PopSimModel", "REPORTERS"]


def _year(m: PopSimModel) -> int:
    return m.t // 12


def _births(m: PopSimModel) -> float:
    return m.recorder.to_date("births")


def _srb(m: PopSimModel) -> float:
    return m.recorder.srb_to_date("births")


def _reported_srb(m: PopSimModel) -> float:
    return m.recorder.srb_to_date("reported_births")


def _abortions(m: PopSimModel) -> float:
    return m.recorder.to_date("sex_selective_abortions")


def _cases(m: PopSimModel) -> float:
    return m.recorder.to_date("cases")


#: What ``model.datacollector`` collects after every month: the calendar year, and births,
#: true and reported SRB, sex-selective abortions and cases over the recorded years so far
#: (simulated counts, not multiplied by ``run.scale``; 0 and NaN during the burn-in).
REPORTERS = {"year": _year, "births": _births, "srb": _srb, "reported_srb": _reported_srb,
             "sex_selective_abortions": _abortions, "cases": _cases}


class PopSimModel(mesa.Model):
    """Sex selection in one county under a package of policy levers.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A validated scenario (:func:`popsim.load_scenario`), an embedded scenario's name or a
        TOML file; default ``"county"``.
    seed : int, optional
        Root seed of every random stream; defaults to ``scenario.run.seed``.
    overrides : mapping or list of "section.field=value", optional
        Parameter values applied on top of the scenario, as in :func:`popsim.load_scenario`.
    **levers
        More overrides as keyword arguments, named ``"section.field"`` (``**{"enforcement.fine":
        5000}``) or ``section__field`` (``enforcement__fine=5000``); these win over
        ``overrides``. A name that is no parameter raises :class:`popsim.ScenarioError`.

    The model starts ``run.burn_in_years`` before ``run.start_year`` so that parity and the sexes
    of existing children are realistic when recording starts; :meth:`run_to_end` steps to
    December of ``run.end_year``. The resolved scenario is ``model.config`` (Mesa 3.5 reserves
    ``model.scenario``); ``model.p`` holds the current year's values.
    """

    def __init__(self, scenario: Scenario | str | Path = "county", seed: int | None = None,
                 overrides: Mapping[str, Any] | Iterable[str] | None = None, **levers: Any):
        given = {**parse_overrides(overrides),
                 **{k.replace("__", "."): v for k, v in levers.items()}}
        if given or not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, given)
        seed = scenario.run.seed if seed is None else check_seed(seed, "seed")
        super().__init__(rng=seed)
        self.seed = seed
        self.config = scenario
        self.streams = Streams(seed)
        r = scenario.run
        self.first_year = r.start_year - r.burn_in_years
        self.years = YearParams(scenario, self.first_year, r.end_year)
        self.t = self.first_year * 12
        self.t_end = (r.end_year + 1) * 12
        self.p: YearValues = self.years[self.first_year]
        self.regime: str | None = None  # this year's national fertility-policy regime
        self._previous_regime: str | None = None
        self.eligibility = Eligibility(self.p.incentives)
        # a run of scale k simulates a 1/k sample: townships / k townships of full size
        self.townships = sample_townships(scenario.population.townships, r.scale)
        self.households = Households(r.households, self.townships, self.streams, self.t, self.p)
        self.market = Market(self, self.townships, self.streams, self.p)
        self.office = EnforcementOffice(self, self.market, self.streams.generator("enforcement"))
        self.accountability = Accountability()
        self.recorder = Recorder(r.start_year, r.end_year, self.townships)
        self.datacollector = mesa.DataCollector(model_reporters=REPORTERS)
        self.market.decide(self.p)

    @property
    def clinics(self) -> mesa.agent.AgentSet:
        """The providers, as a Mesa AgentSet."""
        return self.agents_by_type[Clinic]

    @property
    def year(self) -> int:
        """The calendar year of the next month to simulate."""
        return self.t // 12

    @property
    def finished(self) -> bool:
        """December of ``run.end_year`` has been simulated (``running`` is then False)."""
        return self.t >= self.t_end

    def run_to_end(self) -> None:
        while self.running:
            self.step()

    def dataset(self):
        """The recorded years as an ``xarray.Dataset`` with provenance attrs."""
        s = self.config
        return self.recorder.to_dataset(s.run.scale, s.behaviour.natural_srb,
                                        provenance(s, self.seed))

    # ---------------------------------------------------------------------------------------

    def step(self) -> None:
        """One month. In January the yearly phases run first:

        1. **Year values**: this year's lever and context values (``model.p``), the births
           the fertility policy allows, and who the incentives make eligible.
        2. **Accountability**: last year's reported SRB above ``enforcement.srb_target`` raises
           this year's enforcement effort and misreporting of male births.
        3. **Norms**: secular decline of son preference, propaganda contacts (son preference
           falls, awareness of the law and of the incentives rises), peer influence.
        4. **Child mortality**: children aged 1-17 who die this year (natural risk, and the
           excess risk of girls in son-preferring households); a mother who had stopped and
           lost a child decides again.
        5. **Re-evaluation**: women held back by the policy decide again (they may go over
           quota or give up), and, when the national regime changes, every woman who had
           stopped.
        6. **Certification**: households that stopped with a qualifying family are certified;
           the present value of their benefit is booked as a cost.
        7. **Yearly record**: propaganda contacts and cost, certifications, women by age.

        Then every month:

        1. **Policy schedule**: campaign months (they multiply inspections), the risk
           households perceive from the cases publicised in the last
           ``behaviour.case_memory_months`` and from campaigns, the prices they expect.
        2. **Exits and entries**: women reaching 50 leave; a 15-year-old takes each slot
           with probability ``population.cohort_size``.
        3. **Conception**: women whose wait ended conceive (the pregnancy is registered with
           probability ``registration.coverage``, less for migrants, always if grey-listed) or
           decide whether to try for another child.
        4. **Sex determination**: at gestation month 2 motivated households decide whether to
           seek it and choose the early blood test or the 16-week ultrasound; an early test
           that finds a girl may end in a legal early abortion.
        5. **Ultrasound**: at month 4 ultrasound seekers search for a willing provider in reach
           and pay its price; a fetus believed female may be aborted late (illegal without
           approval where the real-name rule holds; a registered pregnancy that disappears
           leaves a signal for the office).
        6. **Births** at month 9: infant deaths; over-quota births may be hidden from
           registration, else their maintenance fee is collected; female births may go
           unreported (concealment), male births under accountability pressure
           (misreporting); cash at a qualifying girl's birth.
        7. **Enforcement**: inspections, tips, follow-ups of signals, birth audits, sanctions,
           publicity and grey-listing.
        8. **Clinics** learn from the month's news, update their expected clients and decide
           whether to offer illegal services next month; underground providers may open.
        9. **Record** the month's counts; in December the year-end stocks and census.
        """
        kernels.refresh()  # POPSIM_KERNELS, once a month (kernels.use_kernels)
        if self.t % 12 == 0:
            self._year_values()
            self._accountability()
            contacts = self._norms()
            self._child_mortality()
            self._re_evaluation()
            certified = self._certification()
            self._yearly_record(contacts, certified)
        month = self._policy_schedule()
        self._exits_and_entries()
        self._conception()
        self._sex_determination(month)
        clients = self._ultrasound(month)
        births = self._births(month)
        office = self._enforcement(month, clients, births)
        entries = self._clinics(month, office)
        self._record(month, office, entries)
        self.t += 1
        self.running = not self.finished

    # ---------------------------------------------------------------------------------------
    # the yearly phases

    def _year_values(self) -> None:
        year = self.t // 12
        self.p = p = self.years[year]
        self.recorder.set_year(year)
        self._previous_regime, self.regime = self.regime, p.policy.regime
        self.eligibility = Eligibility(p.incentives)

    def _accountability(self) -> None:
        self.accountability.new_year(self.p.enforcement)

    def _norms(self) -> float:
        return self.households.yearly_norms(self.t, self.p)

    def _child_mortality(self) -> None:
        p, hh, rec, b = self.p, self.households, self.recorder, self.p.behaviour
        risk = selection.county_risk(self.office.recent_cases(b.case_memory_months), False, b)
        for s in hh.chunks():
            d = selection.child_deaths(hh, self.streams, np.arange(s.start, s.stop), self.t, p,
                                       risk)
            hh.bury(d.mothers, d.slots)
            rec.child_deaths(d.age_band, d.male, d.excess)
            stopped = np.unique(d.mothers[hh.status[d.mothers] == DONE])
            hh.evaluate(stopped, self.t, p, self.regime, self.eligibility)

    def _re_evaluation(self) -> None:
        p, hh = self.p, self.households
        changed = self._previous_regime is not None and self.regime != self._previous_regime
        lag = p.fertility.policy_response_months if changed else 0.0
        for idx in hh.to_reevaluate(changed):
            hh.evaluate(idx, self.t, p, self.regime, self.eligibility, lag_months=lag)

    def _certification(self) -> tuple[int, float]:
        return self.households.certify(self.t, self.eligibility)

    def _yearly_record(self, contacts: float, certified: tuple[int, float]) -> None:
        rec = self.recorder
        if not rec.active:
            return
        n, value = certified
        rec.add("propaganda_contacts", contacts)
        rec.add("propaganda_cost", contacts * self.p.propaganda.cost_per_contact)
        rec.add("certified_households", n)
        rec.add("incentive_payments", value)
        rec.set("effort_multiplier", self.accountability.effort)
        rec.add("women_by_age", self.households.women_by_age(self.t + 6))  # at mid-year

    # ---------------------------------------------------------------------------------------
    # the monthly phases

    def _policy_schedule(self) -> Month:
        p = self.p
        e, b = p.enforcement, p.behaviour
        # a campaign is a special action of the inspectors against what the law forbids: none
        # without inspections beyond the routine ones or without the ban
        campaign = ((self.t % 12 + 1) in e.campaign_months and e.inspections_per_month > 0
                    and e.campaign_multiplier > 1 and e.ban)
        risk = selection.county_risk(self.office.recent_cases(b.case_memory_months), campaign, b)
        self.market.start_month()
        sd_price, late_price = self.market.expected_prices()
        return Month(self.t, p, self.regime, self.eligibility, campaign, risk, sd_price,
                     late_price)

    def _exits_and_entries(self) -> None:
        self.households.exits_and_entries(self.t, self.p)

    def _conception(self) -> None:
        self.households.wake(self.t, self.p, self.regime, self.eligibility)

    def _sex_determination(self, m: Month) -> None:
        hh, rec = self.households, self.recorder
        s = selection.seek(hh, self.streams, m)
        hh.route[s.ultrasound] = ROUTE_ULTRASOUND
        if s.early.size == 0:  # no early test: no abortion after one, nothing to record
            return
        hh.route[s.early] = ROUTE_EARLY
        rec.sex_determinations("early_test", s.early.size)
        if m.p.enforcement.ban:  # a test abroad is a non-medical sex determination too
            rec.illegal_purchases("early_test", s.early.size,
                                  s.early.size * m.p.technology.early_test_price)
        rec.abortions("early_test", s.aborted.size, s.misclassified)
        hh.abort(s.aborted, m.t, m.p)

    def _ultrasound(self, m: Month) -> Clients:
        hh, market, rec = self.households, self.market, self.recorder
        c = selection.find_providers(hh, market, self.streams, m)
        # no scan bought, or no termination after it: nothing more to sell, record or end (the
        # decisions skipped draw from no Generator, so the run is the same)
        if c.women.size == 0:
            return c
        hh.provider[c.women] = c.providers
        market.sell(c.providers)
        rec.sex_determinations("ultrasound", c.women.size)
        rec.illegal_services(c.out_of_county)
        if m.p.enforcement.ban and rec.active:
            rec.illegal_purchases("sex_check", c.women.size,
                                  float(market.col["price_sd"][c.providers].sum()))
        a = selection.late_abortions(hh, market, self.streams, m, c)
        if a.women.size == 0:
            return c
        if a.illegal:  # the late termination is a second illegal act at the same provider
            market.sell(a.providers)
            rec.illegal_services(a.out_of_county)
            if rec.active:
                rec.illegal_purchases("late_termination", a.women.size,
                                      float(market.col["price_late"][a.providers].sum()))
            self.office.add_signals(a.women[a.signal], a.providers[a.signal], m.t)
        rec.abortions("ultrasound", a.women.size, a.misclassified)
        hh.abort(a.women, m.t, m.p)
        return c

    def _births(self, m: Month) -> Births:
        hh, t, p, rec = self.households, self.t, self.p, self.recorder
        b = hh.give_birth(hh.pregnant_since(t, 9), t, p, m.regime)
        d = selection.infant_deaths(hh, self.streams, b, m)
        hh.bury(d.mothers, d.slots)
        rec.child_deaths(d.age_band, d.male, d.excess)
        # hidden over-quota births are not registered: the office never sees them
        shown = np.zeros(b.idx.size, dtype=bool)
        seen = ~b.hidden
        shown[seen] = self.accountability.reported(self.streams, t, b.idx[seen], b.male[seen],
                                                   p.behaviour)
        if not rec.active:  # (the burn-in: nothing to record)
            return b
        paid = self.eligibility.paid_at_birth(b.male, b.sons_before, b.parity_before)
        rec.births(b.parity_before, b.male, shown, hh.township[b.idx], t - hh.birth_month[b.idx],
                   int(paid.sum()) * p.incentives.girl_birth_cash, b.rural, b.regime,
                   b.overquota, b.hidden, float(b.fee.sum()))
        return b

    def _enforcement(self, m: Month, clients: Clients, births: Births) -> OfficeMonth:
        hh = self.households
        result = self.office.act(m.t, m.p, m.campaign, self.accountability.effort,
                                 clients.women, clients.providers, births,
                                 int(hh.registered[births.idx].sum()), hh.grey)
        hh.grey[result.newly_grey] = True
        return result

    def _clinics(self, m: Month, office: OfficeMonth) -> int:
        e = m.p.enforcement
        launch = m.campaign and m.t % 12 + 1 == min(e.campaign_months)
        entries = self.market.end_month(m.p, launch, office.case_providers)
        self.market.decide(m.p)
        return entries

    def _record(self, m: Month, office: OfficeMonth, entries: int) -> None:
        rec, market = self.recorder, self.market
        if rec.active:
            rec.add_fields(office)
            rec.clinics(entries, market.unmet.sum(), market.col["offering"].sum(), m.sd_price)
            if m.t % 12 == 11:
                self._year_end_stocks()
        self.datacollector.collect(self)

    def _year_end_stocks(self) -> None:
        hh, rec, p = self.households, self.recorder, self.p
        b = p.behaviour
        risk = selection.county_risk(self.office.recent_cases(b.case_memory_months), False, b)
        sp = n_need = r = n = 0.0
        for s in hh.chunks():
            on = hh.active(s)
            x = hh.son_pref[s][on]
            sp += float(x.sum(dtype=np.float64))
            n_need += np.count_nonzero(x > p.son_preference.threshold)
            r += float(selection.perceived_risk(hh.law_aware[s][on], hh.grey[s][on], risk,
                                                b).sum())
            n += np.count_nonzero(on)
        n = max(n, 1)
        rec.set("mean_son_preference", sp / n)
        rec.set("share_needing_son", n_need / n)
        rec.set("mean_perceived_risk", r / n)
        rec.set("grey_listed", float(hh.grey.sum()))
        rec.set("clinics_closed", float(self.market.col["blacklisted"].sum()))
        rec.set("providers", float(self.market.in_county()))
        rec.census(hh.census(self.t + 1, self.regime))
