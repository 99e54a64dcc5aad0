"""The year's values: typed frozen objects generated from the schema, equal to its values."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from popsim.scenario import SECTIONS, iter_params, load_scenario, value_at
from popsim.scenario import year as year_module
from popsim.scenario.year import EnforcementValues, YearParams, YearValues, render_value_classes

_TYPES = {"float": float, "int": int, "bool": bool, "choice": str, "text": str, "months": tuple}


def test_value_classes_are_generated_from_the_schema():
    text = Path(year_module.__file__).read_text(encoding="utf-8")
    block = re.search(r"# <!-- value-classes:start -->.*?# <!-- value-classes:end -->", text,
                      flags=re.S).group(0)
    assert block == render_value_classes(), (
        "the value classes of popsim/scenario/year.py differ from the schema; run "
        "`python -m popsim.scenario.year --write`")
    assert [f.name for f in dataclasses.fields(YearValues)] == ["year", *SECTIONS]
    assert [f.name for f in dataclasses.fields(EnforcementValues)] == \
        list(SECTIONS["enforcement"].model_fields)


@pytest.fixture(scope="module")
def years():
    scenario = load_scenario("county", {"propaganda.reach": [[2000, 0.0], [2010, 0.1]],
                                        "enforcement.fine": {"step": [[2000, 1000],
                                                                      [2006, 5000]]}})
    return scenario, YearParams(scenario, 1990, 2012)


def test_values_equal_the_schema_values_each_year(years):
    scenario, params = years
    start = scenario.run.start_year
    for year in (1990, 1999, 2000, 2005, 2006, 2012):
        p = params[year]
        assert p.year == year
        for spec in iter_params():
            section, field = spec.path.split(".")
            value = getattr(getattr(p, section), field)
            expected = spec.off if (year < start and spec.off is not None) else \
                value_at(scenario.get(spec.path), year)
            assert value == expected, (year, spec.path)
            assert isinstance(value, _TYPES[spec.kind]), (spec.path, type(value))


def test_schedules_are_evaluated_on_the_first_of_january(years):
    _, params = years
    assert params[2005].propaganda.reach == pytest.approx(0.05)
    assert params[2005].enforcement.fine == 1000 and params[2006].enforcement.fine == 5000
    # burn-in years (before run.start_year) take every lever's off value
    assert params[1999].propaganda.reach == 0.0 and params[1999].incentives.eligibility == "none"
    assert params[1999].enforcement.inspections_per_month == 0.0
    assert params[1999].enforcement.fine == 1000  # no off value: its schedule throughout
    # years outside the range take the nearest year's values
    assert params[1900] is params[1990] and params[2100] is params[2012]


def test_year_values_are_frozen(years):
    _, params = years
    p = params[2005]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.enforcement.inspections_per_month = 99.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.policy = None
    assert not hasattr(p.enforcement, "__dict__")  # slots: no stray attributes either
    assert p.enforcement.campaign_months == (5, 6, 7, 8, 9, 10)


def test_fixed_constants_are_typed_and_marked(years):
    _, params = years
    fixed = {p.path for p in iter_params() if p.fixed}
    assert {"enforcement.misreport_cap", "market.late_share", "fertility.desired_max",
            "behaviour.case_memory_months"} <= fixed
    for path in fixed:
        spec = next(p for p in iter_params() if p.path == path)
        assert not spec.schedulable and spec.off is None and spec.source, path
    assert params[2005].fertility.desired_max == 8
    assert params[2005].enforcement.signal_max_age == 12
