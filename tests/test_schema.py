"""The schema: every parameter declared once, with default, unit, bounds and meaning."""

import pytest

from popsim.scenario import SECTIONS, Scenario, Schedule, iter_params, param_spec
from popsim.scenario import ScenarioError, check_value, load_scenario


def test_every_parameter_is_fully_declared():
    specs = list(iter_params())
    assert len(specs) > 80
    for p in specs:
        assert p.unit, p.path
        assert p.description and len(p.description) > 10, p.path
        assert p.section_kind in ("run", "context", "lever"), p.path
        if p.kind in ("float", "int"):
            assert p.lo is not None and p.hi is not None and p.lo < p.hi, p.path
        if p.kind == "choice":
            assert p.choices and len(p.choices) >= 2, p.path


def test_defaults_are_valid_and_within_bounds():
    s = Scenario()
    for p in iter_params():
        v = s.get(p.path)
        values = v.values if isinstance(v, Schedule) else [v]
        for x in values:
            if p.kind in ("float", "int"):
                assert p.lo <= x <= p.hi, (p.path, x)
            if p.kind == "choice":
                assert x in p.choices, (p.path, x)


def test_levers_have_off_values_and_context_does_not():
    for p in iter_params():
        if p.off is not None:
            assert p.section_kind == "lever", p.path
    levers = {p.path for p in iter_params() if p.off is not None}
    assert {"propaganda.reach", "enforcement.inspections_per_month", "registration.coverage",
            "incentives.eligibility"} <= levers


def test_context_and_levers_are_separate_sections():
    kinds = {name: cls.kind for name, cls in SECTIONS.items()}
    assert kinds["propaganda"] == kinds["enforcement"] == kinds["incentives"] == "lever"
    assert kinds["registration"] == kinds["policy"] == "lever"
    assert kinds["population"] == kinds["fertility"] == kinds["son_preference"] == "context"


def test_schedules_linear_and_step():
    s = load_scenario("county", {"propaganda.reach": [[2000, 0.0], [2010, 0.1]],
                                 "enforcement.fine": {"step": [[2000, 1000], [2010, 5000]]}})
    assert s.propaganda.reach.at(2005) == pytest.approx(0.05)
    assert s.propaganda.reach.at(1990) == 0.0 and s.propaganda.reach.at(2030) == 0.1
    assert s.enforcement.fine.at(2009.9) == 1000 and s.enforcement.fine.at(2010) == 5000


@pytest.mark.parametrize("path,value,needle", [
    ("enforcement.inspections_per_month", -3, "below the lower bound 0"),
    ("registration.coverage", 1.5, "above the upper bound 1"),
    ("incentives.benefit_per_year", -100, "below the lower bound 0"),
    ("policy.regime", "two_childs", "did you mean 'two_child'"),
    ("propaganda.reach", [[2010, 0.1], [2000, 0.2]], "strictly increasing"),
    ("propaganda.reach", [[2000, 0.1], [2010, 2.0]], "above the upper bound 1"),
    ("run.households", 10.5, "whole number"),
    ("enforcement.birth_audit", "yes", "true or false"),
])
def test_bad_values_name_the_field_and_bound(path, value, needle):
    with pytest.raises(ScenarioError) as e:
        load_scenario("county", {path: value})
    assert path in str(e.value) and needle in str(e.value)
    with pytest.raises(ScenarioError):
        check_value(path, value)


def test_param_spec_lookup():
    spec = param_spec("enforcement.tip_reward")
    assert spec.unit == "yuan" and spec.default == 2000.0 and spec.off == 0.0
    with pytest.raises(KeyError):
        param_spec("enforcement.nope")
