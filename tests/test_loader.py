"""The scenario loader in-process: hostile files, extends, --set overrides, seeds and names.

Each refusal is a :class:`ScenarioError` (an :class:`InputError`) whose message names the file
or the override, the key and the bound; the command line maps it to exit code 2
(tests/test_hostile_inputs.py runs the same cases through ``popsim``).
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from popsim.errors import InputError, ScenarioError
from popsim.scenario import Scenario, check_seed, load_scenario, parse_overrides, read_toml
from popsim.scenario.loader import MAX_DEPTH, MAX_EXTENDS, MAX_FILE_BYTES


def refused(source, overrides=None) -> str:
    with pytest.raises(ScenarioError) as e:
        load_scenario(source, overrides)
    assert isinstance(e.value, InputError)
    return str(e.value)


# ------------------------------------------------------------------------------------------------
# files


def test_a_utf8_bom_is_stripped_and_the_file_loads(tmp_path):
    f = tmp_path / "bom.toml"
    f.write_bytes(codecs.BOM_UTF8 + b"[run]\nseed = 3\n")
    assert load_scenario(f).run.seed == 3


@pytest.mark.parametrize("data,needle", [
    ("[run]\nseed = 1\n".encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
    ("[run]\nseed = 1\n".encode("utf-16-le"), "is UTF-16 text"),
    ("[run]\nseed = 1\n".encode("utf-32"), "is UTF-32 text"),
    (b"\x00\x01\x02garbage" * 10, "not a UTF-8 text file (it contains zero bytes"),
    (b'[run]\n\xff = 1\n', "not a UTF-8 text file (byte 0xff at line 2, column 1)"),
    (b"x = " + b"[" * 4000 + b"]" * 4000, "malformed TOML: arrays or tables nested too deeply"),
    (b"[run]\nseed = " + b"7" * 5000, "malformed TOML: an integer with thousands of digits"),
    (b"[run]\nhouseholds = = 3\n", "malformed TOML: Invalid value (at line 2"),
])
def test_unreadable_content_is_one_line_naming_the_file(tmp_path, data, needle):
    f = tmp_path / "x.toml"
    f.write_bytes(data)
    msg = refused(f)
    assert msg.startswith(f"{f}: ") and needle in msg and "\n" not in msg


def test_nesting_is_bounded_whatever_builds_it(tmp_path):
    f = tmp_path / "deep.toml"
    f.write_text("[enforcement]\nfine = " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))
    assert f"is nested more than {MAX_DEPTH} levels deep" in refused(f)
    f.write_text("[" + ".".join(["a"] * 100_000) + "]\n")  # tomllib would take minutes
    assert "more than 256 dotted parts" in refused(f)
    f.write_text('description = "' + "e.g. " * 200 + '"\n[run]\nseed = 2\n')  # dots in text
    assert load_scenario(f).run.seed == 2


def test_size_is_checked_before_reading(tmp_path):
    f = tmp_path / "big.toml"
    with f.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing to read, but too big
    assert "at most 1 MiB" in refused(f)


def test_a_folder_a_pipe_and_an_unreadable_file(tmp_path, monkeypatch):
    (tmp_path / "d.toml").mkdir()
    assert refused(tmp_path / "d.toml") == f"{tmp_path / 'd.toml'}: is a folder, not a TOML file"
    os.mkfifo(tmp_path / "p.toml")
    assert refused(tmp_path / "p.toml").endswith("p.toml: is not a regular file")
    f = tmp_path / "locked.toml"
    f.write_text("[run]\nseed = 1\n")

    real_open = os.open

    def denied(path, *args, **kwargs):  # root can read a file of mode 000: deny it here
        if str(path) == str(f):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    assert refused(f) == f"{f}: cannot read the file: Permission denied"


def test_a_bare_name_that_is_a_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "county").mkdir()  # results/ holds such folders: the embedded name wins
    assert load_scenario("county").name == "county"
    (tmp_path / "mystuff").mkdir()
    assert refused("mystuff") == "mystuff: is a folder, not a scenario file"


def test_missing_file_is_one_line_listing_the_embedded_scenarios(tmp_path):
    msg = refused(tmp_path / "nope.toml")
    assert "scenario file not found" in msg and "county" in msg and "\n" not in msg


def test_read_toml_raises_the_callers_error(tmp_path):
    from popsim.errors import SpecError

    f = tmp_path / "spec.toml"
    f.write_bytes("[x]\n".encode("utf-16"))
    with pytest.raises(SpecError, match="spec.toml: the file is UTF-16"):
        read_toml(f, error=SpecError)
    f.write_text("[sweep]\nname = 'a'\n")
    assert read_toml(f) == {"sweep": {"name": "a"}}


def test_a_name_is_made_safe_only_when_taken_from_the_file_name(tmp_path):
    f = tmp_path / "my county (v2).toml"
    f.write_text("[run]\nseed = 1\n")
    assert load_scenario(f).name == "my_county_v2_"
    f.write_text('name = "my county"\n')
    assert "name = 'my county' is not a safe name" in refused(f)


# ------------------------------------------------------------------------------------------------
# extends


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_extends_is_relative_to_the_including_file(tmp_path, monkeypatch):
    write(tmp_path / "a" / "parts" / "base.toml", "[enforcement]\ninspections_per_month = 33\n")
    child = write(tmp_path / "a" / "child.toml", 'extends = "parts/base.toml"\n')
    write(tmp_path / "cwd" / "parts" / "base.toml", "[enforcement]\ninspections_per_month = 9\n")
    monkeypatch.chdir(tmp_path / "cwd")
    assert load_scenario(child).enforcement.inspections_per_month == 33
    assert load_scenario("../a/child.toml").enforcement.inspections_per_month == 33


def test_extends_by_name_finds_a_file_beside_then_an_embedded_scenario(tmp_path):
    write(tmp_path / "base.toml", "[enforcement]\nfine = 777\n")
    assert load_scenario(write(tmp_path / "c.toml", 'extends = "base"\n')).enforcement.fine == 777
    s = load_scenario(write(tmp_path / "b.toml", 'extends = "baseline"\n'))
    assert s.enforcement.inspections_per_month == 0 and s.name == "b"
    # a county.toml of one's own may extend the embedded county
    s = load_scenario(write(tmp_path / "county.toml", 'extends = "county"\n[run]\nseed = 4\n'))
    assert s.run.seed == 4 and s.run.households == 65669


@pytest.mark.parametrize("parent,needle", [
    ("/etc/passwd", "an absolute path is not allowed"),
    ("~/base.toml", "an absolute path is not allowed"),
    ("C:\\\\base.toml", "an absolute path is not allowed"),
    ("../base.toml", "climbs out of the folder"),
    ("sub/../../base.toml", "climbs out of the folder"),
    ("sub/nowhere.toml", "no such file"),
    ("countyy", "did you mean 'county'"),
    ("", "'extends' must be the name of a scenario"),
])
def test_bad_extends_names_the_file_that_holds_it(tmp_path, parent, needle):
    write(tmp_path / "base.toml", "")
    holder = write(tmp_path / "in" / "holder.toml", f'extends = "{parent}"\n')
    msg = refused(holder)
    assert msg.startswith(f"{holder}: ") and needle in msg and "\n" not in msg


def test_cycles_are_found_through_any_spelling(tmp_path):
    write(tmp_path / "a.toml", 'extends = "./b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "c"\n')
    write(tmp_path / "c.toml", 'extends = "sub/../a.toml"\n')
    msg = refused(tmp_path / "a.toml")
    assert f"{tmp_path / 'c.toml'}: extends = 'sub/../a.toml' forms a cycle" in msg
    assert msg.endswith(f"{tmp_path / 'a.toml'}")
    (tmp_path / "link.toml").symlink_to(tmp_path / "self.toml")
    write(tmp_path / "self.toml", 'extends = "link.toml"\n')
    assert "forms a cycle" in refused(tmp_path / "self.toml")


def test_a_long_chain_is_refused(tmp_path):
    for i in range(MAX_EXTENDS + 2):
        write(tmp_path / f"s{i}.toml", f'extends = "s{i + 1}"\n')
    write(tmp_path / f"s{MAX_EXTENDS + 2}.toml", "")
    assert f"chains more than {MAX_EXTENDS} files" in refused(tmp_path / "s0.toml")


def test_a_mistake_in_a_parent_names_the_parent_and_who_extends_it(tmp_path):
    write(tmp_path / "sub" / "base.toml", "[enforcement]\nfne = 3\n")
    child = write(tmp_path / "child.toml", 'extends = "sub/base.toml"\n')
    msg = refused(child)
    assert msg.startswith(f"{tmp_path / 'sub' / 'base.toml'} (extended by {child}): ")
    assert "unknown key 'enforcement.fne' (did you mean 'fine'?)" in msg
    (tmp_path / "sub" / "base.toml").write_bytes(b"\xff")
    assert refused(child).startswith(f"{child}: extends = 'sub/base.toml': ")


# ------------------------------------------------------------------------------------------------
# --set overrides


@pytest.mark.parametrize("item,needle", [
    ("enforcement.fine=abc", "--set enforcement.fine=abc: enforcement.fine must be a number in "
                             "[0, 100000000], got 'abc'"),
    ("enforcement.fine=[[2000,1]", "--set enforcement.fine=[[2000,1]: malformed TOML value: "),
    ("enforcement.fine=2x", "malformed TOML value: Expected newline or end of document after a "
                            "statement (at column 2)"),
    ("run.households=1,000", "--set run.households=1,000: malformed TOML value"),
    ("enforcment.fine=3", "--set enforcment.fine=3: no such parameter 'enforcment.fine' (did "
                          "you mean 'enforcement.fine'?)"),
    ("tip_reward=3", "(did you mean 'enforcement.tip_reward'?)"),
    ("enforcement.fine", "--set enforcement.fine: --set takes section.field=value"),
    ("name=a/b", "--set name=a/b: name = 'a/b' is not a safe name"),
    ("run.seed=-1", "--set run.seed=-1: run.seed = -1 is below the lower bound 0"),
    ("enforcement.campaign_months=[true]", "campaign_months must be a list of month numbers"),
    ("run.end_year=1990", "--set run.end_year=1990: run.end_year = 1990 is before"),
])
def test_a_bad_override_names_set_and_the_override_not_the_file(tmp_path, item, needle):
    f = write(tmp_path / "fine.toml", 'extends = "county"\n')
    msg = refused(f, [item])
    assert needle in msg and "fine.toml" not in msg and "\n" not in msg


def test_overrides_from_a_mapping_are_named_too():
    msg = refused("county", {"enforcement.fine": "abc"})
    assert msg.startswith("override enforcement.fine = 'abc': enforcement.fine must be a number")


def test_override_values_bare_words_and_toml():
    assert parse_overrides(["policy.regime=two_child", "enforcement.fine=3e4",
                            "enforcement.birth_audit=false", "name=my-run",
                            "propaganda.reach=[[2000, 0.1], [2010, 0.2]]"]) == {
        "policy.regime": "two_child", "enforcement.fine": 30000.0,
        "enforcement.birth_audit": False, "name": "my-run",
        "propaganda.reach": [[2000, 0.1], [2010, 0.2]]}
    s = load_scenario("county", ["enforcement.fine=-0"])
    assert s.enforcement.fine == 0


def test_an_override_replaces_a_value_of_a_valid_file(tmp_path):
    f = write(tmp_path / "f.toml", "[enforcement]\nfine = 5\n")
    assert load_scenario(f, ["enforcement.fine=7"]).enforcement.fine == 7


# ------------------------------------------------------------------------------------------------
# seeds and names


@pytest.mark.parametrize("value", [0, 1, 2**63 - 1, np.int64(5), 7.0])
def test_check_seed_accepts_whole_numbers_in_bounds(value):
    assert check_seed(value) == int(value) and type(check_seed(value)) is int


@pytest.mark.parametrize("value,needle", [
    (-1, "--seed = -1 is below the lower bound 0"),
    (2**63, "--seed = 9223372036854775808 is above the upper bound 9223372036854775807"),
    (1.5, "--seed must be a whole number in [0, 9223372036854775807], got 1.5"),
    (True, "--seed must be a whole number in [0, 9223372036854775807], got true"),
    ("5", "got '5'"),
    (float("nan"), "got nan"),
    (None, "got None"),
])
def test_check_seed_refuses_with_the_bound(value, needle):
    with pytest.raises(ScenarioError) as e:
        check_seed(value)
    assert needle in str(e.value)
    with pytest.raises(ScenarioError, match="^seed= "):
        check_seed(-1, "seed=")


def test_a_scenario_seed_is_bounded(tmp_path):
    f = write(tmp_path / "s.toml", "[run]\nseed = 9223372036854775808\n")
    assert "run.seed = 9223372036854775808 is above the upper bound 9223372036854775807" \
        in refused(f)


@pytest.mark.parametrize("name", ["../../etc/x", "a/b", "a\\b", "my run", "x" * 500, "..",
                                  ".hidden", "", "a..b", "tab\there", "naïve"])
def test_no_code_path_builds_a_scenario_with_an_unsafe_name(name):
    with pytest.raises(ValidationError, match="is not a safe name"):
        Scenario(name=name)
    with pytest.raises(ValidationError):
        Scenario.model_validate({"name": name})
    with pytest.raises(ScenarioError, match="is not a safe name"):
        load_scenario(Scenario(), {"name": name})


def test_embedded_names_and_common_names_are_safe():
    from popsim.scenario import available_scenarios

    for name in available_scenarios():
        assert load_scenario(name).name == name
    for name in ["county", "two_child_2016", "run-1", "v1.2", "A" * 64]:
        assert Scenario(name=name).name == name
