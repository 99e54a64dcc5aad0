"""Scenario files: embedded names, extends, overrides, and clear errors for bad input."""

import textwrap

import pytest

from popsim.scenario import (ScenarioError, available_scenarios, load_scenario, scenario_hash,
                             scenario_to_toml)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_embedded_scenarios_load():
    names = available_scenarios()
    assert {"county", "baseline", "no_son_preference"} <= set(names)
    for name in names:
        s = load_scenario(name)
        assert s.name == name and names[name]


def test_county_matches_the_design_numbers():
    s = load_scenario("county")
    assert s.run.households == 65669 and s.population.townships == 16
    assert s.run.end_year - s.run.start_year + 1 >= 20
    assert s.market.county_hospitals == 3 and s.market.private_clinics == 111
    assert s.market.pharmacies == 76


def test_baseline_turns_every_lever_off():
    from popsim.scenario import iter_params

    base = load_scenario("baseline")
    for p in iter_params():
        if p.off is not None and p.path not in ("enforcement.accountability",
                                                "enforcement.misreport"):
            assert base.get(p.path) == p.off, p.path


def test_extends_and_overrides(tmp_path):
    f = write(tmp_path, "mine.toml", """
        extends = "county"
        description = "more inspections"
        [enforcement]
        inspections_per_month = 40
    """)
    s = load_scenario(f, ["propaganda.reach=0.2", "policy.regime=two_child"])
    assert s.name == "mine" and s.enforcement.inspections_per_month == 40
    assert s.propaganda.reach == 0.2 and s.policy.regime == "two_child"
    assert s.run.households == 65669  # inherited


def test_extends_a_file_beside_it(tmp_path):
    write(tmp_path, "parent.toml", "[enforcement]\ninspections_per_month = 33\n")
    child = write(tmp_path, "child.toml", 'extends = "parent"\n[propaganda]\nreach = 0.1\n')
    s = load_scenario(child)
    assert s.enforcement.inspections_per_month == 33 and s.propaganda.reach == 0.1


def test_toml_round_trip_and_hash():
    s = load_scenario("county", {"propaganda.reach": [[2000, 0.0], [2010, 0.1]]})
    again = load_scenario(s)
    assert again == s and scenario_hash(again) == scenario_hash(s)
    assert "[enforcement]" in scenario_to_toml(s)
    assert scenario_hash(load_scenario("baseline")) != scenario_hash(load_scenario("county"))


def test_unknown_section_names_file_key_and_suggestion(tmp_path):
    f = write(tmp_path, "typo.toml", "[enforcment]\ninspections_per_month = 3\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    msg = str(e.value)
    assert "typo.toml" in msg and "'enforcment'" in msg and "did you mean 'enforcement'" in msg


def test_unknown_field_suggests_closest(tmp_path):
    f = write(tmp_path, "typo2.toml", "[enforcement]\ninspection_per_month = 3\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    assert "enforcement.inspection_per_month" in str(e.value)
    assert "did you mean 'inspections_per_month'" in str(e.value)


def test_field_in_wrong_section_is_pointed_to(tmp_path):
    f = write(tmp_path, "wrong.toml", "[incentives]\ntip_reward = 3\n")
    with pytest.raises(ScenarioError, match="enforcement.tip_reward"):
        load_scenario(f)


def test_malformed_toml_names_the_line(tmp_path):
    f = write(tmp_path, "bad.toml", "[run]\nseed = 1\nhouseholds = = 3\n")
    with pytest.raises(ScenarioError, match=r"bad.toml: malformed TOML.*line 3"):
        load_scenario(f)


def test_missing_file_and_unknown_name_list_what_exists(tmp_path):
    with pytest.raises(ScenarioError, match="(?s)not found.*county"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError) as e:
        load_scenario("countyy")
    assert "did you mean 'county'" in str(e.value) and "baseline" in str(e.value)


def test_bad_override_key_and_cycle(tmp_path):
    with pytest.raises(ScenarioError, match="did you mean 'enforcement.fine'"):
        load_scenario("county", ["enforcement.fin=3"])
    with pytest.raises(ScenarioError, match="section.field=value"):
        load_scenario("county", ["enforcement.fine"])
    write(tmp_path, "a.toml", 'extends = "b"\n')
    write(tmp_path, "b.toml", 'extends = "a"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_end_before_start_is_refused():
    with pytest.raises(ScenarioError, match="run.end_year"):
        load_scenario("county", {"run.start_year": 2010, "run.end_year": 2005})
