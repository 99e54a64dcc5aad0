"""Writing results safely: every output file appears whole or not at all.

:func:`atomic_path` yields a temporary path in the destination folder; the file (or folder)
written there is renamed onto the destination only when the block succeeds, so an interrupted
run never leaves a truncated netCDF, text file or PNG behind. The writers :func:`write_netcdf`,
:func:`write_text` and :func:`save_figure` are the only ways popsim writes an output file.

A process killed with ``kill -9`` cannot remove its temporary. Each temporary is therefore named
``.<destination name>.pid<PID>.<8 random characters>.tmp`` (:data:`TEMP_PATTERN`), and every
write into a folder first removes the temporaries of that pattern whose writer is gone
(:func:`clean_stale_temporaries`): its process is dead, or the process now holding that PID
started after the temporary was last written (a reused PID). A live writer's temporary is never
touched, however long it writes; no other file is ever removed.

Test seam: when the environment variable ``POPSIM_TEST_PAUSE_BEFORE_RENAME`` names a file,
:func:`atomic_path` creates that file once the temporary is written and then waits (up to
ten minutes) before the rename, so that a test can kill the writer at exactly that moment.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # xarray is imported only by write_netcdf: the CLI's light paths import io
    import xarray as xr

__all__ = ["atomic_path", "write_netcdf", "write_text", "save_figure",
           "clean_stale_temporaries", "TEMP_PATTERN", "PAUSE_ENV"]

#: the name of every temporary :func:`atomic_path` creates (and the only names it ever removes)
TEMP_PATTERN = re.compile(r"^\.(?P<dest>.+)\.pid(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp$")
#: environment variable of the test seam (see the module docstring)
PAUSE_ENV = "POPSIM_TEST_PAUSE_BEFORE_RENAME"
_PAUSE_SECONDS = 600.0
#: seconds by which a PID's process must have started after a temporary's last write for the
#: temporary to count as another (dead) process's
_START_SLACK = 5.0


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch); None if it does not exist.

    Linux: from ``/proc``; elsewhere a live process gives ``-inf`` (started "before anything"),
    so that only a dead PID marks a temporary as stale.
    """
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        if fields[0] == "Z":  # a zombie: dead, not yet reaped by its parent
            return None
        started_ticks = int(fields[19])  # field 22 of proc(5), counted after "pid (comm)"
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime"))
        return boot + started_ticks / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, owned by someone else
        pass
    return float("-inf")


def _is_stale(path: Path, pid: int) -> bool:
    started = _process_start(pid)
    if started is None:
        return True
    try:
        written = path.lstat().st_mtime
    except FileNotFoundError:
        return False
    # a process that started after the temporary's last write is not its writer (PID reused);
    # slack for the start time's resolution and for clock adjustments since boot
    return started > written + _START_SLACK


def clean_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporaries of :data:`TEMP_PATTERN` in ``folder`` whose writer is gone.

    Returns the paths removed. Other files, and temporaries of live writers, are left alone.
    """
    folder = Path(folder)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        m = TEMP_PATTERN.match(entry.name)
        if m is None:
            continue
        path = Path(entry.path)
        if not _is_stale(path, int(m["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError):  # another writer cleaned it first
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def _pause_for_tests(tmp: Path) -> None:
    signal = os.environ.get(PAUSE_ENV)
    if not signal:
        return
    Path(signal).write_text(f"{os.getpid()} {tmp}\n", encoding="utf-8")
    deadline = time.monotonic() + _PAUSE_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)


def _fsync(path: Path) -> None:
    """Flush a written file to disk before it is renamed into place (a crash of the machine
    must not leave a renamed but empty file)."""
    if path.is_file():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds.

    The block creates a file or a folder at the yielded path (which does not exist yet). Stale
    temporaries of killed writers in the destination folder are removed first.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(dest.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.pid{os.getpid()}.", suffix=".tmp",
                               dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        yield tmp_path
        _fsync(tmp_path)
        _pause_for_tests(tmp_path)
        if dest.is_dir() and tmp_path.is_dir():
            shutil.rmtree(dest)
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.is_dir():
            shutil.rmtree(tmp_path, ignore_errors=True)
        elif tmp_path.exists():
            tmp_path.unlink()


def write_netcdf(ds: xr.Dataset, dest: str | Path) -> Path:
    """Write ``ds`` to ``dest`` as compressed netCDF-4, atomically."""
    encoding = {name: {"zlib": True, "complevel": 4} for name in ds.data_vars}
    with atomic_path(dest) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
    return Path(dest)


def write_text(text: str, dest: str | Path, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``dest``, atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(dest)


def save_figure(fig: Any, dest: str | Path, dpi: int = 110, format: str = "png") -> Path:
    """Save a matplotlib ``Figure`` to ``dest`` (PNG by default), atomically."""
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format=format, dpi=dpi)
    return Path(dest)
