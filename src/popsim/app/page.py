"""The page of the teaching app (Solara): controls on the left, live views on the right.

:func:`Page` is what ``popsim app`` serves (``SOLARA_APP=popsim.app.page``). Each browser tab
gets its own :class:`~popsim.app.classroom.Classroom`, built on first render from the scenario
named by the ``POPSIM_APP_SCENARIO`` environment variable (set by ``popsim app --scenario``).
The page renders only the classroom's current, immutable snapshot; every button and field hands
its input to a classroom method and shows the :class:`popsim.ScenarioError` it may raise as a
message next to the control, so bad input from the page is refused, never a server error.

Play runs a thread that steps one year, lets the page redraw, waits :data:`PACE` seconds and
goes on until the last year, a pause, or any rebuild (reset, lesson, scenario, seed): the
classroom's ``epoch`` changes on a rebuild and a stale thread stops without stepping the new
runs.
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Callable
from typing import Any

import solara

from ..errors import ScenarioError
from ..scenario.loader import DEFAULT_SCENARIO, available_scenarios
from . import charts, views
from .classroom import Classroom, Snapshot
from .controls import ControlField, LeverPanel, run_controls
from .lessons import LESSONS

__all__ = ["Page", "PACE", "SCENARIO_ENV"]

#: Environment variable naming the scenario the page starts with (``popsim app --scenario``).
SCENARIO_ENV = "POPSIM_APP_SCENARIO"
#: Seconds between two years while playing, after the page has redrawn: long enough for a class
#: to read the numbers, short enough to play 21 years in well under a minute.
PACE = 0.3


def _srb_text(value: float) -> str:
    return "–" if value != value else f"{value:.1f}"


def _count(value: float) -> str:
    return f"{round(value) + 0:,}"  # + 0 turns -0 into 0


@solara.component
def Headline(item: dict[str, Any]):
    """One run's headline numbers; ``.popsim-srb-value`` is the SRB of the last year."""
    colour = views.COLOURS[item["role"]]
    year = item["year"]
    with solara.Card(classes=[f"popsim-headline popsim-headline-{item['role']}"], margin=0,
                     style={"border-top": f"4px solid {colour}", "min-width": "220px",
                            "flex": "1"}) as card:
        solara.Text(item["label"], style={"font-weight": "bold", "font-size": "0.95em"})
        with solara.Row(style={"align-items": "baseline"}, gap="8px"):
            solara.Text(f"SRB {year}:" if year else "SRB:", style={"font-size": "0.9em"})
            solara.Text(_srb_text(item["srb_year"]), classes=["popsim-srb-value"],
                        style={"font-size": "1.8em", "font-weight": "bold", "color": colour})
        solara.Text(f"so far {_srb_text(item['srb'])} true, {_srb_text(item['reported_srb'])} "
                    f"reported · missing girls {_count(item['missing'])} · "
                    f"cost {item['cost'] / 1e6:,.1f} M yuan", style={"font-size": "0.8em"})
    return card


@solara.component
def Chart(panel: views.Panel, height: int = 260):
    """One panel, drawn in the browser by ECharts (``.popsim-<key>-chart``)."""
    return solara.FigureEcharts(
        option=charts.echarts_option(panel), responsive=True,
        attributes={"style": f"height: {height}px; width: 100%;",
                    "class": f"popsim-chart popsim-{panel.key}-chart"})


@solara.component
def LessonCard(snap: Snapshot, on_explore: Callable[[str], None]):
    lesson = snap.lesson
    with solara.Card(title=f"Lesson {lesson.number}: {lesson.title}",
                     classes=["popsim-lesson-card"], margin=0) as card:
        solara.Text(lesson.explanation, style={"display": "block"})
        solara.HTML(tag="p", unsafe_innerHTML=f"<b>Question for the class.</b> "
                                               f"{html.escape(lesson.question)}",
                    classes=["popsim-question"])
        solara.HTML(tag="p", unsafe_innerHTML=f"<i>Look at:</i> {html.escape(lesson.look_at)}.")
        with solara.Columns([1, 1]):
            for run in snap.compared:
                with solara.Column(gap="2px"):
                    solara.Text(run.label, style={"font-weight": "bold",
                                                  "color": views.COLOURS[run.role]})
                    solara.Text(run.settings, style={"font-size": "0.8em"})
                    solara.Button(f"Explore {run.role} with the levers", text=True,
                                  classes=[f"popsim-explore-{run.role}"],
                                  on_click=lambda role=run.role: on_explore(role))
    return card


@solara.component
def LessonPicker(snap: Snapshot, on_lesson: Callable[[Any], None]):
    current = snap.lesson.number if snap.lesson is not None else None
    with solara.Column(gap="2px", classes=["popsim-lessons"]) as col:
        solara.Text("Lessons", style={"font-weight": "bold", "margin-top": "8px"})
        solara.Button("Free play", text=current is not None, color="primary",
                      classes=["popsim-lesson-free"], on_click=lambda: on_lesson(None),
                      style={"justify-content": "start"})
        for lesson in LESSONS:
            solara.Button(f"{lesson.number}. {lesson.short}", text=current != lesson.number,
                          color="primary", classes=[f"popsim-lesson-{lesson.number}"],
                          on_click=lambda n=lesson.number: on_lesson(n),
                          style={"justify-content": "start"})
    return col


@solara.component
def Views(snap: Snapshot):
    """The live views: headline numbers, SRB, reported vs true, cases, cost, clinics, table."""
    with solara.Column(gap="6px") as col:
        with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
            for item in views.headline(snap):
                Headline(item)
        srb = views.srb_panels(snap)
        with solara.Columns([1] * len(srb), gutters_dense=True):
            for panel in srb:
                Chart(panel)
        with solara.Columns([1] * (2 + len(snap.compared)), gutters_dense=True):
            Chart(views.reported_panel(snap))
            for panel in views.cases_panels(snap):
                Chart(panel)
            Chart(views.cost_panel(snap))
        with solara.Columns([1] * len(snap.compared), gutters_dense=True):
            for panel in views.clinics_panels(snap):
                Chart(panel, height=240)
        with solara.Card(title="Trade-offs", margin=0, classes=["popsim-tradeoffs"]):
            solara.HTML(unsafe_innerHTML=views.tradeoff_html(snap))
    return col


def _initial_classroom() -> tuple[Classroom, str]:
    name = os.environ.get(SCENARIO_ENV, DEFAULT_SCENARIO)
    try:
        return Classroom(name), ""
    except ScenarioError as e:
        return Classroom(DEFAULT_SCENARIO), f"{e}; showing '{DEFAULT_SCENARIO}' instead"


@solara.component
def Page():
    """The whole page: one classroom per browser tab, the controls and the live views."""
    classroom, startup_error = solara.use_memo(_initial_classroom, [])
    _version, set_version = solara.use_state(classroom.snapshot.version)
    playing, set_playing = solara.use_state(False)
    errors, set_errors = solara.use_state({"_": startup_error} if startup_error else {})
    snap = classroom.snapshot

    def attempt(key: str, action: Callable[[], Any], stop: bool = False) -> None:
        """Run one change of the classroom; its refusal becomes the message under ``key``."""
        if stop:
            set_playing(False)
        try:
            action()
        except ScenarioError as e:
            message = str(e)
            set_errors(lambda cur: {**cur, key: message})
        else:
            set_errors(lambda cur: {k: v for k, v in cur.items() if k != key})
        set_version(classroom.snapshot.version)

    def play_loop(cancel: threading.Event) -> None:
        if not playing:
            return
        epoch = classroom.snapshot.epoch
        while not cancel.is_set():
            if not classroom.step_year(epoch):
                break
            set_version(classroom.snapshot.version)
            cancel.wait(PACE)
        if not cancel.is_set():
            set_playing(False)

    solara.use_thread(play_loop, dependencies=[playing], intrusive_cancel=False)

    def on_run_field(path: str, value: Any) -> None:
        setter = classroom.set_seed if path == "run.seed" else classroom.set_households
        attempt(path, lambda: setter(value), stop=True)

    def on_lesson(key: Any) -> None:
        def change():
            set_errors({})
            classroom.set_lesson(key)
        attempt("_", change, stop=True)

    solara.Title("popsim classroom: policy and the sex ratio at birth")
    with solara.Columns([1, 3], style={"padding": "8px"}) as main:
        with solara.Column(gap="6px", classes=["popsim-sidebar"]):
            solara.Text("popsim classroom", style={"font-size": "1.4em", "font-weight": "bold"})
            with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
                solara.Button("Pause" if playing else "Play", color="primary",
                              classes=["popsim-play"], disabled=snap.finished and not playing,
                              on_click=lambda: set_playing(not playing))
                solara.Button("Step 1 year", classes=["popsim-step"],
                              disabled=playing or snap.finished,
                              on_click=lambda: attempt("_", classroom.step_year))
                solara.Button("Reset", classes=["popsim-reset"],
                              on_click=lambda: attempt("_", classroom.reset, stop=True))
            solara.Text(snap.message,
                        classes=["popsim-status"], style={"font-size": "0.85em"})
            if errors.get("_"):
                solara.Error(errors["_"], classes=["popsim-error"])
            solara.Select("Scenario", values=list(available_scenarios()), value=snap.scenario,
                          on_value=lambda name: attempt("_", lambda: classroom.set_scenario(
                              name), stop=True), classes=["popsim-scenario"])
            for ctrl in run_controls():
                value = snap.seed if ctrl.path == "run.seed" else snap.households
                ControlField(ctrl, value, on_run_field, error=errors.get(ctrl.path, ""),
                             epoch=snap.epoch)
            LessonPicker(snap, on_lesson)
            if snap.lesson is None:
                LeverPanel(dict(snap.levers), dict(snap.schedules), errors,
                           lambda path, value: attempt(path, lambda: classroom.set_lever(
                               path, value)), epoch=snap.epoch)
                solara.Button("Scenario defaults", text=True, classes=["popsim-defaults"],
                              on_click=lambda: attempt("_", classroom.defaults, stop=True))
            for event in snap.events:
                solara.Text(f"• {event}", style={"font-size": "0.75em"})
        with solara.Column(gap="8px"):
            if snap.lesson is not None:
                LessonCard(snap, lambda role: attempt("_", lambda: classroom.explore(role),
                                                      stop=True))
            Views(snap)
    return main
