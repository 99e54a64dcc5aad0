"""popsim.experiments.executors: every executor gives every result, placed by its index."""

from __future__ import annotations

import os

import pytest

from popsim.errors import UsageError
from popsim.experiments.executors import default_workers, executor_name, map_tasks
from popsim.workload import MAX_WORKERS


def _square_and_pid(x: int) -> tuple[int, int]:
    """A picklable module-level task function: its result and the process that computed it."""
    return x * x, os.getpid()


def test_serial_runs_in_order_in_this_process():
    out = list(map_tasks(_square_and_pid, range(5), workers=1))
    assert [i for i, _ in out] == list(range(5))
    assert [r for _, (r, _) in out] == [0, 1, 4, 9, 16]
    assert {pid for _, (_, pid) in out} == {os.getpid()}


def test_process_pool_gives_the_same_results_from_other_processes():
    tasks = list(range(12))
    out = dict(map_tasks(_square_and_pid, tasks, workers=2))
    assert sorted(out) == tasks and all(out[i][0] == i * i for i in tasks)
    assert os.getpid() not in {pid for _, pid in out.values()}


def test_executor_names_and_default_workers():
    assert executor_name(1, None) == "serial"
    assert executor_name(None, None) == executor_name(4, None) == "processes"
    assert executor_name(1, "local") == "dask"
    assert 1 <= default_workers() <= (os.cpu_count() or 1)


@pytest.mark.parametrize("workers", [0, -2, MAX_WORKERS + 1])
def test_bad_worker_count_is_refused_before_any_task(workers):
    calls = []
    with pytest.raises(UsageError, match="workers must be at"):
        next(map_tasks(calls.append, [1, 2], workers=workers))
    assert calls == []
