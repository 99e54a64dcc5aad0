"""``popsim calibrate``: ABC-SMC and Optuna on a small china, resume after SIGKILL, bad specs,
a spec that cannot fit, and the posterior file read back through the ensemble reader.

The runs are small (3,000 households, 1990-2000 after a 5-year burn-in, a fraction of a second
each), so the module takes well under two minutes on a loaded 2-core machine. The kill is
deterministic: the testing hook (``POPSIM_TEST_CALIBRATION_PAUSE_AFTER=k``) stops the command
right after its k-th committed evaluation and says so on stderr; the test waits for that line,
then kills the command's whole process group with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from popsim import cli
from popsim.calibration.evaluate import PAUSE_AFTER_ENV, STORE_NAME, read_store
from popsim.calibration.spec import load_calibration_spec
from popsim.experiments.ensemble import read_posterior

POPSIM = str(Path(sys.executable).with_name("popsim"))

RUN = """
[overrides]
"run.households" = 3000
"run.burn_in_years" = 5
"run.start_year" = 1990
"run.end_year" = 2000
"population.townships" = 2
"market.county_hospitals" = 1
"market.private_clinics" = 14
"market.pharmacies" = 10
"market.out_of_county" = 3
"""

ABC = """
name = "small"
method = "abc"
seed = 11
scenario = "china"
targets = "china"
groups = ["srb_by_parity", "sibship_1990"]
[parameters]
"behaviour.abort_motivation" = { prior = "uniform", min = 2, max = 20 }
"behaviour.squeeze_decay" = { prior = "loguniform", min = 0.01, max = 0.5 }
[budget]
population = 6
generations = 3
evaluations = 80
""" + RUN

OPTUNA = """
name = "small_tpe"
method = "optuna"
seed = 5
scenario = "china"
targets = "china"
groups = ["srb_by_parity"]
[parameters]
"behaviour.abort_motivation" = { prior = "uniform", min = 2, max = 20 }
"fertility.son_seeking_extra" = { prior = "uniform", min = 0, max = 3 }
[budget]
evaluations = 8
batch = 4
""" + RUN

# two targets on the same statistic (the SRB of 2000) against different observations, one
# point of tolerance each: no parameter set can be within both
CONTRADICTORY_TARGETS = """
scenario = "china"
[[target]]
observation = "srb_2000"
group = "srb_2000"
tolerance = 1.0
[[target]]
observation = "srb_1981"
statistic = "srb"
years = [2000, 2000]
group = "srb_2000_again"
tolerance = 1.0
"""
CONTRADICTORY = """
name = "contradictory"
seed = 2
scenario = "china"
targets = "contradictory_targets.toml"
[parameters]
"behaviour.abort_motivation" = { prior = "uniform", min = 2, max = 20 }
"behaviour.seek_motivation" = { prior = "uniform", min = 2, max = 20 }
[budget]
population = 6
generations = 3
evaluations = 60
""" + RUN


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _calibrate(spec: Path, out: Path, *extra: str, env: dict | None = None
               ) -> subprocess.CompletedProcess:
    return subprocess.run([POPSIM, "calibrate", str(spec), "--out", str(out), *extra],
                          capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def abc_run(tmp_path_factory):
    """The small ABC-SMC calibration, uninterrupted, on a 2-process pool."""
    root = tmp_path_factory.mktemp("abc")
    spec = _write(root, "small.toml", ABC)
    proc = _calibrate(spec, root / "out", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    return spec, root / "out", proc


def test_abc_posterior_round_trips_and_reports(abc_run):
    spec_path, out, proc = abc_run
    spec = load_calibration_spec(spec_path)
    post = read_posterior(out / "posterior.nc")
    assert post.parameters == ("behaviour.abort_motivation", "behaviour.squeeze_decay")
    assert post.size == 6 and abs(post.weights.sum() - 1) < 1e-12
    assert (post.values[:, 0] >= 2).all() and (post.values[:, 0] <= 20).all()
    assert (post.values[:, 1] >= 0.01).all() and (post.values[:, 1] <= 0.5).all()
    assert post.attrs["method"] == "abc" and post.attrs["spec"] == spec_path.read_text()
    assert post.attrs["pyabc_version"].startswith("0.13")
    for key in ("optuna_version", "observations_sha256", "targets_sha256", "popsim_version"):
        assert post.attrs[key]
    ds = xr.open_dataset(out / "posterior.nc").load()
    assert list(ds["target"].values) == spec.target_ids()
    assert ds["simulated"].shape == (6, len(spec.target_ids()))
    # the stored statistics are those of each sample's own evaluation, and its distance
    from popsim.calibration.evaluate import distance
    for s in range(6):
        assert ds["distance"].values[s] == pytest.approx(distance(spec, ds["simulated"][s]))
    # generation 0 accepts every prior draw; the threshold falls generation by generation
    eps = ds["epsilon"].values
    assert np.isinf(eps[0]) and (np.diff(eps[1:]) <= 0).all()
    assert ds["acceptance_rate"].values[0] == 1.0
    # every evaluation is in the store, and none was run twice
    store = read_store(out / STORE_NAME)
    assert len(store) >= int(ds["evaluations"].sum())
    # the report: verdict, every target, the figures
    md = (out / "calibration.md").read_text()
    assert ("NOT A FIT" in md) == (post.attrs["fit"] == "no")
    for label in ds["label"].values:
        assert str(label) in md
    for fig in ("marginals", "pairs", "targets", "distance"):
        assert (out / f"calibration_{fig}.png").stat().st_size > 1000
    assert "posterior:" in proc.stdout


def _computed(out: Path) -> list[tuple[str, int]]:
    db = sqlite3.connect(out / STORE_NAME)
    try:
        return db.execute("SELECT key, session FROM computed ORDER BY n").fetchall()
    finally:
        db.close()


def test_resume_after_sigkill_keeps_every_evaluation_and_ends_identical(abc_run, tmp_path):
    spec_path, reference, _ = abc_run
    out = tmp_path / "out"
    _killed_at(spec_path, out, 9)  # generation 0 has 6 evaluations: killed in generation 1
    assert not (out / "posterior.nc").exists()
    before = {k for k, _ in _computed(out)}
    assert len(before) == 9
    done = _calibrate(spec_path, out, "--resume", "--workers", "2")
    assert done.returncode == 0, done.stderr
    computed = _computed(out)
    keys = [k for k, _ in computed]
    assert len(keys) == len(set(keys)), "an evaluation was run twice"
    assert before <= set(keys)
    assert all(s == 2 for k, s in computed if k not in before)
    a = xr.open_dataset(reference / "posterior.nc").load()
    b = xr.open_dataset(out / "posterior.nc").load()
    for name in ("value", "weight", "distance", "simulated", "epsilon", "evaluations"):
        xr.testing.assert_identical(a[name], b[name])
    # and resuming a finished calibration runs nothing
    again = _calibrate(spec_path, out, "--resume", "--workers", "1")
    assert again.returncode == 0 and len(_computed(out)) == len(computed)


def test_out_holding_a_calibration_needs_resume(abc_run, capsys):
    spec_path, out, _ = abc_run
    assert cli.main(["calibrate", str(spec_path), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume" in err


def test_contradictory_targets_are_reported_as_no_fit(tmp_path):
    _write(tmp_path, "contradictory_targets.toml", CONTRADICTORY_TARGETS)
    spec = _write(tmp_path, "contradictory.toml", CONTRADICTORY)
    proc = _calibrate(spec, tmp_path / "out", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "NOT A FIT" in proc.stderr
    post = read_posterior(tmp_path / "out" / "posterior.nc")
    assert post.attrs["fit"] == "no"
    # the two observations are 8.4 points apart with 1 point of tolerance: the best possible
    # distance is (8.4 / 2)^2 = 17.6
    assert post.attrs["final_distance"] > 17
    md = (tmp_path / "out" / "calibration.md").read_text()
    assert "> **WARNING: NOT A FIT" in md and "acceptance rate" in md


@pytest.fixture(scope="module")
def optuna_run(tmp_path_factory):
    """The small Optuna calibration, uninterrupted, on a 2-process pool."""
    root = tmp_path_factory.mktemp("tpe")
    spec = _write(root, "tpe.toml", OPTUNA)
    proc = _calibrate(spec, root / "out", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    return spec, root


def _killed_at(spec: Path, out: Path, k: int) -> None:
    """Run ``popsim calibrate`` until its k-th committed evaluation, then SIGKILL it (and its
    workers: the whole process group)."""
    env = {**os.environ, PAUSE_AFTER_ENV: str(k)}
    proc = subprocess.Popen([POPSIM, "calibrate", str(spec), "--out", str(out), "--workers",
                             "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)
    try:
        for line in proc.stderr:
            if f"paused after {k} evaluations" in line:
                break
        else:
            pytest.fail(f"the calibration ended before the pause (exit {proc.wait()})")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_optuna_resume_after_sigkill_tells_stored_trials_and_reruns_none(optuna_run, tmp_path):
    spec, root = optuna_run
    out = tmp_path / "out"
    # batches of 4: the 5th evaluation is stored but its trial not yet told when killed
    _killed_at(spec, out, 5)
    done = _calibrate(spec, out, "--resume", "--workers", "2")
    assert done.returncode == 0, done.stderr
    keys = [k for k, _ in _computed(out)]
    assert len(keys) == len(set(keys)) == 8, "an evaluation was run twice"
    a = xr.open_dataset(root / "out" / "posterior.nc").load()
    b = xr.open_dataset(out / "posterior.nc").load()
    xr.testing.assert_identical(a["value"], b["value"])
    assert sorted(a["trial_distance"].values) == sorted(b["trial_distance"].values)


def test_optuna_point_fit(optuna_run):
    spec, root = optuna_run
    tmp_path = root
    ds = xr.open_dataset(tmp_path / "out" / "posterior.nc").load()
    post = read_posterior(tmp_path / "out" / "posterior.nc")
    assert post.size == 1 and post.weights[0] == 1.0 and post.attrs["method"] == "optuna"
    d = ds["trial_distance"].values
    assert d.size == 8 and ds["distance"].values[0] == d.min()
    best = int(np.argmin(d))
    np.testing.assert_array_equal(ds["trial_value"].values[best], post.values[0])
    assert (tmp_path / "out" / "optuna.sqlite").exists()
    # trials use common random numbers: the store holds one evaluation per distinct trial
    assert len(read_store(tmp_path / "out" / STORE_NAME)) == len(
        {tuple(v) for v in ds["trial_value"].values})
    again = _calibrate(spec, tmp_path / "out", "--resume", "--workers", "1")
    assert again.returncode == 0 and "0 evaluations run" in again.stderr


BAD = [
    ('"behaviour.abort_motivaton" = { min = 2, max = 20 }', "did you mean "
     "'behaviour.abort_motivation'"),
    ('"behaviour.abort_motivation" = { min = -1, max = 20 }', "min"),
    ('"behaviour.abort_motivation" = { min = 2, max = 200 }', "max"),
    ('"behaviour.abort_motivation" = { prior = "nornal", min = 2, max = 20 }',
     "did you mean 'normal'"),
    ('"behaviour.abort_motivation" = { prior = "normal", min = 2, max = 20 }', "mean and sd"),
    ('"behaviour.abort_motivation" = { prior = "loguniform", min = 0, max = 20 }', "min > 0"),
    ('"son_preference.cohort_mean" = { min = 0.1, max = 0.6 }', "schedule"),
    ('"run.households" = { min = 1000, max = 2000 }', "[overrides]"),
    ('"policy.regime" = { min = 1, max = 2 }', "only numbers"),
]


@pytest.mark.parametrize("line,message", BAD)
def test_bad_parameters_exit_2_naming_file_and_key(tmp_path, capsys, line, message):
    text = ABC.replace('"behaviour.abort_motivation" = { prior = "uniform", min = 2, max = 20 }',
                       line)
    spec = _write(tmp_path, "bad.toml", text)
    assert cli.main(["calibrate", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(spec) in err and message in err, err
    assert not any((tmp_path / "out").glob("*.sqlite"))


@pytest.mark.parametrize("old,new,message", [
    ('method = "abc"', 'method = "abd"', "did you mean 'abc'"),
    ('groups = ["srb_by_parity", "sibship_1990"]', 'groups = ["srb_by_party"]',
     "did you mean 'srb_by_parity'"),
    ('"run.end_year" = 2000', '"run.end_year" = 1995', "needs the years 2000-2000"),
    ('population = 6', 'population = 600', "not even the first generation"),
    ('seed = 11', 'sed = 11', "did you mean 'seed'"),
    ('targets = "china"', 'targets = "chna"', "did you mean 'china'"),
])
def test_bad_specs_exit_2(tmp_path, capsys, old, new, message):
    spec = _write(tmp_path, "bad.toml", ABC.replace(old, new))
    assert cli.main(["calibrate", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_missing_spec_and_bad_workers_exit_2(tmp_path, capsys):
    assert cli.main(["calibrate", str(tmp_path / "none.toml"), "--out", str(tmp_path)]) == 2
    assert "none.toml" in capsys.readouterr().err
    spec = _write(tmp_path, "ok.toml", ABC)
    assert cli.main(["calibrate", str(spec), "--out", str(tmp_path / "o"), "--workers",
                     "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_shipped_china_posterior_is_the_result_of_its_spec():
    from importlib import resources

    folder = resources.files("popsim").joinpath("calibrations")
    spec = load_calibration_spec("china")
    assert spec.label == "calibrations/china.toml"
    post = read_posterior(Path(str(folder.joinpath("china_posterior.nc"))))
    assert post.attrs["spec"] == folder.joinpath("china.toml").read_text(encoding="utf-8")
    assert list(post.parameters) == spec.paths
    assert post.size <= 300 and post.attrs["method"] == "abc"
    for j, p in enumerate(spec.parameters):
        assert (post.values[:, j] >= p.lo).all() and (post.values[:, j] <= p.hi).all()
    ds = xr.open_dataset(Path(str(folder.joinpath("china_posterior.nc")))).load()
    assert list(ds["target"].values) == spec.target_ids()
    assert ds.attrs["fit"] in ("yes", "no") and ds.attrs["verdict"]


def test_serial_calibration_equals_the_process_pool_one(abc_run, tmp_path):
    """The population does not depend on the executor or its timing (the sampler accepts in
    candidate order)."""
    from popsim.calibration.result import calibrate

    spec_path, reference, _ = abc_run
    ds, _ = calibrate(load_calibration_spec(spec_path), tmp_path, workers=1, log=lambda s: None)
    ref = xr.open_dataset(reference / "posterior.nc").load()
    for name in ("value", "weight", "distance", "simulated", "epsilon", "acceptance_rate"):
        np.testing.assert_array_equal(ds[name].values, ref[name].values)
