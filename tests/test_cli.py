"""The ``popsim`` command as a user runs it: real processes, real files, exit codes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

TINY = ["--set", "run.households=3000", "--set", "run.end_year=2004",
        "--set", "run.burn_in_years=15"]


def popsim(*args, cwd=None):
    exe = Path(sys.executable).with_name("popsim")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_run_writes_dataset_figure_and_table(tmp_path):
    r = popsim("run", *TINY, "--seed", "5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    nc = tmp_path / "results" / "county" / "county-seed5.nc"
    png = nc.with_suffix(".png")
    assert nc.is_file() and png.is_file() and png.stat().st_size > 10_000
    assert "SRB p2" in r.stdout and str(nc.relative_to(tmp_path)) in r.stdout
    with xr.open_dataset(nc) as ds:
        for v in ("births", "srb", "srb_by_parity", "tfr", "sex_determinations",
                  "sex_selective_abortions", "missing_female_births", "mean_son_preference"):
            assert v in ds and ds[v].attrs["units"] and ds[v].attrs["long_name"]
        assert ds.attrs["seed"] == 5 and "[enforcement]" in ds.attrs["scenario_toml"]
        assert list(ds["parity"].values) == ["1", "2", "3+"]
    leftovers = [p for p in nc.parent.iterdir() if p.name.startswith(".")]
    assert not leftovers, leftovers


def test_run_reads_a_file_and_out_path(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('extends = "baseline"\n[run]\nhouseholds = 3000\nend_year = 2003\n'
                 'burn_in_years = 10\n')
    out = tmp_path / "x" / "run.nc"
    r = popsim("run", str(f), "--out", str(out), "--no-plot")
    assert r.returncode == 0, r.stderr
    assert out.is_file() and not out.with_suffix(".png").exists()


@pytest.mark.parametrize("args,needles", [
    (["run", "countyy"], ["unknown scenario 'countyy'", "did you mean 'county'", "baseline"]),
    (["run", "--set", "enforcment.fine=3"], ["enforcment.fine", "enforcement.fine"]),
    (["run", "--set", "registration.coverage=2"], ["registration.coverage", "upper bound 1"]),
    (["validate", "missing.toml"], ["not found", "county"]),
    (["params", "nosuch"], ["no section 'nosuch'"]),
])
def test_bad_input_exits_2_without_traceback(tmp_path, args, needles):
    r = popsim(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def test_unknown_key_in_file_names_key_file_and_suggestion(tmp_path):
    f = tmp_path / "typo.toml"
    f.write_text("[enforcment]\ninspections_per_month = 40\n")
    r = popsim("validate", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "typo.toml" in r.stderr and "'enforcment'" in r.stderr
    assert "did you mean 'enforcement'" in r.stderr
    f.write_text("[run]\nhouseholds = = 3\n")
    r = popsim("validate", str(f))
    assert r.returncode == 2 and "line 2" in r.stderr


def test_usage_error_exits_2(tmp_path):
    r = popsim("run", "--seed", "abc", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_scenarios_show_validate_params():
    r = popsim("scenarios")
    assert r.returncode == 0 and "county" in r.stdout and "no_son_preference" in r.stdout
    r = popsim("show", "baseline", "--set", "propaganda.reach=0.1")
    assert r.returncode == 0 and "reach" in r.stdout and "0.1" in r.stdout
    assert "per month" in r.stdout  # units shown
    r = popsim("validate", "county", "baseline")
    assert r.returncode == 0 and r.stdout.count(": ok") == 2
    r = popsim("params", "enforcement")
    assert r.returncode == 0 and "enforcement.tip_reward" in r.stdout and "yuan" in r.stdout


def test_show_toml_is_a_loadable_complete_scenario(tmp_path):
    r = popsim("show", "county", "--toml")
    assert r.returncode == 0
    f = tmp_path / "full.toml"
    f.write_text(r.stdout)
    from popsim.scenario import load_scenario

    assert load_scenario(f) == load_scenario("county")
