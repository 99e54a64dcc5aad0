"""The live runs behind the teaching app: configurations of one county stepped a year at a time.

A :class:`Classroom` holds the state of one browser session: the scenario, the seed, the number
of households, the teacher's lever settings or the lesson shown, and two or three
:class:`~popsim.app.live.LiveRun` objects (each a :class:`popsim.PopSimModel`) that advance
together, one calendar year (12 monthly steps) per :meth:`Classroom.step_year` (with, after a
lever change in free play, the run as it was before it). In free play the runs are the
teacher's configuration and its *shadow*: the same county, seed and fertility policy with every
lever at its schema ``off`` value, so that the gap between the two lines is the effect of the
levers (the model draws every decision from named random streams, so two runs on one seed differ
by their levers, not by noise). A lesson (:mod:`popsim.app.lessons`) runs its configurations A
and B beside the same shadow.

Changing a lever mid-run. :class:`PopSimModel` evaluates every yearly parameter when it is built,
so a lever cannot be changed inside a running model. The classroom instead rewrites the lever as a
step schedule — its old values until the current year, the new value from 1 January of the
current year (:func:`switch_at`) — and continues the run from its snapshot of 1 January of the
current year with the switched scenario (:meth:`LiveRun.continued`,
:func:`popsim.model.snapshot.resume`; :mod:`popsim.app.live` keeps a snapshot per January, within
a memory budget). The switched scenario agrees with the old one before that year, so the result
is exactly the history a full replay of the switched scenario from its first year would give
(tested), without the replay: the class sees the earlier years unchanged and the new value
acting from now on. A lever changed after the last year restarts the run from the first year
(from the snapshot of its 1 January: no new burn-in); the run as it was is kept for comparison
(:attr:`Snapshot.before`).

"With uncertainty" (:meth:`Classroom.set_uncertainty`, :mod:`popsim.app.uncertainty`) adds
extra members of the main configuration (the teacher's, or lesson A), each with a posterior draw
of the behaviour coefficients and its own seed; they step with the other runs, follow every lever
change from the same January (:meth:`LiveRun.continued`) and every rebuild, and are refused when
their households together would exceed :data:`MAX_HOUSEHOLDS`.

Every change of state goes through a method that validates its input against the schema first
(:func:`popsim.scenario.check_value`) and raises :class:`popsim.ScenarioError` with one clear
message when it refuses; the page shows that message beside the control. Methods are serialised
by a lock, because the page steps the runs from a play thread while the teacher clicks. After
every change the classroom publishes an immutable :class:`Snapshot` that the page and the figures
read, so nothing ever renders a half-changed model.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import xarray as xr

from ..errors import ScenarioError
from ..scenario.loader import DEFAULT_SCENARIO, check_value, load_scenario
from ..scenario.schema import Schedule, value_at
from ..scenario.parameters import Scenario, param_spec
from . import uncertainty, words
from .lessons import Config, Lesson, get_lesson, off_overrides
from .live import LiveRun, Starts

__all__ = ["LEVERS", "HOUSEHOLDS", "MAX_HOUSEHOLDS", "SHADOW_LABEL", "BEFORE_LABEL", "Classroom",
           "RunView", "Snapshot", "switch_at", "parse_input", "shadow_of", "target_line"]

#: The levers the app shows, in the order of the page (the four measures of the county work reports
#: and the fertility-policy regime). Everything else about them comes from the schema
#: (:mod:`popsim.scenario.parameters`).
LEVERS: tuple[str, ...] = (
    "propaganda.reach",
    "incentives.benefit_per_year",
    "incentives.eligibility",
    "enforcement.inspections_per_month",
    "enforcement.tip_reward",
    "enforcement.cross_region_cooperation",
    "registration.coverage",
    "policy.regime",
)

#: Households simulated by default: a tenth of a real county keeps a year under 20 ms per run,
#: and the 35-year burn-in of a new run near 0.35 s, so the page answers within a second.
HOUSEHOLDS = 10_000
#: The app's upper limit: at 100,000 households a new run takes about 4 s to burn in. Full-size
#: and national runs belong to ``popsim run`` and sweeps, not to a classroom page.
MAX_HOUSEHOLDS = 100_000


def switch_at(old: Any, new: Any, first_year: int, year: int) -> Any:
    """A field value that equals ``old`` (constant or :class:`Schedule`) in every year before
    ``year`` and ``new`` from 1 January ``year`` on, as a TOML value (constant or step schedule).

    The model reads parameters once a year (:mod:`popsim.scenario.year`), so a step schedule whose
    points are ``old``'s yearly values reproduces ``old`` exactly up to ``year``.
    """
    if year <= first_year:
        return new
    points: list[list[Any]] = []
    for y in range(first_year, year):
        v = value_at(old, y)
        if not points or points[-1][1] != v:
            points.append([y, v])
    if points[-1][1] != new:
        points.append([year, new])
    return points[0][1] if len(points) == 1 else {"step": points}


def parse_input(path: str, value: Any) -> Any:
    """Turn a value typed on the page into a checked value for ``path``.

    Text is converted by the field's kind (a number, a whole number, a choice); the result is
    checked against the schema's bounds. Raises :class:`ScenarioError` with the reason.
    """
    spec = param_spec(path)
    if isinstance(value, str) and spec.kind in ("float", "int"):
        text = value.strip().replace(",", "")
        try:
            number = float(text)
        except ValueError:
            raise ScenarioError(f"{path} must be a number, got {value!r}") from None
        value = int(number) if spec.kind == "int" and number.is_integer() else number
    return check_value(path, value)


#: The shadow run's name on the page: the same county and seed with none of the four measures.
SHADOW_LABEL = "Same county, no measures"
#: The teacher's run as it was before the last lever change, kept for comparison.
BEFORE_LABEL = "Before the change"


def shadow_of(config: Config) -> Config:
    """The shadow of a configuration: every lever off, the same fertility policy."""
    regime = "policy.regime"
    return Config(SHADOW_LABEL, "shadow",
                  {**off_overrides(), **{k: v for k, v in config.overrides.items() if k == regime}},
                  {k: v for k, v in config.switches.items() if k == regime})


def build_scenario(base: str, config: Config, households: int,
                   run: Mapping[str, Any] | None = None) -> Scenario:
    """``base`` with the configuration's overrides and switches, at ``households`` households
    (and other ``run.*`` settings from ``run``)."""
    overrides = {**config.overrides, **(run or {}), "run.households": households}
    scenario = load_scenario(base, overrides)
    if config.switches:
        first = scenario.run.start_year - scenario.run.burn_in_years
        for path, (year, value) in config.switches.items():
            overrides[path] = switch_at(scenario.get(path), check_value(path, value), first, year)
        scenario = load_scenario(base, overrides)
    return scenario


def target_line(scenario: Scenario) -> tuple[float, ...]:
    """``enforcement.srb_target`` in each recorded year in which the county is held to it
    (``enforcement.accountability`` or ``enforcement.misreport`` above 0), NaN in the others:
    without pressure the target acts on nothing (:mod:`popsim.model.accountability`)."""
    e = scenario.enforcement
    out = []
    for year in range(scenario.run.start_year, scenario.run.end_year + 1):
        held = value_at(e.accountability, year) > 0 or value_at(e.misreport, year) > 0
        out.append(float(value_at(e.srb_target, year)) if held else float("nan"))
    return tuple(out)


# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    """What the page shows of one run at one moment (read-only)."""

    label: str
    role: str
    settings: str
    ds: xr.Dataset | None
    clinics: Mapping[str, Any]
    #: the SRB target the county is held to, per recorded year (NaN: not held to one)
    target: tuple[float, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """The whole page state at one moment: immutable, so a render never sees a half change."""

    version: int
    epoch: int
    scenario: str
    seed: int
    households: int
    start_year: int
    end_year: int
    year: int
    natural_srb: float
    lesson: Lesson | None
    runs: tuple[RunView, ...]
    levers: Mapping[str, Any]
    schedules: Mapping[str, str]
    events: tuple[str, ...]
    message: str
    #: the teacher's run as it was before the last lever change (free play), and the year from
    #: which the change acts
    before: RunView | None = None
    changed: int | None = None
    #: "with uncertainty" (:mod:`popsim.app.uncertainty`): whether it is on, and the completed
    #: years of each extra member of the main configuration (empty when off)
    uncertain: bool = False
    members: tuple[xr.Dataset | None, ...] = ()

    @property
    def finished(self) -> bool:
        return self.year > self.end_year

    @property
    def done(self) -> int:
        return self.year - self.start_year

    @property
    def shadow(self) -> RunView:
        return next(r for r in self.runs if r.role == "shadow")

    @property
    def compared(self) -> tuple[RunView, ...]:
        """The runs being compared (the teacher's, or lesson A and B), without the shadow."""
        return tuple(r for r in self.runs if r.role != "shadow")


def _schedule_text(value: Any, start: int, end: int) -> str:
    """A scheduled value as it unfolds over the recorded years, e.g. ``2000: 0.05, 2007: 0.3``
    (earlier points are burn-in history)."""
    if not isinstance(value, Schedule):
        return ""
    points = [(start, value_at(value, start))]
    points += [(int(y), v) for y, v in zip(value.years, value.values) if start < y <= end]
    return ", ".join(f"{y}: {v:g}" if isinstance(v, float) else f"{y}: {v}" for y, v in points)


# ------------------------------------------------------------------------------------------------


class Classroom:
    """The runs of one browser session, and every change a teacher can make to them."""

    def __init__(self, scenario: str = DEFAULT_SCENARIO, seed: int | None = None,
                 households: int = HOUSEHOLDS, lesson: str | int | None = None,
                 run: Mapping[str, Any] | None = None):
        """``run`` may set other ``run.*`` values for every run (the notebook and the tests
        shorten the burn-in); the page leaves them to the scenario."""
        self._lock = threading.RLock()
        self._run = dict(run or {})
        if any(not k.startswith("run.") or k == "run.households" for k in self._run):
            raise ScenarioError(f"Classroom(run=...) takes run.* settings other than "
                                f"run.households, got {sorted(self._run)}")
        base = load_scenario(scenario, self._run)
        self.scenario_name = scenario
        self.seed = base.run.seed if seed is None else parse_input("run.seed", seed)
        self.households = self._check_households(households)
        self.lesson: Lesson | None = None
        self._levers: dict[str, Any] = {}
        self._events: list[str] = []
        self._runs: list[LiveRun] = []
        self._finished: dict[tuple, LiveRun] = {}  # see run_lesson
        self._before: LiveRun | None = None  # see set_lever
        self._starts = Starts()  # first-year snapshots shared by runs with the same burn-in
        self._changed: int | None = None
        # "with uncertainty": the members of the main configuration, and their first-year
        # snapshots (a reset or a return to the same settings skips their burn-ins)
        self.uncertain = False
        self._members: list[LiveRun] = []
        self._member_starts = Starts(2 * uncertainty.MEMBERS)
        self.epoch = 0
        self._version = 0
        self.snapshot: Snapshot
        if lesson is None:
            self._rebuild("Ready: press Step or Play.")
        else:
            self.set_lesson(lesson)

    # --- inputs -----------------------------------------------------------------------------

    @staticmethod
    def _check_households(value: Any) -> int:
        n = parse_input("run.households", value)
        if n > MAX_HOUSEHOLDS:
            raise ScenarioError(f"run.households = {n:,} is above the app's limit of "
                                f"{MAX_HOUSEHOLDS:,} (larger runs make the page slow; use "
                                f"'popsim run' for full-size counties)")
        return n

    def set_scenario(self, name: str) -> Snapshot:
        """Load another embedded scenario (levers back to its values, free play)."""
        with self._lock:
            load_scenario(name)
            self.scenario_name, self.lesson, self._levers = name, None, {}
            self._events = []
            return self._rebuild(f"Scenario '{name}' loaded.")

    def set_seed(self, value: Any) -> Snapshot:
        with self._lock:
            seed = parse_input("run.seed", value)
            if seed == self.seed:
                return self.snapshot
            self.seed = seed
            return self._rebuild(f"Seed {self.seed}: every run restarted from the first year.")

    def set_households(self, value: Any) -> Snapshot:
        with self._lock:
            households = self._check_households(value)
            if households == self.households:
                return self.snapshot
            if self.uncertain:
                uncertainty.check_size(households, MAX_HOUSEHOLDS)
            self.households = households
            return self._rebuild(f"{self.households:,} households: every run restarted.")

    def set_lever(self, path: str, value: Any) -> Snapshot:
        """Set a lever from the current year on (see the module docstring); refuse bad input.

        The teacher's run as it was before the change is kept as :attr:`Snapshot.before`:
        a change mid-run keeps it running beside the new one (the same county without the
        change), a change after the last year keeps the finished run while every run restarts
        from the first year. :attr:`Snapshot.changed` is the year from which the change acts.
        """
        with self._lock:
            if path not in LEVERS:
                raise ScenarioError(f"'{path}' is not a lever of the app; levers: "
                                    f"{', '.join(LEVERS)}")
            if self.lesson is not None:
                raise ScenarioError("the levers are set by the lesson: choose 'Free play' or "
                                    "'Explore A/B' to change them")
            value = parse_input(path, value)
            you = self._runs[0]
            restart = you.finished
            year = you.start_year if restart else you.year
            old = you.scenario.get(path)
            if not restart and value_at(old, year) == value:
                return self.snapshot
            self._levers[path] = switch_at(old, value, you.model.first_year, year)
            shown = words.setting(path, value)
            you.config = Config(BEFORE_LABEL, "before", you.config.overrides,
                                you.config.switches)
            if restart:
                self._events.append(f"{shown} from {year}: the run had ended, so every run "
                                    f"restarted from {year}")
                self._build()
            else:
                self._events.append(f"{shown} from 1 January {year} (earlier years unchanged)")
                configs = self._configs()
                # a regime change is shared by the shadow (same fertility policy); the other
                # levers leave it as it is
                keep = {"shadow"} if path != "policy.regime" else set()
                self._runs = [r if r.config.role in keep else
                              r.continued(c, build_scenario(self.scenario_name, c,
                                                            self.households, self._run))
                              for r, c in zip(self._runs, configs)]
                # the members follow the teacher's run: the same change from the same January
                self._members = [m.continued(m.config, s) for m, s in
                                 zip(self._members, self._member_scenarios())]
            self._before, self._changed = you, year
            return self._publish(f"{shown} from {year}; the years before are unchanged."
                                 if not restart else f"{shown}: restarted from {year}.")

    def set_lesson(self, key: str | int | None) -> Snapshot:
        """Show a lesson (its A and B from the first year), or free play when ``key`` is None."""
        with self._lock:
            if key is None:
                self.lesson = None
                return self._rebuild("Free play: the levers are yours.")
            lesson = get_lesson(key)
            self.lesson = lesson
            start = load_scenario(lesson.scenario, self._run).run.start_year
            return self._rebuild(f"Lesson {lesson.number} loaded: A and B start in {start}.")

    def explore(self, role: str) -> Snapshot:
        """Leave the lesson with its configuration ``role`` ("A" or "B") as the teacher's
        levers, so the class can change it further."""
        with self._lock:
            if self.lesson is None or role not in ("A", "B"):
                raise ScenarioError("'Explore' needs a lesson and a configuration A or B")
            config = self.lesson.a if role == "A" else self.lesson.b
            scenario = build_scenario(self.lesson.scenario, config, self.households,
                                      self._run)
            self.scenario_name = self.lesson.scenario
            self._levers = {k: scenario.get(k) for k in (*config.overrides, *config.switches)}
            self._levers = {k: v.to_toml() if isinstance(v, Schedule) else v
                            for k, v in self._levers.items()}
            self._events = [f"levers of lesson {self.lesson.number} {role}: "
                            f"{config.describe()}"]
            self.lesson = None
            return self._rebuild(f"Exploring configuration {role}: change any lever.")

    def set_uncertainty(self, on: bool) -> Snapshot:
        """Switch "with uncertainty" on or off (:mod:`popsim.app.uncertainty`): on, the main
        configuration gets :data:`~popsim.app.uncertainty.MEMBERS` extra runs with posterior
        draws of the behaviour coefficients, brought to the year the runs have reached and
        stepped with them; refused when that many runs of this size would exceed the app's
        limit."""
        with self._lock:
            if not isinstance(on, bool):
                raise ScenarioError(f"'with uncertainty' is on or off (True or False), got "
                                    f"{on!r}")
            if on == self.uncertain:
                return self.snapshot
            if on:
                uncertainty.check_size(self.households, MAX_HOUSEHOLDS)
                self.uncertain = True
                self._members = self._new_members(until=self._runs[0].year)
                k = len(self._members)
                return self._publish(f"With uncertainty: {k} more runs of "
                                     f"{self._configs()[0].label.split(':')[0]}, "
                                     f"{uncertainty.SOURCE}.")
            self.uncertain, self._members = False, []
            return self._publish("Uncertainty off: one run per configuration.")

    def reset(self) -> Snapshot:
        """Restart every run from the first year with the settings as they are now."""
        with self._lock:
            return self._rebuild("Restarted from the first year.")

    def defaults(self) -> Snapshot:
        """The scenario's own lever values again (free play)."""
        with self._lock:
            self.lesson, self._levers, self._events = None, {}, []
            return self._rebuild(f"Levers back to the values of '{self.scenario_name}'.")

    # --- time -------------------------------------------------------------------------------

    def step_year(self, epoch: int | None = None) -> bool:
        """Advance every run one calendar year; False if finished, or if ``epoch`` (from a
        snapshot) is stale because the runs were rebuilt since."""
        with self._lock:
            if (epoch is not None and epoch != self.epoch) or self._runs[0].finished:
                return False
            for run in self._live():
                run.advance_year()
            year = self._runs[0].year - 1
            done = self._runs[0].finished
            self._publish(f"{year} done." + (" The run is complete." if done else ""))
            return True

    def run_to_end(self) -> Snapshot:
        """Advance every run to the last year and publish once."""
        with self._lock:
            for run in self._live():
                run.advance_to(run.end_year + 1)
            return self._publish("The run is complete.")

    def run_lesson(self, key: str | int) -> Snapshot:
        """Lesson ``key`` run to the last year at once (the notebook's way).

        A configuration with the same settings as one this classroom has already run (the
        shadow, which six of the seven lessons share, or a lesson's "the scenario as it is") is
        not run again: the finished run is reused under the lesson's label.
        """
        with self._lock:
            for run in self._runs:  # e.g. the free-play runs the classroom started with
                self._finished.setdefault(self._key(run.config), run)
            self.lesson = get_lesson(key)
            runs = []
            for config in self._configs():
                k = self._key(config)
                run = self._finished.get(k)
                if run is None:
                    run = LiveRun(config, build_scenario(self._base(), config, self.households,
                                                         self._run), self.seed,
                                  starts=self._starts)
                run.advance_to(run.end_year + 1)
                run.config = config  # the same settings may carry another label
                self._finished[k] = run
                runs.append(run)
            self._runs, self._before, self._changed = runs, None, None
            self._members = self._new_members(until=runs[0].end_year + 1)
            self.epoch += 1
            return self._publish(f"Lesson {self.lesson.number}: the run is complete.")

    # --- internals ---------------------------------------------------------------------------

    def _live(self) -> list[LiveRun]:
        """Every run that steps with the page: the compared runs, the shadow and the run as it
        was before the last change (when it is still running)."""
        return (self._runs + ([self._before] if self._before is not None else [])
                + self._members)

    def _configs(self) -> list[Config]:
        if self.lesson is not None:
            return [self.lesson.a, self.lesson.b, shadow_of(self.lesson.a)]
        you = Config("Your settings", "you", dict(self._levers))
        return [you, shadow_of(you)]

    def _key(self, config: Config) -> tuple:
        """What determines a run: base scenario, settings, households, seed, run settings."""
        return (self._base(), repr(sorted(config.overrides.items())),
                repr(sorted(config.switches.items())), self.households, self.seed,
                repr(sorted(self._run.items())))

    def _base(self) -> str:
        return self.lesson.scenario if self.lesson is not None else self.scenario_name

    def _build(self) -> None:
        """New runs of the current configurations from the first year (a new epoch)."""
        base = self._base()
        self._runs = [LiveRun(c, build_scenario(base, c, self.households, self._run), self.seed,
                              starts=self._starts) for c in self._configs()]
        self._members = self._new_members()
        self.epoch += 1

    def _member_scenarios(self) -> list[Scenario]:
        """The members' scenarios: the main run's (``self._runs[0]``, configuration 0) with
        the posterior's draws."""
        return uncertainty.member_scenarios(self._runs[0].scenario, self.seed)

    def _new_members(self, until: int | None = None) -> list[LiveRun]:
        """The members of the main configuration from the first year (none when the switch is
        off), advanced to ``until``; each keeps only the snapshots a change needs."""
        if not self.uncertain:
            return []
        main = self._configs()[0]
        seeds = uncertainty.member_seeds(self.seed)
        return [LiveRun(Config(f"{main.label} (member {i + 1})", "member", main.overrides,
                               main.switches), scenario, seeds[i], until=until,
                        starts=self._member_starts, budget=0)
                for i, scenario in enumerate(self._member_scenarios())]

    def _rebuild(self, message: str) -> Snapshot:
        self._before = self._changed = None
        self._build()
        return self._publish(message)

    @staticmethod
    def _view(r: LiveRun) -> RunView:
        return RunView(r.config.label, r.config.role, r.config.describe(), r.dataset(),
                       r.clinics(), target_line(r.scenario))

    def _publish(self, message: str) -> Snapshot:
        first = self._runs[0]
        year = min(first.year, first.end_year + 1)
        shown_year = min(year, first.end_year)
        levers = {p: value_at(first.scenario.get(p), shown_year) for p in LEVERS}
        schedules = {p: _schedule_text(first.scenario.get(p), first.start_year, first.end_year)
                     for p in LEVERS}
        self._version += 1
        self.snapshot = Snapshot(
            version=self._version, epoch=self.epoch, scenario=self._base(), seed=self.seed,
            households=self.households, start_year=first.start_year, end_year=first.end_year,
            year=year, natural_srb=float(first.scenario.behaviour.natural_srb),
            lesson=self.lesson,
            runs=tuple(self._view(r) for r in self._runs),
            levers=levers, schedules=schedules,
            events=tuple(self._events[-6:]) if self.lesson is None else (),
            message=message,
            before=self._view(self._before) if self._before is not None else None,
            changed=self._changed, uncertain=self.uncertain,
            members=tuple(m.dataset() for m in self._members))
        return self.snapshot
