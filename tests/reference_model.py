"""A plain reference implementation of popsim's household rules: one ``mesa.Agent`` per household.

This is the obvious way a Mesa user would write the households of popsim: a ``Woman`` agent with
plain Python attributes and a ``step`` method that the model calls once a month for every agent
(``model.agents.do("step")``), drawing from Mesa's seeded ``self.random``. It exists for two
reasons (issue 6): the vectorised households must agree with it statistically, and the benchmark
measures their speed against it.

It follows, rule for rule, the household rules of popsim's model: the life course of
:mod:`popsim.model.households`, the local rules and over-quota decision of
:mod:`popsim.model.fertility_policy`, the decisions of :mod:`popsim.model.selection`
(motivation and readiness, perceived and late risk, access, seeking and route, abortion of the
unwanted sex, the survival of children) and the incentive rules of
:mod:`popsim.model.incentives` (present value, pull, pledge), with the constants the schema
declares as fixed (``fertility.union_age_sd``, ``incentives.pledge_half_value``,
``behaviour.expected_girl_share``, ``population.male_mortality_ratio``, ...): entry at 15 into
the slot of a woman leaving at 50, filled with probability ``population.cohort_size``; residence
from the entry year's ``rural_share``; a local rule group; son preference ~ Beta around the
cohort mean; a desired size that follows the year's level, keeping her rank (``1 + Poisson`` for
a share ``desired_spread``, the integers next to the level for the others); union age; the
decision to try (below desired size, or son-preferring stopping), her local limit, the
over-quota logit against the maintenance fee, women held back by it (re-evaluated every January)
and their adaptation for good, the spacing of permitted births, the small-family pledge;
conception with the Coale-Trussell age pattern; fetus sex; registration; at gestation month 2
motivation (the wish for the missing sex x the squeeze at the last prepared birth within the
local limit), first-birth reluctance, technology access and the nested-logit choice between the
ultrasound and the early test (price/income, perceived risk, the registration signal risk), the
early test and its abortion decision; at month 4 the ultrasound, its misclassification and the
late abortion decision (price, risk, incentive pull); births at month 9, each child kept with its
sex and birth month, infant deaths (natural, and girls' excess risk), the postpartum wait; each
January secular decline, propaganda and peer influence, desired sizes, the deaths of children
aged 1-17 (a mother who had stopped and lost a child decides again); when the national regime
changes, the re-evaluation of every woman who had stopped, with the start of trying spread over
``policy_response_months``. Where the vectorised code draws a geometric wait, the reference
draws a monthly Bernoulli with the same probability (equal in distribution). Fees, concealment
and reporting, which do not change what households do, are not ported.

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

#: local rules from the strictest to no limit (popsim.model.coords.REGIMES)
RULES = ["one_child", "one_and_half", "two_child", "three_child", "none"]

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
        r, pop, sp, pol = self.random, p.population, p.son_preference, p.policy
        self.birth_month = t - ENTRY_MONTHS if birth_month is None else birth_month
        self.township = r.randrange(self.model.townships)
        self.rural = r.random() < pop.rural_share
        self.migrant = r.random() < (pop.migrant_share_rural if self.rural
                                     else pop.migrant_share_urban)
        s = pop.income_sigma
        self.income_mult = math.exp(s * r.gauss(0.0, 1.0) - 0.5 * s * s)
        self.desired_u, self.spread_u, self.extra_u = r.random(), r.random(), r.random()
        self.resigned = False
        self.desired = self.desired_size(p)
        mean = sp.cohort_mean + self.rural * sp.rural_shift
        m = min(max(mean, 0.01), 0.99)
        self.son_pref = (r.betavariate(m * sp.concentration, (1 - m) * sp.concentration)
                         if mean > 0 else 0.0)
        u = r.random()
        self.group = 0
        if self.rural:  # local rule group: one-child, two-child, three-child shares in order
            edge = 0.0
            for g, share in ((1, pol.rural_one_child_share), (2, pol.two_child_share),
                             (3, pol.three_child_share)):
                edge = min(edge + share, 1.0)
                if u < edge:
                    self.group = g
                    break
        self.parity = self.sons = self.daughters = 0
        self.children: list[list] = []  # [birth month, male, dead] of each child ever born
        self.fetus_male = self.registered = False
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
        self.active = r.random() < pop.cohort_size  # a smaller cohort leaves the slot empty

    def desired_size(self, p) -> int:
        """Her desired size at this year's level, at her fixed rank (``desired_u``)."""
        fe = p.fertility
        level = max(fe.desired_children + self.rural * fe.rural_extra_children, 1.0)
        if self.spread_u < fe.desired_spread:  # 1 + the Poisson(level - 1) quantile
            lam, k = level - 1.0, 0
            pmf = math.exp(-lam)
            cdf = pmf
            while self.desired_u > cdf and k < fe.desired_max - 1:
                k += 1
                pmf *= lam / k
                cdf += pmf
            size = 1 + k
        else:  # the integers next to the level
            low = math.floor(level)
            size = low + (self.desired_u > 1.0 - (level - low))
        return min(size, fe.desired_max)

    def step(self) -> None:
        """One month, in the model's order: exit/entry, then at most one event of her own."""
        model = self.model
        t, p = model.t, model.p
        if t - self.birth_month >= EXIT_MONTHS:
            self.enter(t, p)
        if not self.active:
            return
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
        """January: norms and desired size; deaths of children aged 1-17 (a mother who had
        stopped and lost one decides again); a woman held back by the policy decides again,
        and so, when the national regime has changed, does one who had stopped."""
        if not self.active:
            return
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
        if not self.resigned:
            self.desired = self.desired_size(p)
        if self.child_deaths(t, p) and self.status == DONE:
            self.evaluate(t, p)  # (the vectorised model draws the same numbers again below)
            return
        if self.status == HELD or (limits_changed and self.status == DONE):
            lag = p.fertility.policy_response_months if limits_changed else 0.0
            self.evaluate(t, p, lag)

    # --- survival of children -----------------------------------------------------------------

    def girls_excess(self, p, has_son: bool, county_risk: float) -> float:
        b = p.behaviour
        risk = min(self.law_aware * county_risk, 1.0)
        brother = b.neglect_with_son if has_son else 1.0
        return (b.girl_neglect * self.son_pref * brother * min(1.0 / self.income_mult, 3.0)
                * (1.0 - risk))

    def die(self, child: list) -> None:
        child[2] = True
        if child[1]:
            self.sons -= 1
        else:
            self.daughters -= 1

    def child_deaths(self, t: int, p) -> bool:
        """Living children aged 1-17 who die in the coming year; True if any did."""
        pop, deaths = p.population, []
        for child in self.children[:8]:
            age = t - child[0]
            if child[2] or age < 12 or age >= 18 * 12:
                continue
            young = age < 60
            q = pop.infant_mortality * (pop.mortality_1_4 if young else pop.mortality_5_17)
            q *= pop.male_mortality_ratio if child[1] else 1.0
            if young and not child[1]:
                q += pop.mortality_1_4 * self.girls_excess(p, self.sons > 0, 0.0)
            if self.random.random() < q:
                deaths.append(child)
        for child in deaths:
            self.die(child)
        return bool(deaths)

    # --- desires ------------------------------------------------------------------------------

    def age(self, t: int) -> float:
        return (t - self.birth_month) / 12.0

    def needs_son(self, p) -> bool:
        return (self.sons == 0 and self.son_pref > p.son_preference.threshold
                and self.parity < p.fertility.son_seeking_max_parity and not self.resigned)

    def prepared(self, p) -> int:
        """Births she is ready to have before she selects: desired size, plus the extra births
        (floor or ceiling of son_seeking_extra, fixed per woman) if she needs a son."""
        if self.son_pref <= p.son_preference.threshold:
            return self.desired
        x = p.fertility.son_seeking_extra
        return self.desired + math.floor(x) + (self.extra_u < x - math.floor(x))

    def local_rule(self, p) -> str:
        national = p.policy.regime
        if national == "none":
            return "none"
        urban = "one_child" if national == "one_and_half" else national
        if not self.rural or self.group == 1:
            return urban
        floor = {0: national, 2: "two_child", 3: "three_child"}[self.group]
        return max(national, floor, key=RULES.index)

    def limit(self, p, if_girl: bool = False) -> int:
        _, boy_first, girl_first = POLICY_LIMITS[self.local_rule(p)]
        first_girl = (self.parity >= 1 and not self.children[0][1]) or (
            if_girl and self.parity == 0)
        return girl_first if first_girl else boy_first

    def overquota_chance(self, p, need: bool, excess: int) -> float:
        pol, b = p.policy, p.behaviour
        fee = (pol.maintenance_fee * max(excess, 1) * pol.fee_collection
               * (1.0 - b.overquota_concealment) / self.income_mult)
        return sigmoid(b.overquota_intercept + b.overquota_son * need
                       + b.overquota_rural * self.rural - b.cost_weight * fee)

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
        tries = held = within = False
        if want:
            limit = self.limit(p)
            within = self.parity < limit
            if within or r.random() < self.overquota_chance(p, need_son,
                                                            self.parity + 1 - limit):
                tries = True
            else:
                held = True
                fe = p.fertility
                if r.random() < (fe.son_adaptation if need_son else fe.desire_adaptation):
                    self.desired = min(self.desired, self.parity)  # gives up, for good
                    self.resigned = True
                    held = False
        age = self.age(t)
        group = min(max(int((age - 15) // 5), 0), 6)
        f = p.fertility.fecundability * NATURAL_FERTILITY[group]
        if tries and f > 0 and age < 50:
            # monthly chances from next month on (a geometric wait of at least one month),
            # after the spacing a permitted birth must keep from the last one
            lag = math.floor(r.random() * lag_months) if lag_months > 0 else 0
            spacing = 0
            if within and self.parity >= 1 and p.policy.regime != "none":
                last = self.children[min(self.parity, 8) - 1][0]
                spacing = max(last + round(p.policy.birth_spacing) - 9 - t, 0)
            self.status, self.f, self.wake = TRYING, min(f, 0.999), t + 1 + lag + spacing
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
        """The wish for the missing sex x the squeeze at the last prepared birth within the
        local limit: son preference without a living son; daughter_preference with sons, no
        daughter, and two sons or a birth beyond the desired size."""
        after = self.parity + 1
        if self.sons == 0:
            strength, ready = self.son_pref, self.prepared(p)
        elif self.daughters == 0 and (self.sons >= 2 or self.parity >= self.desired):
            strength, ready = p.son_preference.daughter_preference, self.desired
        else:
            return 0.0
        remaining = max(min(ready, self.limit(p, if_girl=True)) - after, 0)
        if after == 1 and self.pledged(t, p):
            remaining = 0
        return strength * p.behaviour.squeeze_decay ** remaining

    def believes_unwanted(self, accuracy: float) -> bool:
        """The test reads the fetus as the sex she does not want (a girl, for a son-seeker)."""
        female = self.believes_female(accuracy)
        return female if self.sons == 0 else not female

    def believes_female(self, accuracy: float) -> bool:
        correct = self.random.random() < accuracy
        return not self.fetus_male if correct else self.fetus_male

    def aborts(self, t: int, p, m: float, income: float, price: float, risk: float) -> bool:
        b = p.behaviour
        pull = 0.0
        if p.incentives.eligibility == "daughters_only" and self.inc_aware and self.sons == 0:
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
        logit = (b.seek_intercept + b.seek_motivation * m + u_best
                 - b.first_birth_reluctance * (self.parity == 0))
        if not r.random() < access * sigmoid(logit):
            return
        if not (has_early and r.random() < sigmoid(u_early - u_us)):
            self.route = ULTRASOUND
            return
        self.route = EARLY
        model.count("sex_determinations", EARLY)
        if (self.believes_unwanted(tech.early_test_accuracy)
                and self.aborts(t, p, m, income, mk.legal_abortion_price, 0.0)):
            self.abort(t, p)

    def ultrasound(self, t: int, p) -> None:
        """Gestation month 4: the stand-in provider scans; late abortion decision."""
        model = self.model
        model.count("sex_determinations", ULTRASOUND)
        if not self.believes_unwanted(p.technology.accuracy):
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
        if self.fetus_male and self.sons == 0:
            self.model.count("misclassified_male_abortions")
        self.status = WAITING
        self.wake = t + max(int(round(p.fertility.post_abortion_months)), 1)

    def give_birth(self, t: int, p) -> None:
        male, pop = self.fetus_male, p.population
        self.model.record_birth(t, self, male)
        child = [t, male, False]
        had_son = self.sons > 0
        self.children.append(child)
        self.parity += 1
        if male:
            self.sons += 1
        else:
            self.daughters += 1
        if self.parity <= 8:  # infant death, drawn at birth (a ninth child is not stored)
            q = pop.infant_mortality * (pop.male_mortality_ratio if male else 1.0)
            if not male:
                q += self.girls_excess(p, had_son, self.model.county_risk)
            if self.random.random() < q:
                self.die(child)
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
        self.regime = None  # the national regime of the previous year
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
                if not w.active:
                    continue
                sums[w.township] += w.son_pref
                counts[w.township] += 1
                if self.year_index >= 0:
                    self.women_by_age[self.year_index,
                                      min(max((t + 6 - w.birth_month) // 60 - 3, 0), 6)] += 1
            town_mean = [s / max(c, 1) for s, c in zip(sums, counts)]
            changed = self.regime is not None and p.policy.regime != self.regime
            self.agents.do("new_year", t, p, town_mean, changed)
            self.regime = p.policy.regime
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
