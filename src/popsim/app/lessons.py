"""The seven lessons of the teaching app: texts and preset configurations, as data.

Each lesson is one policy trade-off of comprehensive governance. It loads two configurations
of the same county (A and B) side by side, with the same seed, so that the class compares two
policies on the same women and the same random draws; a third, shadow run with none of the
four measures (every lever at its schema ``off`` value) is the yardstick for "missing girls
averted". Every lesson has two sentences of explanation and one question for the class; the
texts state the mechanism the model implements and ask the class to read the answer from the
charts, because the numbers depend on the calibration and on the seed.

A configuration is a :class:`Config`: scenario overrides that hold from the first year
(``overrides``) and lever changes that start in a given calendar year (``switches``, e.g. the
two-child policy from 2010); a switch keeps the scenario's own values for the earlier years, so
no history (such as the fertility-policy schedule) is written here a second time. The values
are checked by the schema (:mod:`popsim.scenario`) when a lesson loads; a test loads every lesson.

Sources of the mechanisms: Guilmoto 2009 (the fertility squeeze, Population and Development
Review 35(3)); Anukriti 2018 (the Devirupak scheme of Haryana, India, American Economic Journal:
Applied 10(2)); the 2000 and 2010 Chinese censuses for the shift of selection towards first
births.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ScenarioError
from ..scenario.parameters import iter_params
from . import words

__all__ = ["Config", "Lesson", "LESSONS", "get_lesson", "off_overrides", "measures_off"]


def off_overrides() -> dict[str, Any]:
    """Every lever with an ``off`` value in the schema at that value: none of the four measures
    (propaganda, incentives, crackdown, registration), nor accountability pressure."""
    return {p.path: p.off for p in iter_params()
            if p.section_kind == "lever" and p.off is not None}


def measures_off(**levers: Any) -> dict[str, Any]:
    """Overrides for "only these measures": every lever off, then ``levers`` (keyword names use
    ``__`` for the dot, e.g. ``enforcement__tip_reward=5000.0``)."""
    return {**off_overrides(), **{k.replace("__", "."): v for k, v in levers.items()}}


@dataclass(frozen=True)
class Config:
    """One configuration of the county shown by the app.

    ``overrides`` map ``section.field`` to a value (constant or TOML schedule) that holds from
    the first simulated year; ``switches`` map ``section.field`` to ``(year, value)``: the
    scenario's own values until 31 December of ``year - 1``, ``value`` from 1 January ``year``.
    ``role`` is ``"you"`` (the teacher's levers), ``"A"``, ``"B"`` (a lesson) or ``"shadow"``.
    """

    label: str
    role: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    switches: Mapping[str, tuple[int, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        """The settings in plain words (:mod:`popsim.app.words`), e.g. ``Only these measures:
        Reward for a tip leading to a case: 5,000 yuan``."""
        off = off_overrides()
        only = all(k in self.overrides for k in off)
        shown = {k: v for k, v in self.overrides.items() if not (only and off.get(k) == v)}
        parts = [words.setting(k, v) for k, v in shown.items()]
        parts += [f"{words.setting(k, v)} from {year}" for k, (year, v) in self.switches.items()]
        text = "; ".join(parts) if parts else "the scenario's own settings"
        return f"Only these measures: {text}" if only else text


@dataclass(frozen=True)
class Lesson:
    """One trade-off: two configurations, two sentences, one question, and what to look at."""

    key: str
    number: int
    short: str
    title: str
    explanation: str
    question: str
    look_at: str
    a: Config
    b: Config
    scenario: str = "county"


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        key="displacement", number=1, short="Displacement",
        title="Crackdowns push selection out of the county and earlier in pregnancy",
        explanation=(
            "When the county inspects clinics more often and pays for tips, the providers who "
            "keep offering sex checks charge more, and families travel to providers outside the "
            "county or take an early blood test before 14 weeks, which leaves no signal in the "
            "registration system. The county can pursue an out-of-county provider only through "
            "cross-region cooperation."),
        question=(
            "Compare the share of illegal services bought outside the county and the share of "
            "early tests in A and B: which part of the demand does cooperation reach, and which "
            "part does no crackdown reach?"),
        look_at="out-of-county share, early-test share, cases by source",
        a=Config("A: heavy crackdown, the county acts alone", "A", {
            "enforcement.inspections_per_month": 60.0, "enforcement.tip_reward": 5000.0,
            "enforcement.cross_region_cooperation": 0.0}),
        b=Config("B: heavy crackdown with cross-region cooperation", "B", {
            "enforcement.inspections_per_month": 60.0, "enforcement.tip_reward": 5000.0,
            "enforcement.cross_region_cooperation": 1.0}),
    ),
    Lesson(
        key="first_births", number=2, short="First births",
        title="Tracking second pregnancies moves selection to first births",
        explanation=(
            "Real-name registration turns a registered pregnancy that disappears after 14 weeks "
            "into a signal that the office follows up, so selection at the second birth becomes "
            "risky. Families who must have a son can select at the first birth instead, or with "
            "an early test the registration never sees: the shift China's censuses recorded "
            "between 2000 and 2010."),
        question=(
            "Look at the SRB of first and of second births in A and B: did tracking remove "
            "selection, or move it?"),
        look_at="SRB by birth order (first and second births)",
        a=Config("A: pregnancies not tracked", "A", {"registration.coverage": 0.0}),
        b=Config("B: every pregnancy registered and followed up", "B", {
            "registration.coverage": 1.0, "enforcement.followup_capacity": 20.0}),
    ),
    Lesson(
        key="incentives", number=3, short="Incentives",
        title="Which incentives lower the SRB, and which raise it",
        explanation=(
            "A reward for stopping at one child, of either sex, makes that one child the last "
            "chance of a son, so it squeezes selection into the first birth, as happened with "
            "Haryana's Devirupak scheme. A reward for daughters lowers the SRB only when it is "
            "large against a family's income and the family knows about it."),
        question=(
            "Which incentive lowers the SRB, which one raises the SRB of first births, and what "
            "does each cost per missing girl averted?"),
        look_at="SRB of first births, cost per averted missing girl",
        a=Config("A: reward for a one-child family, son or daughter", "A", measures_off(
            incentives__eligibility="small_family", incentives__benefit_per_year=3000.0)),
        b=Config("B: large, well-publicised reward for daughters", "B", measures_off(
            incentives__eligibility="daughters_only", incentives__benefit_per_year=10000.0,
            propaganda__reach=0.3)),
    ),
    Lesson(
        key="cost", number=4, short="Cost per girl",
        title="What each lever costs per missing girl averted",
        explanation=(
            "Every lever has a price: inspectors, investigators and rewards for a crackdown; a "
            "yearly benefit for every qualifying family for incentives, including the many who "
            "would have kept their daughters anyway. Dividing the extra cost by the missing "
            "female births averted against the shadow county with no measures gives a price per "
            "girl."),
        question=(
            "Which lever buys a missing girl averted more cheaply, and why does paying families "
            "who never intended to select make incentives expensive?"),
        look_at="trade-off table: cost per averted missing girl",
        a=Config("A: crackdown only", "A", measures_off(
            enforcement__inspections_per_month=40.0, enforcement__tip_reward=5000.0,
            enforcement__followup_capacity=10.0, registration__approval_required=True,
            registration__coverage=0.8)),
        b=Config("B: daughter incentives only", "B", measures_off(
            incentives__eligibility="daughters_only", incentives__benefit_per_year=3000.0,
            incentives__girl_birth_cash=1000.0, propaganda__reach=0.1)),
    ),
    Lesson(
        key="intrusiveness", number=5, short="Intrusiveness",
        title="How many women are investigated or grey-listed per case found",
        explanation=(
            "Tips and inspections look at clinics, but follow-ups of disappeared pregnancies and "
            "birth audits look at women, most of whom did nothing illegal. Each woman involved "
            "in a case is grey-listed, and every later pregnancy of hers is registered and "
            "tracked."),
        question=(
            "How many women are investigated or grey-listed for each case found in A and in B, "
            "and is the extra reach of B worth that intrusion?"),
        look_at="trade-off table: women per case; cases by source",
        a=Config("A: clinics watched (inspections and tips)", "A", measures_off(
            enforcement__inspections_per_month=40.0, enforcement__tip_reward=5000.0,
            registration__approval_required=True)),
        b=Config("B: women watched (registration, follow-ups, birth audits)", "B", measures_off(
            registration__coverage=1.0, registration__approval_required=True,
            enforcement__followup_capacity=20.0, enforcement__birth_audit=True)),
    ),
    Lesson(
        key="reported", number=6, short="Reported SRB",
        title="Reported and true SRB can tell different stories",
        explanation=(
            "Some female births are never registered, which makes the reported SRB look worse "
            "than the truth. A county held to an SRB target, with red warnings and a one-vote "
            "veto, can also under-report male births, and then the reported figure looks better "
            "than the truth."),
        question=(
            "In B the county is held to a target of 110 from 2000: does the reported SRB meet "
            "it, does the true SRB, and what would a provincial inspector have to check to "
            "tell them apart?"),
        look_at="reported vs true SRB",
        a=Config("A: no pressure on the figures", "A", {}),
        # The pressure starts in 2000, the first year shown, so that the class sees the reported
        # line leave the true one. misreport 0.005 per point keeps the reported SRB near the
        # target while the true SRB stays above it (2000-2008 at the default seed: reported
        # 102-117, true 111-121); 0.05, or pressure already during the burn-in, let noisy years
        # ratchet the misreporting up until the reported SRB fell to 60-90, below any natural
        # level, which teaches that a county can report an impossible figure, not the lesson.
        b=Config("B: held to a target of 110 from 2000, under pressure", "B", switches={
            "enforcement.srb_target": (2000, 110.0), "enforcement.accountability": (2000, 1.0),
            "enforcement.misreport": (2000, 0.005)}),
    ),
    Lesson(
        key="fertility_policy", number=7, short="Fertility policy",
        title="Relaxing the birth limit relieves the squeeze on second births",
        explanation=(
            "Under the rural 1.5-child rule a family whose first child is a girl has one last "
            "chance of a son, so the second birth carries the strongest pressure to select (the "
            "fertility squeeze). Allowing two children for everyone removes 'last chance' from "
            "many second births."),
        question=(
            "After the switch in B, what happens to the SRB of second births compared with A, "
            "and why does the SRB of third births tell a different story?"),
        look_at="SRB of second births after 2010",
        a=Config("A: the 1.5-child rule kept", "A",
                 switches={"policy.regime": (2000, "one_and_half")}),
        b=Config("B: two children for all from 2010", "B",
                 switches={"policy.regime": (2010, "two_child")}),
    ),
)


def get_lesson(key: str | int) -> Lesson:
    """The lesson with this key (``"displacement"``) or number (1-7)."""
    for lesson in LESSONS:
        if key in (lesson.key, lesson.number, str(lesson.number)):
            return lesson
    raise ScenarioError(f"no lesson '{key}'; lessons: "
                        f"{', '.join(f'{x.number} {x.key}' for x in LESSONS)}")
