"""A damaged sweep store is found, named and repaired: real stores, real damage.

A finished 2 x 2 grid with 2 replicates (8 runs) is damaged as a disk, a crash or a careless hand
would: a chunk deleted, truncated or altered, a metadata file corrupted, a digest lost, a
coordinate truncated. Every reader (export, plot, sensitivity) then refuses with one line naming
the store and what is damaged (exit code 2, no codec or JSON traceback), and ``--resume`` runs
again exactly the runs that do not verify, giving a dataset identical to the undamaged one.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from popsim import cli
from popsim.experiments import sweep, sweep_spec, sweep_store

SPEC = """
name = "store_grid"
scenario = "county"
seed = 11
replicates = 2

[overrides]
"run.households" = 2000
"run.start_year" = 2000
"run.end_year" = 2002
"run.burn_in_years" = 10

[parameters]
"enforcement.inspections_per_month" = [0, 40]
"incentives.benefit_per_year" = [0, 6000]

[outputs]
variables = ["srb", "srb_by_parity", "births", "enforcement_cost"]
"""
SHAPE = (2, 2, 2)
TOTAL = 8


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """(spec path, a finished store, its dataset loaded)."""
    folder = tmp_path_factory.mktemp("made")
    spec_path = folder / "store_grid.toml"
    spec_path.write_text(SPEC, encoding="utf-8")
    store = folder / "reference.zarr"
    sweep.run_sweep(sweep_spec.load_spec(spec_path), store, workers=1, progress=False)
    return spec_path, store, sweep.open_sweep(store).load()


@pytest.fixture
def store(made, tmp_path):
    """A fresh copy of the finished store to damage."""
    copy = tmp_path / "sweep.zarr"
    shutil.copytree(made[1], copy)
    return copy


def chunk(store: Path, name: str, k: int) -> Path:
    """The chunk file of run ``k`` (flat, task order) of variable ``name``."""
    inner = zarr.open_array(str(store / name), mode="r").ndim - len(SHAPE) \
        if (store / name / "zarr.json").is_file() else 0
    idx = [int(i) for i in np.unravel_index(k, SHAPE)] + [0] * inner
    return store.joinpath(name, "c", *map(str, idx))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def alter(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-8:] = bytes(8)  # the last value's bytes: the chunk may still decode, to other numbers
    path.write_bytes(bytes(data))


def counts(out: str) -> tuple[int, int, int]:
    m = re.search(r"\((\d+) already complete, (\d+) run now(?:, (\d+) of them damaged)?\)", out)
    assert m, out
    return int(m[1]), int(m[2]), int(m[3] or 0)


def one_line_error(capsys, start: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith(f"popsim: error: {start}"), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def resume(spec_path: Path, store: Path, capsys) -> tuple[int, int, int]:
    assert cli.main(["sweep", str(spec_path), "--out", str(store), "--workers", "1", "--resume",
                     "--no-progress"]) == 0
    return counts(capsys.readouterr().out)


# (case, damage, what the message names, (already complete, run now, damaged) on --resume)
DAMAGE = [
    ("chunk deleted", lambda s: chunk(s, "births", 3).unlink(),
     ["run 3 (enforcement.inspections_per_month=0.0, incentives.benefit_per_year=6000.0, "
      "replicate=1): births chunk missing"], (7, 1, 1)),
    ("chunk truncated", lambda s: truncate(chunk(s, "srb", 4)),
     ["run 4 (", "srb chunk unreadable (truncated or corrupt)"], (7, 1, 1)),
    ("chunk altered", lambda s: alter(chunk(s, "srb_by_parity", 6)),
     ["1 of 8 runs recorded complete do not verify", "run 6 ("], (7, 1, 1)),
    ("chunks of two runs", lambda s: (chunk(s, "births", 0).unlink(),
                                      truncate(chunk(s, "enforcement_cost", 7))),
     ["2 of 8 runs", "run 0 (", "run 7 ("], (6, 2, 2)),
    ("digest deleted", lambda s: chunk(s, "run_digest", 1).unlink(),
     ["run 1 (", "recorded complete but it has no digest"], (7, 1, 1)),
    ("every digest lost", lambda s: shutil.rmtree(s / "run_digest"),
     ["run_digest/zarr.json is missing", "8 of 8 runs"], (0, 8, 8)),
    ("group zarr.json corrupt", lambda s: (s / "zarr.json").write_text('{"attributes": {"ti'),
     ["zarr.json is truncated or corrupt (not valid JSON)"], (8, 0, 0)),
    ("array zarr.json truncated", lambda s: truncate(s / "births" / "zarr.json"),
     ["births/zarr.json is truncated or corrupt"], (8, 0, 0)),
    ("coordinate truncated", lambda s: truncate(s / "year" / "c" / "0"),
     ["coordinate 'year' is unreadable"], (7, 1, 0)),  # one run to write a new frame
]


@pytest.mark.parametrize("case, damage, names, repaired", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damage_is_named_and_resume_runs_exactly_the_damaged_runs(made, store, tmp_path, capsys,
                                                                   case, damage, names,
                                                                   repaired):
    spec_path, _, reference = made
    damage(store)
    nc = tmp_path / "out.nc"
    assert cli.main(["export", str(store), str(nc)]) == 2
    err = one_line_error(capsys, f"{store} is damaged: ")
    for fragment in names + ["--resume"]:
        assert fragment in err, f"{case}: {fragment!r} not in {err!r}"
    assert not nc.exists() and not list(tmp_path.glob(".out.nc.*"))
    assert resume(spec_path, store, capsys) == repaired
    xr.testing.assert_identical(sweep.open_sweep(store).load(), reference)
    assert sweep.sweep_status(store)[0].all()


def test_plot_and_sensitivity_refuse_a_damaged_store(store, tmp_path, capsys):
    chunk(store, "srb", 2).unlink()
    png = tmp_path / "x.png"
    assert cli.main(["plot", str(store), "--out", str(png)]) == 2
    assert "run 2 (" in one_line_error(capsys, f"{store} is damaged: ")
    assert cli.main(["sensitivity", str(store), "--out", str(png)]) == 2
    assert "srb chunk missing" in one_line_error(capsys, f"{store} is damaged: ")
    assert not png.exists()


def test_a_lost_flag_is_restored_without_running_again(made, store, capsys):
    spec_path, _, reference = made
    chunk(store, "run_complete", 2).unlink()
    assert cli.main(["export", str(store), str(store.parent / "x.nc")]) == 2
    assert "incomplete: 7 of 8 runs finished" in one_line_error(capsys, f"{store} is ")
    assert resume(spec_path, store, capsys) == (8, 0, 0)
    xr.testing.assert_identical(sweep.open_sweep(store).load(), reference)


def test_partial_export_never_carries_a_run_that_does_not_verify(made, store, tmp_path, capsys):
    _, _, reference = made
    # run 5 as a kill mid-write leaves it: unflagged, no digest, a truncated chunk
    idx = tuple(int(i) for i in np.unravel_index(5, SHAPE))
    zarr.open_array(str(store / "run_complete"), mode="r+")[idx] = False
    zarr.open_array(str(store / "run_digest"), mode="r+")[idx] = 0
    truncate(chunk(store, "births", 5))
    nc = tmp_path / "partial.nc"
    assert cli.main(["export", str(store), str(nc)]) == 2
    assert "incomplete: 7 of 8 runs finished" in one_line_error(capsys, f"{store} is ")
    assert cli.main(["export", str(store), str(nc), "--partial"]) == 0
    exported = xr.open_dataset(nc).load()
    flags = exported["run_complete"].values.reshape(-1)
    assert flags.tolist() == [k != 5 for k in range(TOTAL)]
    births = exported["births"].values.reshape(TOTAL, -1)
    assert np.isnan(births[5]).all() and not np.isnan(births[flags]).any()
    np.testing.assert_array_equal(births[flags], reference["births"].values.reshape(TOTAL, -1)
                                  [flags])
    # a run recorded complete that does not verify is never exported, not even partially
    chunk(store, "srb", 0).unlink()
    assert cli.main(["export", str(store), str(tmp_path / "again.nc"), "--partial"]) == 2
    assert "srb chunk missing" in one_line_error(capsys, f"{store} is damaged: ")


def test_a_garbled_lock_file_is_taken_over(made, store, capsys):
    spec_path, _, _ = made
    lock = store.parent / f".{store.name}.lock"
    lock.write_bytes(b"\xff\x00garbage\n" * 100)
    assert resume(spec_path, store, capsys) == (8, 0, 0)
    assert lock.read_bytes().decode().isdigit()
    lock.unlink()
    lock.mkdir()  # a lock that cannot be opened: one line, not an IsADirectoryError
    assert cli.main(["sweep", str(spec_path), "--out", str(store), "--resume"]) == 2
    assert f"cannot use the lock file {lock}" in one_line_error(capsys, "")


def test_a_folder_that_is_not_a_sweep_is_never_repaired_or_deleted(made, tmp_path, capsys):
    spec_path = made[0]
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    for argv in (["--resume"], ["--overwrite"]):
        assert cli.main(["sweep", str(spec_path), "--out", str(folder), *argv]) == 2
        assert "is not a popsim sweep store" in one_line_error(capsys, f"{folder}")
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert cli.main(["export", str(folder), str(tmp_path / "x.nc")]) == 2
    one_line_error(capsys, f"{folder} is not a popsim sweep store")


def test_every_run_carries_a_digest_of_its_values(made):
    spec_path, store, reference = made
    spec = sweep_spec.load_spec(spec_path)
    check = sweep_store.check_store(store)
    assert check.complete.all() and not check.damaged and not check.frame
    k = 5
    idx = dict(zip(spec.run_dims, np.unravel_index(k, SHAPE)))
    run = reference.isel(idx)
    expected = sweep_store.run_digest(spec.sha256(), k, [run[v].values for v in spec.variables])
    assert int(run["run_digest"]) == expected
    # the digest binds the values to their spec and position: not to another run's place
    assert sweep_store.run_digest(spec.sha256(), k + 1, [run[v].values
                                                         for v in spec.variables]) != expected


def test_lost_attrs_and_another_spec_never_mislabel_runs(made, store, tmp_path, capsys):
    """With the group's zarr.json lost, the spec cannot be compared: a resume with another spec
    (other parameter values, same shape) runs everything again under that spec's labels."""
    (store / "zarr.json").write_bytes(b"\x00" * 40)
    other = tmp_path / "other.toml"
    other.write_text(SPEC.replace("[0, 40]", "[0, 20]"), encoding="utf-8")
    assert resume(other, store, capsys) == (0, 8, 8)
    fresh = tmp_path / "fresh.zarr"
    sweep.run_sweep(sweep_spec.load_spec(other), fresh, workers=1, progress=False)
    resumed = sweep.open_sweep(store).load()
    assert resumed["enforcement.inspections_per_month"].values.tolist() == [0.0, 20.0]
    xr.testing.assert_identical(resumed, sweep.open_sweep(fresh).load())
