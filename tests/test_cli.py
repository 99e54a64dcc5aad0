"""The ``popsim`` command as a user runs it: real processes, real files, exit codes."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

from popsim.cli import build_parser
from popsim.cli.common import DEFAULT_SCENARIO_NAME
from popsim.scenario.loader import DEFAULT_SCENARIO

TINY = ["--set", "run.households=3000", "--set", "run.end_year=2004",
        "--set", "run.burn_in_years=15"]


def popsim(*args, cwd=None):
    exe = Path(sys.executable).with_name("popsim")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_run_writes_dataset_figure_and_table(tmp_path):
    r = popsim("run", *TINY, "--seed", "5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # --set overrides put a hash of themselves in the name (the plain run's file is another)
    [nc] = (tmp_path / "results" / "county").glob("*.nc")
    assert re.fullmatch(r"county-seed5-set-[0-9a-f]{8}\.nc", nc.name), nc.name
    png = nc.with_suffix(".png")
    assert nc.is_file() and png.is_file() and png.stat().st_size > 10_000
    assert "SRB p2" in r.stdout and str(nc.relative_to(tmp_path)) in r.stdout
    with xr.open_dataset(nc) as ds:
        for v in ("births", "srb", "srb_by_parity", "tfr", "sex_determinations",
                  "sex_selective_abortions", "missing_female_births", "mean_son_preference"):
            assert v in ds and ds[v].attrs["units"] and ds[v].attrs["long_name"]
        assert ds.attrs["seed"] == 5 and "[enforcement]" in ds.attrs["scenario_toml"]
        assert json.loads(ds.attrs["overrides"])["run.households"] == 3000
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


# ------------------------------------------------------------------------------------------------
# checks before any work (issue 10)

SMALL_TOML = ('name = "small"\nextends = "county"\n[run]\nhouseholds = 2000\nend_year = 2003\n'
              'burn_in_years = 10\n')


@pytest.mark.parametrize("seed, needle", [
    ("-1", "--seed = -1 is below the lower bound 0"),
    (str(2**63), f"--seed = {2**63} is above the upper bound {2**63 - 1}"),
    ("1.5", "invalid int value"),
])
def test_bad_seed_is_refused_before_any_work(tmp_path, seed, needle):
    for command in ("run", "compare"):
        r = popsim(command, "county", f"--seed={seed}", cwd=tmp_path)
        assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "results").exists()


def test_out_of_the_wrong_kind_is_refused_before_the_run(tmp_path):
    (tmp_path / "a.nc").mkdir()
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "cmp" / "compare.nc").mkdir(parents=True)
    cases = [("run", "a.nc", "a.nc is a folder; give a file name"),
             ("compare", "cmp", "compare.nc is a folder; give a file name")]
    for command in ("run", "compare"):
        cases += [(command, "afile", "afile is a file, not a folder"),
                  (command, "afile/sub", "afile is a file, not a folder"),
                  (command, "/proc/popsim-cannot-write-here", "cannot write into")]
    for command, out, needle in cases:
        r = popsim(command, "county", "--out", out, cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, (command, out, r.stderr)
        assert needle in r.stderr and "popsim county:" not in r.stdout, (command, r.stderr)
        assert "run/s" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nc", "afile", "cmp"]


def test_a_name_that_climbs_out_of_results_is_refused(tmp_path):
    r = popsim("run", "--set", "name=../../escaped", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "name" in r.stderr
    assert not (tmp_path.parent / "escaped").exists() and not (tmp_path / "results").exists()


def test_set_never_overwrites_the_plain_run(tmp_path):
    (tmp_path / "small.toml").write_text(SMALL_TOML, encoding="utf-8")
    plain = popsim("run", "small.toml", "--seed", "2", "--no-plot", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    folder = tmp_path / "results" / "small"
    before = (folder / "small-seed2.nc").read_bytes()
    a = popsim("run", "small.toml", "--seed", "2", "--no-plot", "--set", "enforcement.fine=3",
               "--set", "propaganda.reach=0", cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    assert (folder / "small-seed2.nc").read_bytes() == before
    names = sorted(p.name for p in folder.iterdir())
    [tagged] = [n for n in names if n != "small-seed2.nc"]
    assert len(names) == 2 and re.fullmatch(r"small-seed2-set-[0-9a-f]{8}\.nc", tagged)
    with xr.open_dataset(folder / tagged) as ds:
        assert json.loads(ds.attrs["overrides"]) == {"enforcement.fine": 3.0,
                                                     "propaganda.reach": 0.0}
    # the same overrides in another order and spelling name the same file
    b = popsim("run", "small.toml", "--seed", "2", "--no-plot", "--set", "propaganda.reach=0.0",
               "--set", "enforcement.fine=3.0", cwd=tmp_path)
    assert b.returncode == 0 and sorted(p.name for p in folder.iterdir()) == names
    assert "-set-<hash>" in popsim("run", "--help").stdout.replace("\n", " ")


# ------------------------------------------------------------------------------------------------
# a light command line (issue 11)


@pytest.mark.parametrize("argv, heavy", [
    (["--version"], ["mesa", "xarray", "numpy", "pydantic", "popsim.model", "popsim.scenario"]),
    (["--help"], ["mesa", "xarray", "numpy", "pydantic", "popsim.model", "popsim.scenario"]),
    (["compare", "--help"], ["mesa", "xarray", "numpy", "popsim.model", "popsim.scenario"]),
    (["scenarios"], ["mesa", "xarray", "popsim.model", "popsim.api", "matplotlib"]),
])
def test_light_commands_do_not_import_the_model(argv, heavy):
    code = ("import sys, json\nfrom popsim.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\n"
            "print('MODULES', json.dumps(sorted(sys.modules)), file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                       timeout=120)
    line = next(x for x in r.stderr.splitlines() if x.startswith("MODULES "))
    loaded = set(json.loads(line[len("MODULES "):]))
    assert not [m for m in heavy if m in loaded]


def test_parser_defaults_agree_with_the_library():
    assert DEFAULT_SCENARIO_NAME == DEFAULT_SCENARIO
    parser = build_parser()
    args = parser.parse_args(["run"])
    assert args.scenario == DEFAULT_SCENARIO and args.yes is False
    args = parser.parse_args(["app", "--allow-host", "classroom:8765"])
    assert args.scenario == DEFAULT_SCENARIO and args.allow_host == ["classroom:8765"]
    assert parser.parse_args(["compare", "county"]).baseline is None


def test_a_misspelt_command_gets_a_suggestion():
    r = popsim("comapre", "county")
    assert r.returncode == 2 and "did you mean 'compare'" in r.stderr
    assert "Traceback" not in r.stderr


def test_an_unknown_argument_shows_the_sub_command_usage():
    r = popsim("run", "--bogus")
    assert r.returncode == 2
    assert r.stderr.startswith("usage: popsim run") and "unrecognized arguments: --bogus" in r.stderr


def test_a_closed_pipe_is_not_a_traceback(monkeypatch):
    # `popsim params | head -1`: the reader goes away; writing then raises BrokenPipeError.
    # A real pipe whose read end is closed makes every write fail, whatever the output's size.
    from popsim.cli import main

    read_end, write_end = os.pipe()
    os.close(read_end)
    out = os.fdopen(write_end, "w", buffering=1)
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["params"]) == 0
    out.close()


# ------------------------------------------------------------------------------------------------
# replicates, ensembles and the sampling error of one run (issue 15)

def _posterior(folder: Path) -> Path:
    """Two behaviour coefficients, three weighted samples within the schema's bounds."""
    from popsim.experiments.ensemble import posterior_dataset, write_posterior

    ds = posterior_dataset(["behaviour.abort_intercept", "behaviour.seek_motivation"],
                           [[-20.0, 8.0], [2.0, 8.0], [-4.0, 6.0]], [0.3, 0.3, 0.4],
                           attrs={"method": "test fixture"})
    return write_posterior(ds, folder / "post.nc")


def _stem(nc: Path) -> str:
    return nc.name[:-len(".nc")]


def test_one_county_run_says_its_sampling_error_and_marks_thin_cells(tmp_path):
    r = popsim("run", *TINY, "--seed", "5", "--no-plot", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    [nc] = (tmp_path / "results" / "county").glob("*.nc")
    with xr.open_dataset(nc) as ds:
        assert "replicate" not in ds.dims  # one run: exactly the dataset popsim.run gives
        births = ds["births"].load()
    text = " ".join(r.stdout.split())
    assert "NOTE: one run of a county-sized scenario" in text
    # the standard error printed is the binomial one of this run's births, not a constant
    from popsim.experiments.compare_metrics import srb_standard_error

    male, female = (float(births.sel(sex=s).sum()) for s in ("male", "female"))
    per_year = (male + female) / births.sizes["year"]
    se = float(srb_standard_error(per_year, 100 * male / female))
    assert f"about +-{se:.1f} points" in text and f"({per_year:,.0f} births a year" in text
    # 3,000 households give ~150 births a year: every SRB cell is too thin to read, and says so
    rows = [line for line in r.stdout.splitlines() if line[:4].isdigit()]
    assert len(rows) == 5 and all(line.count("*") == 5 for line in rows)
    assert "* too few births to read" in r.stdout and "exceeds 10 points" in text


def test_the_sampling_note_follows_the_births_not_the_scenario_name():
    from popsim.reports.run_report import COUNTY_BIRTHS, run_table, sampling_note

    ds = popsim_run_small()
    assert sampling_note(ds) is not None
    big = ds.copy()
    big["births"] = ds["births"] * (2 * COUNTY_BIRTHS / float(ds["total_births"].mean()))
    big["reported_births"] = ds["reported_births"] * 1000
    assert sampling_note(big) is None
    assert "*" not in run_table(big).split("\n", 2)[2]  # enough births in every cell


def popsim_run_small():
    import popsim as api

    return api.run("county", seed=3, overrides={"run.households": 3000, "run.end_year": 2003,
                                                "run.burn_in_years": 10})


def test_replicates_stack_runs_and_print_median_and_interval(tmp_path):
    from popsim.model.streams import replicate_seeds

    r = popsim("run", *TINY, "--seed", "5", "--replicates", "3", "--workers", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    [nc] = (tmp_path / "results" / "county").glob("*.nc")
    assert re.fullmatch(r"county-seed5-set-[0-9a-f]{8}-r3", _stem(nc)), nc.name
    assert nc.with_suffix(".png").stat().st_size > 10_000
    with xr.open_dataset(nc) as ds:
        assert ds.sizes["replicate"] == 3 and ds["srb"].dims == ("replicate", "year")
        assert list(ds["seed"].values) == replicate_seeds(5, 3)
        assert ds.attrs["seed"] == 5 and ds.attrs["replicates"] == 3
        assert "ensemble" not in ds.attrs and "draw" not in ds.coords
        srb = ds["srb"].load()
    assert "NOTE" not in r.stdout  # replicates give the interval the note asks for
    assert "median [5% to 95% percentile] of 3 replicates (seeds only" in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.startswith("2002"))
    median = float(srb.sel(year=2002).median())
    assert row.split()[2].startswith(f"{median:.1f}"), row


def test_an_ensemble_gives_replicate_r_draw_r_and_seed_r(tmp_path):
    import numpy as np

    import popsim as api
    from popsim.experiments.ensemble import read_posterior
    from popsim.model.streams import replicate_seeds

    post = read_posterior(_posterior(tmp_path))
    r = popsim("run", *TINY, "--seed", "5", "--ensemble", "post.nc", "--draws", "4",
               "--workers", "1", "--no-plot", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    [nc] = (tmp_path / "results" / "county").glob("*.nc")
    assert _stem(nc).endswith(f"-ens-{post.digest[:8]}-r4"), nc.name
    draws = post.draws(4, 5)
    with xr.open_dataset(nc) as ds:
        ds = ds.load()
    assert ds.sizes["replicate"] == 4 and list(ds["seed"].values) == replicate_seeds(5, 4)
    assert list(ds["ensemble_parameter"].values) == list(post.parameters)
    np.testing.assert_array_equal(ds["draw_value"].values,
                                  [[d[p] for p in post.parameters] for d in draws])
    assert ds.attrs["ensemble_sha256"] == post.digest and ds.attrs["ensemble"].endswith("post.nc")
    assert "seeds and posterior draws" in r.stdout
    # replicate 1 is exactly the run of the scenario with draw 1 and seed 1
    one = api.run("county", seed=replicate_seeds(5, 4)[1],
                  overrides={"run.households": 3000, "run.end_year": 2004,
                             "run.burn_in_years": 15, **draws[1]})
    np.testing.assert_array_equal(ds["births"].isel(replicate=1).values, one["births"].values)


@pytest.mark.parametrize("args, needle", [
    (["--draws", "3"], "--draws needs --ensemble"),
    (["--ensemble", "post.nc", "--draws", "3", "--replicates", "4"],
     "--draws 3 and --replicates 4"),
    (["--ensemble", "missing.nc"], "posterior 'missing.nc': no such file"),
    (["--ensemble", "post.nc", "--set", "behaviour.seek_motivation=3"],
     "--set behaviour.seek_motivation conflicts with --ensemble post.nc"),
    (["--replicates", "0"], "--replicates must be at least 1"),
    (["--ensemble", "post.nc", "--draws", "0"], "--draws must be at least 1"),
])
def test_bad_ensemble_arguments_are_refused_before_any_run(tmp_path, args, needle):
    _posterior(tmp_path)
    r = popsim("run", *args, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert needle in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "results").exists()


def test_the_parser_spells_out_the_ensemble_default():
    from popsim.cli.run import DEFAULT_ENSEMBLE_DRAWS
    from popsim.experiments.ensemble import DEFAULT_DRAWS

    assert DEFAULT_ENSEMBLE_DRAWS == DEFAULT_DRAWS
