"""Declarations of the supply side and the county office: ``[market]``, ``[enforcement]``,
``[registration]``.

The providers of sex determination and late termination, their prices and beliefs
(:mod:`popsim.model.clinics`), the crackdown on the "two illegals" and accountability
(:mod:`popsim.model.enforcement`, :mod:`popsim.model.accountability`) and real-name registration.
Each field carries its default, unit, bounds, meaning and source, as in
:mod:`popsim.scenario.parameters`, which lists these sections in :data:`SECTIONS` in their place.
The lever defaults are the measures at the intensity of the county reports (the 2010s); the
``county`` scenario gives their history as schedules.
"""

from __future__ import annotations

from typing import ClassVar

from .schema import Flag, Num, P, Schedule, Section

__all__ = ["Market", "Enforcement", "Registration"]


class Market(Section):
    title: ClassVar[str] = "Clinics and prices"
    county_hospitals: int = P(3, "clinics", "County hospitals (of the real county: a run with "
                              "run.scale k simulates a 1/k sample of every provider count)", 0,
                              100_000, source="county report: 3 county-level hospitals")
    township_centres_per_township: int = P(1, "clinics", "Township health centres per township",
                                           0, 20, source="county report: 16 centres")
    private_clinics: int = P(111, "clinics", "Private clinics", 0, 10_000_000,
                             source="county special check: 111 private clinics")
    pharmacies: int = P(76, "clinics", "Pharmacies (abortion drugs, early terminations only)",
                        0, 10_000_000, source="county special check: 4 wholesale + 72 retail")
    out_of_county: int = P(20, "clinics", "Providers outside the county reachable by migrants "
                           "and travellers", 0, 1_000_000, source="assumed")
    private_ultrasound_share: float = P(0.4, "fraction", "Share of private clinics with an "
                                        "ultrasound machine", 0, 1, schedule=False,
                                        source="assumed")
    capacity: float = P(30.0, "clients per month", "Illegal services a provider can sell in a "
                        "month", 1, 10000, schedule=False, source="assumed")
    sd_price: Num = P([[1980, 10.0], [2000, 30.0], [2005, 45.0], [2013, 110.0], [2020, 170.0]],
                      "yuan", "List price of an ultrasound sex determination without legal risk "
                      "(a provider adds its risk premium)", 0, 1e6,
                      source="illegal_prices.csv: 40 yuan (Beijing 2003), 90-100 (Guangzhou "
                      "2005) under little enforcement; indexed to rural income (x2.7 "
                      "2005-2013)")
    late_abortion_price: Num = P([[1980, 150.0], [2000, 500.0], [2013, 1300.0],
                                  [2020, 2000.0]], "yuan", "List price of an unapproved late "
                                 "termination without legal risk (a provider adds "
                                 "late_risk_ratio times its risk premium)", 0, 1e6,
                                 source="illegal_prices.csv: scan + late abortion package "
                                 "3,800 yuan (Cangnan 2013) less the scan and the risk premium")
    legal_abortion_price: Num = P(300.0, "yuan", "Price of a legal (approved or early) "
                                  "termination", 0, 1e6, source="hospital fee schedules, "
                                  "assumed")
    broker_fee: Num = P([[2000, 50.0], [2013, 150.0], [2020, 250.0]], "yuan", "Broker's fee a "
                        "household pays on top of a mobile operator's price for a sex check", 0,
                        1e6, source="illegal_prices.csv: mobile ultrasound plus broker 700 "
                        "yuan (Wuhan 2013); assumed share")
    risk_pass_through: float = P(2.5, "x", "Share of a provider's expected penalty per illegal "
                                 "act that it adds to its prices (1: all of it, the 'risks and "
                                 "prices' model of illegal markets)", 0, 10, schedule=False,
                                 source="Reuter & Kleiman 1986; calibrated to illegal_prices.csv "
                                 "(sex check x10-25 2003-2013 with income x2.7)")
    risk_aversion: float = P(3.0, "x", "Weight of the expected penalty against revenue in a "
                             "provider's offer decision (above the pass-through: a lump-sum loss "
                             "is feared more than its mean, so high risk beliefs stop supply)",
                             0, 100, schedule=False,
                             source="calibrated: supply bends but persists under a crackdown "
                             "(issue 13)")
    ethics_mean: float = P(1.5, "clients/month", "Mean moral cost of offering illegal services, "
                           "in clients a month at list prices (times sd_price + late_share x "
                           "late_abortion_price: yuan a month)", 0, 1e4, schedule=False,
                           source="calibrated: about 10-20 providers offering in a county "
                           "without measures (county special check of 206 units)")
    licence_value: float = P(100000.0, "yuan", "Value of a provider's licence (lost if "
                             "blacklisted)", 0, 1e8, schedule=False, source="assumed")
    criminal_cost: float = P(300000.0, "yuan", "Perceived cost of a criminal conviction", 0, 1e9,
                             schedule=False, source="assumed")
    prior_risk: float = P(5e-5, "per act", "Chance per illegal act of a case against the "
                          "provider that providers believe without news, where the law forbids "
                          "sex determination", 0, 1, schedule=False,
                          source="below India's ~1e-4 convictions per sex-selective abortion: "
                          "where nobody looks, a case is very rare")
    outside_risk: Num = P([[1989, 5e-5], [2002, 1e-4], [2006, 1e-3], [2013, 4e-3]], "per act",
                          "Risk belief without news of providers outside the county (the "
                          "enforcement of other jurisdictions), under the ban", 0, 1,
                          source="assumed, after the national campaign of 2006; with the price "
                          "series of cities, where migrants buy (illegal_prices.csv)")
    news_half_life: float = P(6.0, "months", "Half-life of the effect of news (cases, "
                              "inspections, campaigns) on a provider's risk belief: publicity "
                              "fades toward prior_risk", 0.5, 240, schedule=False,
                              source="assumed; deterrence of crackdowns decays within months "
                              "(Sherman 1990)")
    risk_per_case_township: float = P(1e-2, "per act per case", "Rise of the risk belief of "
                                      "the providers of a township per case against a provider "
                                      "there (word of mouth; not scaled by publicity)", 0, 1,
                                      schedule=False, source="assumed; sanction risk beliefs "
                                      "move most with close peers' sanctions (Anwar & Loughran "
                                      "2011)")
    risk_per_case_county: float = P(1e-3, "per act per case", "Rise of every county provider's "
                                    "risk belief per case publicised elsewhere in the county "
                                    "(x enforcement.publicity)", 0, 1, schedule=False,
                                    source="calibrated to the price series (illegal_prices.csv)")
    risk_per_case_outside: float = P(1e-4, "per act per case", "Rise of out-of-county "
                                     "providers' risk belief per case pursued against one of "
                                     "them (x enforcement.publicity)", 0, 1, schedule=False,
                                     source="assumed")
    risk_per_inspection: float = P(1e-3, "per act", "Rise of an inspected provider's risk "
                                   "belief (not caught)", 0, 1, schedule=False,
                                   source="assumed")
    risk_per_campaign: float = P(3e-4, "per act", "Rise of every county provider's risk belief "
                                 "at the launch of the yearly campaign", 0, 1, schedule=False,
                                 source="assumed")
    risk_when_caught: float = P(0.02, "per act", "Risk belief at least of a provider just "
                                "caught", 0, 1, schedule=False, source="assumed")
    hiding_max: float = P(0.8, "fraction", "Highest share of its exposure a provider can hide "
                          "(trusted clients only, brokers, moving the machine)", 0, 1,
                          schedule=False, source="assumed")
    hiding_half_risk: float = P(5e-3, "per act", "Risk belief at which a provider hides half of "
                                "hiding_max", 1e-6, 1, schedule=False, source="assumed")
    entry_rate: float = P(0.2, "per month", "Chance an underground provider opens in a township "
                          "whose unmet demand reached entry_threshold", 0, 1, schedule=False,
                          source="assumed")
    entry_threshold: float = P(3.0, "clients/month", "Unmet demand in a township that can draw "
                               "an underground provider", 1, 1e6, schedule=False,
                               source="assumed")
    mobile_share: float = P(0.5, "fraction", "Share of underground entrants that are mobile "
                            "operators, reached county-wide through brokers", 0, 1,
                            schedule=False, source="court reports of mobile ultrasound with "
                            "brokers (illegal_prices.csv, Wuhan 2013); assumed share")
    late_share: float = P(0.5, "fraction", "Share of sex-determination clients who also buy a "
                          "late termination, in a provider's profit estimate", 0, 1, fixed=True,
                          source="about half of fetuses are female")
    late_risk_ratio: float = P(2.0, "x", "Risk of an unapproved late termination relative to a "
                               "sex check (the registration system traces it), in the price "
                               "premium and the provider's exposure", 0, 100, fixed=True,
                               source="illegal_prices.csv 2013: package 3,800 against a check "
                               "of 700-1,200 yuan")
    hiding_reach_loss: float = P(0.5, "fraction", "Share of the seekers who would come to it "
                                 "that a fully hidden provider misses", 0, 1, fixed=True,
                                 source="assumed")
    public_ethics: float = P(3.0, "x", "Moral cost of public providers (county hospitals, "
                             "township health centres) relative to private ones", 0, 100,
                             fixed=True, source="assumed")
    underground_ethics: float = P(0.2, "x", "Moral cost of an underground entrant relative to a "
                                  "private provider (it opens to sell these services)", 0, 10,
                                  fixed=True, source="assumed")
    unbanned_ethics: float = P(0.2, "x", "Moral cost of offering sex determination where no law "
                               "forbids it, relative to under the ban", 0, 10, fixed=True,
                               source="assumed: open hospital practice before 1989")
    demand_smoothing: float = P(0.3, "weight", "Weight of the month's observation in a "
                                "provider's expected clients (moving average)", 0, 1, fixed=True,
                                source="assumed")
    decision_noise: float = P(0.5, "x ethics_mean", "Spread (sd) of the monthly noise in a "
                              "provider's offer decision, relative to market.ethics_mean (plus "
                              "1 yuan)", 0, 10, fixed=True, source="assumed")


class Enforcement(Section):
    kind: ClassVar[str] = "lever"
    title: ClassVar[str] = "Crackdown on the 'two illegals'"
    ban: Flag = P(True, "-", "The law forbids non-medical fetal sex determination (without it "
                  "providers offer it openly and no case can be made against them)", kind="bool",
                  source="china_context.csv: 1989 notice, 1994 Maternal and Infant Health Law; "
                  "a law, not a county measure (no off value)")
    inspections_per_month: Num = P(10.0, "inspections/month", "Routine clinic inspections in "
                                   "the county (a 1/k sample of run.scale k makes 1/k of them)",
                                   0, 1e7, source="county special check of 206 units",
                                   off=0.0)
    campaign_multiplier: Num = P(2.0, "x", "Inspection multiplier in campaign months (1: no "
                                 "campaign, only routine inspections)", 1, 20,
                                 source="yearly May-October special actions")
    campaign_months: tuple[int, ...] = P([5, 6, 7, 8, 9, 10], "months", "Calendar months of the "
                                         "yearly campaign", kind="months")
    targeting: str | Schedule = P("risk", "-", "How inspections pick clinics", kind="choice",
                                  choices=("random", "risk"))
    detection: float = P(0.3, "probability", "Chance an inspection uncovers an offending clinic "
                         "that does not hide (x 1 - its hiding)", 0, 1, schedule=False,
                         source="assumed: illegal acts are hidden")
    tip_reward: Num = P(2000.0, "yuan", "Reward for a tip leading to a case", 0, 1e6,
                        source="Hunan 2005, Xi'an 2007: 2,000-5,000 yuan", off=0.0)
    tip_rate_max: float = P(0.3, "probability", "Chance per illegal act of a tip at a very high "
                            "reward, from a provider that does not hide (relatives, neighbours "
                            "and competitors who know of it)", 0, 1, schedule=False,
                            source="assumed; with tip_followup, Luotian 2014: 12 new leads, 2 "
                            "new typical cases")
    tip_reward_half: float = P(3000.0, "yuan", "Reward at which tips reach half their maximum", 1,
                               1e7, schedule=False, source="assumed")
    tip_followup: float = P(0.25, "probability", "Chance that a tip leads to a case", 0, 1,
                            schedule=False, source="Luotian 2014 (county_reports.csv): 12 new "
                            "leads, 2 new cases and 3 run jointly with other provinces")
    followup_capacity: Num = P(2.0, "per month", "Disappeared registered pregnancies followed up "
                               "in the county", 0, 1e6,
                               source="county report: 21 followed up a year (Laohekou 2012)",
                               off=0.0)
    trace: float = P(0.25, "probability", "Chance a follow-up of a pregnancy ended by an "
                     "unapproved termination traces the provider", 0, 1, schedule=False,
                     source="county report: 3 found involved of 21 followed up, with the "
                     "other disappearances (registration.other_disappearance) among them")
    birth_audit: Flag = P(True, "-", "Audit births of a son after two daughters", kind="bool",
                          source="the 'seven must-checks'", off=False)
    audit_trace: float = P(0.05, "probability", "Chance an audit traces a provider", 0, 1,
                           schedule=False, source="assumed")
    cross_region_cooperation: Num = P(0.3, "probability", "Chance that a case traced to an "
                                      "out-of-county provider is pursued", 0, 1,
                                      source="cross-province cooperation agreements; Luotian "
                                      "2014: 3 cases run jointly with other provinces",
                                      off=0.0)
    fine: Num = P(5000.0, "yuan", "Fine on a provider found offending", 0, 1e8,
                  source="Laohekou 2012: 28,000 yuan on 6 cases; national rules 5,000-30,000 "
                  "yuan")
    blacklist: Num = P(0.5, "probability", "Chance a detected provider is blacklisted and "
                       "closed (its licence lost)", 0, 1,
                       source="assumed; licences revoked under the 2003 provisions")
    prosecute: Num = P(0.1, "probability", "Chance a case is prosecuted", 0, 1,
                       source="assumed; illegal medical practice prosecuted after 2006")
    programme_intensity: float = P(1.0, "x", "Intensity of the whole programme against sex "
                                   "selection relative to its scheduled values: multiplies "
                                   "inspections, follow-up capacity, tip rewards, the blacklist, "
                                   "prosecution and cross-region chances (capped at 1), "
                                   "registration coverage and propaganda reach in every year "
                                   "(1: as scheduled, the county reports' intensity; a national "
                                   "history's average county ran the programme weaker)", 0, 5,
                                   schedule=False, source="1 for a county; a national history "
                                   "calibrates it (src/popsim/calibrations/china.toml)")
    publicity: float = P(1.0, "x", "How widely the office publicises its cases: multiplier of "
                         "the county-wide news weights of market.risk_per_case_county and "
                         "risk_per_case_outside (0: cases are known only by word of mouth in "
                         "their township)", 0, 100, schedule=False,
                         source="typical cases announced county-wide")
    cost_per_inspection: float = P(300.0, "yuan", "Cost of one inspection", 0, 1e6,
                                   schedule=False, source="assumed")
    cost_per_investigation: float = P(1000.0, "yuan", "Cost of one follow-up, audit or tip "
                                      "investigation", 0, 1e6, schedule=False, source="assumed")
    srb_target: Num = P(112.0, "males per 100 females", "Reported SRB the county is held to", 100,
                        200, source="provincial targets")
    accountability: Num = P(0.0, "per SRB point", "Rise of next year's effort (inspections and "
                            "follow-ups) per point of reported SRB above target", 0, 10,
                            source="red warnings, one-vote veto; off by default", off=0.0)
    misreport: Num = P(0.0, "per SRB point", "Rise of the share of registered male births left "
                       "out of the reported figures per point of reported SRB above target "
                       "(data management under pressure)", 0, 1,
                       source="assumed; off by default", off=0.0)
    misreport_persistence: float = P(0.9, "per year", "Share of last year's misreporting that "
                                     "carries over (what was set up stays)", 0, 1, fixed=True,
                                     source="assumed")
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
    other_disappearance: float = P(0.01, "per registered birth", "Registered pregnancies that "
                                   "leave the register for other reasons (moving away, a late "
                                   "miscarriage), per registered birth: signals the office "
                                   "cannot tell from an unapproved termination", 0, 1,
                                   fixed=True, source="late foetal loss ~1% (WHO); calibrated "
                                   "to 21 followed up -> 3 involved (Laohekou 2012)")
