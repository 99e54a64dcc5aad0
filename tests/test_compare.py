"""Tests of the scenario library and ``popsim compare`` (issue 4; the baseline's context, issue 10).

The statistical checks share one comparison (:func:`planner_runs`): eight scenarios, shortened
runs (2000-2010, a 20-year burn-in, fewer women than the county) and ``R`` replicates with common
random numbers. Orderings are asserted on within-replicate (paired) differences with a margin of
three standard errors of the replicate spread, never on exact values, so that a re-calibration of
the model defaults keeps them meaningful.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import popsim
from popsim.cli import main
from popsim.errors import InputError
from popsim.experiments.compare import (COLUMNS, compare, context_differences, context_paths,
                                        levers_off, load_comparison, planner_table)
from popsim.experiments.compare_metrics import quantile_interval, unpaired_interval
from popsim.experiments.ensemble import posterior_dataset, write_posterior
from popsim.model.recording import srb
from popsim.model.streams import replicate_seeds
from popsim.reports.compare_report import (format_csv, format_markdown, format_terminal,
                                           write_outputs)
from popsim.scenario import (ScenarioError, available_scenarios, iter_params, load_scenario,
                             scenario_to_dict)
from popsim.scenario.year import YearParams

LIBRARY = ["propaganda_only", "incentives_only", "crackdown_only", "registration_only",
           "comprehensive", "crackdown_no_cross_region", "small_family_incentive",
           "two_child_2016", "accountability_pressure"]
SINGLE_MEASURES = ["propaganda_only", "incentives_only", "crackdown_only", "registration_only"]
#: Shortened runs for the statistical checks (the county has 65,669 women, 2000-2020).
SHORT = {"run.households": 30000, "run.start_year": 2000, "run.end_year": 2010,
         "run.burn_in_years": 20}
REPLICATES = 6
SEED = 1
#: Tiny runs for plumbing tests (seconds).
TINY = {"run.households": 2000, "run.start_year": 2000, "run.end_year": 2003,
        "run.burn_in_years": 10}
SCENARIO_DIR = Path(popsim.__file__).parent / "scenario" / "library"


def _se(d: np.ndarray) -> float:
    return float(np.std(d, ddof=1) / np.sqrt(d.size))


def _assert_positive(d: np.ndarray, what: str, k: float = 3.0) -> None:
    """The mean of paired differences ``d`` exceeds ``k`` standard errors of their spread."""
    assert d.mean() - k * _se(d) > 0, (f"{what}: mean {d.mean():.2f}, se {_se(d):.2f}, "
                                       f"values {np.round(d, 2)}")


@pytest.fixture(scope="module")
def planner_runs() -> xr.Dataset:
    names = SINGLE_MEASURES + ["comprehensive", "small_family_incentive",
                               "accountability_pressure"]
    return compare(names, replicates=REPLICATES, seed=SEED, baseline="baseline", overrides=SHORT,
                   workers=2)


# ------------------------------------------------------------------------------------------------
# the scenario library


def _flat(name: str) -> dict[str, object]:
    d = scenario_to_dict(load_scenario(name))
    return {f"{s}.{k}": v for s, t in d.items() if isinstance(t, dict) for k, v in t.items()}


@pytest.mark.parametrize("name", LIBRARY)
def test_library_file_is_documented_and_extends(name):
    text = (SCENARIO_DIR / f"{name}.toml").read_text(encoding="utf-8")
    assert text.startswith("# "), "a header comment says what the scenario represents"
    data = tomllib.loads(text)
    assert data["name"] == name
    assert data["description"].strip().splitlines()[0] == available_scenarios()[name]
    assert data["extends"] in {"county", "baseline"} | set(LIBRARY)
    assert load_scenario(name).name == name


@pytest.mark.parametrize("name, sections", [
    ("propaganda_only", {"propaganda"}),
    ("incentives_only", {"incentives"}),
    ("crackdown_only", {"enforcement"}),
    ("registration_only", {"registration", "enforcement"}),
    ("crackdown_no_cross_region", {"enforcement"}),
    ("small_family_incentive", {"incentives"}),
])
def test_single_measure_differs_from_baseline_only_in_its_levers(name, sections):
    base, this = _flat("baseline"), _flat(name)
    changed = {k.split(".")[0] for k in base if base[k] != this[k]}
    assert changed == sections


def test_registration_only_keeps_only_followups_of_enforcement():
    base, this = _flat("baseline"), _flat("registration_only")
    changed = {k for k in base if k.startswith("enforcement.") and base[k] != this[k]}
    assert changed == {"enforcement.followup_capacity", "enforcement.cross_region_cooperation"}


def test_two_child_2016_keeps_two_child_after_2020_unlike_county():
    county = YearParams(load_scenario("county"), 2010, 2025)
    two = YearParams(load_scenario("two_child_2016"), 2010, 2025)
    assert [two[y].policy.regime for y in (2015, 2016, 2025)] == \
        ["one_and_half", "two_child", "two_child"]
    assert county[2025].policy.regime == "three_child"
    assert all(two[y].policy.regime == county[y].policy.regime for y in range(2010, 2021))


# ------------------------------------------------------------------------------------------------
# done-when: statistical orderings on one shared comparison


def test_paired_interval_narrower_than_unpaired(planner_runs):
    ds = planner_runs
    table = planner_table(ds)
    base = ds["missing_female_births_run"].sel(scenario="baseline").values
    for name in ds["scenario"].values[1:]:
        averted = ds["averted_run"].sel(scenario=name).values
        lo, hi = quantile_interval(averted)
        ulo, uhi = unpaired_interval(base, ds["missing_female_births_run"].sel(scenario=name)
                                     .values)
        assert hi - lo < uhi - ulo, \
            f"{name}: paired {lo:.0f}..{hi:.0f}, unpaired {ulo:.0f}..{uhi:.0f}"
        # the table reports the same two intervals around the same mean
        row = table["averted_run"].sel(scenario=name).values
        urow = table["averted_run_unpaired"].sel(scenario=name).values
        np.testing.assert_allclose(row, [averted.mean(), lo, hi])
        np.testing.assert_allclose(urow, [averted.mean(), ulo, uhi])
    # over all scenarios the pairing at least halves the interval
    widths = [np.subtract(*quantile_interval(ds["averted_run"].sel(scenario=n).values)[::-1])
              for n in ds["scenario"].values[1:]]
    unpaired = [np.subtract(*unpaired_interval(base, ds["missing_female_births_run"]
                                               .sel(scenario=n).values)[::-1])
                for n in ds["scenario"].values[1:]]
    assert np.sum(widths) < 0.5 * np.sum(unpaired)


@pytest.mark.parametrize("single", SINGLE_MEASURES)
def test_comprehensive_averts_more_than_single_measure(planner_runs, single):
    a = planner_runs["averted_run"]
    _assert_positive(a.sel(scenario="comprehensive").values - a.sel(scenario=single).values,
                     f"comprehensive - {single}, missing female births averted")


def test_single_measures_avert_missing_girls(planner_runs):
    # the orderings above compare real effects, not noise around zero
    a = planner_runs["averted_run"]
    for name in ("propaganda_only", "crackdown_only", "registration_only", "comprehensive"):
        _assert_positive(a.sel(scenario=name).values, f"{name} averted")


def test_small_family_incentive_raises_first_birth_srb(planner_runs):
    # First births of the whole run, pooled: one year of first births in a shortened county is
    # too few to separate an effect of a point or two (the end-year column is reported too).
    p1 = planner_runs["srb_by_parity_run"].sel(parity="1")
    d = p1.sel(scenario="small_family_incentive").values - p1.sel(scenario="baseline").values
    _assert_positive(d, "first-birth SRB, small_family_incentive - baseline")


def _report_gap(ds: xr.Dataset, years: slice) -> xr.DataArray:
    """Reported minus true SRB of the births of ``years`` pooled, per scenario and replicate."""
    w = ds.sel(year=years)
    return (srb(w["reported_births"].sum(["year", "parity"]))
            - srb(w["births"].sum(["year", "parity"])))


def test_accountability_pressure_reports_srb_below_truth(planner_runs):
    visible = 2.0  # SRB points: beyond the rounding of any report and the +2 of concealment
    # the pressure starts in 2006 (the national campaign): the years after it
    gap = _report_gap(planner_runs, slice(2007, 2010))
    acc = gap.sel(scenario="accountability_pressure").values
    # how much is misreported depends on how far a noisy reported figure missed the target
    # when the pressure began: the replicates report below the truth, on average by more than
    # the visible margin
    assert acc.mean() + 2 * _se(acc) < 0 and acc.mean() < -visible, \
        f"reported - true SRB: {np.round(acc, 1)}"
    # without the pressure, concealment of girls makes the reported SRB higher, not lower
    d = gap.sel(scenario="comprehensive").values - acc
    _assert_positive(d, "reported-true gap, comprehensive - accountability_pressure")
    assert d.mean() > 2 * visible


# ------------------------------------------------------------------------------------------------
# the dataset and the table


def test_replicates_use_common_seeds_and_equal_single_runs():
    ds = compare(["crackdown_only"], replicates=2, seed=7, overrides=TINY, workers=1)
    seeds = replicate_seeds(7, 2)
    assert list(ds["seed"].values) == seeds
    # without --baseline the baseline is the first scenario with its measures off
    assert list(ds["scenario"].values) == ["crackdown_only_no_measures", "crackdown_only"]
    derived = levers_off(load_scenario("crackdown_only", TINY))
    for name, scenario in (("crackdown_only_no_measures", derived),
                           ("crackdown_only", load_scenario("crackdown_only", TINY))):
        single = popsim.run(scenario, seed=seeds[1])
        part = ds.sel(scenario=name, replicate=1, drop=True)[list(single.data_vars)]
        part = part.drop_vars([c for c in part.coords if c not in single.coords])
        xr.testing.assert_equal(part, single)


def test_comparison_is_reproducible_on_every_executor():
    a = compare(["incentives_only"], replicates=2, seed=3, overrides=TINY, workers=1)
    b = compare(["incentives_only"], replicates=2, seed=3, overrides=TINY, workers=2)
    xr.testing.assert_identical(a, b)


def test_planner_table_shape_and_baseline_blank():
    ds = compare(["comprehensive", "baseline"], replicates=3, seed=5, baseline="baseline",
                 overrides=TINY, workers=1)
    assert list(ds["scenario"].values) == ["baseline", "comprehensive"]  # listed once, first
    table = planner_table(ds)
    assert set(table.data_vars) == {c.key for c in COLUMNS} | {
        "ce_rank", "ce_status", "ce_versus", "frontier_share", "cell_births"}
    assert table["averted_run"].sel(scenario="baseline").isnull().all()
    assert np.isfinite(table["srb_end"].values).all()
    total = ds["total_cost_run"].sel(scenario="comprehensive").values
    parts = sum(ds[k].sel(scenario="comprehensive").values
                for k in ("incentive_cost_run", "enforcement_cost_run", "propaganda_cost_run"))
    np.testing.assert_allclose(total, parts)
    assert (ds["rewards_run"] <= ds["enforcement_cost_run"]).all()
    text = format_terminal(table)
    assert "comprehensive" in text and "averted (run)" in text
    md = format_markdown(table, ds)
    assert "| `comprehensive` |" in md and "## Columns" in md
    rows = format_csv(table, ds).splitlines()
    assert len(rows) == 3 and rows[0].startswith("scenario,description,srb_end_mean")
    assert ",ce_rank,ce_status,ce_versus,frontier_share," in rows[0]


def test_write_outputs_roundtrip(tmp_path):
    ds = compare(["registration_only"], replicates=2, seed=2, overrides=TINY, workers=1)
    paths = write_outputs(ds, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["compare.csv", "compare.md", "compare.nc", "compare.png", "compare_dictionary.csv"]
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with xr.open_dataset(paths["nc"]) as back:
        xr.testing.assert_identical(back.load(), ds)


def test_bad_input_in_the_api():
    with pytest.raises(InputError, match="at least 1"):
        compare(["comprehensive"], replicates=0)
    with pytest.raises(InputError, match="seed = -1 is below the lower bound 0"):
        compare(["comprehensive"], replicates=1, seed=-1)
    with pytest.raises(ScenarioError, match="embedded scenarios: .*comprehensive"):
        load_comparison(["comprehensiv"])
    with pytest.raises(ScenarioError, match="run.end_year: 2020 in 'comprehensive_no_measures' "
                                            "vs 2010 in 'short'"):
        load_comparison(["comprehensive",
                         load_scenario("comprehensive", {"run.end_year": 2010, "name": "short"})])
    with pytest.raises(ScenarioError, match="two different scenarios are named 'baseline'"):
        load_comparison(["baseline", load_scenario("comprehensive", {"name": "baseline"})])


# ------------------------------------------------------------------------------------------------
# the baseline shares the county (issue 10: a custom county against the embedded baseline gave a
# wrong "averted" figure)


def test_levers_off_switches_every_measure_and_keeps_the_county():
    county = load_scenario("county")
    off = levers_off(county)
    assert off.name == "county_no_measures"
    for p in iter_params():
        if p.section_kind == "lever" and p.off is not None:
            assert off.get(p.path) == p.off, p.path
        else:
            assert off.get(p.path) == county.get(p.path), p.path
    assert context_differences(county, off) == []


def test_embedded_county_and_baseline_share_the_context():
    county, baseline = load_scenario("county"), load_scenario("baseline")
    assert context_differences(county, baseline) == []
    assert "run.households" in context_paths() and "population.townships" in context_paths()
    assert "run.seed" not in context_paths()
    assert not any(p.startswith(("enforcement.inspections", "policy.")) for p in context_paths())
    # 'baseline' is county with the measures off in every year: what levers_off derives
    off = levers_off(county)
    differ = [p.path for p in iter_params() if off.get(p.path) != baseline.get(p.path)]
    assert differ == []


def test_a_listed_scenario_without_measures_is_the_baseline():
    assert [s.name for s in load_comparison(["baseline", "comprehensive"])] == \
        ["baseline", "comprehensive"]
    # comprehensive with every lever off is 'baseline' itself: the listed twin is the baseline
    assert [s.name for s in load_comparison(["comprehensive", "baseline"])] == \
        ["baseline", "comprehensive"]
    # without a listed twin it is derived
    assert [s.name for s in load_comparison(["comprehensive", "crackdown_only"])] == \
        ["comprehensive_no_measures", "comprehensive", "crackdown_only"]


def test_scenarios_of_another_county_are_refused():
    with pytest.raises(ScenarioError, match="son_preference.rural_shift: 0.25 in "
                                            "'county_no_measures' vs 0.0 in 'no_son_preference'"):
        load_comparison(["county", "no_son_preference"])


def _my_county(tmp_path: Path) -> Path:
    f = tmp_path / "my_county.toml"
    f.write_text('name = "my_county"\ndescription = "A small county of 8 townships."\n'
                 'extends = "county"\n[run]\nhouseholds = 2000\nend_year = 2003\n'
                 'burn_in_years = 10\n[population]\ntownships = 8\n'
                 '[enforcement]\ninspections_per_month = 20.0\n', encoding="utf-8")
    return f


def test_cli_custom_county_gets_a_baseline_of_the_same_county(tmp_path, capsys):
    out = tmp_path / "cmp"
    code, stdout, err = _cli(["compare", str(_my_county(tmp_path)), "--replicates", "2",
                              "--seed", "3", "--workers", "1", "--out", str(out)], capsys)
    assert code == 0, err
    assert "baseline 'my_county_no_measures' ('my_county' with every measure off" in stdout
    with xr.open_dataset(out / "compare.nc") as ds:
        assert list(ds["scenario"].values) == ["my_county_no_measures", "my_county"]
        assert ds.attrs["baseline"] == "my_county_no_measures"
        assert ds.attrs["households"] == 2000 and ds.sizes["township"] == 8
        base_toml = str(ds["toml"].values[0])
    base_file = tmp_path / "base.toml"
    base_file.write_text(base_toml, encoding="utf-8")
    base = load_scenario(base_file)
    assert base.run.households == 2000 and base.population.townships == 8
    assert base.enforcement.inspections_per_month == 0.0 and base.registration.coverage == 0.0
    assert "with every measure off" in (out / "compare.md").read_text(encoding="utf-8")


def test_cli_custom_county_against_the_embedded_baseline_is_refused(tmp_path, capsys):
    code, stdout, err = _cli(["compare", str(_my_county(tmp_path)), "--baseline", "baseline",
                              "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "Traceback" not in err
    assert "'my_county' is not the same county as the baseline 'baseline'" in err
    assert "run.households: 65669 in 'baseline' vs 2000 in 'my_county'" in err
    assert "population.townships: 16 in 'baseline' vs 8 in 'my_county'" in err
    assert "run.end_year: 2020 in 'baseline' vs 2003 in 'my_county'" in err
    assert "run/s" not in err and not (tmp_path / "x").exists()


# ------------------------------------------------------------------------------------------------
# ensembles (issue 15): replicate r of every scenario uses seed r and posterior draw r

#: two behaviour coefficients, samples spread over a wide plausible range (defaults 8 and 9)
POSTERIOR_PARAMETERS = ["behaviour.seek_motivation", "behaviour.abort_motivation"]
POSTERIOR_VALUES = [[4, 5], [6, 13], [8, 9], [10, 7], [12, 11], [5, 12], [11, 6]]
#: enough births and replicates that the widths below are not a matter of noise
ENSEMBLE_RUNS = {"run.households": 4000, "run.start_year": 2000, "run.end_year": 2005,
                 "run.burn_in_years": 15}
ENSEMBLE_REPLICATES = 12


def _posterior(path: Path, parameters=POSTERIOR_PARAMETERS, values=POSTERIOR_VALUES) -> Path:
    v = np.asarray(values, dtype=float)
    ds = posterior_dataset(parameters, v, np.full(len(v), 1 / len(v)),
                           attrs={"method": "test", "title": "test posterior"})
    return write_posterior(ds, path)


def _width(table: xr.Dataset, key: str, name: str) -> float:
    v = table[key].sel(scenario=name)
    return float(v.sel(stat="hi") - v.sel(stat="lo"))


def test_ensemble_widens_intervals_and_keeps_the_difference_paired(tmp_path):
    post = _posterior(tmp_path / "posterior.nc")
    kw = dict(replicates=ENSEMBLE_REPLICATES, seed=3, baseline="baseline",
              overrides=ENSEMBLE_RUNS, workers=2)
    seeds_only = compare(["comprehensive"], **kw)
    ens = compare(["comprehensive"], **kw, ensemble=post)
    t0, t1 = planner_table(seeds_only), planner_table(ens)
    for name in ("baseline", "comprehensive"):
        for key in ("srb_run", "missing_run"):
            assert _width(t1, key, name) > 1.3 * _width(t0, key, name), (name, key)
    # still paired: the difference's interval is narrower than independent runs would give
    assert _width(t1, "averted_run", "comprehensive") \
        < 0.5 * _width(t1, "averted_run_unpaired", "comprehensive")
    # the seeds are those of the seed-only comparison; each replicate's draw is recorded, and
    # replicate r of comprehensive is the single run of the scenario with draw r, seed r
    np.testing.assert_array_equal(ens["seed"], seeds_only["seed"])
    assert list(ens["ensemble_parameter"].values) == POSTERIOR_PARAMETERS
    values = ens["draw_value"].values
    assert len({tuple(v) for v in values}) > 3  # several different draws
    r = 1
    drawn = dict(zip(POSTERIOR_PARAMETERS, values[r].tolist()))
    single = popsim.run(load_scenario("comprehensive", {**ENSEMBLE_RUNS, **drawn}),
                        seed=int(ens["seed"][r]))
    part = ens.sel(scenario="comprehensive", replicate=r, drop=True)[list(single.data_vars)]
    part = part.drop_vars([c for c in part.coords if c not in single.coords])
    xr.testing.assert_equal(part, single)
    # the tables and the figure say what the intervals hold
    assert "seed noise only" in format_terminal(t0)
    text = format_terminal(t1)
    assert "seed noise and parameter uncertainty" in text and "posterior.nc" in text
    assert "seed noise and parameter uncertainty" in format_markdown(t1, ens)
    from popsim.reports.compare_report import comparison_figure

    fig = comparison_figure(ens, t1)
    assert "parameter uncertainty" in fig.get_suptitle()
    assert "parameter uncertainty" in fig.get_supxlabel()


def test_ensemble_refuses_a_posterior_of_levers_and_bad_draws(tmp_path, capsys):
    lever = _posterior(tmp_path / "lever.nc", ["enforcement.inspections_per_month"], [[1], [2]])
    base = ["compare", "comprehensive", "--baseline", "baseline", "--out", str(tmp_path / "x")]
    code, _, err = _cli(base + ["--ensemble", str(lever)], capsys)
    assert code == 2 and "enforcement.inspections_per_month" in err and "lever" in err
    code, _, err = _cli(base + ["--draws", "3"], capsys)
    assert code == 2 and "--draws needs --ensemble" in err
    good = _posterior(tmp_path / "good.nc")
    code, _, err = _cli(base + ["--ensemble", str(good), "--draws", "3", "--replicates", "2"],
                        capsys)
    assert code == 2 and "draws = 3 but replicates = 2" in err
    code, _, err = _cli(base + ["--ensemble", str(tmp_path / "missing.nc")], capsys)
    assert code == 2 and "missing.nc" in err
    assert "Traceback" not in err and not (tmp_path / "x").exists()


def test_a_calibrated_historys_lever_is_left_out_not_refused(tmp_path):
    """A posterior calibrated on the china history draws its national programme intensity: a
    county comparison takes the household coefficients and leaves the intensity out (said in
    the attrs); a comparison of china scenarios would vary a measure and is refused."""
    from popsim.experiments.compare import plan_comparison

    ds = posterior_dataset(["behaviour.risk_weight", "enforcement.programme_intensity"],
                           [[4.0, 0.2], [6.0, 0.4]], [0.5, 0.5],
                           attrs={"method": "test", "scenario": "china"})
    post = write_posterior(ds, tmp_path / "china_like.nc")
    plan = plan_comparison(["comprehensive"], 2, baseline="baseline", overrides=TINY,
                           ensemble=post)
    for runs in plan.runs:
        assert {s.get("enforcement.programme_intensity") for s in runs} == {1.0}
        assert {s.get("behaviour.risk_weight") for s in runs} <= {4.0, 6.0}
    with pytest.raises(InputError, match="programme_intensity"):
        plan_comparison(["china"], 2, overrides={"run.households": 2000, "run.end_year": 1981,
                                                  "run.burn_in_years": 2}, ensemble=post)


def test_cli_ensemble_with_draws_and_no_progress(tmp_path, capsys):
    post = _posterior(tmp_path / "posterior.nc")
    out = tmp_path / "cmp"
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    code, stdout, err = _cli(["compare", "comprehensive", "--baseline", "baseline",
                              "--ensemble", str(post), "--draws", "3", "--seed", "2",
                              "--workers", "1", "--no-progress", "--out", str(out), *sets],
                             capsys)
    assert code == 0, err
    assert "3 replicates" in stdout and "posterior draw r" in stdout
    assert "seed noise and parameter uncertainty" in stdout
    assert "run/s" not in err and "3/3" not in err  # no progress bar
    with xr.open_dataset(out / "compare.nc") as ds:
        assert ds.sizes["replicate"] == 3 and ds.attrs["ensemble_draws"] == 3
        assert ds["draw_value"].shape == (3, 2)


# ------------------------------------------------------------------------------------------------
# the command


def test_cli_writes_all_five_files(tmp_path):
    out = tmp_path / "cmp"
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    popsim_cmd = str(Path(sys.executable).parent / "popsim")  # the installed console script
    proc = subprocess.run([popsim_cmd, "compare", "comprehensive",
                           "crackdown_only", "--replicates", "2", "--seed", "11", "--workers",
                           "2", "--out", str(out), *sets], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name in ("compare.nc", "compare.md", "compare.csv", "compare_dictionary.csv",
                 "compare.png"):
        assert (out / name).stat().st_size > 0
    assert "popsim compare" in proc.stderr and "6/6" in proc.stderr  # the progress bar
    assert "averted (run)" in proc.stdout and str(out / "compare.png") in proc.stdout
    # the table's header says which baseline was used and where it came from
    assert "baseline 'comprehensive_no_measures' ('comprehensive' with every measure off" \
        in proc.stdout
    with xr.open_dataset(out / "compare.nc") as ds:
        assert dict(ds.sizes)["scenario"] == 3 and dict(ds.sizes)["replicate"] == 2
        assert ds.attrs["baseline"] == "comprehensive_no_measures"


def _cli(argv, capsys):
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_cli_unknown_scenario_lists_available(capsys, tmp_path):
    code, out, err = _cli(["compare", "comprehensive", "crackdwon_only", "--out",
                           str(tmp_path / "x")], capsys)
    assert code == 2
    assert "unknown scenario 'crackdwon_only'" in err and "did you mean 'crackdown_only'" in err
    for name in LIBRARY:
        assert name in err
    assert "Traceback" not in err and not (tmp_path / "x").exists()


@pytest.mark.parametrize("value", ["0", "-3"])
def test_cli_refuses_replicates_below_one(capsys, tmp_path, value):
    code, out, err = _cli(["compare", "comprehensive", "--replicates", value, "--out",
                           str(tmp_path / "x")], capsys)
    assert code == 2 and "--replicates must be at least 1" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("body, message", [
    ('extends = "comprehensive"\n[enforcement]\ndetection = 2.0\n', "above the upper bound"),
    ('extends = "comprehensive"\n[enforcment]\nfine = 1.0\n', "did you mean 'enforcement'"),
    ('extends = "comprehensive"\n[run]\nend_year = 2015\n',
     "run.end_year: 2020 in 'comprehensive_no_measures' vs 2015 in 'bad'"),
])
def test_cli_reports_invalid_scenario_before_any_run(capsys, tmp_path, body, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'name = "bad"\n{body}', encoding="utf-8")
    # the valid scenarios come first and are full county runs: had any run started, the
    # progress bar would show and the command would take many seconds
    code, out, err = _cli(["compare", "comprehensive", "crackdown_only", str(bad), "--out",
                           str(tmp_path / "x")], capsys)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert "run/s" not in err and "runs in" not in out
    assert not (tmp_path / "x").exists()
