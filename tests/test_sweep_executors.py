"""One spec, every executor, one dataset; and a sweep killed part-way resumes to that dataset.

Real processes throughout: a process pool, a dask LocalCluster (one for the whole module, two
worker processes, reached by its tcp address as an existing cluster would be), and ``popsim
sweep`` commands interrupted by real signals.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from popsim import cli
from popsim.experiments import sweep, sweep_spec

SPEC = """
name = "executors"
scenario = "county"
seed = 3
replicates = 2

[overrides]
"run.households" = 2000
"run.start_year" = 2000
"run.end_year" = 2002
"run.burn_in_years" = 10

[parameters]
"enforcement.inspections_per_month" = [0, 20, 60]
"registration.coverage" = [0.2, 0.9]

[outputs]
variables = ["srb", "births", "sex_selective_abortions", "enforcement_cost", "cases"]
"""
TOTAL = 12
POPSIM = str(Path(sys.executable).with_name("popsim"))


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "executors.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(spec_path, tmp_path_factory):
    """The sweep run serially in this process, loaded."""
    store = tmp_path_factory.mktemp("serial") / "serial.zarr"
    sweep.run_sweep(sweep_spec.load_spec(spec_path), store, workers=1, progress=False)
    return sweep.open_sweep(store).load()


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c:
        yield c


def test_process_pool_matches_serial(spec_path, reference, tmp_path):
    store = tmp_path / "pool.zarr"
    result = sweep.run_sweep(sweep_spec.load_spec(spec_path), store, workers=2, progress=False)
    assert result.ran == TOTAL
    xr.testing.assert_identical(sweep.open_sweep(store).load(), reference)


def test_dask_cluster_matches_serial(spec_path, reference, cluster, tmp_path):
    store = tmp_path / "dask.zarr"
    sweep.run_sweep(sweep_spec.load_spec(spec_path), store, scheduler=cluster.scheduler_address,
                    progress=False)
    xr.testing.assert_identical(sweep.open_sweep(store).load(), reference)


def _complete(store: Path) -> int:
    try:
        return int(zarr.open_array(str(store / "run_complete"), mode="r")[...].sum())
    except (FileNotFoundError, KeyError, ValueError, zarr.errors.NodeNotFoundError):
        return 0  # the template is not in place yet


def _start(spec_path: Path, store: Path, *extra: str) -> subprocess.Popen:
    # Its own session, so the kill reaches the pool's worker processes too, as a crash would.
    return subprocess.Popen([POPSIM, "sweep", str(spec_path), "--out", str(store),
                             "--no-progress", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(store: Path, proc: subprocess.Popen, at_least: int) -> None:
    deadline = time.monotonic() + 120
    while _complete(store) < at_least:
        assert proc.poll() is None, f"sweep ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, "sweep made no progress"
        time.sleep(0.02)


def _counts(stdout: str) -> tuple[int, int]:
    m = re.search(r"\((\d+) already complete, (\d+) run now\)", stdout)
    assert m, stdout
    return int(m[1]), int(m[2])


def test_interrupted_and_killed_sweep_resumes_to_the_same_dataset(spec_path, reference,
                                                                  tmp_path, capsys):
    store = tmp_path / "killed.zarr"
    # Ctrl-C (SIGINT to the command): stops cleanly with code 130 and says how to continue.
    proc = _start(spec_path, store, "--workers", "1")
    _wait_for(store, proc, 2)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "continue it with --resume" in err and "Traceback" not in err
    first = _complete(store)
    assert 2 <= first < TOTAL

    # kill -9 of the whole process group (the command and its pool) part-way through the resume
    proc = _start(spec_path, store, "--workers", "2", "--resume")
    _wait_for(store, proc, first + 2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    second = _complete(store)
    assert first + 2 <= second < TOTAL, "the kill came too late to test anything"

    assert cli.main(["sweep", str(spec_path), "--out", str(store), "--workers", "1",
                     "--resume", "--no-progress"]) == 0
    # exactly the runs not recorded complete were run again: none twice, none missing
    assert _counts(capsys.readouterr().out) == (second, TOTAL - second)
    resumed = sweep.open_sweep(store).load()
    assert bool(resumed["run_complete"].all())
    xr.testing.assert_identical(resumed, reference)
    assert not np.isnan(resumed["srb"].values).any()
