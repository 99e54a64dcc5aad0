"""The teaching app without a browser: controls from the schema, the live runs, lessons, views.

The page is rendered with Solara's test renderer (real widgets, no browser) against a scenario
file that sets nothing, so every control must show the schema's own default, unit, bounds and
description. The classroom (the runs behind the page) is driven directly: a lever changed
mid-run keeps the years before it exactly and acts from the current year; bad input is refused
with a message; every lesson loads; the views and charts draw what the datasets hold. Issue 16:
a lever change continues from the January snapshot exactly as a full replay, keeps the old
curve and marks its year; sliders and steppers follow the schema's bounds; the SRB axes hold
every line and the target the county is held to; the headline is the pooled SRB; birth-order
points on too few births are hidden (binomial standard error) and the others banded; settings
are shown in the schema's plain words; lesson 6 teaches what its question asks.
"""

from __future__ import annotations

import json
import math
import re
import socket
import tomllib

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("solara", reason="the app extra is not installed (pip install -e '.[app]')")

import ipyvuetify as v  # noqa: E402
import solara  # noqa: E402

import popsim  # noqa: E402
from popsim import ScenarioError, load_scenario  # noqa: E402
from popsim.app import charts, live, views, words  # noqa: E402
from popsim.app.classroom import (BEFORE_LABEL, LEVERS, MAX_HOUSEHOLDS, SHADOW_LABEL,  # noqa: E402
                                  Classroom, build_scenario, parse_input, shadow_of, switch_at)
from popsim.app.controls import control, format_value, lever_controls, run_controls  # noqa: E402
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
        assert f"Allowed: {words.bounds_text(ctrl.path)}" in widget.hint, ctrl.path
        if spec.unit != "-":
            assert f"({spec.unit})" in widget.label, ctrl.path
        default = _schema_default(ctrl.path)
        if spec.kind == "choice":
            assert isinstance(widget, v.Select)
            assert [i["value"] for i in widget.items] == list(spec.choices)
            assert [i["text"] for i in widget.items] == [c.replace("_", " ")
                                                         for c in spec.choices]
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
    assert f"Allowed: from 100 to {MAX_HOUSEHOLDS:,} households" in households.hint
    # plain words: no bound nobody can read
    assert seed.hint.endswith("Allowed: any whole number from 0")
    assert str(2**63 - 1) not in seed.hint

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
    status = page.find(v.Html, class_="popsim-status").widget.children[0]
    assert status.startswith("Share of households reached by propaganda each month: 20% from")


def test_levers_with_bounds_have_sliders_or_steppers(page):
    """A share (bounds 0-1) gets a slider over its schema bounds, committed on release; a lever
    with wide bounds gets a stepper that moves it by its order of magnitude, inside the bounds."""
    for ctrl in lever_controls():
        spec = param_spec(ctrl.path)
        sliders = page.find(v.Slider, class_=f"popsim-slider popsim-slider-{ctrl.slug}")
        ups = page.find(v.Btn, class_=f"popsim-up-{ctrl.slug}")
        if spec.kind == "float" and (spec.lo, spec.hi) == (0, 1):
            sliders.assert_single()
            assert (sliders.widget.min, sliders.widget.max) == (spec.lo, spec.hi), ctrl.path
            assert not ups.widgets
        elif spec.kind == "float":
            ups.assert_single()
            assert not sliders.widgets
        else:
            assert not sliders.widgets and not ups.widgets, ctrl.path
    slider = page.find(v.Slider, class_="popsim-slider popsim-slider-registration-coverage")
    slider.widget.fire_event("change", 0.25)
    status = page.find(v.Html, class_="popsim-status").widget.children[0]
    assert status.startswith("Chance a pregnancy is registered: 25% from")
    assert float(_widget(page, "popsim-control popsim-registration-coverage").v_model) == 0.25
    up = page.find(v.Btn, class_="popsim-up-enforcement-tip-reward")
    up.widget.click()  # 2,000 -> 3,000 yuan
    assert float(_widget(page, "popsim-control popsim-enforcement-tip-reward").v_model) == 3000
    tip = control("enforcement.tip_reward")
    assert [tip.step(x, d) for x in (0.0, 10.0, 1200.0) for d in (-1, 1)] == \
        [0.0, 1000.0, 9.0, 20.0, 1000.0, 2000.0]
    assert tip.step(1e6, 1) == 1e6 and tip.step(0.0, -1) == 0.0  # the schema's bounds


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
    # the run as it was goes on beside it, for comparison, and the charts mark the change
    snap = room.snapshot
    assert snap.before.label == BEFORE_LABEL and snap.changed == 2003
    xr.testing.assert_equal(snap.before.ds.isel(year=slice(0, 3)), past)
    before = snap.before.ds["propaganda_contacts"].values
    assert before.size == 4 and contacts[3] > 5 * before[3]
    for panel in (views.srb_panels(snap)[0], views.reported_panel(snap)):
        faded = [s for s in panel.series if s.name.startswith(BEFORE_LABEL.lower())]
        assert faded and all(s.opacity < 1 and s.style == "dashed" for s in faded)
        assert sum(math.isfinite(y) for y in faded[0].y) == 4
        assert panel.marks == ((2003, "change 2003"),)
        mark = charts.echarts_option(panel)["series"][-1]["markLine"]["data"]
        assert mark == [{"xAxis": "2003", "name": "change 2003"}]
    assert room.snapshot.levers["propaganda.reach"] == 0.6
    assert room.snapshot.schedules["propaganda.reach"] == ("2000: 0.01, 2001: 0.0116667, "
                                                           "2002: 0.0133333, 2003: 0.6")
    # a regime change is shared with the shadow (same fertility policy)
    room.set_lever("policy.regime", "two_child")
    room.step_year()
    for run in room.snapshot.runs:
        regime = tomllib.loads(run.ds.attrs["scenario_toml"])["policy"]["regime"]
        assert regime["step"][-1] == [2004, "two_child"], run.role
    assert room.snapshot.changed == 2004
    room.reset()
    assert room.snapshot.before is None and room.snapshot.changed is None


def test_lever_changed_after_the_run_keeps_the_old_curve():
    room = Classroom(households=SMALL, run={**SHORT, "run.end_year": 2003})
    old = room.run_to_end().runs[0].ds
    room.set_lever("enforcement.tip_reward", "8000")
    snap = room.snapshot
    assert snap.done == 0 and snap.changed == 2000  # every run restarted from the first year
    assert "restarted from 2000" in snap.message
    xr.testing.assert_identical(snap.before.ds, old)
    faded = views.srb_panels(snap)[0].series[0]
    assert faded.name == BEFORE_LABEL.lower() and faded.opacity < 1
    assert all(math.isfinite(y) for y in faded.y)  # the whole old curve, before any new year
    room.step_year()
    assert room.snapshot.before.ds.sizes["year"] == 4  # a finished run does not step


def test_lever_change_resumes_from_the_january_snapshot_exactly_as_a_full_replay():
    """The changed run continues from its snapshot of 1 January of the current year, and its
    whole history is the one a fresh run of the switched scenario from its burn-in gives."""
    room = Classroom(households=SMALL, run=SHORT)
    for _ in range(3):
        room.step_year()
    old = room._runs[0]
    room.set_lever("propaganda.reach", "0.6")
    new = room._runs[0]
    assert new.januaries[2003] is old.januaries[2003]  # continued, not replayed
    room.run_to_end()
    settings = {**SHORT, "run.households": SMALL}
    reach = load_scenario("county", settings).get("propaganda.reach")
    first = 2000 - SHORT["run.burn_in_years"]
    switched = load_scenario("county", {**settings,
                                        "propaganda.reach": switch_at(reach, 0.6, first, 2003)})
    xr.testing.assert_identical(room.snapshot.runs[0].ds, popsim.run(switched, room.seed))
    # a change after the end restarts from the first year's snapshot: no new burn-in
    room.set_lever("propaganda.reach", "0.1")
    assert room._runs[0].januaries[2000] is new.januaries[2000]


def test_snapshots_of_a_run_stay_within_their_memory_budget(monkeypatch):
    room = Classroom(households=SMALL, run=SHORT)
    one = room._runs[0].januaries[2000].nbytes
    monkeypatch.setattr(live, "SNAPSHOT_BYTES", int(3.5 * one))
    room.run_to_end()
    for run in room._runs:
        kept = sorted(run.januaries)
        assert kept[0] == 2000 and kept[-1] == 2020 and len(kept) == 3, kept
        assert run.snapshot_bytes <= 3.5 * one * 1.05  # snapshots differ a little in size


def test_dropped_runs_do_not_keep_their_models_alive():
    # Mesa 3.3 keeps every model in ``mesa.Agent._ids``; a classroom that switches lessons
    # must not accumulate the models of the runs it dropped
    import gc
    import weakref

    import mesa
    room = Classroom(households=SMALL, run=SHORT)
    room.step_year()
    models = [weakref.ref(r.model) for r in room._runs]
    room._build()  # the page's new epoch: the old runs (unfinished) are dropped
    gc.collect()
    assert all(m() is None for m in models)
    ids = getattr(mesa.Agent, "_ids", {})
    assert all(r.model in ids for r in room._runs) or not isinstance(ids, dict)


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
    assert [s.name for s in srb.series] == ["A", "B", SHADOW_LABEL]
    assert sum(math.isfinite(y) for y in srb.series[0].y) == 4
    fig = charts.figure(views.srb_panels(snap), sharey=True)
    assert len(fig.axes) == 3
    clinics = snap.compared[0].clinics
    assert clinics["labels"][-2:] == ["county", "outside"]
    assert "Cost per averted missing girl" in views.tradeoff_markdown(snap)


@pytest.fixture(scope="module")
def lesson6():
    """Lesson 6 at the app's own size and seed, run to the end (about 4 s)."""
    return Classroom().run_lesson(6)


def _inside(panel, values) -> bool:
    lo, hi = panel.y_range
    return all(lo <= v <= hi for v in values if math.isfinite(v))


def test_lesson6_target_line_and_every_srb_line_inside_the_axes(lesson6):
    snap = lesson6
    a, b = snap.compared
    assert all(math.isnan(t) for t in a.target)  # A is held to nothing
    assert b.target == (110.0,) * 21  # enforcement.srb_target, under pressure from 2000
    panels = [*views.srb_panels(snap), views.reported_panel(snap)]
    for panel in panels:
        assert _inside(panel, [snap.natural_srb, 110.0]), panel.key
        for series in panel.series:
            assert _inside(panel, series.y), (panel.key, series.name, panel.y_range)
    reported = panels[-1]
    target = [s for s in reported.series if s.name == "target (110)"]
    assert len(target) == 1 and target[0].y == (110.0,) * 21
    low = min(y for s in reported.series if s.name == "B reported" for y in s.y)
    # under pressure the reported figure falls far below the natural ~105 (to ~90, which the
    # old fixed 90-160 axis cut off): the axis follows it
    assert low < 100 and reported.y_range[0] <= low
    option = charts.echarts_option(reported)
    assert (option["yAxis"]["min"], option["yAxis"]["max"]) == reported.y_range
    assert "target (110)" in [s["name"] for s in option["series"]]
    # a lesson without pressure draws no target
    assert not [s for s in views.srb_panels(Classroom(households=SMALL, lesson=1, run=SHORT)
                                            .snapshot)[0].series if "target" in s.name]


def test_lesson6_reported_figure_meets_the_target_while_the_truth_does_not(lesson6):
    """The lesson's intent (its question): held to 110, the county's reported SRB meets the
    target while its true SRB stays above it; without pressure the reported SRB is above the
    true one (girls concealed). And the reported figure stays a figure a county could report:
    misreport 0.05 drove it to 69 within a few years."""
    a, b = (r.ds.sel(year=slice(2000, 2008)) for r in lesson6.compared)
    assert views.pooled_srb(b) > 113 and views.pooled_srb(b, "reported_births") < 111
    assert views.pooled_srb(a, "reported_births") > views.pooled_srb(a) > 113
    assert float(views.rolling_srb(lesson6.compared[1].ds, "reported_births").min()) > 85


def test_headline_is_the_pooled_srb_and_missing_girls_in_words(lesson6):
    for item, run in zip(views.headline(lesson6), lesson6.runs):
        b = run.ds["births"].sum(("year", "parity"))
        male, female = float(b.sel(sex="male")), float(b.sel(sex="female"))
        assert item["srb"] == pytest.approx(100 * male / female)
        assert item["srb_se"] == pytest.approx(float(views.srb_se(item["srb"], male + female)))
        assert item["srb_year"] == pytest.approx(float(run.ds["srb"][-1]))
        assert (item["first_year"], item["year"]) == (2000, 2020)
    assert views.missing_text(-28.4) == views.missing_text(0.3) == "none missing"
    assert views.missing_text(164.2) == "164 girls missing"
    assert views.missing_text(1234.0) == "1,234 girls missing"


def test_birth_order_points_on_too_few_births_are_hidden_and_the_rest_banded(lesson6):
    # the standard error: the delta method against draws of a binomial (own generator)
    rng = np.random.default_rng(5)
    p = 106 / 206
    boys = rng.binomial(400, p, size=200_000)
    assert float(views.srb_se(106.0, 400)) == pytest.approx(
        float(np.std(100 * boys / (400 - boys))), rel=0.03)
    least = views.min_births(106.0)
    assert least == 200 and views.srb_se(106.0, least) <= views.MAX_SE
    assert views.srb_se(106.0, least - 1) > views.MAX_SE
    snap = lesson6
    least = views.min_births(snap.natural_srb)
    for panel, run in zip(views.srb_panels(snap)[1:], snap.compared):
        for series, band, parity in zip(panel.series, panel.bands, ("1", "2", "3+")):
            n = views.rolling_births(run.ds, parity=parity).values
            y = np.array(series.y)
            assert np.array_equal(np.isnan(y), n < least), (panel.key, parity)
            shown = ~np.isnan(y)
            lo, hi = np.array(band.lo), np.array(band.hi)
            assert np.all(lo[shown] < y[shown]) and np.all(y[shown] < hi[shown])
            assert np.all(np.isnan(lo[~shown]))
        third = panel.series[2]
        assert all(math.isnan(y) for y in third.y) and third.name.endswith("too few births")
        assert sum(math.isfinite(y) for y in panel.series[0].y) == 21  # first births: all
    option = charts.echarts_option(views.srb_panels(snap)[1])
    areas = [s for s in option["series"] if "areaStyle" in s]
    assert len(areas) == 3 and all(s["stack"].startswith("band-") for s in areas)
    fig = charts.figure(views.srb_panels(snap))
    assert len(fig.axes) == 3 and len(fig.axes[1].collections) == 3  # the bands, filled


def test_plain_words_from_the_schema():
    for path in (*LEVERS, "enforcement.srb_target", "enforcement.misreport", "run.seed"):
        spec = param_spec(path)
        assert spec.description.startswith(words.name(path)), path
    assert words.setting("enforcement.inspections_per_month", 60.0) == \
        "Routine clinic inspections in the county: 60 inspections/month"
    assert words.setting("registration.coverage", 1.0) == \
        "Chance a pregnancy is registered: 100%"
    assert words.value_text("policy.regime", "two_child") == "two child"
    assert words.value_text("registration.approval_required", True) == "yes"
    assert words.bounds_text("run.seed") == "any whole number from 0"
    internal = re.compile(r"\b[a-z_]+\.[a-z_]+\b")  # a dotted schema path
    for lesson in LESSONS:
        for config in (lesson.a, lesson.b, shadow_of(lesson.a)):
            assert not internal.search(config.describe()), config.describe()
            assert not internal.search(config.label) and "shadow" not in config.label
    assert get_lesson(4).a.describe().startswith(
        "Only these measures: Routine clinic inspections in the county: 40 inspections/month; "
        "Reward for a tip leading to a case: 5,000 yuan;")


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


def test_with_uncertainty_runs_posterior_members_in_step_and_draws_their_band():
    from popsim.app import uncertainty
    from popsim.experiments.ensemble import scenario_bound
    from popsim.model.streams import replicate_seeds

    room = Classroom(households=SMALL, run=SHORT)
    room.step_year()
    snap = room.set_uncertainty(True)
    k = uncertainty.MEMBERS
    assert snap.uncertain and len(snap.members) == k
    # each member: the teacher's configuration, one posterior draw, its own replicate seed
    assert [m.seed for m in room._members] == replicate_seeds(room.seed, k)
    draws = uncertainty.posterior().draws(k, room.seed)
    # the china history's programme intensity is not the lesson's (scenario_bound)
    own = scenario_bound(uncertainty.posterior(), room._members[0].scenario)
    assert own == ("enforcement.programme_intensity",)
    for member, draw in zip(room._members, draws):
        assert member.year == room._runs[0].year  # brought to the year the runs reached
        for path, value in draw.items():
            want = room._runs[0].scenario.get(path) if path in own else value
            assert member.scenario.get(path) == pytest.approx(want)
    for _ in range(4):
        room.step_year()
    snap = room.snapshot
    assert all(ds is not None and ds.sizes["year"] == 5 for ds in snap.members)
    band = views.uncertainty_band(snap)
    lo, hi = np.array(band.lo[:5]), np.array(band.hi[:5])
    assert np.all(lo <= hi) and np.all(hi - lo > 0)  # spread in every completed year
    assert np.all(np.isnan(band.lo[5:]))  # nothing for the years to come
    lines = np.array([views.rolling_srb(ds).values for ds in snap.members])
    assert np.allclose(lo, lines.min(axis=0)) and np.allclose(hi, lines.max(axis=0))
    assert f"{k}-run min-max" in band.name and "behaviour coefficients' uncertainty" in band.name
    panel = views.srb_panels(snap)[0]
    assert [b.name for b in panel.bands] == [band.name] and "approximate" in panel.title
    assert np.allclose(panel.bands[0].lo[:5], lo)
    assert _inside(panel, list(lo) + list(hi))
    option = charts.echarts_option(panel, 460)
    assert {"name": band.name, "icon": "rect"}.items() <= option["legend"]["data"][-1].items()
    assert band.name in [s["name"] for s in option["series"]]
    charts.figure([panel])  # the notebook draws the same band
    # a lever change reaches the members from the same January, and they stay in step
    room.set_lever("propaganda.reach", 0.5)
    year = room._runs[0].year
    for member in room._members:
        assert member.year == year
        assert value_at(member.scenario.get("propaganda.reach"), year) == 0.5
        assert value_at(member.scenario.get("propaganda.reach"), year - 1) != 0.5
    room.step_year()
    assert {m.year for m in room._members} == {room._runs[0].year}
    # a reset restarts them with the runs; off: no members, no band
    snap = room.reset()
    assert len(snap.members) == k and all(ds is None for ds in snap.members)
    snap = room.set_uncertainty(False)
    assert not snap.members and views.uncertainty_band(snap) is None
    assert views.srb_panels(snap)[0].bands == ()


def test_with_uncertainty_is_refused_when_its_runs_would_be_too_large():
    from popsim.app import uncertainty

    big = MAX_HOUSEHOLDS // uncertainty.MEMBERS + 1
    room = Classroom(households=big, run=SHORT)
    with pytest.raises(ScenarioError, match="above the app's limit"):
        room.set_uncertainty(True)
    assert not room.snapshot.uncertain and not room._members
    room.set_households(SMALL)
    room.set_uncertainty(True)
    with pytest.raises(ScenarioError, match=f"choose at most {MAX_HOUSEHOLDS // 6:,}"):
        room.set_households(big)
    assert room.households == SMALL and len(room._members) == uncertainty.MEMBERS
    with pytest.raises(ScenarioError, match="on or off"):
        room.set_uncertainty("yes")


def test_band_is_min_max_of_few_members_and_5_95_of_many():
    from popsim.app import uncertainty

    few = [np.array([100.0 + i, np.nan]) for i in range(6)]
    lo, hi = uncertainty.band(few)
    assert lo[0] == 100 and hi[0] == 105 and np.isnan(lo[1]) and np.isnan(hi[1])
    many = [np.array([float(i)]) for i in range(10)]
    lo, hi = uncertainty.band(many)
    assert lo[0] == pytest.approx(0.45) and hi[0] == pytest.approx(8.55)
    assert uncertainty.band_kind(6) == "min-max" and uncertainty.band_kind(10) == "5-95%"


def test_page_switch_turns_uncertainty_on(page):
    switch = page.find(v.Switch, class_="popsim-uncertainty")
    switch.assert_single()
    assert switch.widget.v_model is False
    switch.widget.v_model = True
    page.find(v.Html, children=["With uncertainty: 6 more runs of Your settings, behaviour "
                                "coefficients drawn from the China calibration "
                                "(approximate)."]).wait_for(timeout=120)
