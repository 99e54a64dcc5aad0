"""Every parameter of popsim, declared once, section by section.

Each field carries its default, unit, bounds, a one-line meaning and the source of the default.
The CLI help (``popsim params``), ``popsim show``, the README's scenario reference, the app's
controls and the dataset attrs are all generated from these declarations; nothing else in the
package repeats a default or a bound.
The supply side and the county office (``[market]``, ``[enforcement]``, ``[registration]``) are
declared in :mod:`popsim.scenario.market_parameters` and listed here in their place.

A scenario has *context* sections (who lives in the county, how they behave, what technology and
prices they face) and *lever* sections (what the county government does). The schema defaults
are a county of 16 townships with the four measures at the intensity its work reports describe
(the 2010s); the ``county`` scenario (``library/county.toml``) adds their history as schedules.

Fields declared ``fixed=True`` are constants of the model's rules (a share, a cap, a span of
months) rather than levers or calibrated behaviour; they sit in the section whose rule uses them,
so that every number the model uses is documented here and can be swept, and nothing is left in
the code.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .market_parameters import Enforcement, Market, Registration
from .schema import Num, P, ParamSpec, Schedule, Section, check_name, parse_value

__all__ = ["Scenario", "SECTIONS", "iter_params", "param_spec", "parse_param"]


# --------------------------------------------------------------------------------------------
# Run settings



#: The source line of the behaviour coefficients set to the shipped calibration's central values.
CHINA_POSTERIOR = ("posterior median of the shipped china calibration (popsim/calibrations/"
                   "china_posterior.nc, on the census-counted targets); it is not a fit: "
                   "distance 1.92 > 1, see its README")

#: The source line of the technology diffusion, set by hand on full-size runs once China's SRB
#: series was scored as its censuses counted it (popsim.validation.statistics.census_srb). The
#: shipped posterior, fitted to the same targets on 1/5 samples, is wide on the diffusion (rate
#: 0.31-0.93 a year) and its medians (0.68, 1988.0) put the full-size 1994 at ~122 against
#: 115.6 (calibrations/README.md).
TECH_SOURCE = ("set against the census-counted SRB series (1994: 115.6) and the 2000 census by "
               "birth order (docs/model.md section 7.6)")


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
    townships: int = P(16, "townships", "Number of townships in the county (in the real "
                       "population: a run with run.scale k simulates townships / k of them; "
                       "at most 32,767: a household's township is an int16)", 1, 32_767,
                       source="county work report: 16 townships")
    townships_per_county: int = P(16, "townships", "Townships of one county, the area whose "
                                  "publicised cases its households and providers hear of: a "
                                  "region of more townships is several counties, each hearing "
                                  "its own share of the region's cases", 1, 32_767,
                                  schedule=False, fixed=True,
                                  source="county work report: 16 townships; cases are news "
                                  "in the county that pursues them (seeds 003, 004)")
    rural_share: Num = P(0.7, "fraction", "Share of women entering at 15 with rural hukou (a "
                         "schedule over entry years: urbanisation)", 0, 1,
                         source="assumed for an agricultural county")
    cohort_size: Num = P(1.0, "relative", "Size of the cohort entering at 15 relative to the "
                         "largest: the share of entry slots filled (run.households women when "
                         "every cohort is 1)", 0, 1, source="assumed constant for the county; "
                         "national: births by year of birth 15 years earlier (NBS)")
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
    infant_mortality: Num = P([[1965, 0.07], [1980, 0.035], [1990, 0.028], [2000, 0.02],
                               [2010, 0.011], [2020, 0.005]], "per birth", "Natural infant "
                              "mortality of girls (deaths before age 1 per live birth, without "
                              "excess female risk); boys' is male_mortality_ratio times it", 0,
                              0.5, source="China IMR ~33 (1990), 28 (2000), 13 (2010), 5.4 "
                              "(2020) per 1,000 (NBS, MOH), girls' natural share below it")
    male_mortality_ratio: float = P(1.2, "ratio", "Natural mortality of boys relative to girls "
                                    "at ages 0-17", 0.5, 3, fixed=True,
                                    source="Waldron 1998: male/female infant mortality 1.1-1.3")
    mortality_1_4: float = P(0.08, "x infant mortality", "Yearly death risk at ages 1-4 "
                             "relative to infant mortality (also scales girls' excess risk)",
                             0, 1, fixed=True, source="under-5 mortality ~1.3 x IMR")
    mortality_5_17: float = P(0.01, "x infant mortality", "Yearly death risk at ages 5-17 "
                              "relative to infant mortality", 0, 1, fixed=True,
                              source="assumed: ~0.3-0.5 per 1,000 a year")


class Fertility(Section):
    title: ClassVar[str] = "Fertility"
    desired_children: Num = P([[1965, 3.5], [1980, 2.2], [1995, 1.7], [2010, 1.5]], "children",
                              "Mean desired number of children (the year's level: every woman's "
                              "desired size follows it, keeping her rank)", 1, 8,
                              source="ideal family size surveys, China 1980s-2000s (~1.7-2.0)")
    desired_spread: float = P(0.5, "fraction", "Share of women whose desired family size is "
                              "spread as 1 + Poisson(desired - 1); the others desire the whole "
                              "numbers next to the mean (most say two)", 0, 1, schedule=False,
                              source="calibrated: ideal family sizes cluster at two (Korea "
                              "1990, Kashyap & Villavicencio 2016); a minority wants three or more "
                              "(China 2000 sibship table)")
    rural_extra_children: float = P(0.3, "children", "Extra desired children of rural households",
                                    0, 3, schedule=False, source="assumed")
    union_age: Num = P(23.0, "years", "Mean age at which a woman starts childbearing (union), "
                       "of the women entering at 15 in the year (a schedule by entry year: "
                       "postponement of marriage)", 15, 40,
                       source="China mean age at first marriage ~23 (22-23 in the 1980s-2000s)")
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
    son_adaptation: float = P(0.15, "per year", "Chance a year that a woman held back by the "
                              "policy while she needs a son gives up the son (for good)", 0, 1,
                              schedule=False, source="assumed: son-seekers persist longer "
                              "than desire_adaptation; it bounds the stock of women waiting "
                              "for a relaxation (the 2016 response)")
    policy_response_months: float = P(36.0, "months", "Months over which couples who may have "
                                      "another child after a relaxation of the policy start "
                                      "trying (uniformly spread)", 0, 240, schedule=False,
                                      source="calibrated to the 2016-2018 birth response")
    son_seeking_max_parity: int = P(4, "children", "Highest parity at which a household without "
                                    "a son still tries for one", 1, 12, source="assumed")
    son_seeking_extra: float = P(1.0, "children", "Births beyond her desired size that a "
                                 "household needing a son is ready to have before it selects: "
                                 "the squeeze is full at the last of them (each household: the "
                                 "floor or the ceiling, fixed per woman)", 0, 8,
                                 schedule=False, source="Kashyap & Villavicencio 2016 (ready); "
                                 "calibrated on a Korea-like context (third births selected "
                                 "when two are desired); an earlier China calibration did not "
                                 "identify it (90% interval 0.33-2.42 of its prior 0-2.5)")
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
    secular_decline: Num = P(0.00505, "per year", "Relative yearly decline of every woman's son "
                             "preference (modernisation)", 0, 0.5, source=CHINA_POSTERIOR)
    peer_influence: float = P(0.02, "per year", "Yearly pull of son preference toward the "
                              "township mean", 0, 1, schedule=False, source="assumed")
    daughter_preference: float = P(0.75, "index 0-1", "Wish for a daughter of a household with "
                                   "no daughter and two sons (or one, at a birth beyond its "
                                   "desired size): its motivation to select against a boy, "
                                   "times the squeeze (0: off)", 0, 1,
                                   schedule=False, source="calibrated to Ebenstein 2010 Table 1: "
                                   "fraction male after two boys 0.39 (2000), 0.43 (1990), "
                                   "after one boy 0.50")


class Technology(Section):
    title: ClassVar[str] = "Technology"
    access_midpoint: float = P(1988.5, "year", "Year when half of women can reach prenatal sex "
                               "determination", 1950, 2100, schedule=False,
                               source=TECH_SOURCE + "; posterior median 1988.0 (both "
                               "calibrations), prior 1984-1995 around Kashyap & Villavicencio "
                               "2016 and China's county-level spread of B-mode ultrasound "
                               "(Chen, Li & Meng 2013)")
    access_rate: float = P(0.5, "per year", "Logistic growth rate of technology access", 0.01,
                           5, schedule=False, source=TECH_SOURCE + "; posterior median 0.68 "
                           "(0.67 in the first calibration), prior 0.2-1.0")
    rural_delay: float = P(5.0, "years", "Delay of rural access behind urban", 0, 30,
                           schedule=False, source=TECH_SOURCE + "; county hospitals had B-mode "
                           "ultrasound in the 1980s, township health centres and private "
                           "clinics through the 1990s (was 3, assumed)")
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
    first_birth_reluctance: Num = P([[2000, 2.0], [2010, 0.0]], "logit", "Lower log-odds of "
                                    "seeking sex determination in a first pregnancy (fear of "
                                    "infertility, proof of fertility)", 0, 20,
                                    source="2.0 calibrated to first-birth SRB 107.1 (2000 "
                                    "census) under one-child rules, Korea 1990 ~108; falls to 0 "
                                    "by 2010 as a scan became routine in every pregnancy and "
                                    "abortion safer (hypothesis, set on China's counted SRB "
                                    "2007-2009: docs/model.md section 7.6)")
    abort_intercept: float = P(-4.0, "logit", "Log-odds of aborting a fetus believed female at "
                               "zero motivation", -20, 20, schedule=False, source="calibrated")
    abort_motivation: float = P(17.0, "logit per unit", "Effect of motivation on aborting", 0,
                                50, schedule=False, source=CHINA_POSTERIOR)
    cost_weight: float = P(2.04, "logit per income-year", "Deterrence of a price equal to one "
                           "year's income", 0, 100, schedule=False, source=CHINA_POSTERIOR)
    risk_weight: float = P(4.82, "logit per unit risk", "Deterrence of perceived risk of being "
                           "caught", 0, 100, schedule=False, source=CHINA_POSTERIOR)
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
    overquota_concealment: Num = P(0.3, "probability", "Chance that an over-quota birth is "
                                   "hidden from registration (the fee is then not collected)",
                                   0, 1, source="assumed; over-quota births are male-biased, so "
                                   "hiding them can put the reported SRB below the true one "
                                   "(2000 census: 116.9 reported, 119.9 adjusted). A hidden "
                                   "daughter of a family without a son lives away (off the "
                                   "census roster): with 0.3 the sibship rows after two and "
                                   "three girls fit (1990, 2000), unchanged")
    overquota_intercept: float = P(-2.0, "logit", "Log-odds a year that an urban household "
                                   "wanting another child has it over its local rule, at no "
                                   "fee", -20, 20, schedule=False,
                                   source="calibrated to the 2000 census by residence: urban "
                                   "women with one child rarely have another (city TFR 0.94, "
                                   "town 1.14); P(another | one boy) 0.35, one girl 0.49 "
                                   "(Ebenstein 2010 Table 1)")
    overquota_son: float = P(1.5, "logit", "Extra log-odds of an over-quota birth for a "
                             "household that needs a son", 0, 20, schedule=False,
                             source="calibrated to P(another | two girls) 0.46 (2000)")
    overquota_rural: float = P(3.0, "logit", "Extra log-odds of an over-quota birth for a rural "
                               "household: urban over-quota births also cost a state job, "
                               "party membership and the work unit's bonus, rural ones the "
                               "fee", -10, 10, schedule=False,
                               source="calibrated with overquota_intercept (the rural log-odds, "
                               "+1.0, are unchanged); rural over-quota births far more common "
                               "(Gu et al. 2007)")
    girl_neglect: Num = P([[1980, 0.06], [2000, 0.04], [2010, 0.015], [2020, 0.005]],
                          "per birth", "Excess infant death risk of a girl (abandonment, "
                          "neglect) in a household of son preference 1 without a living son; "
                          "ages 1-4 take population.mortality_1_4 of it a year", 0, 0.5,
                          source="calibrated to the Shaanxi county's child sex ratios "
                          "(county_reports.csv); falls with development (assumed)")
    neglect_with_son: float = P(0.3, "ratio", "Girls' excess risk in a household that has a "
                                "living son, relative to one without", 0, 1, fixed=True,
                                source="assumed: neglect concentrates on girls "
                                "without brothers")
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
    maintenance_fee: Num = P([[1980, 0.6], [1990, 0.6], [1995, 1.3]], "income-years",
                             "Social maintenance fee (社会抚养费) on an over-quota birth, in years "
                             "of the mean household income of its residence (owed again for "
                             "each further child over quota)", 0, 20, source="local rules: 3-8 x "
                             "per-capita income (press reports 2007-2012) / 3.5 persons per "
                             "household; laxer before the 1991 Decision on family planning "
                             "(assumed)")
    birth_spacing: Num = P({"step": [[1965, 0.0], [1973, 36.0], [1984, 48.0], [2016, 0.0]]},
                           "months", "Least months between a birth and the next birth the local "
                           "rule allows (over-quota births ignore it)", 0, 240,
                           source="'later, longer, fewer' (1973): 3-4 years; provincial "
                           "regulations: 4 years for a permitted second child; repealed 2016")
    fee_collection: Num = P(0.6, "probability", "Chance the fee is collected on a registered "
                            "over-quota birth", 0, 1, source="assumed")
    rural_one_child_share: Num = P(0.0, "fraction", "Share of rural women entering whose local "
                                   "rule is the urban one (one child: Jiangsu, Sichuan, ...)", 0,
                                   1, source="Gu et al. 2007; none in a 1.5-child county")
    two_child_share: Num = P(0.0, "fraction", "Share of rural women entering whose local rule "
                             "allows at least two children whatever the national regime "
                             "(two-child provinces, minorities)", 0, 1,
                             source="Gu et al. 2007: 9.7% of the population c. 2000")
    three_child_share: Num = P(0.0, "fraction", "Share of rural women entering whose local rule "
                               "allows at least three children (minorities, remote areas; "
                               "the three shares are taken in this order up to 1)", 0,
                               1, source="Gu et al. 2007: 1.3% of the population c. 2000")


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
