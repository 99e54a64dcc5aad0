"""Running a calibration end to end, its posterior dataset, and the verdict: a fit or not.

:func:`calibrate` opens (or, with ``resume``, reopens) the evaluation store and the method's
own SQLite file in the output folder, runs the method on the executors and writes
``posterior.nc`` (the layout of :mod:`popsim.experiments.ensemble`):

- ``value(sample, parameter)``, ``weight(sample)``; ``distance(sample)``;
- ``simulated(sample, target)``: every target's statistic in each sample's evaluation (the
  posterior predictive at the calibration's population size), ``observed(target)`` with
  ``observed_low``/``observed_high``, ``scale(target)`` (one tolerance), ``target_weight``,
  ``group``, ``label``, ``statistic``;
- ``prior_min``/``prior_max``/``prior``(parameter);
- ABC: per ``generation`` ``epsilon``, ``evaluations``, ``accepted``, ``acceptance_rate``,
  ``median_distance``, ``best_distance``; Optuna: per ``trial`` ``trial_distance`` and
  ``trial_value(trial, parameter)``, and the best trial as the single sample;
- attrs: the spec's text, method, scenario(s), seed, the verdict, digests of the observed data
  and the targets, software versions (pyabc, optuna included).

**The verdict** (:func:`verdict`): a calibration is a fit when its final distance (the weighted
median of the last generation's distances; the best trial's for Optuna) is at most
``fit_threshold``. Otherwise the posterior is flagged as *not a fit*, with how far the distance
fell from the first generation (or the first batch of trials), the last acceptance rate and how
many targets the posterior median passes: a spec that cannot fit (contradictory targets) says
so on stderr, in the report and in the file's ``fit`` attribute, and is never presented as a fit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import StoreError
from ..experiments.ensemble import posterior_dataset, write_posterior
from ..provenance import _version, software_versions
from ..validation.observed import data_file
from .abc import ABC_DB, run_abc
from .evaluate import (STORE_NAME, EvaluationStore, Evaluator, distance, observed, target_scale,
                       target_weights, within_tolerance)
from .optimize import OPTUNA_DB, run_optuna
from .spec import CalibrationSpec

__all__ = ["calibrate", "Verdict", "verdict", "weighted_quantile", "POSTERIOR_NAME"]

POSTERIOR_NAME = "posterior.nc"
#: a distance that fell by less than this fraction from the start "did not fall"
FALL_FRACTION = 0.25


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``x`` under weights ``w`` (the inverse of the weighted CDF)."""
    ok = np.isfinite(x)
    if not ok.any():
        return float("nan")
    x, w = x[ok], w[ok]
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    return float(x[order][min(int(np.searchsorted(cum, q - 1e-12)), x.size - 1)])


@dataclass(frozen=True)
class Verdict:
    """Whether a calibration fits its targets, and the evidence."""

    fit: bool
    final: float
    initial: float
    threshold: float
    acceptance: float
    passed: int
    targets: int
    text: str

    @property
    def fell(self) -> float:
        """The fraction by which the distance fell from the start."""
        return 1 - self.final / self.initial if self.initial > 0 else 0.0


def verdict(ds: xr.Dataset) -> Verdict:
    """The verdict of a posterior dataset written by :func:`calibrate`."""
    w = ds["weight"].values
    if ds.attrs["method"] == "abc":
        final = weighted_quantile(ds["distance"].values, w, 0.5)
        initial = float(ds["median_distance"].values[0])
        acceptance = float(ds["acceptance_rate"].values[-1])
        start = "generation 0"
    else:
        final = float(ds["distance"].values.min())
        first = ds["trial_distance"].values[:max(1, int(ds.attrs.get("batch", 1)))]
        initial = float(np.median(first))
        acceptance = float("nan")
        start = "the first batch of trials"
    passed = int(np.sum(ds["passes"].values))
    ess = float(1.0 / np.sum(w ** 2))
    ess_text = f"; effective sample size {ess:.1f} of {w.size}" if w.size > 1 else ""
    n = int(ds.sizes["target"])
    thr = float(ds.attrs["fit_threshold"])
    fell = 1 - final / initial if initial > 0 else 0.0
    rate = "" if not np.isfinite(acceptance) else \
        f"; acceptance rate of the last generation {100 * acceptance:.0f}%"
    if "stopped_generation" in ds.attrs:
        a = ds.attrs
        rate += (f"; generation {a['stopped_generation']} was stopped by the budget with "
                 f"{a['stopped_accepted']} accepted of {a['stopped_candidates']} candidates "
                 f"({100 * a['stopped_accepted'] / max(a['stopped_candidates'], 1):.0f}%)")
    if final <= thr:
        text = (f"fit: final distance {final:.3g} <= fit_threshold {thr:g} (from {initial:.3g} "
                f"at {start}){rate}{ess_text}; {passed} of {n} targets within tolerance at the "
                f"posterior median")
        return Verdict(True, final, initial, thr, acceptance, passed, n, text)
    why = f"the distance did not fall ({100 * fell:.0f}% below {start}: {initial:.3g} -> " \
        f"{final:.3g})" if fell < FALL_FRACTION else \
        f"the distance fell from {initial:.3g} at {start} to {final:.3g} but stays above it"
    text = (f"WARNING: NOT A FIT: final distance {final:.3g} > fit_threshold {thr:g}: {why}"
            f"{rate}{ess_text}; {passed} of {n} targets within tolerance at the posterior "
            f"median. The targets may contradict each other or the free parameters cannot "
            f"reach them; do not use this posterior as a calibration")
    return Verdict(False, final, initial, thr, acceptance, passed, n, text)


def _digest_targets(spec: CalibrationSpec) -> str:
    rows = [[t.id, t.statistic, list(t.years), t.subset, str(t.tolerance),
             t.observation.value, t.observation.low, t.observation.high]
            for _, t in spec.targets()]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def _attrs(spec: CalibrationSpec) -> dict:
    obs = hashlib.sha256(data_file("observations.csv").read_bytes()).hexdigest()
    return {"title": f"popsim calibration '{spec.name}' ({spec.method}) of "
                     f"{', '.join(spec.paths)}",
            "method": spec.method, "spec": spec.text, "spec_label": spec.label,
            "calibration_name": spec.name, "scenario": spec.scenario_names(),
            "seed": int(spec.seed), "replicates": int(spec.replicates),
            "fit_threshold": float(spec.fit_threshold), "batch": int(spec.batch),
            "households": int(max(f.base.run.households for f in spec.fits)),
            "observations_sha256": obs, "targets_sha256": _digest_targets(spec),
            "targets_files": ", ".join(f.targets.source for f in spec.fits),
            **software_versions(), "pyabc_version": _version("pyabc"),
            "optuna_version": _version("optuna"), "scipy_version": _version("scipy")}


def _target_vars(spec: CalibrationSpec, simulated: np.ndarray) -> dict[str, xr.DataArray]:
    pairs = spec.targets()
    tdim = ("target",)
    ids = spec.target_ids()
    coords = {"target": np.array(ids, dtype=object)}

    def da(values, dims=tdim, **attrs) -> xr.DataArray:
        return xr.DataArray(values, dims=dims, coords={k: v for k, v in coords.items()
                                                       if k in dims}, attrs=attrs)

    sim = np.atleast_2d(simulated)
    return {
        "simulated": xr.DataArray(sim, dims=("sample", "target"),
                                  coords={"target": coords["target"]},
                                  attrs={"long_name": "each target's statistic in the sample's "
                                         "evaluation (posterior predictive)"}),
        "observed": da(observed(spec), long_name="observed value"),
        "observed_low": da(np.array([t.observation.low for _, t in pairs]),
                           long_name="low end of the observation's band"),
        "observed_high": da(np.array([t.observation.high for _, t in pairs]),
                            long_name="high end of the observation's band"),
        "scale": da(np.array([target_scale(t) for _, t in pairs]),
                    long_name="one tolerance, in the statistic's unit"),
        "target_weight": da(target_weights(spec), long_name="weight in the distance"),
        "group": da(np.array([t.group for _, t in pairs], dtype=object)),
        "label": da(np.array([t.label for _, t in pairs], dtype=object)),
        "statistic": da(np.array([t.statistic for _, t in pairs], dtype=object)),
    }


def _dataset(spec: CalibrationSpec, outcome) -> xr.Dataset:
    p = spec.paths
    pdim = {"parameter": np.array(p, dtype=object)}
    extra = _target_vars(spec, outcome.simulated)
    extra["prior_min"] = xr.DataArray([q.lo for q in spec.parameters], dims="parameter",
                                      coords=pdim)
    extra["prior_max"] = xr.DataArray([q.hi for q in spec.parameters], dims="parameter",
                                      coords=pdim)
    extra["prior"] = xr.DataArray(np.array([q.prior for q in spec.parameters], dtype=object),
                                  dims="parameter", coords=pdim)
    if spec.method == "abc":
        values, weights, dists = outcome.values, outcome.weights, outcome.distances
        gen = np.arange(len(outcome.generations["epsilon"]))
        for k, v in outcome.generations.items():
            extra[k] = xr.DataArray(v, dims="generation", coords={"generation": gen})
    else:
        values, weights = outcome.values[None, :], np.ones(1)
        dists = np.array([outcome.distance])
        trial = np.arange(outcome.trial_distances.size)
        extra["trial_distance"] = xr.DataArray(outcome.trial_distances, dims="trial",
                                               coords={"trial": trial})
        extra["trial_value"] = xr.DataArray(outcome.trial_values, dims=("trial", "parameter"),
                                            coords={"trial": trial, **pdim})
    extra["distance"] = xr.DataArray(dists, dims="sample",
                                     attrs={"long_name": "distance to the targets (weighted "
                                            "mean of squared errors in tolerances)"})
    median = np.array([weighted_quantile(np.atleast_2d(outcome.simulated)[:, j], weights, 0.5)
                       for j in range(len(spec.target_ids()))])
    extra["passes"] = xr.DataArray(within_tolerance(spec, median), dims="target",
                                   attrs={"long_name": "posterior median within tolerance"})
    extra["posterior_median"] = xr.DataArray(median, dims="target")
    attrs = _attrs(spec)
    stopped = getattr(outcome, "stopped", None)
    if stopped is not None:
        attrs.update({"stopped_generation": int(stopped[0]), "stopped_accepted": int(stopped[1]),
                      "stopped_candidates": int(stopped[2])})
    ds = posterior_dataset(p, values, weights, attrs=attrs, extra=extra)
    v = verdict(ds)
    ds.attrs.update({"fit": "yes" if v.fit else "no", "verdict": v.text,
                     "final_distance": v.final})
    return ds


def spec_digest(spec: CalibrationSpec) -> str:
    """What the evaluations depend on (scenarios after overrides, targets, parameters, seed,
    replicates), not the method's settings: a spec whose budget or population changed can
    resume with the evaluations already made."""
    from ..scenario.loader import scenario_hash

    meaning = {"fits": [scenario_hash(f.base) for f in spec.fits],
               "targets": _digest_targets(spec), "parameters": spec.paths,
               "seed": spec.seed, "replicates": spec.replicates}
    return hashlib.sha256(json.dumps(meaning, sort_keys=True).encode()).hexdigest()


def calibrate(spec: CalibrationSpec, out: str | Path, *, resume: bool = False,
              workers: int | None = None, scheduler: str | None = None,
              log=None) -> tuple[xr.Dataset, Path]:
    """Run (or continue, with ``resume``) the calibration of ``spec`` in folder ``out``;
    returns the posterior dataset and the path of ``posterior.nc``."""
    out = Path(out)
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    mine = [out / STORE_NAME, out / (ABC_DB if spec.method == "abc" else OPTUNA_DB)]
    if not resume and any(p.exists() for p in mine):
        raise StoreError(f"{out}: already holds a calibration ({mine[0].name}); pass --resume "
                         f"to continue it, or choose another --out")
    store = EvaluationStore(out / STORE_NAME, spec_digest(spec), create=not resume)
    try:
        evaluator = Evaluator(spec, store, lambda s: distance(spec, s), workers=workers,
                              scheduler=scheduler)
        if spec.method == "abc":
            outcome = run_abc(spec, out, evaluator, resume=resume, log=log)
        else:
            outcome = run_optuna(spec, out, evaluator, resume=resume, log=log)
        log(f"popsim calibrate: {evaluator.computed} evaluations run, {evaluator.reused} "
            f"taken from the store; {store.count()} in the store")
    finally:
        store.close()
    ds = _dataset(spec, outcome)
    path = write_posterior(ds, out / POSTERIOR_NAME)
    return ds, path
