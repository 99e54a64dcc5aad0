"""A sweep store you can trust: per-run digests, verification, repair and the writer's lock.

A sweep store (zarr v3, consolidated metadata) has a *frame*, written once from the first finished
run: the group's ``zarr.json`` (the spec and provenance as attrs, and a copy of every array's
metadata), one ``zarr.json`` per array, and the coordinates (their SHA-256 is the attr
``frame_sha256``). Every run then fills its own region: one chunk per run and variable, written
even when its values equal the fill value, so that a missing chunk file is always damage.

Once a run's data is on disk its digest is written (``run_digest``: the first 64 bits of the
SHA-256 of the spec's hash, the run's index and its values, NaN in one bit pattern), and only then
its flag (``run_complete``). :func:`check_store` reads every run back and recomputes its digest:
a run is complete only when the stored digest matches. A chunk deleted, truncated or altered, a
digest lost, a damaged metadata file or coordinate is found and named, without a codec or JSON
traceback; nothing is read from a run that does not verify.

Repair (``popsim sweep SPEC --out STORE --resume``): an array's ``zarr.json`` is restored from the
group's copy and the group's ``zarr.json`` from the spec and the arrays' own files
(:func:`restore_metadata`); when the frame cannot be restored so, it is written again from a
fresh run and every intact run's chunks are moved into it (:func:`rebuild_frame`). Runs that do
not verify are then run again; a run whose data verifies but whose flag was lost is only flagged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import shutil
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import StoreError
from ..io import atomic_path, write_text

__all__ = ["StoreCheck", "check_store", "run_digest", "frame_digest",
           "restore_metadata", "rebuild_frame", "writer_lock", "load_masked", "COMPLETE",
           "DIGEST", "FRAME_ATTR", "quiet_consolidated"]

#: the flag variable: the run's data and digest are on disk
COMPLETE = "run_complete"
#: the digest variable (uint64; 0: no digest)
DIGEST = "run_digest"
#: the attr holding the SHA-256 of the frame's coordinates
FRAME_ATTR = "frame_sha256"
# Verification reads the store in slabs along the first run dimension of about this many bytes.
_SLAB_BYTES = 64 << 20
_SHOWN = 5


@contextlib.contextmanager
def quiet_consolidated() -> Iterator[None]:
    """Consolidated metadata is not (yet) part of the zarr v3 specification and zarr says so on
    every write; popsim reads its own stores, so the warning tells a user nothing."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        yield


def _canonical(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    if a.dtype.kind == "f":  # xarray writes its own NaN: hash one bit pattern for all NaN
        a = np.where(np.isnan(a), np.nan, a)
    elif a.dtype.kind == "b":
        a = a.astype(np.int8)
    return a


def _hasher(spec_sha: str, index: int) -> Any:
    return hashlib.sha256(f"popsim-sweep-run:{spec_sha}:{index}".encode())


def _update(h: Any, a: np.ndarray) -> None:
    a = _canonical(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())


def _finish(h: Any) -> int:
    return int.from_bytes(h.digest()[:8], "little") or 1  # 0 means "no digest"


def run_digest(spec_sha: str, index: int, arrays: Iterable[np.ndarray]) -> int:
    """The digest of run ``index``: its spec, its position and its values (variables in order)."""
    h = _hasher(spec_sha, index)
    for a in arrays:
        _update(h, np.asarray(a))
    return _finish(h)


def frame_digest(coords: Mapping[str, Any]) -> str:
    """SHA-256 of the frame's coordinates (names, shapes, values), in name order."""
    h = hashlib.sha256()
    for name in sorted(coords):
        v = _canonical(np.asarray(coords[name]))
        h.update(json.dumps([name, list(v.shape), v.tolist()]).encode())
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------
# Checking


@dataclasses.dataclass
class StoreCheck:
    """What :func:`check_store` found. Run indices are flat, in task order."""

    store: Path
    attrs: dict[str, Any] | None  # None: the group's zarr.json is damaged
    frame: list[str]  # damaged metadata files and coordinates, one phrase each
    restorable: dict[str, dict]  # array -> its metadata, restorable from the group's copy
    shape: tuple[int, ...] | None  # the run shape (None: not known)
    complete: np.ndarray  # runs whose data verifies against their digest
    damaged: dict[int, str]  # runs claimed complete that do not verify -> why
    reflag: list[int]  # runs whose data verifies but whose flag is missing
    labels: dict[int, str]  # run -> its coordinates, for messages
    values: dict[str, np.ndarray] | None = None  # with keep=True: every array as read

    @property
    def total(self) -> int:
        return int(self.complete.size)

    def run_label(self, k: int) -> str:
        return f"run {k}" + (f" ({self.labels[k]})" if k in self.labels else "")

    def describe_damage(self) -> str:
        """One line: what is damaged (metadata and runs)."""
        parts = []
        if self.frame:
            parts.append("; ".join(self.frame))
        if self.damaged:
            shown = [f"{self.run_label(k)}: {why}" for k, why in
                     sorted(self.damaged.items())[:_SHOWN]]
            more = len(self.damaged) - _SHOWN
            parts.append(f"{len(self.damaged)} of {self.total} runs recorded complete do not "
                         f"verify: " + "; ".join(shown) + (f"; and {more} more" if more > 0
                                                            else ""))
        return f"{self.store} is damaged: " + "; ".join(parts)

    def repair_hint(self) -> str:
        return (f"repair it with 'popsim sweep SPEC --out {self.store} --resume' (with the spec "
                f"it was made with: only the damaged runs are run again)")


def _rel(store: Path, path: Path) -> str:
    return str(path.relative_to(store))


def _read_json(store: Path, path: Path) -> tuple[dict | None, str | None]:
    """(metadata, None) or (None, what is wrong with the file)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, f"{_rel(store, path)} is missing"
    except OSError as e:
        return None, f"{_rel(store, path)} cannot be read ({e.strerror})"
    try:
        meta = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None, f"{_rel(store, path)} is truncated or corrupt (not valid JSON)"
    if not isinstance(meta, dict) or meta.get("zarr_format") != 3:
        return None, f"{_rel(store, path)} is corrupt (not zarr v3 metadata)"
    return meta, None


def _sweep_like(store: Path) -> bool:
    """A folder that holds a sweep's arrays (so repairing it cannot destroy someone's files)."""
    return (store / COMPLETE).is_dir() or (store / DIGEST).is_dir()


def _open_arrays(store: Path, names: Iterable[str], consolidated: bool) -> dict[str, Any]:
    """name -> zarr array (None when it cannot be opened)."""
    import zarr

    out: dict[str, Any] = {}
    group = None
    if consolidated:
        with contextlib.suppress(Exception):  # noqa: BLE001 - falls back to each array's file
            group = zarr.open_group(str(store), mode="r", use_consolidated=True)
    for name in names:
        try:
            out[name] = group[name] if group is not None else \
                zarr.open_array(str(store / name), mode="r")
        except Exception:  # noqa: BLE001 - zarr raises many kinds for damaged metadata
            out[name] = None
    return out


def _chunk_exists(store: Path, name: str, arr: Any, idx: tuple[int, ...]) -> bool:
    inner = (0,) * (arr.ndim - len(idx))
    return (store / name / arr.metadata.encode_chunk_key(tuple(idx) + inner)).is_file()


def _read_slab(arr: Any, i0: int, i1: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Runs ``[i0, i1)`` of the first run dimension as (values per run, unreadable per run);
    a chunk that cannot be decoded (truncated, corrupt) marks only its own run."""
    per = math.prod(shape[1:])
    m = (i1 - i0) * per
    inner = tuple(arr.shape[len(shape):])
    try:
        return np.asarray(arr[i0:i1]).reshape((m, *inner)), np.zeros(m, bool)
    except Exception:  # noqa: BLE001 - codecs raise RuntimeError, ValueError, ...: read each run
        pass
    values = np.zeros((m, *inner), dtype=arr.dtype)
    bad = np.zeros(m, bool)
    for j in range(m):
        idx = np.unravel_index(i0 * per + j, shape)
        try:
            values[j] = arr[tuple(int(i) for i in idx)]
        except Exception:  # noqa: BLE001 - as above
            bad[j] = True
    return values, bad


def _labels(arrays: dict[str, Any], dims: list[str], shape: tuple[int, ...],
            runs: Iterable[int]) -> dict[int, str]:
    """run -> "dim=value, ..." from the coordinates (indices where a coordinate is unreadable)."""
    coords = {}
    for d in dims:
        try:
            coords[d] = np.asarray(arrays[d][...])
        except Exception:  # noqa: BLE001 - damaged coordinate: label by index
            coords[d] = None
    out = {}
    for k in runs:
        idx = np.unravel_index(k, shape)
        out[k] = ", ".join(f"{d}={coords[d][i]!s}" if coords[d] is not None else f"{d}[{i}]"
                           for d, i in zip(dims, idx))
    return out


def check_store(store: str | Path, *, spec_sha: str | None = None,
                variables: list[str] | None = None, shape: tuple[int, ...] | None = None,
                dims: list[str] | None = None, keep: bool = False) -> StoreCheck:
    """Read every metadata file, coordinate and run of ``store`` and say what is intact.

    The spec's hash, variables, run shape and run dimensions come from the store's attrs; a
    resuming runner passes them from its spec (they then also serve when the attrs are lost).
    With ``keep`` the values read (every variable, the flags, the digests) are kept in
    ``values``, so that a reader that loads the whole sweep does not read it twice.
    Raises :class:`StoreError` for a path that is not a sweep store at all.
    """
    store = Path(store)
    if not store.exists():
        raise StoreError(f"no sweep store at {store}")
    if not store.is_dir():
        raise StoreError(f"{store} is a file, not a sweep store")
    frame: list[str] = []
    root, problem = _read_json(store, store / "zarr.json")
    attrs = None
    copies: dict[str, dict] = {}
    if root is not None:
        attrs = root.get("attributes")
        if not isinstance(attrs, dict) or "spec_canonical" not in attrs:
            if not _sweep_like(store):
                raise StoreError(f"{store} is a zarr store but not a popsim sweep")
            attrs, problem = None, "zarr.json holds no sweep attrs"
        elif not _attrs_ok(attrs):
            attrs, problem = None, "zarr.json's sweep attrs are corrupt"
        consolidated = root.get("consolidated_metadata")
        copies = consolidated.get("metadata") if isinstance(consolidated, dict) else None
        copies = copies if isinstance(copies, dict) and attrs is not None else {}
    elif not _sweep_like(store):
        raise StoreError(f"{store} is not a popsim sweep store ({problem})")
    if attrs is None:
        frame.append(f"{problem} (the sweep's spec and provenance)")
    if attrs is not None:
        spec_sha = spec_sha or attrs.get("spec_sha256")
        variables = variables or json.loads(attrs["variables"])
        dims = dims or _run_dims(attrs)
    variables, dims = variables or [], dims or []
    # every array: those the group's copy lists, those with a folder, the ones a sweep must have
    names = list(dict.fromkeys([*copies, *sorted(p.parent.name for p in store.glob("*/zarr.json")),
                                *variables, COMPLETE, DIGEST]))
    restorable: dict[str, dict] = {}
    for name in names:
        meta, problem = _read_json(store, store / name / "zarr.json")
        if meta is None and name in copies:
            restorable[name] = copies[name]
            frame.append(f"{problem} (restorable from the group's copy)")
        elif meta is None:
            frame.append(problem if (store / name).exists() else
                         f"array '{name}' is missing" + (" (the store was written by an older "
                                                         "popsim, without run digests)"
                                                         if name == DIGEST else ""))
    arrays = _open_arrays(store, names, consolidated=bool(copies))
    run_arrays = {*variables, COMPLETE, DIGEST}
    frame_names = [n for n in names if n not in run_arrays]
    if attrs is not None:
        _check_frame(arrays, frame_names, attrs, frame)
    stored_shape = tuple(arrays[COMPLETE].shape) if arrays.get(COMPLETE) is not None else None
    if shape is not None and stored_shape is not None and shape != stored_shape:
        frame.append(f"its runs are laid out {stored_shape}, not {shape} as the spec says")
        shape = None
    elif shape is None:
        shape = stored_shape
    if shape is None or not variables:
        return StoreCheck(store, attrs, frame, restorable, None, np.zeros(0, bool), {}, [], {})
    kept: dict[str, list[np.ndarray]] | None = {} if keep else None
    complete, damaged, reflag = _verify_runs(store, arrays, variables, shape, spec_sha or "",
                                             kept)
    labels = _labels(arrays, dims, shape, sorted(damaged)[:_SHOWN]) \
        if damaged and len(dims) == len(shape) else {}
    values = None if kept is None else \
        {name: np.concatenate(parts).reshape(arrays[name].shape) for name, parts in kept.items()
         if arrays.get(name) is not None}
    return StoreCheck(store, attrs, frame, restorable, shape, complete, damaged, reflag, labels,
                      values)


def _attrs_ok(attrs: dict[str, Any]) -> bool:
    """The attrs a reader needs are there and parse (a flipped byte may keep the file JSON)."""
    try:
        json.loads(attrs["spec_canonical"])
        return all(isinstance(x, list) for x in (json.loads(attrs["variables"]),
                                                 json.loads(attrs["parameters"]))) \
            and isinstance(attrs["spec_sha256"], str) and isinstance(attrs["design"], str)
    except (KeyError, TypeError, ValueError):
        return False


def _run_dims(attrs: dict[str, Any]) -> list[str]:
    params = json.loads(attrs["parameters"])
    packages = ["package"] if json.loads(attrs.get("packages", "[]")) else []
    return packages + (params if attrs.get("design") == "grid" else ["run"]) + ["replicate"]


def _check_frame(arrays: dict[str, Any], names: list[str], attrs: dict, frame: list[str]) -> None:
    coords = {}
    for name in names:
        if arrays.get(name) is None:
            return  # already reported as damaged metadata
        try:
            coords[name] = np.asarray(arrays[name][...])
        except Exception:  # noqa: BLE001 - codecs raise many kinds
            frame.append(f"coordinate '{name}' is unreadable (a chunk truncated or corrupt)")
            return
    if FRAME_ATTR in attrs and frame_digest(coords) != attrs[FRAME_ATTR]:
        frame.append("the coordinates differ from those written (their digest does not match)")


def _verify_runs(store: Path, arrays: dict[str, Any], variables: list[str],
                 shape: tuple[int, ...], spec_sha: str,
                 kept: dict[str, list[np.ndarray]] | None = None) \
        -> tuple[np.ndarray, dict, list]:
    n = math.prod(shape)
    complete = np.zeros(n, bool)
    damaged: dict[int, str] = {}
    reflag: list[int] = []
    flags_arr, digest_arr = arrays.get(COMPLETE), arrays.get(DIGEST)
    var_arrays = [(v, arrays.get(v)) for v in variables]
    per_run = sum(math.prod(a.shape[len(shape):]) * a.dtype.itemsize
                  for _, a in var_arrays if a is not None) or 1
    per_lead = math.prod(shape[1:])
    step = max(1, _SLAB_BYTES // (per_run * per_lead))
    for i0 in range(0, shape[0], step):
        i1 = min(shape[0], i0 + step)
        base, m = i0 * per_lead, (i1 - i0) * per_lead
        flags, bad_flags = _read_slab(flags_arr, i0, i1, shape) if flags_arr is not None else \
            (np.zeros(m, bool), np.ones(m, bool))
        stored, bad_stored = _read_slab(digest_arr, i0, i1, shape) \
            if digest_arr is not None else (np.zeros(m, np.uint64), np.zeros(m, bool))
        if kept is not None:
            kept.setdefault(COMPLETE, []).append(flags)
            kept.setdefault(DIGEST, []).append(stored)
        hashers = [_hasher(spec_sha, base + j) for j in range(m)]
        unreadable: dict[int, str] = {}
        for name, arr in var_arrays:
            if arr is None:
                unreadable.update({j: f"{name}: its metadata is damaged" for j in range(m)
                                   if j not in unreadable})
                continue
            values, bad = _read_slab(arr, i0, i1, shape)
            if kept is not None:
                kept.setdefault(name, []).append(values)
            for j in range(m):
                if bad[j]:
                    unreadable.setdefault(j, f"{name} chunk unreadable (truncated or corrupt)")
                elif j not in unreadable:
                    _update(hashers[j], values[j])
        for j in range(m):
            k = base + j
            flag = None if bad_flags[j] else bool(flags[j])
            digest = None if bad_stored[j] else int(stored[j])
            if flag is not True and not digest:
                continue  # not finished (a kill may have left part of its data): run it again
            if j not in unreadable and digest and _finish(hashers[j]) == digest:
                complete[k] = True
                if flag is not True:
                    reflag.append(k)  # killed between digest and flag, or the flag was lost
                continue
            if j in unreadable:
                damaged[k] = unreadable[j]
            elif digest is None:
                damaged[k] = "its digest is unreadable"
            elif not digest:
                damaged[k] = "recorded complete but it has no digest"
            else:
                missing = [name for name, arr in var_arrays if arr is not None and
                           not _chunk_exists(store, name, arr, np.unravel_index(k, shape))]
                damaged[k] = (f"{', '.join(missing)} chunk{'s' if len(missing) > 1 else ''} "
                              f"missing") if missing else "its data differs from its digest"
    return complete, damaged, reflag


# ------------------------------------------------------------------------------------------------
# Reading what verifies


def load_masked(store: Path, check: StoreCheck, names: list[str]) -> dict[str, np.ndarray]:
    """The values of ``names``, with every run that does not verify set to NaN (0 for the
    digest, False for the flag), read without touching an unreadable chunk's neighbours."""
    arrays = _open_arrays(store, names, consolidated=True)
    shape = check.shape
    out = {}
    for name in names:
        arr = arrays[name]
        per_lead = math.prod(shape[1:])
        parts = []
        for i0 in range(shape[0]):
            values, _ = _read_slab(arr, i0, i0 + 1, shape)
            ok = check.complete[i0 * per_lead:(i0 + 1) * per_lead]
            values = values.astype(float) if name not in (COMPLETE, DIGEST) else values
            values[~ok] = np.nan if name not in (COMPLETE, DIGEST) else 0
            parts.append(values)
        out[name] = np.concatenate(parts).reshape(arr.shape)
    return out


# ------------------------------------------------------------------------------------------------
# Repairing


def restore_metadata(check: StoreCheck, attrs: dict[str, Any], run_arrays: list[str],
                     expected: Mapping[str, np.ndarray]) -> None:
    """Write back each damaged array ``zarr.json`` from the group's copy; when the group's
    ``zarr.json`` itself is damaged, write it again with ``attrs`` (from the spec) and the digest
    of the coordinates as they are stored, provided those the spec determines (``expected``:
    parameter values, replicates, seeds) are the spec's. Then refresh the group's copy."""
    import zarr

    store = check.store
    for name, meta in check.restorable.items():
        write_text(json.dumps(meta, indent=2), store / name / "zarr.json")
    if check.attrs is None:
        names = [p.parent.name for p in store.glob("*/zarr.json")]
        if any(_read_json(store, store / n / "zarr.json")[0] is None for n in names):
            return  # nothing left to restore the group from: the frame is written anew
        frame = [n for n in names if n not in run_arrays]
        arrays = _open_arrays(store, frame, consolidated=False)
        try:
            coords = {n: np.asarray(arrays[n][...]) for n in frame}
        except Exception:  # noqa: BLE001 - an unreadable coordinate: the frame is rebuilt
            return
        if any(n not in coords or _canonical(coords[n]).tolist() != _canonical(v).tolist()
               for n, v in expected.items()):
            return  # labels of another spec: the frame is written anew from this one
        with contextlib.suppress(FileNotFoundError):
            (store / "zarr.json").unlink()
        group = zarr.open_group(str(store), mode="a", zarr_format=3)
        group.attrs.update({**attrs, FRAME_ATTR: frame_digest(coords)})
    with quiet_consolidated(), contextlib.suppress(Exception):  # noqa: BLE001
        zarr.consolidate_metadata(str(store))  # fails on a damaged file: the frame is rebuilt


def _same_layout(a: dict | None, b: dict) -> bool:
    keys = ("shape", "data_type", "chunk_grid", "chunk_key_encoding", "codecs", "fill_value")
    return a is not None and all(a.get(k) == b.get(k) for k in keys)


def rebuild_frame(store: Path, write_template: Any, run_arrays: list[str]) -> None:
    """Write a new frame (``write_template(path)`` writes an empty sweep there), move every run
    array's chunks of the same layout into it, and put it in place of ``store``."""
    with atomic_path(store) as tmp:
        write_template(tmp)
        for name in run_arrays:
            old, _ = _read_json(store, store / name / "zarr.json")
            new, _ = _read_json(tmp, tmp / name / "zarr.json")
            if new is None or not _same_layout(old, new) or not (store / name / "c").is_dir():
                continue  # those runs do not verify and run again
            shutil.rmtree(tmp / name / "c", ignore_errors=True)
            os.replace(store / name / "c", tmp / name / "c")


# ------------------------------------------------------------------------------------------------
# The writer's lock


def _lock_path(store: Path) -> Path:
    return store.parent / f".{store.name}.lock"


@contextlib.contextmanager
def writer_lock(store: Path) -> Iterator[None]:
    """Hold an exclusive lock beside ``store`` so that a second ``popsim sweep`` on the same store
    is refused instead of racing the first; the kernel drops it when the process dies. A lock
    file left truncated or garbled by a crash is simply taken over."""
    import fcntl

    lock = _lock_path(store)
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock, "a+b")
    except OSError as e:
        raise StoreError(f"cannot use the lock file {lock} of {store}: {e.strerror}") from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            text = fh.read(32).decode("ascii", "replace").strip()
            pid = text if text.isdigit() else "?"
            raise StoreError(f"another popsim sweep (pid {pid}) is writing {store}; wait for it "
                             f"or stop it first") from None
        fh.truncate(0)
        fh.write(str(os.getpid()).encode())
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
