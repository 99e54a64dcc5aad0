"""Every parameter of popsim, declared once, section by section.

Each field carries its default, unit, bounds, a one-line meaning and the source of the default.
The CLI help (``popsim params``), ``popsim show``, the README's scenario reference, the app's
controls and the dataset attrs are all generated from these declarations; nothing else in the
package repeats a default or a bound.

A scenario has *context* sections (who lives in the county, how they behave, what technology and
prices they face) and *lever* sections (what the county government does). The schema defaults
are the ``county`` scenario: a county of 16 townships with the four measures at the intensity its
work reports describe.

Fields declared ``fixed=True`` are constants of the model's rules (a share, a cap, a span of
months) rather than levers or calibrated behaviour; they sit in the section whose rule uses them,
so that every number the model uses is documented here and can be swept, and nothing is left in
the code.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .schema import Flag, Num, P, ParamSpec, Schedule, Section, check_name, parse_value

__all__ = ["Scenario", "SECTIONS", "iter_params", "param_spec", "parse_param"]


# --------------------------------------------------------------------------------------------
# Run settings


class RunSettings(Section):
    kind: ClassVar[str] = "run"
    title: ClassVar[str] = "Run settings"
    start_year: int = P(2000, "year", "First calendar year recorded in the output", 1950, 2100)
    end_year: int = P(2020, "year", "Last calendar year recorded (inclusive)", 1950, 2150)
    seed: int = P(20001, "-", "Root random seed used when no seed is given at run time",
                  0, 2**63 - 1)
    households: int = P(65669, "households", "Number of simulated households (women 15-49)",
                        100, 50_000_000, source="county work report: 65,669 married women 15-49")
    scale: float = P(1.0, "women per household", "Real women each simulated household stands "
                     "for; counts in the output are multiplied by it", 0.001, 1e6, schedule=False)
    burn_in_years: int = P(35, "years", "Years simulated before start_year (not recorded) so "
                           "that parity and children's sexes are realistic at the start", 0, 80)


# --------------------------------------------------------------------------------------------
# Context


class Population(Section):
    title: ClassVar[str] = "Population"
    townships: int = P(16, "townships", "Number of townships in the county", 1, 500,
                       source="county work report: 16 townships")
    rural_share: float = P(0.7, "fraction", "Share of households with rural hukou", 0, 1,
                           schedule=False, source="assumed for an agricultural county")
    migrant_share_rural: float = P(0.5, "fraction", "Share of rural households working away "
                                   "from the county", 0, 1, schedule=False,
                                   source="county report: about half of rural adults work away")
    migrant_share_urban: float = P(0.1, "fraction", "Share of urban households working away",
                                   0, 1, schedule=False, source="assumed")
    income_rural: Num = P([[1965, 500], [1980, 700], [1990, 2400], [2000, 7900], [2010, 20700],
                           [2020, 60000]], "yuan/year",
                          "Mean annual income of a rural household", 0, 1e7,
                          source="NBS per-capita rural net income x 3.5 persons")
    urban_income_ratio: Num = P(2.8, "ratio", "Urban household income relative to rural", 0.1,
                                20, source="NBS urban/rural income ratio, 2000-2010: 2.8-3.3")
    income_sigma: float = P(0.6, "log units", "Spread of household income (sd of log income)",
                            0, 3, schedule=False, source="assumed")


class Fertility(Section):
    title: ClassVar[str] = "Fertility"
    desired_children: Num = P([[1965, 3.5], [1980, 2.2], [1995, 1.7], [2010, 1.5]], "children",
                              "Mean desired number of children of new cohorts", 1, 8,
                              source="ideal family size surveys, China 1980s-2000s (~1.7-2.0)")
    rural_extra_children: float = P(0.3, "children", "Extra desired children of rural households",
                                    0, 3, schedule=False, source="assumed")
    union_age: float = P(23.0, "years", "Mean age at which a woman starts childbearing (union)",
                         15, 40, schedule=False, source="China mean age at first marriage ~23")
    fecundability: float = P(0.2, "per month", "Monthly conception probability of a woman "
                             "aged 20-29 trying to conceive", 0.01, 1, schedule=False,
                             source="Bongaarts & Potter 1983: 0.15-0.25")
    postpartum_months: float = P(15.0, "months", "Mean months after a birth before she may "
                                 "conceive again (insusceptible plus spacing)", 1, 60,
                                 schedule=False, source="postpartum amenorrhoea and breastfeeding")
    post_abortion_months: float = P(2.0, "months", "Months after an abortion before she may "
                                    "conceive again", 0, 24, schedule=False, source="clinical")
    desire_adaptation: float = P(0.35, "per year", "Chance a year that a woman held back by the "
                                 "policy gives up the extra child she wanted (desired size "
                                 "falls to her parity) unless she still needs a son", 0, 1,
                                 schedule=False, source="intentions adapt to constraints; "
                                 "calibrated to the 2016 two-child response")
    policy_response_months: float = P(36.0, "months", "Months over which couples who may have "
                                      "another child after a relaxation of the policy start "
                                      "trying (uniformly spread)", 0, 240, schedule=False,
                                      source="calibrated to the 2016-2018 birth response")
    son_seeking_max_parity: int = P(4, "children", "Highest parity at which a household without "
                                    "a son still tries for one", 1, 12, source="assumed")
    union_age_sd: float = P(2.5, "years", "Spread (sd) of a woman's age at union around "
                            "fertility.union_age", 0, 10, fixed=True, source="assumed")
    union_age_max: float = P(40.0, "years", "Latest age at union (later draws are set to it)", 15,
                             49, fixed=True, source="assumed")
    desired_max: int = P(8, "children", "Most children a woman can desire", 1, 20, fixed=True,
                         source="assumed")
    postpartum_spread: float = P(0.5, "relative", "Half-width of the uniform spread of the "
                                 "postpartum wait around fertility.postpartum_months (0.5: from "
                                 "0.5 to 1.5 times it)", 0, 1, fixed=True, source="assumed")


class SonPreference(Section):
    title: ClassVar[str] = "Son preference"
    cohort_mean: Num = P([[1965, 0.5], [1990, 0.4], [2005, 0.3], [2020, 0.2]], "index 0-1",
                         "Mean son preference of women entering at age 15", 0, 1,
                         source="calibrated to 'needs a son' shares (Korea 47.7%->16.8%)")
    concentration: float = P(4.0, "-", "Beta concentration of son preference (higher = less "
                             "spread)", 0.5, 100, schedule=False, source="assumed")
    rural_shift: float = P(0.25, "index 0-1", "Extra son preference of rural households", 0, 1,
                           schedule=False, source="rural SRB above urban (Zhu et al. 2009)")
    threshold: float = P(0.5, "index 0-1", "Son preference above which a household 'needs a "
                         "son'", 0, 1, schedule=False, source="assumed (the midpoint of the "
                         "index); cohort_mean is calibrated to 'must have a son' shares")
    secular_decline: Num = P(0.005, "per year", "Relative yearly decline of every woman's son "
                             "preference (modernisation)", 0, 0.5, source="assumed")
    peer_influence: float = P(0.02, "per year", "Yearly pull of son preference toward the "
                              "township mean", 0, 1, schedule=False, source="assumed")


class Technology(Section):
    title: ClassVar[str] = "Technology"
    access_midpoint: float = P(1987.0, "year", "Year when half of women can reach prenatal sex "
                               "determination", 1950, 2100, schedule=False,
                               source="Kashyap & Villavicencio 2016")
    access_rate: float = P(0.5, "per year", "Logistic growth rate of technology access", 0.01,
                           5, schedule=False, source="Kashyap & Villavicencio 2016")
    rural_delay: float = P(3.0, "years", "Delay of rural access behind urban", 0, 30,
                           schedule=False, source="assumed")
    accuracy: float = P(0.95, "probability", "Accuracy of ultrasound sex determination at 16 "
                        "weeks", 0.5, 1, schedule=False, source="clinical studies 88-100%")
    early_test_access: Num = P([[2008, 0.0], [2015, 0.3], [2020, 0.5]], "probability",
                               "Chance that a seeker can obtain an early (blood) test at 8 weeks",
                               0, 1, source="cell-free DNA tests spread after ~2010")
    early_test_accuracy: float = P(0.97, "probability", "Accuracy of the early test", 0.5, 1,
                                   schedule=False, source="clinical studies of cffDNA")
    early_test_price: Num = P(3000.0, "yuan", "Price of an early blood test (mailed abroad)", 0,
                              1e6, source="press reports 2012-2016: 3,000-5,000 yuan")


class Behaviour(Section):
    title: ClassVar[str] = "Household decisions"
    seek_intercept: float = P(-5.0, "logit", "Log-odds of seeking sex determination at zero "
                              "motivation", -20, 20, schedule=False, source="calibrated")
    seek_motivation: float = P(8.0, "logit per unit", "Effect of motivation (son preference x "
                               "squeeze) on seeking", 0, 50, schedule=False, source="calibrated")
    abort_intercept: float = P(-4.0, "logit", "Log-odds of aborting a fetus believed female at "
                               "zero motivation", -20, 20, schedule=False, source="calibrated")
    abort_motivation: float = P(9.0, "logit per unit", "Effect of motivation on aborting", 0,
                                50, schedule=False, source="calibrated")
    cost_weight: float = P(4.0, "logit per income-year", "Deterrence of a price equal to one "
                           "year's income", 0, 100, schedule=False, source="calibrated")
    risk_weight: float = P(6.0, "logit per unit risk", "Deterrence of perceived risk of being "
                           "caught", 0, 100, schedule=False, source="calibrated")
    incentive_weight: float = P(6.0, "logit per income-year", "Pull of an incentive worth one "
                                "year's income", 0, 100, schedule=False, source="calibrated")
    squeeze_decay: float = P(0.05, "ratio", "Motivation multiplier for each further birth "
                             "still possible after this one (fertility squeeze)", 0, 1,
                             schedule=False, source="calibrated to parity-specific SRB, 2000")
    law_awareness_base: float = P(0.3, "probability", "Chance a new household knows that sex "
                                  "selection is illegal and reported", 0, 1, schedule=False,
                                  source="assumed")
    risk_per_case: float = P(0.03, "risk per case", "Perceived risk added, for households aware "
                             "of the law, per case publicised in the last 12 months", 0, 1,
                             schedule=False, source="deterrence of typical cases; assumed")
    campaign_risk: float = P(0.1, "risk", "Perceived risk added during campaign months", 0, 1,
                             schedule=False, source="assumed")
    signal_risk: float = P(0.3, "risk", "Perceived chance that a registered pregnancy ended "
                           "without approval is followed up (women are told at registration)",
                           0, 1, schedule=False, source="assumed; county follow-up practice")
    grey_risk: float = P(0.8, "risk", "Perceived risk of a grey-listed woman", 0, 1,
                         schedule=False, source="grey-listed pregnancies are tracked")
    travel_willingness: float = P(0.3, "probability", "Chance that a non-migrant seeker who finds "
                                  "no local provider travels out of county", 0, 1,
                                  schedule=False, source="assumed")
    travel_cost: Num = P(500.0, "yuan", "Extra cost of buying a service out of county", 0, 1e6,
                         source="assumed")
    concealment: Num = P(0.02, "probability", "Chance that a female birth goes unreported", 0, 1,
                         source="assumed; under-registration of girls in censuses")
    natural_srb: float = P(106.0, "males per 100 females", "Sex ratio at birth without "
                           "selection", 100, 110, schedule=False,
                           source="Chao et al. 2019 (PNAS): East Asia 106.3")
    expected_girl_share: float = P(0.5, "fraction", "Share of sex determinations a household "
                                   "expects to find a girl: weight of the termination price in "
                                   "the route utilities", 0, 1, fixed=True,
                                   source="about half of fetuses are female")
    case_memory_months: int = P(12, "months", "Months over which publicised cases count in the "
                                "perceived risk of households", 1, 120, fixed=True,
                                source="assumed: a year of news")


class Market(Section):
    title: ClassVar[str] = "Clinics and prices"
    county_hospitals: int = P(3, "clinics", "County hospitals", 0, 100,
                              source="county report: 3 county-level hospitals")
    township_centres_per_township: int = P(1, "clinics", "Township health centres per township",
                                           0, 20, source="county report: 16 centres")
    private_clinics: int = P(111, "clinics", "Private clinics", 0, 5000,
                             source="county special check: 111 private clinics")
    pharmacies: int = P(76, "clinics", "Pharmacies (abortion drugs, early terminations only)",
                        0, 5000, source="county special check: 4 wholesale + 72 retail")
    out_of_county: int = P(20, "clinics", "Providers outside the county reachable by migrants "
                           "and travellers", 0, 5000, source="assumed")
    private_ultrasound_share: float = P(0.4, "fraction", "Share of private clinics with an "
                                        "ultrasound machine", 0, 1, schedule=False,
                                        source="assumed")
    capacity: float = P(30.0, "clients per month", "Illegal services a provider can sell in a "
                        "month", 1, 10000, schedule=False, source="assumed")
    sd_price: Num = P(300.0, "yuan", "Price of an illegal sex determination at no risk", 0, 1e6,
                      source="40 (2003), 90-100 (2005), 800-1,200 (2013) yuan")
    late_abortion_price: Num = P(1500.0, "yuan", "Price of an unapproved late termination at no "
                                 "risk", 0, 1e6, source="scan + late abortion package ~3,800 "
                                 "yuan (2013)")
    legal_abortion_price: Num = P(300.0, "yuan", "Price of a legal (approved or early) "
                                  "termination", 0, 1e6, source="hospital fee schedules, "
                                  "assumed")
    price_risk_markup: float = P(10.0, "per unit risk", "Relative price rise per unit of a "
                                 "provider's risk belief", 0, 1000, schedule=False,
                                 source="prices rose ~10x with enforcement, 2003-2013")
    ethics_mean: float = P(3000.0, "yuan/month", "Mean moral cost of offering illegal services",
                           0, 1e7, schedule=False, source="assumed")
    licence_value: float = P(100000.0, "yuan", "Value of a provider's licence (lost if "
                             "blacklisted)", 0, 1e8, schedule=False, source="assumed")
    criminal_cost: float = P(300000.0, "yuan", "Perceived cost of a criminal conviction", 0, 1e9,
                             schedule=False, source="assumed")
    risk_decay: float = P(0.05, "per month", "Monthly relative decay of risk beliefs without "
                          "news", 0, 1, schedule=False, source="assumed")
    entry_rate: float = P(0.2, "per month", "Chance an underground provider opens in a township "
                          "whose unmet demand reached entry_threshold", 0, 1, schedule=False,
                          source="assumed")
    entry_threshold: float = P(3.0, "clients/month", "Unmet demand in a township that can draw "
                               "an underground provider", 1, 1e6, schedule=False,
                               source="assumed")
    late_share: float = P(0.5, "fraction", "Share of sex-determination clients who also buy a "
                          "late termination, in a provider's profit estimate", 0, 1, fixed=True,
                          source="about half of fetuses are female")
    public_ethics: float = P(3.0, "x", "Moral cost of public providers (county hospitals, "
                             "township health centres) relative to private ones", 0, 100,
                             fixed=True, source="assumed")
    underground_ethics: float = P(0.2, "x", "Moral cost of an underground entrant relative to a "
                                  "private provider (it opens to sell these services)", 0, 10,
                                  fixed=True, source="assumed")
    initial_risk: float = P(0.01, "probability", "Risk belief of every provider at the start of a "
                            "run", 0, 1, fixed=True, source="assumed")
    demand_smoothing: float = P(0.3, "weight", "Weight of the month's observation in a "
                                "provider's expected clients (moving average)", 0, 1, fixed=True,
                                source="assumed")
    decision_noise: float = P(0.5, "x ethics_mean", "Spread (sd) of the monthly noise in a "
                              "provider's offer decision, relative to market.ethics_mean (plus "
                              "1 yuan)", 0, 10, fixed=True, source="assumed")
    inspection_learning: float = P(0.5, "fraction", "Share of the gap to "
                                   "enforcement.detection that an inspection closes in the "
                                   "inspected provider's risk belief", 0, 1, fixed=True,
                                   source="assumed")


# --------------------------------------------------------------------------------------------
# Levers


class Propaganda(Section):
    kind: ClassVar[str] = "lever"
    title: ClassVar[str] = "Propaganda and education"
    reach: Num = P(0.05, "per month", "Share of households reached by propaganda each month", 0,
                   1, source="county reports: campaigns, slogans, hotline; assumed 5%/month",
                   off=0.0)
    persuasion: float = P(0.02, "relative", "Relative fall of son preference per contact", 0,
                          1, schedule=False, source="assumed")
    law_awareness: float = P(0.3, "probability", "Chance a contact makes the household aware of "
                             "the law and the hotline", 0, 1, schedule=False, source="assumed")
    incentive_awareness: float = P(0.3, "probability", "Chance a contact makes the household "
                                   "aware of the incentives", 0, 1, schedule=False,
                                   source="assumed")
    cost_per_contact: float = P(5.0, "yuan", "Cost of reaching one household once", 0, 1e5,
                                schedule=False, source="assumed")


class Incentives(Section):
    kind: ClassVar[str] = "lever"
    title: ClassVar[str] = "Benefit incentives"
    eligibility: str | Schedule = P("daughters_only", "-", "Who qualifies: daughters_only "
                                    "(China), small_family (one child of either sex) or none",
                                    kind="choice",
                                    choices=("none", "daughters_only", "small_family"), off="none")
    benefit_per_year: Num = P(1200.0, "yuan/year", "Yearly benefit for a qualifying household", 0,
                              1e6, source="reward & assistance scheme: 600 yuan per parent",
                              off=0.0)
    benefit_start_age: float = P(60.0, "years", "Age of the woman when the yearly benefit "
                                 "starts", 15, 100, schedule=False, source="national scheme")
    benefit_years: float = P(20.0, "years", "Years the benefit is paid", 0, 80, schedule=False,
                             source="assumed life expectancy at 60")
    discount_rate: float = P(0.05, "per year", "Households' discount rate for future benefits",
                             0, 1, schedule=False, source="assumed")
    girl_birth_cash: Num = P(500.0, "yuan", "One-off cash at the birth of a girl to a qualifying "
                             "household", 0, 1e6, source="county schemes", off=0.0)
    base_awareness: float = P(0.15, "probability", "Chance a new household knows the incentives "
                              "without propaganda", 0, 1, schedule=False,
                              source="Apni Beti Apna Dhan evaluation: 9-15%")
    pledge_half_value: float = P(0.5, "income-years", "Reward (present value in years of income) "
                                 "at which half of the aware households pledge to stop at one "
                                 "child under small_family eligibility", 0.01, 100, fixed=True,
                                 source="assumed")


class Enforcement(Section):
    kind: ClassVar[str] = "lever"
    title: ClassVar[str] = "Crackdown on the 'two illegals'"
    inspections_per_month: Num = P(10.0, "inspections/month", "Routine clinic inspections", 0,
                                   10000, source="county special check of 206 units", off=0.0)
    campaign_multiplier: Num = P(2.0, "x", "Inspection multiplier in campaign months", 1, 20,
                                 source="yearly May-October special actions")
    campaign_months: tuple[int, ...] = P([5, 6, 7, 8, 9, 10], "months", "Calendar months of the "
                                         "yearly campaign", kind="months")
    targeting: str | Schedule = P("risk", "-", "How inspections pick clinics", kind="choice",
                                  choices=("random", "risk"))
    detection: float = P(0.2, "probability", "Chance an inspection uncovers an offending clinic",
                         0, 1, schedule=False, source="assumed: illegal acts are hidden")
    tip_reward: Num = P(2000.0, "yuan", "Reward for a tip leading to a case", 0, 1e6,
                        source="Hunan 2005, Xi'an 2007: 2,000-5,000 yuan", off=0.0)
    tip_rate_max: float = P(0.02, "probability", "Chance per illegal act of a tip at a very high "
                            "reward", 0, 1, schedule=False, source="assumed")
    tip_reward_half: float = P(3000.0, "yuan", "Reward at which tips reach half their maximum", 1,
                               1e7, schedule=False, source="assumed")
    tip_followup: float = P(0.5, "probability", "Chance that a tip leads to a case", 0, 1,
                            schedule=False, source="assumed")
    followup_capacity: Num = P(4.0, "per month", "Disappeared registered pregnancies followed up",
                               0, 10000, source="county report: 21 followed up a year", off=0.0)
    trace: float = P(0.15, "probability", "Chance a follow-up traces the provider", 0, 1,
                     schedule=False, source="county report: 3 suspected cases of 21")
    birth_audit: Flag = P(True, "-", "Audit births of a son after two daughters", kind="bool",
                          source="the 'seven must-checks'", off=False)
    audit_trace: float = P(0.05, "probability", "Chance an audit traces a provider", 0, 1,
                           schedule=False, source="assumed")
    cross_region_cooperation: Num = P(0.3, "probability", "Chance that a case traced to an "
                                      "out-of-county provider is pursued", 0, 1,
                                      source="cross-province cooperation agreements")
    fine: Num = P(20000.0, "yuan", "Fine on a provider found offending", 0, 1e8,
                  source="national rules: 10,000-30,000 yuan")
    blacklist: float = P(0.5, "probability", "Chance a detected provider is blacklisted and "
                         "closed", 0, 1, schedule=False, source="assumed")
    prosecute: float = P(0.1, "probability", "Chance a case is prosecuted", 0, 1,
                         schedule=False, source="assumed")
    publicity: float = P(0.05, "risk per case", "Rise of every provider's risk belief per "
                         "publicised case", 0, 1, schedule=False, source="typical cases")
    cost_per_inspection: float = P(300.0, "yuan", "Cost of one inspection", 0, 1e6,
                                   schedule=False, source="assumed")
    cost_per_investigation: float = P(1000.0, "yuan", "Cost of one follow-up, audit or tip "
                                      "investigation", 0, 1e6, schedule=False, source="assumed")
    srb_target: Num = P(112.0, "males per 100 females", "Reported SRB the county is held to", 100,
                        200, source="provincial targets")
    accountability: Num = P(0.0, "per SRB point", "Rise of next year's effort per point of "
                            "reported SRB above target", 0, 10, source="red warnings, one-vote "
                            "veto; off by default", off=0.0)
    misreport: Num = P(0.0, "per SRB point", "Under-reporting of male births per point of "
                       "reported SRB above target (data management under pressure)", 0, 1,
                       source="assumed; off by default", off=0.0)
    misreport_cap: float = P(0.5, "probability", "Highest share of male births left unreported "
                             "under accountability pressure", 0, 1, fixed=True, source="assumed")
    target_weight_ultrasound: float = P(2.0, "x", "Extra inspection weight of a provider with "
                                        "ultrasound under risk targeting", 0, 100, fixed=True,
                                        source="assumed")
    target_weight_private: float = P(2.0, "x", "Extra inspection weight of a private clinic under "
                                     "risk targeting", 0, 100, fixed=True, source="assumed")
    signal_max_age: int = P(12, "months", "Age at which a signal not yet followed up (a "
                            "disappeared pregnancy) is dropped: the trail has gone cold", 1, 120,
                            fixed=True, source="assumed")


class Registration(Section):
    kind: ClassVar[str] = "lever"
    title: ClassVar[str] = "Real-name registration"
    coverage: Num = P(0.8, "probability", "Chance a pregnancy is registered", 0, 1,
                      source="county reports", off=0.0)
    migrant_factor: float = P(0.5, "ratio", "Registration coverage of migrants relative to "
                              "residents", 0, 1, schedule=False, source="assumed")
    approval_required: Flag = P(True, "-", "Termination at 14 weeks or later needs approval "
                                "(unapproved ones are illegal)", kind="bool",
                                source="provincial regulations", off=False)


class Policy(Section):
    kind: ClassVar[str] = "lever"
    title: ClassVar[str] = "Fertility policy"
    regime: str | Schedule = P({"step": [[1965, "none"], [1980, "one_child"],
                                         [1984, "one_and_half"], [2016, "two_child"],
                                         [2021, "three_child"]]}, "-",
                               "Birth limit: none, one_child, one_and_half (rural second child "
                               "if the first is a girl), two_child, three_child", kind="choice",
                               choices=("none", "one_child", "one_and_half", "two_child",
                                        "three_child"),
                               source="national policy history")
    violation: Num = P(0.03, "per year", "Chance a household wanting an over-quota child has it",
                       0, 1, source="assumed")


SECTIONS: dict[str, type[Section]] = {
    "run": RunSettings,
    "population": Population,
    "fertility": Fertility,
    "son_preference": SonPreference,
    "technology": Technology,
    "behaviour": Behaviour,
    "market": Market,
    "propaganda": Propaganda,
    "incentives": Incentives,
    "enforcement": Enforcement,
    "registration": Registration,
    "policy": Policy,
}
for _name, _cls in SECTIONS.items():
    _cls.section = _name


class Scenario(BaseModel):
    """A complete, validated scenario: metadata plus one object per section."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field("county", description="Short name, part of output paths: 1 to 64 "
                      "letters, digits, '_', '.' or '-', starting with a letter or digit")
    description: str = Field("", description="What the scenario represents")
    run: RunSettings = Field(default_factory=RunSettings)
    population: Population = Field(default_factory=Population)
    fertility: Fertility = Field(default_factory=Fertility)
    son_preference: SonPreference = Field(default_factory=SonPreference)
    technology: Technology = Field(default_factory=Technology)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    market: Market = Field(default_factory=Market)
    propaganda: Propaganda = Field(default_factory=Propaganda)
    incentives: Incentives = Field(default_factory=Incentives)
    enforcement: Enforcement = Field(default_factory=Enforcement)
    registration: Registration = Field(default_factory=Registration)
    policy: Policy = Field(default_factory=Policy)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        return check_name(v)  # every code path that builds a Scenario: files, --set, the app

    def get(self, path: str) -> Any:
        """The value at ``"section.field"``."""
        section, field = path.split(".")
        return getattr(getattr(self, section), field)


def iter_params() -> Iterator[ParamSpec]:
    """Every parameter of the schema, section by section, in declaration order."""
    for sname, cls in SECTIONS.items():
        for fname, f in cls.model_fields.items():
            m = cls.meta(fname)
            choices = tuple(m["choices"]) if m["choices"] else None
            yield ParamSpec(f"{sname}.{fname}", f.default, m["unit"], f.description or "",
                            m["lo"], m["hi"], m["kind"], choices, m["schedule"], m["source"],
                            cls.kind, m["off"], m.get("fixed", False))


def param_spec(path: str) -> ParamSpec:
    """The :class:`ParamSpec` of ``"section.field"``; raises ``KeyError`` if there is none."""
    for p in iter_params():
        if p.path == path:
            return p
    raise KeyError(path)


def parse_param(path: str, value: Any) -> Any:
    """Parse and bound-check one value for ``path`` (as the schema would at load)."""
    section, field = path.split(".")
    return parse_value(path, SECTIONS[section].meta(field), value)
