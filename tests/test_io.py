"""popsim.io: outputs appear whole or not at all, and killed writers' temporaries are cleaned."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr
from matplotlib.figure import Figure

from popsim.io import (PAUSE_ENV, TEMP_PATTERN, atomic_path, clean_stale_temporaries,
                       save_figure, write_netcdf, write_text)

POPSIM = str(Path(sys.executable).with_name("popsim"))
TINY_TOML = ('name = "tiny"\nextends = "county"\n[run]\nhouseholds = 2000\nend_year = 2003\n'
             'burn_in_years = 10\n')


def _temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if TEMP_PATTERN.match(p.name))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _temp_name(dest: str, pid: int) -> str:
    return f".{dest}.pid{pid}.abcd_123.tmp"


def test_writers_leave_only_the_destination(tmp_path):
    ds = xr.Dataset({"x": ("t", [1.0, 2.0])}, attrs={"title": "t"})
    write_netcdf(ds, tmp_path / "a" / "d.nc")
    write_text("héllo\n", tmp_path / "a" / "t.md")
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / "a" / "f.png")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["d.nc", "f.png", "t.md"]
    with xr.open_dataset(tmp_path / "a" / "d.nc") as back:
        xr.testing.assert_identical(back.load(), ds)
    assert (tmp_path / "a" / "t.md").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "a" / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_temporary_name_carries_the_pid(tmp_path):
    with atomic_path(tmp_path / "out.nc") as tmp:
        m = TEMP_PATTERN.match(tmp.name)
        assert m and m["dest"] == "out.nc" and int(m["pid"]) == os.getpid()
        tmp.write_text("x")
    assert (tmp_path / "out.nc").read_text() == "x"


def test_failed_write_keeps_the_previous_file_and_no_temporary(tmp_path):
    dest = write_text("old", tmp_path / "t.txt")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed half-way")
    assert dest.read_text() == "old"
    assert _temporaries(tmp_path) == []


def test_folder_destination_is_replaced_whole(tmp_path):
    dest = tmp_path / "store.zarr"
    for content in ("first", "second"):
        with atomic_path(dest) as tmp:
            tmp.mkdir()
            (tmp / "chunk").write_text(content)
    assert [p.name for p in dest.iterdir()] == ["chunk"] and (dest / "chunk").read_text() == \
        "second"
    assert _temporaries(tmp_path) == []


def test_next_write_removes_a_dead_writers_temporaries_only(tmp_path):
    dead = _dead_pid()
    stale_file = tmp_path / _temp_name("run.nc", dead)
    stale_file.write_bytes(b"partial netCDF")
    stale_dir = tmp_path / _temp_name("store.zarr", dead)
    stale_dir.mkdir()
    (stale_dir / "chunk").write_text("x")
    mine = tmp_path / _temp_name("other.nc", os.getpid())  # a live writer: this process
    mine.write_text("being written")
    keep = [tmp_path / ".other.nc.XXXXXXXX.tmp",  # not our pattern (no pid)
            tmp_path / f".notes.pid{dead}.txt",   # not our pattern (no .tmp)
            tmp_path / "results.nc"]
    for p in keep:
        p.write_text("keep me")
    write_text("new", tmp_path / "t.txt")
    assert not stale_file.exists() and not stale_dir.exists()
    assert mine.exists() and all(p.exists() for p in keep)


def test_a_reused_pid_does_not_protect_an_old_temporary(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        fresh = tmp_path / _temp_name("a.nc", live.pid)
        fresh.write_text("written by the live process")
        old = tmp_path / _temp_name("b.nc", live.pid)
        old.write_text("written before that process started")
        an_hour_ago = time.time() - 3600
        os.utime(old, (an_hour_ago, an_hour_ago))
        assert clean_stale_temporaries(tmp_path) == [old]
        assert fresh.exists()
    finally:
        live.kill()
        live.wait()
    assert clean_stale_temporaries(tmp_path) == [fresh]  # its writer is now dead


def _wait_for(predicate, what: str, proc: subprocess.Popen, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"popsim exited ({proc.returncode}) before {what}: {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_kill_9_while_writing_leaves_no_partial_output(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    signal = tmp_path / "paused"
    env = {**os.environ, PAUSE_ENV: str(signal), "PYTHONWARNINGS": "ignore"}
    args = [POPSIM, "run", "tiny.toml", "--seed", "4", "--no-plot"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for(signal.exists, "the dataset was written to its temporary", proc)
    folder = tmp_path / "results" / "tiny"
    nc = folder / "tiny-seed4.nc"
    assert len(_temporaries(folder)) == 1 and not nc.exists()
    proc.kill()  # SIGKILL: no cleanup handler runs
    proc.communicate()
    assert proc.returncode == -9
    assert not nc.exists() and len(_temporaries(folder)) == 1  # the killed writer's temporary
    env.pop(PAUSE_ENV)
    again = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert _temporaries(folder) == [] and [p.name for p in folder.iterdir()] == [nc.name]
    with xr.open_dataset(nc) as ds:
        assert ds.attrs["seed"] == 4 and int(ds["year"][-1]) == 2003
        assert float(ds["total_births"].sum()) > 0
