"""Many runs of :func:`popsim.run` on any executor, in task order, and stacked into one dataset.

Shared by ``popsim compare`` (:mod:`popsim.experiments.compare`) and ``popsim score``
(:mod:`popsim.validation.score`): a task is ``(scenario, seed)``, results come back in the order
of the tasks whatever the executor or worker count, so the stacked dataset is identical on
every executor.
"""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr
from tqdm import tqdm

from ..scenario.parameters import Scenario
from .burnin import run_shared
from .executors import map_tasks

__all__ = ["run_task", "run_all", "stack"]


def run_task(task: tuple[Scenario, int]) -> xr.Dataset:
    """One run (module-level, so that worker processes can unpickle it); runs of one process
    that agree before ``run.start_year`` share their burn-in (:func:`~.burnin.run_shared`)."""
    scenario, seed = task
    return run_shared(scenario, seed)


def run_all(tasks: Sequence[tuple[Scenario, int]], *, workers: int | None = None,
            scheduler: str | None = None, progress: bool = False,
            desc: str = "popsim") -> list[xr.Dataset]:
    """Every task's dataset, in task order (a tqdm bar on stderr with ``progress``)."""
    results: list[xr.Dataset | None] = [None] * len(tasks)
    with tqdm(total=len(tasks), desc=desc, unit="run", disable=not progress) as bar:
        for i, ds in map_tasks(run_task, tasks, workers=workers, scheduler=scheduler):
            results[i] = ds
            bar.update(1)
    return results  # type: ignore[return-value]


def stack(datasets: Sequence[xr.Dataset], dim: str) -> xr.Dataset:
    """Runs of the same shape stacked along a new dimension ``dim`` (their attrs dropped)."""
    return xr.concat(datasets, dim=dim, data_vars="all", coords="minimal", compat="override",
                     join="outer", combine_attrs="drop")
