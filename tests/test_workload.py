"""popsim.workload: requests are sized before any work, and too-large ones refused clearly."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from popsim.errors import UsageError
from popsim.workload import (BYTES_PER_HOUSEHOLD, BYTES_PER_PROCESS, MAX_CPU_HOURS,
                             MAX_REPLICATES, MAX_WORKERS, S_PER_HOUSEHOLD_MONTH, S_PER_MONTH,
                             available_memory, check_count, check_workload, estimate,
                             run_months)

POPSIM = str(Path(sys.executable).with_name("popsim"))
TINY = ["--set", "run.households=2000", "--set", "run.end_year=2003",
        "--set", "run.burn_in_years=10"]


def popsim(*args, cwd, limit_bytes: int | None = None):
    def limit():  # runs in the child before popsim starts: a process with less memory
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, resource.RLIM_INFINITY))

    return subprocess.run([POPSIM, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"},
                          preexec_fn=limit if limit_bytes else None)


def test_estimate_adds_up():
    w = estimate(runs=10, households=1000, months=120, workers=4, kept=5000)
    one = 120 * (S_PER_MONTH + 1000 * S_PER_HOUSEHOLD_MONTH)
    assert w.cpu_seconds == pytest.approx(10 * one)
    assert w.wall_seconds == pytest.approx(10 * one / 4)
    assert w.peak_bytes == pytest.approx(4 * (BYTES_PER_PROCESS + 1000 * BYTES_PER_HOUSEHOLD)
                                         + 10 * 5000)
    assert estimate(1, 1000, 120, workers=8).wall_seconds == pytest.approx(one)  # one run
    assert run_months(2000, 2020, 35) == (21 + 35) * 12


def test_long_request_needs_yes_and_too_much_memory_is_refused_regardless():
    hours = MAX_CPU_HOURS * 3600
    long = estimate(runs=int(2 * hours / (12 * S_PER_MONTH)) + 1, households=0, months=12)
    with pytest.raises(UsageError, match=r"is large: .* run\(s\) of .*pass --yes"):
        check_workload(long, yes=False)
    check_workload(long, yes=True)
    huge = estimate(1, households=int(2 * available_memory() / BYTES_PER_HOUSEHOLD), months=12)
    with pytest.raises(UsageError, match="of memory and this machine has .* available"):
        check_workload(huge, yes=True)


@pytest.mark.parametrize("value, message", [
    (0, "--workers must be at least 1, got 0"),
    (MAX_WORKERS + 1, f"--workers must be at most {MAX_WORKERS}"),
    (2.5, "--workers must be a whole number"),
    (True, "--workers must be a whole number"),
])
def test_check_count_bounds(value, message):
    with pytest.raises(UsageError, match=message):
        check_count("--workers", value, hi=MAX_WORKERS)
    assert check_count("--workers", 3, hi=MAX_WORKERS) == 3


def test_available_memory_respects_the_process_limit():
    code = ("import resource; from popsim.workload import available_memory; "
            "resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, resource.RLIM_INFINITY)); "
            "print(available_memory())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert 0 < float(out) <= 4 * 2**30


def test_compare_with_a_billion_replicates_is_refused_with_the_estimate(tmp_path):
    r = popsim("compare", "county", "--replicates", str(10**9), "--out", "x", *TINY,
               cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "2,000,000,000 run(s) of 2,000 households x 168 months" in r.stderr
    assert "years" in r.stderr and "memory" in r.stderr  # the estimated time and memory
    assert not (tmp_path / "x").exists() and "run/s" not in r.stderr


def test_replicates_above_the_maximum_are_refused_even_with_yes(tmp_path):
    r = popsim("compare", "county", "--replicates", str(MAX_REPLICATES + 1), "--yes",
               "--set", "run.households=100", "--set", "run.end_year=2000",
               "--set", "run.burn_in_years=0", "--out", "x", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"above the maximum {MAX_REPLICATES:,}" in r.stderr and "run(s) of 100 households" \
        in r.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("value", ["0", str(MAX_WORKERS + 1)])
def test_compare_refuses_workers_out_of_bounds(tmp_path, value):
    r = popsim("compare", "county", "--workers", value, *TINY, cwd=tmp_path)
    assert r.returncode == 2 and "--workers must be at" in r.stderr and "Traceback" not in r.stderr


def test_run_at_the_schema_maximum_is_refused_on_a_machine_without_the_memory(tmp_path):
    # 50 million households need about 7 GiB; a process limited to 4 GiB does not have them
    r = popsim("run", "--set", "run.households=50000000", cwd=tmp_path, limit_bytes=4 * 2**30)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "1 run(s) of 50,000,000 households x 672 months" in r.stderr
    assert "GiB of memory and this machine has" in r.stderr
    assert not (tmp_path / "results").exists()
