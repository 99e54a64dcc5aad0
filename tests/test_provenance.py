"""popsim.provenance: every dataset says exactly what produced it, and nothing else."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

import xarray as xr

import popsim
from popsim.provenance import provenance, software_versions
from popsim.scenario import load_scenario, scenario_hash

TINY = {"run.households": 2000, "run.start_year": 2000, "run.end_year": 2003,
        "run.burn_in_years": 10}
CF_KEYS = {"Conventions", "title", "history", "source", "institution", "references"}
KEYS = CF_KEYS | {"scenario_name", "scenario_description", "scenario_toml", "scenario_sha256",
        "seed", "popsim_version", "mesa_version", "numpy_version", "xarray_version",
        "git_commit", "counts_scale", "natural_srb"}


def test_attrs_are_complete_and_name_the_scenario_exactly(tmp_path):
    scenario = load_scenario("crackdown_only", TINY)
    attrs = provenance(scenario, 12)
    assert set(attrs) == KEYS
    assert attrs["seed"] == 12 and attrs["scenario_name"] == "crackdown_only"
    assert attrs["scenario_sha256"] == scenario_hash(scenario)
    assert attrs["natural_srb"] == scenario.behaviour.natural_srb
    # the TOML alone reproduces the scenario
    f = tmp_path / "again.toml"
    f.write_text(attrs["scenario_toml"], encoding="utf-8")
    assert load_scenario(f) == scenario
    # netCDF-safe values only
    assert all(isinstance(v, (str, int, float)) for v in attrs.values())


def test_versions_and_commit_are_those_of_this_installation():
    v = software_versions()
    for key, dist in (("popsim_version", "popsim"), ("mesa_version", "mesa"),
                      ("numpy_version", "numpy"), ("xarray_version", "xarray")):
        assert v[key] == metadata.version(dist)
    src = Path(popsim.__file__).resolve().parent
    head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=False)
    assert v["git_commit"] == (head.stdout.strip() if head.returncode == 0 else "")


def test_same_scenario_and_seed_give_identical_datasets_attrs_included():
    a = popsim.run("county", seed=9, overrides=TINY)
    b = popsim.run("county", seed=9, overrides=TINY)
    xr.testing.assert_identical(a, b)
    assert KEYS <= set(a.attrs) and a.attrs["seed"] == 9
    c = popsim.run("county", seed=10, overrides=TINY)
    assert c.attrs["seed"] == 10 and not a["births"].equals(c["births"])


def test_cf_global_attrs_name_the_call_not_the_time_or_the_machine():
    scenario = load_scenario("crackdown_only", TINY)
    attrs = provenance(scenario, 12)
    assert attrs["Conventions"] == "CF-1.10"
    versions = software_versions()
    # history: the generator, the scenario (name and hash) and the seed; no date, user or host
    assert attrs["history"] == (f"popsim {versions['popsim_version']}: popsim.run(scenario "
                                f"'crackdown_only' (sha256 {scenario_hash(scenario)[:16]}), "
                                f"seed 12)")
    assert attrs["source"].startswith(f"popsim {versions['popsim_version']}")
    assert f"Mesa {versions['mesa_version']}" in attrs["source"]
    if versions["git_commit"]:
        assert versions["git_commit"][:12] in attrs["source"]
    # the same call gives the same attrs; another seed changes only what names the seed
    assert provenance(scenario, 12) == attrs
    other = provenance(scenario, 13)
    assert {k for k in attrs if attrs[k] != other[k]} == {"history", "seed"}
