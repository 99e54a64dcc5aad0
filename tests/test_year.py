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
    """Every field follows its schedule in every simulated year, the burn-in included."""
    scenario, params = years
    for year in (1990, 1999, 2000, 2005, 2006, 2012):
        p = params[year]
        assert p.year == year
        for spec in iter_params():
            section, field = spec.path.split(".")
            value = getattr(getattr(p, section), field)
            assert value == value_at(scenario.get(spec.path), year), (year, spec.path)
            assert isinstance(value, _TYPES[spec.kind]), (spec.path, type(value))


def test_schedules_are_evaluated_on_the_first_of_january(years):
    _, params = years
    assert params[2005].propaganda.reach == pytest.approx(0.05)
    assert params[2005].enforcement.fine == 1000 and params[2006].enforcement.fine == 5000
    # burn-in years (before run.start_year) follow the schedules too: the county's history
    assert params[1999].propaganda.reach == 0.0 and params[1999].incentives.eligibility == "none"
    assert params[1999].enforcement.inspections_per_month == pytest.approx(1.625)  # 1994-2002
    assert params[1999].enforcement.fine == 1000
    assert params[1990].enforcement.ban and not params[1990].registration.approval_required
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


def test_the_county_has_the_history_of_its_measures():
    """The default county's lever schedules (county.toml) follow china_context.csv and the
    county reports: the 1989 ban, the 2003 approval rule, the 2004 pension of 600 yuan a year per
    parent (720 from 2009, 960 from 2012), yearly campaigns from 2002, and the crackdown, the
    registration and the propaganda of comprehensive governance building up after 2006."""
    p = YearParams(load_scenario("county"), 1980, 2020)
    assert not p[1988].enforcement.ban and p[1989].enforcement.ban
    assert not p[2002].registration.approval_required and p[2003].registration.approval_required
    assert p[2003].incentives.eligibility == "none"
    assert p[2004].incentives.eligibility == "daughters_only"
    assert [p[y].incentives.benefit_per_year for y in (2003, 2004, 2009, 2012)] == \
        [0.0, 1200.0, 1440.0, 1920.0]
    assert p[2001].enforcement.campaign_multiplier == 1.0 < p[2002].enforcement.campaign_multiplier
    assert p[1988].enforcement.inspections_per_month == 0.0
    for path in ("enforcement.inspections_per_month", "registration.coverage",
                 "propaganda.reach", "enforcement.followup_capacity", "enforcement.tip_reward"):
        section, field = path.split(".")
        series = [getattr(getattr(p[y], section), field) for y in range(1985, 2021)]
        assert all(b >= a for a, b in zip(series, series[1:])), path  # it builds up
        assert series[0] < series[-1], path
    # at full strength by 2012: the schema defaults (the reports' intensity)
    assert p[2012].enforcement.inspections_per_month == 10.0
    assert p[2012].registration.coverage == pytest.approx(0.8)
    assert p[2012].enforcement.followup_capacity == pytest.approx(2.0)


def test_a_run_can_start_in_1980():
    """Recording from 1980 through the ban of 1989: sex determination is legal (no illegal
    purchase, no case) before it, illegal after it."""
    import popsim

    ds = popsim.run("county", seed=3, overrides={"run.start_year": 1980, "run.end_year": 1995,
                                                 "run.burn_in_years": 15,
                                                 "run.households": 20000})
    assert int(ds["year"][0]) == 1980
    before, after = ds.sel(year=slice(1980, 1988)), ds.sel(year=slice(1990, 1995))
    assert float(before["sex_determinations"].sum()) > 0
    assert float(before["illegal_purchases"].sum()) == 0 and float(before["cases"].sum()) == 0
    assert float(after["illegal_purchases"].sel(service="sex_check").sum()) > 0


def test_programme_intensity_scales_the_programme_and_nothing_else():
    """``enforcement.programme_intensity`` multiplies the programme's effort in every year
    (probabilities capped at 1) and leaves the sanctions, the law and the context alone."""
    base = load_scenario("china", {"enforcement.programme_intensity": 1.0})
    full = YearParams(base, 1980, 2013)
    for k in (0.0, 0.3, 3.0):
        scaled = YearParams(load_scenario("china", {"enforcement.programme_intensity": k}),
                            1980, 2013)
        for year in (1990, 2006, 2012):
            a, b = full[year], scaled[year]
            for section, fields, capped in year_module.INTENSITY_FIELDS:
                for f in fields:
                    want = getattr(getattr(a, section), f) * k
                    got = getattr(getattr(b, section), f)
                    assert got == pytest.approx(min(want, 1.0) if capped else want), (k, f)
            assert b.enforcement.fine == a.enforcement.fine
            assert b.enforcement.ban == a.enforcement.ban
            assert b.registration.approval_required == a.registration.approval_required
            assert b.son_preference == a.son_preference and b.market == a.market
    assert YearParams(load_scenario("county"), 2012, 2012)[2012] == \
        YearParams(load_scenario("county", {"enforcement.programme_intensity": 1.0}), 2012,
                   2012)[2012]
