"""Writing results safely: every output file appears whole or not at all.

:func:`atomic_path` yields a temporary path in the destination folder; the file (or folder)
written there is renamed onto the destination only when the block succeeds, so an interrupted
run never leaves a truncated netCDF or PNG behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import xarray as xr

__all__ = ["atomic_path", "write_netcdf"]


@contextlib.contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        yield tmp_path
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
