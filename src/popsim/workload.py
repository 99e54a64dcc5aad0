"""How big a request is, before any work starts: estimated run time and memory, and a guard.

Every entry point that can start many runs or a large one (``popsim run``, ``compare``,
``sweep``, ``calibrate``, the Python API through them) asks :func:`check_workload` first, so that a
typo such as ``--replicates 1000000000`` or ``run.households`` at the schema maximum on a small
machine is refused with the estimate in the message instead of running for days or asking numpy
for tens of GiB.

The cost figures are conservative round numbers from ``benchmarks/bench.py`` on a 2-core machine
(docs/performance.md): about 0.6 ms of fixed cost per simulated month and 10 ns per
household-month on one core (5.9 ns measured quiet; doubled for a loaded machine), and at most
150 bytes of peak memory per household in one run (58 measured at 10M households, more at small
sizes where fixed costs dominate) plus 200 MB per process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import UsageError

__all__ = ["Workload", "estimate", "check_workload", "available_memory", "MAX_CPU_HOURS"]

#: seconds of fixed cost per simulated month of one run
S_PER_MONTH = 0.6e-3
#: seconds per household-month of one run on one core (twice the quiet figure)
S_PER_HOUSEHOLD_MONTH = 10e-9
#: peak bytes per household of one run in memory
BYTES_PER_HOUSEHOLD = 150
#: resident bytes of one worker process before its model is built
BYTES_PER_PROCESS = 200e6
#: a request estimated to need more CPU time than this needs an explicit ``--yes``
MAX_CPU_HOURS = 2.0


def available_memory() -> float:
    """Bytes of memory this machine can give (MemAvailable; total RAM where it is unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


@dataclass(frozen=True)
class Workload:
    """The estimated size of a request: ``runs`` runs of ``households`` x ``months`` each."""

    runs: int
    households: int
    months: int
    workers: int = 1

    @property
    def cpu_seconds(self) -> float:
        one = self.months * (S_PER_MONTH + self.households * S_PER_HOUSEHOLD_MONTH)
        return float(self.runs) * one

    @property
    def wall_seconds(self) -> float:
        return self.cpu_seconds / max(1, min(self.workers, self.runs))

    @property
    def peak_bytes(self) -> float:
        parallel = max(1, min(self.workers, self.runs))
        return parallel * (BYTES_PER_PROCESS + self.households * BYTES_PER_HOUSEHOLD)

    def describe(self) -> str:
        return (f"{self.runs:,} run(s) of {self.households:,} households x {self.months:,} months: "
                f"about {_duration(self.wall_seconds)} on {max(1, self.workers)} worker(s) "
                f"({_duration(self.cpu_seconds)} of CPU) and {_bytes(self.peak_bytes)} of memory")


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 2 * 3600:
        return f"{s / 60:.0f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h"
    if s < 3 * 365 * 86400:
        return f"{s / 86400:.0f} days"
    return f"{s / (365 * 86400):.3g} years"


def _bytes(b: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b / 2**20:.1f} MiB"


def estimate(runs: int, households: int, months: int, workers: int = 1) -> Workload:
    """The :class:`Workload` of ``runs`` runs (burn-in months included in ``months``)."""
    return Workload(int(runs), int(households), int(months), int(workers))


def check_workload(work: Workload, yes: bool = False, what: str = "this request") -> None:
    """Refuse a request that would not fit in memory, or that is very long without ``yes``.

    Raises :class:`~popsim.errors.UsageError` (exit code 2) naming the estimate; a request whose
    memory exceeds what the machine has is refused even with ``yes``.
    """
    memory = available_memory()
    if work.peak_bytes > memory:
        raise UsageError(f"{what} would need {_bytes(work.peak_bytes)} of memory and this machine "
                         f"has {_bytes(memory)} available ({work.describe()}); use fewer "
                         f"households or workers")
    if not yes and work.cpu_seconds > MAX_CPU_HOURS * 3600:
        raise UsageError(f"{what} is large: {work.describe()}. Check the numbers; pass --yes "
                         f"to run it anyway")
