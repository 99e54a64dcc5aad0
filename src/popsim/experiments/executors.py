"""Interchangeable executors for many runs: in-process, a process pool, or dask.distributed.

Comparisons and sweeps describe their work as a list of picklable tasks and a picklable,
module-level function; an executor calls ``fn(task)`` for each and yields ``(index, result)``
as results arrive, in whatever order they finish. The caller places each result by its index, so
the output does not depend on the executor or the worker count: popsim's runs are pure functions
of (scenario, seed), and every executor gives identical datasets.

- ``serial``: in this process, in order (debugging, tiny jobs, notebooks);
- ``processes``: a ``concurrent.futures.ProcessPoolExecutor`` with ``workers`` processes
  (default: the machine's cores); the default. Workers are forked from a forkserver that has
  imported popsim once (importing Mesa forces the slow "spawn" start method, which would
  re-import everything in every worker), and they die with the process that started them, so a
  ``kill -9`` of a sweep leaves no orphans;
- ``dask``: a ``dask.distributed.Client`` on an existing scheduler (``tcp://host:port``) or, with
  ``scheduler="local"``, on a ``LocalCluster`` of ``workers`` processes started for the job.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from ..workload import MAX_WORKERS, check_count

__all__ = ["map_tasks", "executor_name", "default_workers"]


def default_workers() -> int:
    """Worker processes to use when none are asked for: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def executor_name(workers: int | None, scheduler: str | None) -> str:
    """Which executor ``map_tasks`` will use for these options."""
    if scheduler:
        return "dask"
    return "serial" if workers == 1 else "processes"


def map_tasks(fn: Callable[[Any], Any], tasks: Sequence[Any], *, workers: int | None = None,
              scheduler: str | None = None) -> Iterator[tuple[int, Any]]:
    """Call ``fn`` on every task; yield ``(index, result)`` as each finishes.

    ``workers=1`` runs in this process; ``scheduler`` (``"local"`` or ``"tcp://host:port"``)
    uses dask.distributed. Bounded in-flight work keeps memory flat for long task lists.
    ``workers`` outside 1 to :data:`popsim.workload.MAX_WORKERS` is a
    :class:`~popsim.errors.UsageError`, raised before any task starts.
    """
    if workers is not None:
        workers = check_count("workers", workers, hi=MAX_WORKERS)
    kind = executor_name(workers, scheduler)
    if kind == "serial":
        for i, task in enumerate(tasks):
            yield i, fn(task)
    elif kind == "processes":
        yield from _processes(fn, tasks, workers or default_workers())
    else:
        yield from _dask(fn, tasks, workers, scheduler)


def _exit_with(owner: int) -> None:
    """Worker initializer: end this worker soon after the process that started the pool dies.

    A forkserver's workers are not the owner's children, so the owner's death sends them no
    signal; a daemon thread polls the owner once a second instead."""
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, name="popsim-owner-watch", daemon=True).start()


def _pool_context():
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["popsim.api"])
    return ctx


def _processes(fn, tasks, workers) -> Iterator[tuple[int, Any]]:
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(),
                             initializer=_exit_with, initargs=(os.getpid(),)) as pool:
        pending: dict[Any, int] = {}
        queue = iter(enumerate(tasks))
        try:
            for i, task in queue:
                pending[pool.submit(fn, task)] = i
                if len(pending) >= 2 * workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = pending.pop(fut)
                    yield i, fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[pool.submit(fn, nxt[1])] = nxt[0]
        finally:
            for fut in pending:
                fut.cancel()


def _dask(fn, tasks, workers, scheduler) -> Iterator[tuple[int, Any]]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = client.map(fn, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            yield index[fut.key], fut.result()
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
