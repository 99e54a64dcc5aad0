"""A plain reference implementation of popsim's household rules: one ``mesa.Agent`` per household.

This is the obvious way a Mesa user would write the households of popsim: a ``Woman`` agent with
plain Python attributes and a ``step`` method that the model calls once a month for every agent
(``model.agents.do("step")``), drawing from Mesa's seeded ``self.random``. It exists for two
reasons (issue 6): the vectorised households must agree with it statistically, and the benchmark
measures their speed against it.

It follows, rule for rule, the household rules of popsim's model: the life course of
:mod:`popsim.model.households`, the decisions of :mod:`popsim.model.selection` (motivation,
perceived and late risk, access, seeking and route, abortion) and the incentive rules of
:mod:`popsim.model.incentives` (present value, pull, pledge), with the constants the schema
declares as fixed (``fertility.union_age_sd``, ``incentives.pledge_half_value``,
``behaviour.expected_girl_share``, ...): entry at 15 into the slot of a woman leaving at 50; son
preference ~ Beta around the cohort mean; desired size ``1 + Poisson(desired - 1)``; union age;
the decision to try (below desired size, or son-preferring stopping), the fertility-policy limit
with violations, women held back by it (re-evaluated every January) and desire adaptation, the
small-family pledge; conception with the Coale-Trussell age pattern; fetus sex; registration; at
gestation month 2 motivation (son preference x no son x fertility squeeze), technology access and
the nested-logit choice between the ultrasound and the early test (price/income, perceived risk,
the registration signal risk), the early test and its abortion decision; at month 4 the
ultrasound, its misclassification and the late abortion decision (price, risk, incentive pull);
births at month 9 and the postpartum wait; yearly secular decline, propaganda and peer influence;
when the policy's limits change, the re-evaluation of every woman who had stopped, with the start
of trying spread over ``policy_response_months``. Where the vectorised code draws a geometric
wait, the reference draws a monthly Bernoulli with the same probability (equal in distribution).

**Supply side (the honest option chosen).** The reference has no clinics and no enforcement
office. It is meant for scenarios where neither matters to households, and the agreement test
checks that premise on the vectorised runs instead of assuming it. Its stand-in for the market:
every ultrasound seeker finds a provider in the county at the list prices (``market.sd_price``,
``market.late_abortion_price``); the office finds no case, so the county risk is the campaign risk
alone (only in campaign months, and campaigns need inspections) and nobody is grey-listed. This is
what the real market and office do in the ``baseline`` scenario (no measures) when the county has
one township: there are no cases, and providers never run out (``unmet_searches`` is zero; with 16
townships and a few thousand households some townships have no provider offering and the real
market rejects a few percent of seekers, which this stand-in would not reproduce). So
:mod:`tests.test_reference` runs both implementations on ``baseline`` with ``population.townships
= 1``, unmodified, and asserts zero unmet searches and zero cases in the vectorised runs. A
provider search, inspections, tips and grey-listing are not ported.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from popsim.scenario.year import POLICY_LIMITS, YearParams
from popsim.scenario import Scenario

ENTRY_MONTHS, EXIT_MONTHS = 15 * 12, 50 * 12
LIFE_MONTHS = EXIT_MONTHS - ENTRY_MONTHS
#: Natural fertility by five-year age group 15-19 ... 45-49, relative to 20-24
#: (Coale & Trussell 1974, n(a)).
NATURAL_FERTILITY = (0.89, 1.0, 0.94, 0.86, 0.70, 0.36, 0.05)
WAITING, TRYING, PREGNANT, DONE, HELD = "waiting", "trying", "pregnant", "done", "held"
NO_ROUTE, EARLY, ULTRASOUND = "none", "early", "ultrasound"


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class Woman(mesa.Agent):
    """One household: a woman aged 15-49 and her partner."""

    # --- life course --------------------------------------------------------------------------

    def enter(self, t: int, p, birth_month: int | None = None) -> None:
        """A new woman in this slot (aged 15 unless ``birth_month`` says otherwise)."""
        r, pop, sp = self.random, p.population, p.son_preference
        self.birth_month = t - ENTRY_MONTHS if birth_month is None else birth_month
        self.township = r.randrange(self.model.townships)
        self.rural = r.random() < pop.rural_share
        self.migrant = r.random() < (pop.migrant_share_rural if self.rural
                                     else pop.migrant_share_urban)
        s = pop.income_sigma
        self.income_mult = math.exp(s * r.gauss(0.0, 1.0) - 0.5 * s * s)
        mean_desired = p.fertility.desired_children + self.rural * p.fertility.rural_extra_children
        self.desired = min(1 + self.poisson(max(mean_desired - 1.0, 0.0)), p.fertility.desired_max)
        mean = sp.cohort_mean + self.rural * sp.rural_shift
        m = min(max(mean, 0.01), 0.99)
        self.son_pref = (r.betavariate(m * sp.concentration, (1 - m) * sp.concentration)
                         if mean > 0 else 0.0)
        self.parity = self.sons = self.daughters = 0
        self.first_girl = self.fetus_male = self.registered = False
        self.route = NO_ROUTE
        self.law_aware = r.random() < p.behaviour.law_awareness_base
        self.inc_aware = r.random() < p.incentives.base_awareness
        self.pledge_u = r.random()  # fixed per woman: her plan is the same at every decision
        self.status = WAITING
        fe = p.fertility
        union = min(max(r.gauss(fe.union_age, fe.union_age_sd), 15.0), fe.union_age_max)
        age_now = (t - self.birth_month) / 12.0
        self.wake = t + max(math.ceil((union - age_now) * 12), 1)
        self.conceived = -1
        self.f = 0.0

    def poisson(self, lam: float) -> int:
        """Knuth's multiplication method (``lam`` is a few children at most)."""
        limit, k, prod = math.exp(-lam), 0, self.random.random()
        while prod > limit:
            k += 1
            prod *= self.random.random()
        return k

    def step(self) -> None:
        """One month, in the model's order: exit/entry, then at most one event of her own."""
        model = self.model
        t, p = model.t, model.p
        if t - self.birth_month >= EXIT_MONTHS:
            self.enter(t, p)
        status = self.status
        if status == TRYING:
            if t >= self.wake and self.random.random() < self.f:
                self.conceive(t, p)
        elif status == WAITING:
            if t >= self.wake:
                self.evaluate(t, p)
        elif status == PREGNANT:
            g = t - self.conceived
            if g == 2:
                self.early_window(t, p)
            elif g == 4 and self.route == ULTRASOUND:
                self.ultrasound(t, p)
            elif g == 9:
                self.give_birth(t, p)

    def new_year(self, t: int, p, town_mean: list[float], limits_changed: bool) -> None:
        """January: norms; a woman held back by the policy decides again, and so, when the
        policy's limits have changed, does one who had stopped."""
        sp, pr, r = p.son_preference, p.propaganda, self.random
        x = self.son_pref * (1.0 - sp.secular_decline)
        x += sp.peer_influence * (town_mean[self.township] - x)
        p_reach = 1.0 - (1.0 - pr.reach) ** 12
        if p_reach > 0 and r.random() < p_reach:
            k = 12 * pr.reach / p_reach  # mean contacts given at least one
            x *= (1.0 - pr.persuasion) ** k
            if r.random() < 1 - (1 - pr.law_awareness) ** k:
                self.law_aware = True
            if r.random() < 1 - (1 - pr.incentive_awareness) ** k:
                self.inc_aware = True
        self.son_pref = min(max(x, 0.0), 1.0)
        if self.status == HELD or (limits_changed and self.status == DONE):
            lag = p.fertility.policy_response_months if limits_changed else 0.0
            self.evaluate(t, p, lag)

    # --- desires ------------------------------------------------------------------------------

    def age(self, t: int) -> float:
        return (t - self.birth_month) / 12.0

    def needs_son(self, p) -> bool:
        return (self.sons == 0 and self.son_pref > p.son_preference.threshold
                and self.parity < p.fertility.son_seeking_max_parity)

    def limit(self, p, if_girl: bool = False) -> int:
        urban, rural_boy, rural_girl = POLICY_LIMITS[p.policy.regime]
        if not self.rural:
            return urban
        return rural_girl if self.first_girl or (if_girl and self.parity == 0) else rural_boy

    def income(self, p) -> float:
        base = 1.0 if self.rural else p.population.urban_income_ratio
        return p.population.income_rural * base * self.income_mult

    def incentive_value(self, t: int, p) -> float:
        inc = p.incentives
        r, years = inc.discount_rate, inc.benefit_years
        annuity = years if r == 0 else (1 - (1 + r) ** -years) / r
        wait = max(inc.benefit_start_age - self.age(t), 0.0)
        return inc.benefit_per_year * annuity * (1 + r) ** -wait

    def pledged(self, t: int, p) -> bool:
        if p.incentives.eligibility != "small_family" or not self.inc_aware:
            return False
        v = self.incentive_value(t, p) / self.income(p)
        return self.pledge_u < v / (v + p.incentives.pledge_half_value)

    def evaluate(self, t: int, p, lag_months: float = 0.0) -> None:
        """Try for another child now; or be held back by the policy; or stop.

        ``lag_months``: after a change of the policy, the start of trying is spread uniformly
        over that many months.
        """
        r = self.random
        need_son = self.needs_son(p)
        pledged = self.parity >= 1 and self.pledged(t, p)
        want = (self.parity < self.desired or need_son) and not pledged
        tries = held = False
        if want:
            if self.parity < self.limit(p) or r.random() < p.policy.violation:
                tries = True
            else:
                held = True
                if not need_son and r.random() < p.fertility.desire_adaptation:
                    self.desired = self.parity  # gives up the wish the policy denies
                    held = False
        age = self.age(t)
        group = min(max(int((age - 15) // 5), 0), 6)
        f = p.fertility.fecundability * NATURAL_FERTILITY[group]
        if tries and f > 0 and age < 50:
            # monthly chances from next month on (a geometric wait of at least one month)
            lag = math.floor(r.random() * lag_months) if lag_months > 0 else 0
            self.status, self.f, self.wake = TRYING, min(f, 0.999), t + 1 + lag
        else:
            self.status = HELD if held else DONE

    def conceive(self, t: int, p) -> None:
        if not (self.parity < self.desired or self.needs_son(p)):
            self.status = DONE  # the wish lapsed while she waited
            return
        r, srb = self.random, p.behaviour.natural_srb
        self.fetus_male = r.random() < srb / (100.0 + srb)
        reg = p.registration
        cover = reg.coverage * (reg.migrant_factor if self.migrant else 1.0)
        self.registered = r.random() < cover
        self.status, self.conceived, self.route = PREGNANT, t, NO_ROUTE

    # --- sex determination and abortion -------------------------------------------------------

    def motivation(self, t: int, p) -> float:
        """Son preference x no son yet x fertility squeeze."""
        if self.sons > 0:
            return 0.0
        after = self.parity + 1
        most = min(self.limit(p, if_girl=True), p.fertility.son_seeking_max_parity)
        if self.son_pref <= p.son_preference.threshold:
            most = min(most, self.desired)
        remaining = max(most - after, 0)
        if after == 1 and self.pledged(t, p):
            remaining = 0
        return self.son_pref * p.behaviour.squeeze_decay ** remaining

    def believes_female(self, accuracy: float) -> bool:
        correct = self.random.random() < accuracy
        return not self.fetus_male if correct else self.fetus_male

    def aborts(self, t: int, p, m: float, income: float, price: float, risk: float) -> bool:
        b = p.behaviour
        pull = 0.0
        if p.incentives.eligibility == "daughters_only" and self.inc_aware:
            pull = (self.incentive_value(t, p) + p.incentives.girl_birth_cash) / income
        logit = (b.abort_intercept + b.abort_motivation * m - b.cost_weight * price / income
                 - b.risk_weight * risk - b.incentive_weight * pull)
        return self.random.random() < sigmoid(logit)

    def late_risk(self, risk: float, approval: bool, p) -> float:
        """Perceived risk of an unapproved late termination: the general risk plus, for a
        registered pregnancy, the chance its disappearance is followed up."""
        if not approval:
            return risk
        return min(risk + self.registered * p.behaviour.signal_risk, 1.0)

    def early_window(self, t: int, p) -> None:
        """Gestation month 2: seek sex determination? By which route? Early test and abortion.

        Nested logit over routes: the 16-week ultrasound (with a late termination that may be
        illegal) and, if she can get it, the early blood test (with a legal early termination);
        a test finds a girl with the expected share, which weights the termination price.
        """
        m = self.motivation(t, p)
        if m <= 0:
            return
        b, tech, mk, model, r = p.behaviour, p.technology, p.market, self.model, self.random
        income = self.income(p)
        risk = min(self.law_aware * model.county_risk, 1.0)
        approval = bool(p.registration.approval_required)
        term_price = mk.late_abortion_price if approval else mk.legal_abortion_price
        girl = b.expected_girl_share
        u_us = (-b.cost_weight * (mk.sd_price + girl * term_price) / income
                - b.risk_weight * self.late_risk(risk, approval, p))
        u_early = -b.cost_weight * (tech.early_test_price + girl * mk.legal_abortion_price) / income
        has_early = r.random() < tech.early_test_access
        u_best = u_us
        if has_early:  # log(e^u_us + e^u_early), computed without overflow
            hi = max(u_us, u_early)
            u_best = hi + math.log1p(math.exp(-abs(u_us - u_early)))
        access = sigmoid(tech.access_rate * (t / 12.0 - tech.access_midpoint
                                             - self.rural * tech.rural_delay))
        logit = b.seek_intercept + b.seek_motivation * m + u_best
        if not r.random() < access * sigmoid(logit):
            return
        if not (has_early and r.random() < sigmoid(u_early - u_us)):
            self.route = ULTRASOUND
            return
        self.route = EARLY
        model.count("sex_determinations", EARLY)
        if (self.believes_female(tech.early_test_accuracy)
                and self.aborts(t, p, m, income, mk.legal_abortion_price, 0.0)):
            self.abort(t, p)

    def ultrasound(self, t: int, p) -> None:
        """Gestation month 4: the stand-in provider scans; late abortion decision."""
        model = self.model
        model.count("sex_determinations", ULTRASOUND)
        if not self.believes_female(p.technology.accuracy):
            return
        m, income = self.motivation(t, p), self.income(p)
        if p.registration.approval_required:
            price = p.market.late_abortion_price
            risk = self.late_risk(min(self.law_aware * model.county_risk, 1.0), True, p)
        else:
            price, risk = p.market.legal_abortion_price, 0.0
        if self.aborts(t, p, m, income, price, risk):
            self.abort(t, p)

    def abort(self, t: int, p) -> None:
        self.model.count("abortions", self.route)
        if self.fetus_male:
            self.model.count("misclassified_male_abortions")
        self.status = WAITING
        self.wake = t + max(int(round(p.fertility.post_abortion_months)), 1)

    def give_birth(self, t: int, p) -> None:
        male = self.fetus_male
        self.model.record_birth(t, self, male)
        if self.parity == 0 and not male:
            self.first_girl = True
        self.parity += 1
        if male:
            self.sons += 1
        else:
            self.daughters += 1
        self.status = WAITING
        u, spread = self.random.random(), p.fertility.postpartum_spread
        self.wake = t + max(round(p.fertility.postpartum_months * (1 - spread + 2 * spread * u)), 1)


class ReferenceModel(mesa.Model):
    """The reference county: ``run.households`` :class:`Woman` agents, one step per month.

    Records, for each year from ``run.start_year`` to ``run.end_year``, births by (birth order
    1/2/3+, sex), births by mother's age group, women by age group at mid-year, sex
    determinations and sex-selective abortions by route (see :meth:`summary`).
    """

    def __init__(self, scenario: Scenario, seed: int):
        super().__init__(rng=seed)
        r = scenario.run
        self.townships = scenario.population.townships
        self.first_year = r.start_year - r.burn_in_years
        self.years = YearParams(scenario, self.first_year, r.end_year)
        self.start_year, self.end_year = r.start_year, r.end_year
        self.t, self.t_end = self.first_year * 12, (r.end_year + 1) * 12
        self.p = self.years[self.first_year]
        self.limits = None  # the policy limits of the previous year
        self.county_risk = 0.0
        n_years = r.end_year - r.start_year + 1
        self.births = np.zeros((n_years, 3, 2))
        self.births_by_age = np.zeros((n_years, 7))
        self.women_by_age = np.zeros((n_years, 7))
        self.counts = {("sex_determinations", EARLY): np.zeros(n_years),
                       ("sex_determinations", ULTRASOUND): np.zeros(n_years),
                       ("abortions", EARLY): np.zeros(n_years),
                       ("abortions", ULTRASOUND): np.zeros(n_years),
                       ("misclassified_male_abortions", None): np.zeros(n_years)}
        n = r.households
        for slot in range(n):
            w = Woman(self)
            phase = slot * LIFE_MONTHS // n  # spreads ages 15-49 evenly, as the vectorised model
            age_months = ENTRY_MONTHS + (self.t - phase) % LIFE_MONTHS
            w.enter(self.t, self.p, birth_month=self.t - age_months)

    @property
    def year_index(self) -> int:
        y = self.t // 12 - self.start_year
        return y if y >= 0 else -1

    def count(self, name: str, route: str | None = None) -> None:
        if self.year_index >= 0:
            self.counts[name, route][self.year_index] += 1

    def record_birth(self, t: int, woman: Woman, male: bool) -> None:
        i = self.year_index
        if i >= 0:
            self.births[i, min(woman.parity, 2), 0 if male else 1] += 1
            self.births_by_age[i, min(max((t - woman.birth_month) // 60 - 3, 0), 6)] += 1

    def step(self) -> None:
        t = self.t
        year, moy = divmod(t, 12)
        if moy == 0:
            self.p = p = self.years[year]
            sums, counts = [0.0] * self.townships, [0] * self.townships
            for w in self.agents:
                sums[w.township] += w.son_pref
                counts[w.township] += 1
                if self.year_index >= 0:
                    self.women_by_age[self.year_index,
                                      min(max((t + 6 - w.birth_month) // 60 - 3, 0), 6)] += 1
            town_mean = [s / max(c, 1) for s, c in zip(sums, counts)]
            limits = POLICY_LIMITS[p.policy.regime]
            changed = self.limits is not None and limits != self.limits
            self.agents.do("new_year", t, p, town_mean, changed)
            self.limits = limits
        e = self.p.enforcement
        # a campaign is a special action of the inspectors (none without inspections); the
        # stand-in office finds no cases, so the campaign is the only source of risk
        campaign = (moy + 1) in e.campaign_months and e.inspections_per_month > 0
        self.county_risk = min(1.0, self.p.behaviour.campaign_risk) if campaign else 0.0
        self.agents.do("step")
        self.t += 1

    def run_to_end(self) -> None:
        while self.t < self.t_end:
            self.step()

    def summary(self) -> dict[str, np.ndarray]:
        """Yearly counts (arrays over years) in the layout of popsim's dataset variables."""
        c = self.counts
        return {
            "year": np.arange(self.start_year, self.end_year + 1),
            "births": self.births.copy(),  # [year, parity 1/2/3+, sex male/female]
            "births_by_age": self.births_by_age.copy(),
            "women_by_age": self.women_by_age.copy(),
            "sex_determinations": np.stack([c["sex_determinations", ULTRASOUND],
                                            c["sex_determinations", EARLY]], axis=1),
            "sex_selective_abortions": np.stack([c["abortions", ULTRASOUND],
                                                 c["abortions", EARLY]], axis=1),
            "misclassified_male_abortions": c["misclassified_male_abortions", None].copy(),
        }


def run_reference(scenario: Scenario, seed: int) -> dict[str, np.ndarray]:
    """Run the reference households to the end and return :meth:`ReferenceModel.summary`."""
    model = ReferenceModel(scenario, seed)
    model.run_to_end()
    return model.summary()
