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


# ------------------------------------------------------------------------------------------------
# the one parsing path: hostile values


def test_schedule_years_are_the_years_a_run_can_simulate():
    from popsim.scenario.schema import Section

    lo = param_spec("run.start_year").lo - param_spec("run.burn_in_years").hi
    assert Section.schedule_years == (lo, param_spec("run.end_year").hi) == (1870, 2150)


@pytest.mark.parametrize("path,value,needle", [
    ("propaganda.reach", [[float("nan"), 0.1]], "schedule year nan is not a finite number "
                                                "(years are 1870-2150)"),
    ("propaganda.reach", [[float("inf"), 0.1]], "schedule year inf is not a finite number"),
    ("propaganda.reach", [[1e9, 0.1]], "schedule year 1000000000 is outside the years a run can "
                                       "simulate, 1870-2150"),
    ("propaganda.reach", [[1800, 0.1]], "schedule year 1800 is outside"),
    ("propaganda.reach", [[True, 0.1]], "schedule year true is not a finite number"),
    ("propaganda.reach", [[2000, True]], "propaganda.reach (in 2000) must be a number in [0, 1], "
                                         "got true"),
    ("propaganda.reach", {"step": 3}, "a schedule is a list of [year, value] pairs, got "
                                      "{step = 3}"),
    ("propaganda.reach", {}, "takes one key, 'step' or 'linear'; got an empty table"),
    ("enforcement.campaign_months", [True], "month numbers 1-12 (e.g. [5, 6, 7]), got [true]"),
    ("enforcement.campaign_months", [0], "month numbers 1-12"),
    ("enforcement.campaign_months", 5, "month numbers 1-12"),
    ("enforcement.fine", 1e308, "enforcement.fine = 1e+308 is above the upper bound 100000000 "
                                "(yuan)"),
    ("run.households", 1e308, "run.households = 1e+308 is above the upper bound 50000000"),
    ("run.households", float("inf"), "run.households must be a whole number in [100, 50000000]"),
    ("run.seed", 2**63, "run.seed = 9223372036854775808 is above the upper bound "
                        "9223372036854775807"),
    ("run.seed", -1, "run.seed = -1 is below the lower bound 0"),  # no "(-)" unit
    ("enforcement.fine", "abc", "enforcement.fine must be a number in [0, 100000000], got 'abc'"),
    ("enforcement.fine", "x" * 10_000, "got 'xxxxx"),
])
def test_hostile_values_are_one_short_line(path, value, needle):
    with pytest.raises(ScenarioError) as e:
        check_value(path, value)
    msg = str(e.value)
    assert needle in msg and path in msg and "\n" not in msg and len(msg) < 300, msg
    assert "(-)" not in msg


@pytest.mark.parametrize("path,value", [
    ("run.households", {"a": 1}), ("run.households", {"step": [[2000, 100]]}),
    ("enforcement.detection", {"linear": [[2000, 0.1]]}), ("enforcement.detection", [[2000, 0.1]]),
])
def test_a_field_that_cannot_be_a_schedule_is_not_offered_schedule_syntax(path, value):
    with pytest.raises(ScenarioError) as e:
        check_value(path, value)
    msg = str(e.value)
    assert f"{path} takes a single value" in msg and "step" not in msg and "linear" not in msg


@pytest.mark.parametrize("path,value,kind", [
    ("policy.regime", {"linear": [[2000, "none"]]}, "a choice"),
    ("policy.regime", {"step": [[2000, "none"]], "linear": []}, "a choice"),
    ("enforcement.birth_audit", {"linear": [[2000, True]]}, "a yes/no field"),
])
def test_a_choice_takes_only_step_and_says_so(path, value, kind):
    with pytest.raises(ScenarioError) as e:
        check_value(path, value)
    msg = str(e.value)
    assert f"{path} is {kind}: its schedule table takes only 'step'" in msg
    assert "'step' or 'linear'" not in msg


def test_a_schedule_object_is_checked_like_a_file_value():
    with pytest.raises(ScenarioError, match="schedule year nan"):
        check_value("propaganda.reach", Schedule((float("nan"),), (0.1,)))
    with pytest.raises(ScenarioError, match="above the upper bound 1"):
        load_scenario("county", {"propaganda.reach": Schedule((2000.0,), (5.0,))})
    ok = Schedule((2000.0, 2010.0), (0.0, 0.1))
    assert check_value("propaganda.reach", ok) == ok


def test_numpy_numbers_are_numbers():
    import numpy as np

    assert check_value("run.households", np.int64(300)) == 300
    assert check_value("enforcement.fine", np.float64(2.5)) == 2.5
    assert check_value("enforcement.birth_audit", np.bool_(True)) is True
    assert check_value("enforcement.campaign_months", [np.int64(5), 6]) == (5, 6)


@pytest.mark.parametrize("name,reason", [
    ("../../etc/x", "path separator"), ("a/b", "path separator"), ("a\\b", "path separator"),
    ("my run", "contains ' '"), ("x" * 500, "it has 500 characters"), ("a..b", "contains '..'"),
    ("..", "contains '..'"), (".", "starts with '.'"), ("", "it is empty"),
    ("-x", "starts with '-'"), ("naïve", "contains 'ï'"),
])
def test_check_name_says_why(name, reason):
    from popsim.scenario import check_name
    from popsim.errors import InputError

    with pytest.raises(InputError) as e:
        check_name(name)
    assert reason in str(e.value) and "1 to 64 letters, digits" in str(e.value)
