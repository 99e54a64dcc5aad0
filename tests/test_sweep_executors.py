"""One spec, every executor, one dataset; and a sweep killed part-way resumes to that dataset.

Real processes throughout: a process pool, a dask LocalCluster (one for the whole module, two
worker processes, reached by its tcp address as an existing cluster would be), and ``popsim
sweep`` commands interrupted by real signals. The interruptions are deterministic on a busy
machine: the runner's testing hook (``POPSIM_TEST_PAUSE_AFTER=k``) stops it after exactly k
committed runs and says so on stderr; the test waits for that line, then sends the signal.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
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


class _Sweep:
    """A ``popsim sweep`` command in its own session (so a kill of its group reaches the pool's
    workers too, as a crash would), paused by the testing hook after ``pause_after`` runs."""

    def __init__(self, spec_path: Path, store: Path, pause_after: int, *extra: str):
        env = {**os.environ, sweep.PAUSE_AFTER_ENV: str(pause_after)}
        self.proc = subprocess.Popen([POPSIM, "sweep", str(spec_path), "--out", str(store),
                                      "--no-progress", *extra], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True,
                                     env=env)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_pause(self, k: int) -> None:
        """Block until the runner says it paused after k runs (a generous timeout, no race)."""
        while True:
            try:
                line = self.lines.get(timeout=120)
            except queue.Empty:
                pytest.fail(f"no pause line within 120 s; stderr so far: {''.join(self.err)}")
            assert line is not None, f"sweep ended before pausing: {''.join(self.err)}"
            if line.startswith(f"popsim: paused after {k} runs"):
                return

    def finish(self) -> tuple[int, str, str]:
        out = self.proc.stdout.read()
        self.proc.wait(timeout=120)
        self._reader.join(timeout=60)
        return self.proc.returncode, out, "".join(self.err)


def _counts(stdout: str) -> tuple[int, int]:
    m = re.search(r"\((\d+) already complete, (\d+) run now\)", stdout)
    assert m, stdout
    return int(m[1]), int(m[2])


def test_interrupted_and_killed_sweep_resumes_to_the_same_dataset(spec_path, reference,
                                                                  tmp_path, capsys):
    store = tmp_path / "killed.zarr"
    # Ctrl-C (SIGINT to the command) after exactly 3 runs: stops cleanly with code 130 and says
    # how to continue.
    run = _Sweep(spec_path, store, 3, "--workers", "1")
    run.wait_for_pause(3)
    os.kill(run.proc.pid, signal.SIGINT)
    code, _, err = run.finish()
    assert code == 130, err
    assert "sweep interrupted with 3 of 12 runs complete" in err and "--resume" in err
    assert "Traceback" not in err
    assert _complete(store) == 3

    # kill -9 of the whole process group (the command and its pool) after 2 more runs
    run = _Sweep(spec_path, store, 2, "--workers", "2", "--resume")
    run.wait_for_pause(2)
    os.killpg(run.proc.pid, signal.SIGKILL)
    code, _, _ = run.finish()
    assert code == -signal.SIGKILL
    assert _complete(store) == 5

    assert cli.main(["sweep", str(spec_path), "--out", str(store), "--workers", "1",
                     "--resume", "--no-progress"]) == 0
    # exactly the runs not recorded complete were run again: none twice, none missing
    assert _counts(capsys.readouterr().out) == (5, TOTAL - 5)
    resumed = sweep.open_sweep(store).load()
    assert bool(resumed["run_complete"].all())
    xr.testing.assert_identical(resumed, reference)
    assert not np.isnan(resumed["srb"].values).any()
