"""``popsim score``: the table on a synthetic dataset with known answers, and the command end to
end on a small run (issue 12)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from popsim.validation.observed import get_observation
from popsim.validation.score import Z90, score_runs, summary_line
from popsim.validation.targets import Target, TargetSet

from test_validation_statistics import synthetic

POPSIM = str(Path(sys.executable).with_name("popsim"))


def _set(*targets: Target) -> TargetSet:
    return TargetSet("synthetic", "", 2, targets, "test")


def test_table_values_intervals_errors_and_pass_rules():
    ds = synthetic()
    ts = _set(
        Target(get_observation("srb_parity2_2000"), "srb_by_parity", "srb_by_parity",
               (2000, 2000), {"parity": "2"}, 4.0),
        Target(get_observation("srb_parity1_2000"), "srb_by_parity", "srb_by_parity",
               (2000, 2000), {"parity": "1"}, 4.0),
        Target(get_observation("male_2000_gg"), "sibship_2000", "fraction_male_next",
               (2000, 2000), {"composition": "two girls"}, 0.03),
        Target(get_observation("srb_2000"), "srb_series", "srb", (2000, 2000), {}, "band"),
    )
    table = score_runs(ds, ts)
    p2 = table.sel(target="srb_parity2_2000")
    # replicates give 150 and 130: pooled 140, sd 14.14, se 10, interval 140 +- 1.645 x 10
    assert float(p2["model"]) == pytest.approx(140.0)
    assert float(p2["model_low"]) == pytest.approx(140.0 - Z90 * 10.0)
    assert float(p2["error"]) == pytest.approx(140.0 - 151.9)
    assert not bool(p2["passed"])
    obs_se = (154.9 - 148.9) / (2 * 1.96)
    assert float(p2["z"]) == pytest.approx((140.0 - 151.9) / math.hypot(obs_se, 10.0))
    assert bool(table.sel(target="srb_parity1_2000")["passed"])        # 106 vs 107.1 +- 4
    assert bool(table.sel(target="male_2000_gg")["passed"])            # 0.70 exactly
    srb = table.sel(target="srb_2000")                                 # (106+140+160)/3 = 135.3
    assert not bool(srb["passed"]) and float(srb["model"]) > float(srb["observed_high"])
    line = summary_line(table)
    assert "2 of 4 targets within tolerance" in line and "RMSE" in line


def test_a_statistic_the_runs_cannot_give_is_reported_not_hidden():
    ds = synthetic().drop_vars("sibship_women")
    ts = _set(Target(get_observation("another_2000_b"), "sibship_2000", "p_another_child",
                     (2000, 2000), {"composition": "one boy"}, 0.08))
    row = score_runs(ds, ts).isel(target=0)
    assert math.isnan(float(row["model"])) and not bool(row["passed"])
    assert "sibship_women" in str(row["note"].values)


def test_score_command_end_to_end(tmp_path):
    out = tmp_path / "score"
    args = [POPSIM, "score", "county", "--set", "run.households=4104", "--set",
            "run.burn_in_years=12", "--set", "run.scale=16", "--replicates", "2",
            "--workers", "1", "--no-progress", "--out", str(out)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "targets within tolerance" in r.stdout and "Traceback" not in r.stderr
    for name in ("score.csv", "score.md", "score.nc", "runs.nc"):
        assert (out / name).is_file(), name
    assert list(out.glob("score_*.png"))
    with xr.open_dataset(out / "score.nc") as table, xr.open_dataset(out / "runs.nc") as runs:
        assert table.sizes["target"] == 11 and runs.sizes["replicate"] == 2
        assert np.isfinite(table["model"].sel(target="county_cases_2012"))
    strict = subprocess.run(args + ["--fail-outside"], capture_output=True, text=True,
                            timeout=600, cwd=tmp_path)
    passed = table_all_passed(out / "score.nc")
    assert strict.returncode == (0 if passed else 1)
    assert not (tmp_path / "results").exists()  # nothing outside --out


def table_all_passed(path: Path) -> bool:
    with xr.open_dataset(path) as t:
        return bool(t["passed"].all())


@pytest.mark.parametrize("argv, match", [
    (["score", "county", "--replicates", "0"], "--replicates must be"),
    (["score", "county", "--targets", "nope"], "no target file for 'nope'"),
    (["score", "chinaa"], "did you mean 'china'"),
    (["score", "county", "--seed", "-3"], "lower bound"),
    (["score", "county", "--ensemble", "chna"], "shipped posteriors, by name: china"),
    (["score", "china", "--ensemble", "china", "--set", "behaviour.risk_weight=2"],
     "conflicts with --ensemble"),
])
def test_score_usage_errors_exit_2(tmp_path, argv, match):
    r = subprocess.run([POPSIM, *argv, "--out", str(tmp_path / "o")], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 2 and match in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_score_with_the_shipped_ensemble_uses_one_draw_per_replicate(tmp_path):
    """``--ensemble china``: replicate r runs with seed r and posterior draw r, recorded in the
    runs, and the table says its interval holds the parameters' uncertainty."""
    from popsim.experiments.ensemble import read_posterior
    from popsim.model.streams import replicate_seeds

    out = tmp_path / "score"
    args = [POPSIM, "score", "county", "--set", "run.households=4104", "--set",
            "run.burn_in_years=12", "--set", "run.scale=16", "--set", "run.end_year=2012",
            "--replicates", "3", "--seed", "5", "--ensemble", "china", "--workers", "1",
            "--no-progress", "--out", str(out)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "one draw each of posterior china_posterior.nc" in r.stdout
    post = read_posterior("china")
    with xr.open_dataset(out / "runs.nc") as runs, xr.open_dataset(out / "score.nc") as table:
        assert runs["draw"].values.tolist() == post.draw_indices(3, 5).tolist()
        assert runs["seed"].values.tolist() == replicate_seeds(5, 3)
        np.testing.assert_allclose(runs["draw_value"].values,
                                   post.values[post.draw_indices(3, 5)])
        assert "parameter uncertainty" in table.attrs["model_interval"]
        assert table.attrs["ensemble_sha256"] == post.digest
