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
sizes where fixed costs dominate) plus 200 MB per process. A comparison also keeps every run's
yearly dataset until the end (about 1 kB per year and run for a 16-township county).

The memory a request may use is what the machine has available, within any limit set on this
process (a cgroup memory limit of a container, ``ulimit -v``), since a run that exceeds the limit
is killed or fails part-way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import UsageError

__all__ = ["Workload", "estimate", "check_workload", "available_memory", "run_months",
           "check_count", "kept_bytes", "MAX_CPU_HOURS", "DEFAULT_REPLICATES", "MAX_REPLICATES",
           "MAX_WORKERS"]

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
#: replicates per scenario of a comparison when none are asked for
DEFAULT_REPLICATES = 5
#: most replicates per scenario a comparison accepts, even with ``--yes`` (each run's dataset
#: stays in memory, and 10,000 replicates already give percentiles to a tenth of a percent)
MAX_REPLICATES = 10_000
#: most worker processes accepted, even with ``--yes`` (more than the cores only adds memory)
MAX_WORKERS = 256
#: bytes kept per recorded year of a run's dataset, and per township and year
_KEPT_PER_YEAR, _KEPT_PER_TOWNSHIP_YEAR = 400, 40


def _machine_memory() -> float:
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


def _read_number(path: str) -> float | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except OSError:
        return None
    return float(text) if text.isdigit() else None  # "max": no limit


def _cgroup_room() -> float:
    """Bytes left under this process's cgroup memory limit (v2 or v1); inf without a limit."""
    room = float("inf")
    try:
        with open("/proc/self/cgroup", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return room
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2
            pairs = [(f"/sys/fs/cgroup{path}/memory.max", f"/sys/fs/cgroup{path}/memory.current")]
        elif "memory" in controllers.split(","):  # v1
            base = "/sys/fs/cgroup/memory"
            pairs = [(f"{base}{path}/memory.limit_in_bytes", f"{base}{path}/memory.usage_in_bytes"),
                     (f"{base}/memory.limit_in_bytes", f"{base}/memory.usage_in_bytes")]
        else:
            continue
        for limit_file, usage_file in pairs:
            limit = _read_number(limit_file)
            if limit is not None and limit < 2**60:  # v1 writes "no limit" as about 2**63
                room = min(room, limit - (_read_number(usage_file) or 0.0))
                break
    return room


def _rlimit_room() -> float:
    """Bytes the address-space or data limit (``ulimit -v``/``-d``) leaves; inf without one."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return float("inf")
    room = float("inf")
    for which, used in ((resource.RLIMIT_AS, "VmSize:"), (resource.RLIMIT_DATA, "VmData:")):
        soft, _ = resource.getrlimit(which)
        if soft != resource.RLIM_INFINITY:
            room = min(room, float(soft) - _status_bytes(used))
    return room


def _status_bytes(key: str) -> float:
    """A ``kB`` figure of ``/proc/self/status`` in bytes (0 where it is unknown)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return 0.0


def available_memory() -> float:
    """Bytes of memory a request may use: what the machine has available (MemAvailable; total
    RAM where it is unknown), within this process's cgroup limit and ``ulimit``."""
    return max(0.0, min(_machine_memory(), _cgroup_room(), _rlimit_room()))


@dataclass(frozen=True)
class Workload:
    """The estimated size of a request: ``runs`` runs of ``households`` x ``months`` each."""

    runs: int
    households: int
    months: int
    workers: int = 1
    #: bytes of each run's result held in memory until the request ends (0: written at once)
    kept_bytes: int = 0

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
        kept = float(self.runs) * self.kept_bytes
        return parallel * (BYTES_PER_PROCESS + self.households * BYTES_PER_HOUSEHOLD) + kept

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


def run_months(start_year: int, end_year: int, burn_in_years: int) -> int:
    """Months one run simulates: the recorded years and the burn-in before them."""
    return (int(end_year) - int(start_year) + 1 + int(burn_in_years)) * 12


def kept_bytes(years: int, townships: int) -> int:
    """Bytes of one run's yearly dataset kept in memory (a comparison keeps them all)."""
    return int(years) * (_KEPT_PER_YEAR + _KEPT_PER_TOWNSHIP_YEAR * int(townships))


def estimate(runs: int, households: int, months: int, workers: int = 1,
             kept: int = 0) -> Workload:
    """The :class:`Workload` of ``runs`` runs (burn-in months included in ``months``), each
    keeping ``kept`` bytes of result in memory until the end (see :func:`kept_bytes`)."""
    return Workload(int(runs), int(households), int(months), int(workers), int(kept))


def check_count(name: str, value: int, hi: int, lo: int = 1) -> int:
    """``value`` as an int if ``lo <= value <= hi``; else a :class:`UsageError` naming ``name``
    and the bound (``name`` as the user wrote it, e.g. ``--workers``)."""
    if isinstance(value, bool) or int(value) != value:
        raise UsageError(f"{name} must be a whole number, got {value!r}")
    if value < lo:
        raise UsageError(f"{name} must be at least {lo:,}, got {value:,}")
    if value > hi:
        raise UsageError(f"{name} must be at most {hi:,}, got {value:,}")
    return int(value)


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
