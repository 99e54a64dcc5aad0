"""One evaluation of a calibration, and the store of every finished evaluation.

An *evaluation* is ``replicates`` runs of every scenario of the spec at one parameter set, and
the pooled statistics of their targets (:func:`evaluate`). Its seeds are a pure function of the
parameter values and the spec's seed (:func:`evaluation_seeds`, ABC: an independent noise draw
per parameter set) or the spec's seed alone (Optuna: common random numbers across trials, so
that the optimiser compares parameter sets under the same noise).

The :class:`EvaluationStore` is an SQLite file in the output folder (``evaluations.sqlite``):
each evaluation is written, and committed, by the process that started the calibration as soon
as it finishes, whichever executor ran it. A resumed calibration looks every evaluation up
before running it, so a killed calibration (even by SIGKILL) loses nothing that had finished
and repeats none of it; table ``computed`` logs every evaluation actually run, so that this can
be checked. SQLite's write-ahead log keeps committed rows through a kill.

**The distance** (:func:`distance`) between the statistics and the observations.
The statistics are those of ``popsim score`` (:func:`popsim.validation.statistics.compute` on
the evaluation's replicates, pooled). Each target's error is put in units of its tolerance:

- a numeric tolerance ``tol`` (``srb_parity2_2000``: 4 points): ``z = (model - observed) / tol``;
- ``"band"`` with both ends finite: ``z = (model - observed) / half-width`` of the band;
- a one-sided band (``[2, inf]``: "at least +2 points"): ``z`` = the distance outside the band
  over ``max(|observed - bound|, 5% of |observed|)``, 0 inside it.

So ``|z| <= 1`` is within tolerance (exactly for the numeric tolerances and for bands centred on
the observation). The distance is the weighted mean of ``z**2``: each group of the target file
weighs its ``weights`` entry (default 1), shared equally among its targets, so that 22 sibship
cells weigh as much as three birth orders. A distance of 1 is "the targets are missed by one
tolerance on average (RMS)"; ``fit_threshold`` (default 1) is where a calibration counts as a fit.

A statistic the runs cannot give (no births of a subset in a small run) counts as
``z = MISSING_Z`` so that it is never a free pass.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, StoreError
from ..experiments.executors import map_tasks
from ..experiments.runs import stack
from ..model.streams import replicate_seeds
from ..validation.statistics import compute
from ..validation.targets import Target
from .spec import CalibrationSpec, Fit

__all__ = ["evaluation_key", "evaluation_seeds", "evaluate", "EvaluationStore", "Evaluator",
           "read_store", "STORE_NAME", "PAUSE_AFTER_ENV", "target_scale", "fit_statistics",
           "z_scores", "distance", "target_weights", "observed", "within_tolerance", "MISSING_Z"]

STORE_NAME = "evaluations.sqlite"
#: testing hook: with this environment variable set to k, the calibration stops (sleeps) right
#: after committing its k-th evaluation of the session and says so on stderr, so that a test can
#: kill it at a known point on a busy machine
PAUSE_AFTER_ENV = "POPSIM_TEST_CALIBRATION_PAUSE_AFTER"
#: mixed into the seeds of an evaluation so that they differ from the spec's run seeds
_STREAM = "popsim-calibration-evaluation"


# ----------------------------------------------------------------------------------------------
# the distance

#: the z score of a statistic the runs cannot give
MISSING_Z = 10.0


def target_scale(t: Target) -> float:
    """The error that counts as one tolerance, in the statistic's unit."""
    obs = t.observation
    if t.tolerance != "band":
        return max(float(t.tolerance), 1e-12)
    if math.isfinite(obs.low) and math.isfinite(obs.high):
        return max((obs.high - obs.low) / 2, 1e-12)
    bound = obs.low if math.isfinite(obs.low) else obs.high
    return max(abs(obs.value - bound), 0.05 * abs(obs.value), 1e-12)


def _z(t: Target, model: float) -> float:
    if not math.isfinite(model):
        return MISSING_Z
    obs, scale = t.observation, target_scale(t)
    if t.tolerance == "band" and not (math.isfinite(obs.low) and math.isfinite(obs.high)):
        outside = max(obs.low - model, 0.0) if math.isfinite(obs.low) else \
            max(model - obs.high, 0.0)
        return outside / scale
    return (model - obs.value) / scale


def fit_statistics(ds: xr.Dataset, fit: Fit) -> np.ndarray:
    """The pooled statistic of every target of ``fit`` from its runs ``ds`` (stacked along
    ``replicate``); NaN where the runs cannot give it."""
    out = np.full(len(fit.targets.targets), np.nan)
    for i, t in enumerate(fit.targets.targets):
        try:
            out[i] = compute(t.statistic, ds, t.years, t.subset).pooled
        except InputError:  # a statistic the runs cannot give counts as MISSING_Z
            pass
    return out


def _all_targets(spec: CalibrationSpec) -> list[Target]:
    return [t for _, t in spec.targets()]


def observed(spec: CalibrationSpec) -> np.ndarray:
    """The observed value of every target of the spec, in order."""
    return np.array([t.observation.value for t in _all_targets(spec)], dtype=float)


def target_weights(spec: CalibrationSpec) -> np.ndarray:
    """Every target's weight in the distance (summing to 1)."""
    w = np.array([f.weight_of(t) for f, t in spec.targets()], dtype=float)
    return w / w.sum() if w.sum() > 0 else np.full(w.size, 1.0 / max(w.size, 1))


def z_scores(spec: CalibrationSpec, simulated: Sequence[float] | np.ndarray) -> np.ndarray:
    """The error of each target in units of its tolerance (see the module docstring)."""
    return np.array([_z(t, float(v)) for t, v in zip(_all_targets(spec), simulated)])


def distance(spec: CalibrationSpec, simulated: Sequence[float] | np.ndarray) -> float:
    """The weighted mean of the squared z scores."""
    z = z_scores(spec, simulated)
    return float(np.sum(target_weights(spec) * z ** 2))


def within_tolerance(spec: CalibrationSpec, simulated: Sequence[float] | np.ndarray
                     ) -> np.ndarray:
    """Whether each target passes (``popsim score``'s own rule, :meth:`Target.passes`)."""
    return np.array([t.passes(float(v)) for t, v in zip(_all_targets(spec), simulated)])


# ----------------------------------------------------------------------------------------------
# evaluations and their store

def _canonical(params: Mapping[str, float]) -> str:
    return json.dumps({k: float(v) for k, v in sorted(params.items())}, sort_keys=True)


def evaluation_key(params: Mapping[str, float], seeds: Sequence[int]) -> str:
    """The store's key of an evaluation: its parameter values (exact floats) and its seeds."""
    text = _canonical(params) + "|" + ",".join(str(int(s)) for s in seeds)
    return hashlib.sha256(text.encode()).hexdigest()


def evaluation_seeds(spec_seed: int, replicates: int,
                     params: Mapping[str, float] | None = None) -> list[int]:
    """Replicate seeds of an evaluation: from the parameter values and the spec's seed, or (no
    ``params``: common random numbers) from the spec's seed alone."""
    if params is None:
        return replicate_seeds(int(spec_seed), replicates)
    digest = hashlib.sha256(f"{_STREAM}|{int(spec_seed)}|{_canonical(params)}".encode()).digest()
    return replicate_seeds(int.from_bytes(digest[:8], "little") >> 1, replicates)


def evaluate(task: tuple[tuple[Fit, ...], dict[str, float], list[int]]) -> np.ndarray:
    """Run one evaluation (module-level: worker processes unpickle it).

    ``task`` is ``(fits, params, seeds)``; returns the pooled statistic of every target of every
    fit, in order (NaN where the runs cannot give one)."""
    from ..api import run
    from ..scenario.loader import load_scenario

    fits, params, seeds = task
    out = []
    for fit in fits:
        scenario = load_scenario(fit.base, dict(params))
        ds = stack([run(scenario, int(s)) for s in seeds], "replicate")
        out.append(fit_statistics(ds, fit))
    return np.concatenate(out)


class EvaluationStore:
    """The SQLite file of finished evaluations (see the module docstring)."""

    def __init__(self, path: str | Path, spec_digest: str, *, create: bool) -> None:
        self.path = Path(path)
        exists = self.path.exists()
        if not exists and not create:
            raise StoreError(f"{self.path}: no evaluation store to resume (start without "
                             f"--resume)")
        try:
            self._db = sqlite3.connect(self.path, timeout=60.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._db.execute("CREATE TABLE IF NOT EXISTS evaluations (n INTEGER PRIMARY KEY "
                             "AUTOINCREMENT, key TEXT UNIQUE, params TEXT, seeds TEXT, "
                             "stats TEXT, distance REAL, finished REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS computed (n INTEGER PRIMARY KEY "
                             "AUTOINCREMENT, key TEXT, session INTEGER)")
            row = self._db.execute("SELECT value FROM meta WHERE key='spec'").fetchone()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: not a popsim evaluation store ({e})") from None
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('spec', ?)", (spec_digest,))
        elif row[0] != spec_digest:
            raise StoreError(f"{self.path}: holds the evaluations of another calibration spec; "
                             f"resume with the spec that started it, or use a new --out")
        session = self._db.execute("SELECT value FROM meta WHERE key='sessions'").fetchone()
        self.session = int(session[0]) + 1 if session else 1
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('sessions', ?)", (self.session,))
        self._db.commit()

    def get(self, key: str) -> np.ndarray | None:
        row = self._db.execute("SELECT stats FROM evaluations WHERE key=?", (key,)).fetchone()
        return None if row is None else np.array(json.loads(row[0]), dtype=float)

    def put(self, key: str, params: Mapping[str, float], seeds: Sequence[int],
            stats: np.ndarray, distance: float) -> None:
        """Record a finished evaluation and commit at once (a kill loses nothing finished)."""
        values = [None if not np.isfinite(v) else float(v) for v in stats]
        self._db.execute("INSERT OR IGNORE INTO evaluations (key, params, seeds, stats, "
                         "distance, finished) VALUES (?, ?, ?, ?, ?, ?)",
                         (key, _canonical(params), json.dumps([int(s) for s in seeds]),
                          json.dumps(values), float(distance), time.time()))
        self._db.execute("INSERT INTO computed (key, session) VALUES (?, ?)", (key, self.session))
        self._db.commit()

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])

    def computed(self) -> list[tuple[str, int]]:
        """``(key, session)`` of every evaluation actually run, in order."""
        return [(k, int(s)) for k, s in
                self._db.execute("SELECT key, session FROM computed ORDER BY n").fetchall()]

    def close(self) -> None:
        self._db.close()


def _stats_of(stats: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in stats], dtype=float)


def read_store(path: str | Path) -> list[dict[str, Any]]:
    """Every evaluation of a store as ``{params, seeds, stats, distance}``, in finishing order."""
    db = sqlite3.connect(Path(path))
    try:
        rows = db.execute("SELECT params, seeds, stats, distance FROM evaluations ORDER BY n")
        return [{"params": json.loads(p), "seeds": json.loads(s), "stats": _stats_of(
            json.loads(v)), "distance": d} for p, s, v, d in rows.fetchall()]
    finally:
        db.close()


def _pause_for_tests(done: int) -> None:
    wanted = os.environ.get(PAUSE_AFTER_ENV)
    if wanted and int(wanted) == done:
        print(f"popsim calibrate: paused after {done} evaluations (testing)", file=sys.stderr,
              flush=True)
        while True:
            time.sleep(3600)


class Evaluator:
    """Evaluations on popsim's executors, each looked up in the store first and written to it
    as it finishes (in the calling process)."""

    def __init__(self, spec: CalibrationSpec, store: EvaluationStore,
                 distance: Callable[[np.ndarray], float], *, workers: int | None = None,
                 scheduler: str | None = None) -> None:
        self.spec, self.store, self.distance = spec, store, distance
        self.workers, self.scheduler = workers, scheduler
        self.computed = 0
        self.reused = 0

    def evaluate_many(self, points: Sequence[tuple[dict[str, float], list[int]]],
                      on_result: Callable[[int, np.ndarray], None] | None = None
                      ) -> list[np.ndarray]:
        """The statistics of every ``(params, seeds)`` point, in order; ``on_result(i, stats)``
        is called as each becomes known (stored ones first)."""
        results: list[np.ndarray | None] = [None] * len(points)
        todo = []
        for i, (params, seeds) in enumerate(points):
            hit = self.store.get(evaluation_key(params, seeds))
            if hit is not None:
                results[i] = hit
                self.reused += 1
                if on_result:
                    on_result(i, hit)
            else:
                todo.append(i)
        tasks = [(self.spec.fits, points[i][0], points[i][1]) for i in todo]
        for j, stats in map_tasks(evaluate, tasks, workers=self.workers,
                                  scheduler=self.scheduler):
            i = todo[j]
            params, seeds = points[i]
            self.store.put(evaluation_key(params, seeds), params, seeds, stats,
                           self.distance(stats))
            self.computed += 1
            _pause_for_tests(self.computed)
            results[i] = stats
            if on_result:
                on_result(i, stats)
        return results  # type: ignore[return-value]
