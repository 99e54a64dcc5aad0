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
from . import charts, uncertainty, views
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


@solara.component
def Headline(item: dict[str, Any]):
    """One run's headline numbers. The big number (``.popsim-srb-value``) is the SRB so far,
    pooled over the completed years (``.popsim-headline-year`` is the last of them); one year's
    own SRB is noisy and shown small below it."""
    colour = views.COLOURS[item["role"]]
    year, first, esc = item["year"], item["first_year"], html.escape
    if year:
        span = (f"SRB so far, {first}–" if year > first else "SRB so far, ") + \
            f'<span class="popsim-headline-year">{year}</span>'
        chance = f"± {item['srb_se']:.1f} by chance"
        detail = (f"reported {_srb_text(item['reported_srb'])} · {year} alone "
                  f"{_srb_text(item['srb_year'])}<br>{esc(item['missing_text'])} · cost "
                  f"{item['cost'] / 1e6:,.1f} M yuan")
    else:
        span, chance, detail = "SRB so far", "", "no year simulated yet"
    body = (f'<div style="font-weight:bold;font-size:0.85em;line-height:1.2">'
            f'{esc(item["label"])}</div>'
            f'<div style="font-size:0.75em;margin-top:2px">{span}</div>'
            f'<div style="display:flex;align-items:baseline;gap:8px">'
            f'<span class="popsim-srb-value" style="font-size:1.7em;font-weight:bold;'
            f'color:{colour}">{_srb_text(item["srb"])}</span>'
            f'<span style="font-size:0.75em">{chance}</span></div>'
            f'<div style="font-size:0.72em;line-height:1.3">{detail}</div>')
    return solara.HTML(tag="div", unsafe_innerHTML=body,
                       classes=[f"popsim-headline popsim-headline-{item['role']}"],
                       style={"border-top": f"4px solid {colour}", "flex": "1",
                              "min-width": "170px", "padding": "4px 8px",
                              "box-shadow": "0 1px 3px rgba(0,0,0,0.25)",
                              "border-radius": "4px", "background": "white"})


@solara.component
def Chart(panel: views.Panel, height: int = 260, width: int = 300):
    """One panel, drawn in the browser by ECharts (``.popsim-<key>-chart``); ``width`` is
    about the pixels it gets on a 1280-pixel screen (the legend's rows are laid out for it)."""
    return solara.FigureEcharts(
        option=charts.echarts_option(panel, width), responsive=True,
        attributes={"style": f"height: {height}px; width: 100%;",
                    "class": f"popsim-chart popsim-{panel.key}-chart"})


@solara.component
def LessonCard(snap: Snapshot, on_explore: Callable[[str], None]):
    """The lesson's texts and its two configurations, compact enough to leave the table and
    the first chart on a projector's screen."""
    lesson = snap.lesson
    small = {"font-size": "0.85em", "line-height": "1.35", "margin": "0 0 4px 0"}
    with solara.Column(gap="2px", classes=["popsim-lesson-card"],
                       style={"padding": "6px 10px", "border-radius": "4px",
                              "box-shadow": "0 1px 3px rgba(0,0,0,0.25)"}) as card:
        solara.Text(f"Lesson {lesson.number}: {lesson.title}",
                    style={"font-weight": "bold", "font-size": "1.05em"})
        solara.HTML(tag="p", unsafe_innerHTML=html.escape(lesson.explanation), style=small)
        solara.HTML(tag="p", unsafe_innerHTML=f"<b>Question for the class.</b> "
                                               f"{html.escape(lesson.question)} <i>Look at:</i> "
                                               f"{html.escape(lesson.look_at)}.",
                    classes=["popsim-question"], style=small)
        for run in snap.compared:
            with solara.Row(gap="6px", style={"align-items": "baseline"}):
                solara.HTML(tag="div", unsafe_innerHTML=(
                    f'<b style="color:{views.COLOURS[run.role]}">{html.escape(run.label)}</b>'
                    f' <span style="font-size:0.9em">{html.escape(run.settings)}</span>'),
                    style={"font-size": "0.78em", "flex": "1"})
                solara.Button(f"Explore {run.role}", text=True, small=True,
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
def Views(snap: Snapshot, on_explore: Callable[[str], None]):
    """The live views. On top, what a class reads first, on one projector screen (1280 x 800):
    the lesson, the headline numbers and the trade-off table; then the SRB of all births and
    reported vs true; then SRB by birth order, cases, cost and clinics."""
    with solara.Column(gap="6px") as col:
        with solara.Columns([3, 2], gutters_dense=True):
            with solara.Column(gap="6px"):
                if snap.lesson is not None:
                    LessonCard(snap, on_explore)
                with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
                    for item in views.headline(snap):
                        Headline(item)
            with solara.Column(classes=["popsim-tradeoffs"],
                               style={"padding": "4px 8px", "border-radius": "4px",
                                      "box-shadow": "0 1px 3px rgba(0,0,0,0.25)"}):
                solara.Text("Trade-offs", style={"font-weight": "bold"})
                solara.HTML(unsafe_innerHTML=views.tradeoff_html(snap))
        srb = views.srb_panels(snap)
        with solara.Columns([1, 1], gutters_dense=True):
            Chart(srb[0], height=280, width=460)
            Chart(views.reported_panel(snap), height=280, width=460)
        with solara.Columns([1] * len(srb[1:]), gutters_dense=True):
            for panel in srb[1:]:
                Chart(panel, width=920 // len(srb[1:]))
        with solara.Columns([1] * (1 + len(snap.compared)), gutters_dense=True):
            for panel in views.cases_panels(snap):
                Chart(panel)
            Chart(views.cost_panel(snap))
        with solara.Columns([1] * len(snap.compared), gutters_dense=True):
            for panel in views.clinics_panels(snap):
                Chart(panel, height=240, width=920 // len(snap.compared))
    return col


def _initial_classroom() -> tuple[Classroom, str]:
    name = os.environ.get(SCENARIO_ENV, DEFAULT_SCENARIO)
    try:
        return Classroom(name), ""
    except ScenarioError as e:
        return Classroom(DEFAULT_SCENARIO), f"{e}; showing '{DEFAULT_SCENARIO}' instead"


@solara.component
def UncertaintySwitch(snap: Snapshot, error: str, on_value: Callable[[bool], None]):
    """The "with uncertainty" switch (``.popsim-uncertainty``), its note and its refusal. A
    refused switch is drawn anew (its key changes), so it shows the classroom's state, off."""
    note = (f"Adds {uncertainty.MEMBERS} runs of "
            f"{'lesson A' if snap.lesson is not None else 'your settings'} with "
            f"{uncertainty.SOURCE} and their own seeds; the band shows their range. The main "
            f"line keeps the model's default coefficients, so it may lie outside the band.")
    with solara.Column(gap="0px", classes=["popsim-uncertainty-field"]) as col:
        solara.Switch(label="With uncertainty", value=snap.uncertain, on_value=on_value,
                      classes=["popsim-uncertainty"]).key(f"uncertainty-{error}")
        solara.Text(note, style={"font-size": "0.72em", "color": "#555", "line-height": "1.3"})
        if error:
            solara.Error(error, classes=["popsim-uncertainty-error"])
    return col


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
            UncertaintySwitch(snap, errors.get("uncertainty", ""),
                              lambda on: attempt("uncertainty",
                                                 lambda: classroom.set_uncertainty(bool(on))))
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
            Views(snap, lambda role: attempt("_", lambda: classroom.explore(role), stop=True))
    return main
