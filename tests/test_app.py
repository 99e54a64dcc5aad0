"""The teaching app without a browser: controls from the schema, the live runs, lessons, views.

The page is rendered with Solara's test renderer (real widgets, no browser) against a scenario
file that sets nothing, so every control must show the schema's own default, unit, bounds and
description. The classroom (the runs behind the page) is driven directly: a lever changed
mid-run keeps the years before it exactly and acts from the current year; bad input is refused
with a message; every lesson loads; the views and charts draw what the datasets hold.
"""

from __future__ import annotations

import json
import math
import socket
import tomllib

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("solara", reason="the app extra is not installed (pip install -e '.[app]')")

import ipyvuetify as v  # noqa: E402
import solara  # noqa: E402

from popsim import ScenarioError, load_scenario  # noqa: E402
from popsim.app import charts, views  # noqa: E402
from popsim.app.classroom import (LEVERS, MAX_HOUSEHOLDS, Classroom, build_scenario,  # noqa: E402
                                  parse_input, shadow_of, switch_at)
from popsim.app.controls import format_value, lever_controls, run_controls  # noqa: E402
from popsim.app.lessons import LESSONS, get_lesson, off_overrides  # noqa: E402
from popsim.app.page import SCENARIO_ENV, Page  # noqa: E402
from popsim.cli import main  # noqa: E402
from popsim.scenario import Schedule, iter_params, param_spec, parse_param, value_at  # noqa: E402

SMALL = 1000  # households: a classroom of three runs builds in well under a second
SHORT = {"run.burn_in_years": 15}  # enough for parities to fill in; the tests need no realism


@pytest.fixture
def page(tmp_path, monkeypatch):
    """The rendered page on a scenario that sets nothing: pure schema defaults."""
    path = tmp_path / "schema_defaults.toml"
    path.write_text('name = "schema_defaults"\n')
    monkeypatch.setenv(SCENARIO_ENV, str(path))
    box, rc = solara.render(Page(), handle_error=False)
    yield rc
    rc.close()


def _widget(rc, css: str):
    found = rc.find(v.TextField, class_=css) or rc.find(v.Select, class_=css)
    found.assert_single()
    return found.widget


def _schema_default(path: str):
    start = param_spec("run.start_year").default
    return value_at(parse_param(path, param_spec(path).default), start)


def test_controls_come_from_the_schema_and_refuse_values_out_of_bounds(page):
    controls = lever_controls()
    assert [c.path for c in controls] == list(LEVERS)
    for ctrl in controls:
        spec = param_spec(ctrl.path)
        widget = _widget(page, ctrl.css)
        assert spec.section_kind == "lever" and spec.schedulable, ctrl.path
        assert spec.description in widget.hint, ctrl.path
        assert f"Allowed: {spec.bounds_text()}" in widget.hint, ctrl.path
        if spec.unit != "-":
            assert f"({spec.unit})" in widget.label, ctrl.path
        default = _schema_default(ctrl.path)
        if spec.kind == "choice":
            assert isinstance(widget, v.Select)
            assert widget.items == list(spec.choices)
            assert widget.v_model == default, ctrl.path
        else:
            assert float(widget.v_model) == pytest.approx(default), ctrl.path
    # the regime's default is a schedule: the field says so
    regime = _widget(page, "popsim-control popsim-policy-regime")
    assert "Schedule: 2000: one_and_half, 2016: two_child" in regime.hint
    seed, households = (_widget(page, c.css) for c in run_controls())
    assert int(seed.v_model) == param_spec("run.seed").default
    assert int(households.v_model) == 10_000
    assert param_spec("run.households").description in households.hint
    assert f"Allowed: [100, {MAX_HOUSEHOLDS}]" in households.hint

    # a value typed outside the bounds is refused with the reason; a good one is applied
    reach = _widget(page, "popsim-control popsim-propaganda-reach")
    status = page.find(v.Html, class_="popsim-status")
    before = status.widget.children[0]
    reach.v_model = "5"
    reach.fire_event("keyup.enter", None)
    reach = _widget(page, "popsim-control popsim-propaganda-reach")
    assert reach.error_messages == ["propaganda.reach = 5 is above the upper bound 1 (per month)"]
    assert page.find(v.Html, class_="popsim-status").widget.children[0] == before
    reach.v_model = "0.2"
    reach.fire_event("keyup.enter", None)
    reach = _widget(page, "popsim-control popsim-propaganda-reach")
    assert reach.error_messages == []
    assert "propaganda.reach = 0.2" in page.find(v.Html, class_="popsim-status").widget.children[0]


def test_lever_changed_mid_run_keeps_the_past_and_acts_from_now():
    room = Classroom(households=SMALL, run=SHORT)
    for _ in range(3):
        room.step_year()
    past = room.snapshot.runs[0].ds
    shadow_past = room.snapshot.shadow.ds
    room.set_lever("propaganda.reach", "0.6")
    snap = room.snapshot
    assert snap.year == 2003 and "from 1 January 2003" in snap.events[-1]
    xr.testing.assert_equal(snap.runs[0].ds, past)  # replayed exactly
    assert snap.shadow.ds is shadow_past  # the shadow was not touched
    room.step_year()
    ds = room.snapshot.runs[0].ds
    contacts = ds["propaganda_contacts"].values
    assert contacts[3] > 5 * contacts[2] > 0  # reach 0.05 -> 0.6 from 2003
    assert room.snapshot.levers["propaganda.reach"] == 0.6
    assert room.snapshot.schedules["propaganda.reach"] == ("2000: 0.01, 2001: 0.0116667, "
                                                           "2002: 0.0133333, 2003: 0.6")
    # a regime change is shared with the shadow (same fertility policy)
    room.set_lever("policy.regime", "two_child")
    room.step_year()
    for run in room.snapshot.runs:
        regime = tomllib.loads(run.ds.attrs["scenario_toml"])["policy"]["regime"]
        assert regime["step"][-1] == [2004, "two_child"], run.role


def test_switch_at_keeps_every_earlier_year():
    linear = Schedule((1990.0, 2010.0), (0.0, 1.0))
    out = parse_param("propaganda.reach", switch_at(linear, 0.25, 1980, 2005))
    for year in range(1980, 2005):
        assert value_at(out, year) == value_at(linear, year)
    assert value_at(out, 2005) == value_at(out, 2030) == 0.25
    assert switch_at(0.05, 0.5, 1965, 1965) == 0.5
    assert switch_at(0.05, 0.05, 1965, 2000) == 0.05


@pytest.mark.parametrize("path, value, message", [
    ("propaganda.reach", "5", "above the upper bound 1"),
    ("propaganda.reach", "-0.1", "below the lower bound 0"),
    ("propaganda.reach", "nan", "must be finite"),
    ("enforcement.tip_reward", "lots", "must be a number"),
    ("incentives.eligibility", "everyone", "is not one of none, daughters_only, small_family"),
    ("policy.regime", "one_chld", "did you mean 'one_child'"),
    ("run.seed", "1.5", "must be a whole number"),
])
def test_bad_input_gets_one_clear_message(path, value, message):
    with pytest.raises(ScenarioError, match=message):
        parse_input(path, value)


def test_classroom_refuses_what_the_page_must_not_do():
    room = Classroom(households=SMALL, run=SHORT)
    with pytest.raises(ScenarioError, match="app's limit"):
        room.set_households(MAX_HOUSEHOLDS + 1)
    with pytest.raises(ScenarioError, match="not a lever of the app"):
        room.set_lever("behaviour.natural_srb", 105)
    with pytest.raises(ScenarioError, match="no lesson"):
        room.set_lesson(8)
    room.set_lesson(2)
    with pytest.raises(ScenarioError, match="set by the lesson"):
        room.set_lever("propaganda.reach", 0.5)
    epoch = room.snapshot.epoch
    room.set_lesson(3)  # a lesson switched mid-run: a stale play thread must not step it
    assert not room.step_year(epoch)
    assert room.snapshot.done == 0 and room.step_year(room.snapshot.epoch)
    room.explore("B")
    assert room.lesson is None
    assert room.snapshot.levers["incentives.eligibility"] == "daughters_only"
    assert room.snapshot.levers["incentives.benefit_per_year"] == 10000.0


def test_every_lesson_loads_two_configurations_and_a_shadow():
    assert [lesson.number for lesson in LESSONS] == list(range(1, 8))
    off = off_overrides()
    assert off and all(param_spec(p).section_kind == "lever" for p in off)
    for lesson in LESSONS:
        assert get_lesson(lesson.key) is get_lesson(lesson.number) is lesson
        sentences = [s for s in lesson.explanation.replace("? ", ". ").split(". ") if s]
        assert len(sentences) == 2, lesson.key
        assert lesson.question.endswith("?")
        a, b = (build_scenario(lesson.scenario, c, SMALL) for c in (lesson.a, lesson.b))
        assert a != b, lesson.key
        shadow = build_scenario(lesson.scenario, shadow_of(lesson.a), SMALL)
        for path, value in off.items():
            assert value_at(shadow.get(path), 2010) == value, (lesson.key, path)
        assert value_at(shadow.get("policy.regime"), 2010) == \
            value_at(a.get("policy.regime"), 2010)
    seven = get_lesson("fertility_policy")
    a, b = (build_scenario(seven.scenario, c, SMALL) for c in (seven.a, seven.b))
    assert [value_at(a.get("policy.regime"), y) for y in (1983, 2009, 2019)] == \
        ["one_child", "one_and_half", "one_and_half"]
    assert [value_at(b.get("policy.regime"), y) for y in (1983, 2009, 2010)] == \
        ["one_child", "one_and_half", "two_child"]


def test_views_and_charts_show_what_the_datasets_hold():
    room = Classroom(households=SMALL, lesson="cost", run=SHORT)
    empty = room.snapshot
    assert all(p.placeholder for p in views.srb_panels(empty))
    assert "after the first year" in views.tradeoff_html(empty)
    for _ in range(4):
        room.step_year()
    snap = room.snapshot
    shadow = snap.shadow.ds
    rows = views.tradeoffs(snap)
    assert [r["role"] for r in rows] == ["A", "B"]
    for row, run in zip(rows, snap.compared):
        ds = run.ds
        averted = float(shadow["missing_female_births"].sum() - ds["missing_female_births"].sum())
        assert row["averted"] == pytest.approx(averted)
        extra = float(ds["total_cost"].sum() - shadow["total_cost"].sum())
        if averted > 0:
            assert row["cost_per_averted"] == pytest.approx(extra / averted)
        else:
            assert math.isnan(row["cost_per_averted"])
        b = ds["births"].sum("year")
        assert row["srb"] == pytest.approx(100 * float(b.sel(sex="male").sum())
                                           / float(b.sel(sex="female").sum()))
    panels = [*views.srb_panels(snap), views.reported_panel(snap), *views.cases_panels(snap),
              views.cost_panel(snap), *views.clinics_panels(snap)]
    cases = views.cases_panels(snap)[0]
    total = sum(np.nansum(s.y) for s in cases.series)
    assert total == pytest.approx(float(snap.compared[0].ds["cases"].sum()))
    assert all(len(s.y) == len(p.x) for p in panels for s in p.series)
    for panel in panels:
        option = json.loads(json.dumps(charts.echarts_option(panel), allow_nan=False))
        assert option["title"]["text"] == panel.title
    srb = views.srb_panels(snap)[0]
    assert [s.name for s in srb.series] == ["A", "B", "No measures (shadow)"]
    assert sum(math.isfinite(y) for y in srb.series[0].y) == 4
    fig = charts.figure(views.srb_panels(snap), sharey=True)
    assert len(fig.axes) == 3
    clinics = snap.compared[0].clinics
    assert clinics["labels"][-2:] == ["county", "outside"]
    assert "Cost per averted missing girl" in views.tradeoff_markdown(snap)


def test_app_command_refuses_bad_arguments(capsys):
    assert main(["app", "--scenario", "nowhere"]) == 2
    assert "unknown scenario 'nowhere'" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is in use" in err and "Traceback" not in err
    assert main(["app", "--port", "70000"]) == 2
    assert "not a TCP port" in capsys.readouterr().err


def test_control_values_are_typed_as_a_teacher_would():
    assert format_value(0.05) == "0.05" and format_value(1200.0) == "1200"
    assert format_value("daughters_only") == "daughters_only"
    assert parse_input("enforcement.tip_reward", "5,000") == 5000.0
    assert parse_input("run.households", "20000") == 20000
    assert {p.path for p in iter_params()} >= set(LEVERS)
    assert load_scenario("county").get("propaganda.reach") is not None
