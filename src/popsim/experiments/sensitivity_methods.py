"""The analysis layer of sensitivity analysis: SALib's methods on plain arrays, with honesty checks.

Every function takes the design's inputs ``x`` (one row per design point, one column per
parameter, in the parameters' own units; Morris takes its unit-cube sample) and one outcome value
``y`` per point, and returns an :class:`xarray.Dataset` over ``parameter`` whose attrs name the
method and its reference, with a boolean ``converged`` and the list of ``warnings`` (JSON text)
that say when the numbers cannot be trusted. The store-level layer
(:mod:`popsim.experiments.sensitivity`) reduces a sweep to ``(x, y)`` and calls these; tests call
them directly on analytic functions (Ishigami) whose indices are known.

Methods (``METHODS``), by the design they need:

* ``sobol`` (sobol designs): first-order and total Sobol indices S1, ST (and S2) from Saltelli
  sampling; Saltelli 2002, Saltelli et al. 2010 (``SALib.analyze.sobol``).
* ``morris`` (morris designs): elementary effects, mu* (mean absolute effect) and sigma (their
  spread: interactions or non-linearity); Morris 1991, with mu* from Campolongo et al. 2007
  (``SALib.analyze.morris``). A screening: it ranks, it does not apportion variance.
* ``fast`` (fast designs): extended FAST, S1 and ST from the search curves' spectra; Saltelli,
  Tarantola & Chan 1999 (``SALib.analyze.fast``).
* ``rbd_fast`` (lhs designs, any sample): random-balance-design FAST, S1 from any sample sorted
  along each input; Tarantola, Gatelli & Mara 2006, Plischke 2010 (``SALib.analyze.rbd_fast``).
* ``regression`` (grid and lhs designs): standardised regression coefficients SRC and their rank
  version SRRC, with R^2; Saltelli et al. 2008, *Global Sensitivity Analysis: The Primer* §1.2.5.
* ``delta`` (any design): Borgonovo's moment-independent delta, the expected shift of the whole
  output distribution when a parameter is fixed; Borgonovo 2007, Plischke, Borgonovo & Smith 2013
  (``SALib.analyze.delta``).
* ``pawn`` (any design): PAWN, the Kolmogorov-Smirnov distance between the output's distribution
  and its distribution with a parameter confined to one slice of its range; Pianosi & Wagener
  2015, 2018 (``SALib.analyze.pawn``).

**Convergence.** Variance-based indices (Sobol, eFAST, RBD-FAST) are flagged *not converged* when
an index exceeds 1 (impossible for a share of variance), when a 95% confidence half-width is wider
than its estimate and than :data:`CI_FLOOR` (an index that could be anything from nothing to
double), or when an index is negative beyond its half-width and :data:`NEGATIVE_TOL` (negative
shares are estimation noise). Morris and delta are flagged when a leading parameter's half-width
exceeds its estimate. A flagged result says to enlarge ``n`` (or add replicates).

SALib's delta, eFAST and PAWN draw from NumPy's global generator (seeded by SALib itself from the
``seed`` they are given) and reset warning filters: they run here inside :func:`_salib_sandbox`,
which records SALib's warnings as notes and puts the global generator and the filters back as
they were (popsim keeps no global random state).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import xarray as xr

from ..model.streams import borrowed_global_random

__all__ = ["METHODS", "Method", "methods_for", "sobol", "morris", "efast", "rbd_fast",
           "regression", "delta", "pawn", "CI_FLOOR", "NEGATIVE_TOL"]

#: a 95% half-width up to this (a share of variance) pins an index well enough whatever its size
CI_FLOOR = 0.1
#: an index negative by less than this is rounding, not a sign of non-convergence
NEGATIVE_TOL = 0.02
_RESAMPLES = 500
_DELTA_RESAMPLES = 50  # each resample re-estimates densities: 50 keeps 600 x 7 to a second


@dataclasses.dataclass(frozen=True)
class Method:
    """What a method reports: its ``columns`` (index, confidence half-width or None), the column
    that ranks the parameters, a line on how to read it and its reference."""

    name: str
    label: str
    columns: tuple[tuple[str, str | None], ...]
    key: str
    meaning: str
    reference: str
    problem: str = "not converged"
    advice: str = "Enlarge n (4 x n halves the intervals) or add replicates."


METHODS: dict[str, Method] = {m.name: m for m in [
    Method("sobol", "Sobol indices (Saltelli sampling)", (("S1", "S1_conf"), ("ST", "ST_conf")),
           "ST", "S1: share of variance from the parameter alone; ST: including its "
           "interactions.", "Saltelli 2002; Saltelli et al. 2010 (SALib)"),
    Method("morris", "Morris elementary effects (screening)",
           (("mu_star", "mu_star_conf"), ("mu", None), ("sigma", None)), "mu_star",
           "mu*: mean absolute change of the outcome per full range of the parameter; mu: its "
           "signed mean; sigma large: interactions or non-linearity.",
           "Morris 1991; Campolongo et al. 2007 (SALib)", "ranking not resolved",
           "Add trajectories (n) or replicates."),
    Method("fast", "extended FAST indices", (("S1", "S1_conf"), ("ST", "ST_conf")), "ST",
           "S1: share of variance from the parameter alone; ST: including its interactions "
           "(SALib: FAST half-widths are indicative only).",
           "Saltelli, Tarantola & Chan 1999 (SALib)"),
    Method("rbd_fast", "RBD-FAST first-order indices", (("S1", "S1_conf"),), "S1",
           "S1: share of variance from the parameter alone, from any sample.",
           "Tarantola et al. 2006; Plischke 2010 (SALib)"),
    Method("regression", "standardised regression coefficients",
           (("src", "src_conf"), ("srrc", None)), "src",
           "SRC: change of the outcome in sd per sd of the parameter; SRRC: the same on ranks.",
           "Saltelli et al. 2008, Global Sensitivity Analysis: The Primer", "not reliable",
           "Read the ranking with care; a sobol or morris design measures non-linear effects "
           "and interactions."),
    Method("delta", "moment-independent delta", (("delta", "delta_conf"),), "delta",
           "delta: expected shift of the whole outcome distribution when the parameter is "
           "fixed (0: none, 1: all).", "Borgonovo 2007; Plischke et al. 2013 (SALib)",
           "not resolved", "Use a larger design (more design points)."),
    Method("pawn", "PAWN (distribution-based)", (("pawn_median", None), ("pawn_max", None)),
           "pawn_median", "PAWN: Kolmogorov-Smirnov distance between the outcome's distribution "
           "and its distribution with the parameter in one slice (median, max over slices).",
           "Pianosi & Wagener 2015, 2018 (SALib)"),
]}

#: each design's own method, then the model-free ones every design gets
_OWN = {"sobol": ["sobol"], "morris": ["morris"], "fast": ["fast"],
        "lhs": ["regression", "rbd_fast"], "grid": ["regression"]}


def methods_for(design: str) -> list[str]:
    """The analyses of a design: its own first, then delta and PAWN (which accept any sample)."""
    return _OWN[design] + ["delta", "pawn"]


# ------------------------------------------------------------------------------------------------
# helpers


@contextlib.contextmanager
def _salib_sandbox() -> Iterator[list[warnings.WarningMessage]]:
    """Run SALib code that uses NumPy's global generator and warning filters: record the
    warnings, and restore both (and ``warnings.formatwarning``) afterwards."""
    formatwarning = warnings.formatwarning
    try:
        with borrowed_global_random(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        warnings.formatwarning = formatwarning


def _salib_seed(seed: int) -> int:
    """The seed SALib gets: its range is 32 bits, and it ignores 0 (as ``sobol`` does, 0 -> 1)."""
    return seed % 2**32 or 1


def _problem(names: Sequence[str]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _result(method: str, names: Sequence[str], data: dict, notes: list[str],
            warn: list[str], **attrs) -> xr.Dataset:
    m = METHODS[method]
    ds = xr.Dataset({k: ("parameter", np.asarray(v, dtype=float)) for k, v in data.items()},
                    coords={"parameter": list(names)})
    ds["converged"] = ((), not warn)
    ds["converged"].attrs["long_name"] = "no convergence warning (see the attr warnings)"
    ds.attrs.update({"method": method, "label": m.label, "reference": m.reference,
                     "warnings": json.dumps(warn), "notes": json.dumps(notes), **attrs})
    return ds


def _y(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=float).ravel()
    if not np.isfinite(y).all():
        raise ValueError("the outcome has undefined (NaN or infinite) values")
    return y


def _variance_checks(names: Sequence[str], est: np.ndarray, conf: np.ndarray,
                     index: str) -> list[str]:
    """The not-converged signs of a variance share (see the module docstring), the gravest
    first: undefined, above 1, negative beyond noise, intervals wider than their estimates."""
    found: list[tuple[int, str]] = []
    for p, e, c in zip(names, est, conf):
        c = abs(float(c)) if np.isfinite(c) else float("inf")
        if not np.isfinite(e):
            found.append((0, f"{index}({p}) is undefined"))
        elif e > 1:
            found.append((1, f"{index}({p}) = {e:.2f} +- {c:.2f} exceeds 1"))
        elif e < -max(c, NEGATIVE_TOL):
            found.append((2, f"{index}({p}) = {e:.2f} +- {c:.2f} is negative beyond its "
                             f"interval"))
        elif c > max(abs(e), CI_FLOOR):
            found.append((3, f"{index}({p}) = {e:.2f} +- {c:.2f}: interval wider than the "
                             f"estimate"))
    return [text for _, text in sorted(found, key=lambda f: f[0])]


def _ordered(warn: list[str]) -> list[str]:
    """The gravest first, whichever index they concern."""
    rank = ("undefined", "exceeds 1", "negative", "interval")
    return sorted(warn, key=lambda w: next(i for i, k in enumerate(rank) if k in w))


def _leading_checks(names: Sequence[str], est: np.ndarray, conf: np.ndarray,
                    index: str) -> list[str]:
    """Ranking not resolved: a parameter of at least a tenth of the largest estimate whose
    half-width exceeds its estimate."""
    top = np.nanmax(np.abs(est)) if np.isfinite(est).any() else 0.0
    return [f"{index}({p}) = {e:.3g} +- {c:.3g}: the interval is wider than the estimate"
            for p, e, c in zip(names, est, conf)
            if top > 0 and abs(e) >= 0.1 * top and (not np.isfinite(c) or c > abs(e))]


#: SALib messages that say nothing a popsim warning does not say better
_QUIET = ("Bin Merge Notice", "Unhandled exception", "Dataset size error")


def _notes(caught: list[warnings.WarningMessage]) -> list[str]:
    # NumPy's RuntimeWarnings inside SALib (a CV of zero spread) say nothing about the indices
    texts = (str(w.message).strip().splitlines()[0] for w in caught
             if not issubclass(w.category, RuntimeWarning))
    return list(dict.fromkeys(f"SALib: {t[:150]}" for t in texts
                              if not any(q in t for q in _QUIET)))


# ------------------------------------------------------------------------------------------------
# variance-based


def sobol(y: np.ndarray, names: Sequence[str], *, second_order: bool = False,
          seed: int = 1) -> xr.Dataset:
    """Sobol S1 and ST (and S2 over ``parameter_2``) with 95% bootstrap half-widths; ``y`` in
    the order of SALib's Saltelli sample (``N (d + 2)`` or ``N (2d + 2)`` values)."""
    from SALib.analyze import sobol as salib_sobol

    with _salib_sandbox() as caught:
        res = salib_sobol.analyze(_problem(names), _y(y), calc_second_order=second_order,
                                  num_resamples=_RESAMPLES, conf_level=0.95,
                                  print_to_console=False, seed=seed or 1)
    warn = _ordered(_variance_checks(names, res["ST"], res["ST_conf"], "ST") +
                    _variance_checks(names, res["S1"], res["S1_conf"], "S1"))
    out = _result("sobol", names, {k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")},
                  _notes(caught), warn)
    if second_order:
        out = out.assign_coords(parameter_2=list(names))
        for k in ("S2", "S2_conf"):
            out[k] = (("parameter", "parameter_2"), np.asarray(res[k], dtype=float))
    return out


def efast(y: np.ndarray, names: Sequence[str], *, m: int = 4, seed: int = 1) -> xr.Dataset:
    """Extended FAST S1 and ST with (indicative) bootstrap half-widths; ``y`` in the order of
    SALib's ``fast_sampler`` (one search curve of N points per parameter)."""
    from SALib.analyze import fast

    with _salib_sandbox() as caught:
        res = fast.analyze(_problem(names), _y(y), M=m, num_resamples=_RESAMPLES,
                           conf_level=0.95, print_to_console=False, seed=_salib_seed(seed))
    data = {k: np.asarray(res[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    warn = _ordered(_variance_checks(names, data["ST"], data["ST_conf"], "ST") +
                    _variance_checks(names, data["S1"], data["S1_conf"], "S1"))
    return _result("fast", names, data, _notes(caught), warn)


def rbd_fast(x: np.ndarray, y: np.ndarray, names: Sequence[str], *, seed: int = 1) \
        -> xr.Dataset:
    """RBD-FAST first-order indices S1 (bias-corrected) with bootstrap half-widths, from any
    sample ``x`` (best a Latin hypercube)."""
    from SALib.analyze import rbd_fast as salib_rbd

    x, y = np.asarray(x, dtype=float), _y(y)
    harmonics = max(1, min(10, (len(y) - 1) // 4))  # SALib's M = 10 needs N > 2M points
    with _salib_sandbox() as caught:
        res = salib_rbd.analyze(_problem(names), x, y, M=harmonics, num_resamples=_RESAMPLES,
                                conf_level=0.95, print_to_console=False, seed=seed)
    data = {k: np.asarray(res[k], dtype=float) for k in ("S1", "S1_conf")}
    warn = _variance_checks(names, data["S1"], data["S1_conf"], "S1")
    return _result("rbd_fast", names, data, _notes(caught), warn, harmonics=harmonics)


# ------------------------------------------------------------------------------------------------
# screening and regression


def morris(x_unit: np.ndarray, y: np.ndarray, names: Sequence[str], *, levels: int = 4,
           seed: int = 1) -> xr.Dataset:
    """Morris mu*, mu and sigma of the elementary effects, mu* with a 95% bootstrap half-width;
    ``x_unit`` is SALib's Morris sample in the unit cube (trajectories of d + 1 rows), so the
    effects are in outcome units per full range of each parameter."""
    from SALib.analyze import morris as salib_morris

    with _salib_sandbox() as caught:
        res = salib_morris.analyze(_problem(names), np.asarray(x_unit, dtype=float), _y(y),
                                   num_resamples=_RESAMPLES, conf_level=0.95,
                                   print_to_console=False, num_levels=levels, seed=seed)
    data = {k: np.asarray(res[k], dtype=float) for k in ("mu_star", "mu_star_conf", "mu",
                                                           "sigma")}
    warn = _leading_checks(names, data["mu_star"], data["mu_star_conf"], "mu*")
    trajectories = len(_y(y)) // (len(names) + 1)
    return _result("morris", names, data, _notes(caught), warn, trajectories=trajectories)


def _standardised(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Standardised regression coefficients and R^2 (constant columns get NaN)."""
    sd = x.std(axis=0)
    keep = sd > 0
    z = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    yz = (y - y.mean()) / y.std()
    coef, *_ = np.linalg.lstsq(z, yz, rcond=None)
    out = np.full(x.shape[1], np.nan)
    out[keep] = coef
    r2 = 1.0 - float(np.sum((yz - z @ coef) ** 2)) / float(np.sum(yz**2))
    return out, r2


def regression(x: np.ndarray, y: np.ndarray, names: Sequence[str], *, seed: int = 1) \
        -> xr.Dataset:
    """SRC with 95% bootstrap half-widths over design points, SRRC, R^2 and rank R^2.

    SRC^2 is a parameter's share of variance when the response is close to linear (R^2 near 1);
    the rank version covers monotone responses. A low R^2 is a warning: the ranking then misses
    most of the variance.
    """
    from scipy.stats import rankdata

    x, y = np.asarray(x, dtype=float), _y(y)
    if len(y) <= x.shape[1] + 1:
        raise ValueError(f"{len(y)} design points are too few to rank {x.shape[1]} parameters "
                         f"by regression; add values or points")
    src, r2 = _standardised(x, y)
    srrc, r2_rank = _standardised(rankdata(x, axis=0), rankdata(y))
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(_RESAMPLES):
        i = rng.integers(0, len(y), len(y))
        if np.ptp(y[i]) > 0:
            boot.append(_standardised(x[i], y[i])[0])
    lo, hi = np.nanpercentile(np.array(boot), [2.5, 97.5], axis=0)
    warn = [] if max(r2, r2_rank) >= 0.7 else \
        [f"R^2 = {r2:.2f} (linear), {r2_rank:.2f} (ranks): the response is not close to "
         f"monotone, so the coefficients miss much of the variance"]
    out = _result("regression", names, {"src": src, "src_conf": (hi - lo) / 2, "srrc": srrc},
                  [], warn)
    out["r2"], out["r2_rank"] = ((), r2), ((), r2_rank)
    return out


# ------------------------------------------------------------------------------------------------
# model-free (any sample)


def delta(x: np.ndarray, y: np.ndarray, names: Sequence[str], *, seed: int = 1) -> xr.Dataset:
    """Borgonovo's delta (SALib's bias-reduced, balanced estimate) with a 95% bootstrap
    half-width. SALib needs classes of at least ten points: a small sample gives NaN, said so.

    A small sample biases delta upwards; the attr ``delta_dummy`` is delta of a dummy input (a
    seeded uniform column the outcome cannot depend on): the floor below which a parameter's
    delta says nothing (Khorashadi Zadeh et al. 2017).
    """
    from SALib.analyze import delta as salib_delta

    x, y = np.asarray(x, dtype=float), _y(y)
    dummy = np.random.default_rng(seed).random((len(y), 1))
    with _salib_sandbox() as caught:
        res = salib_delta.analyze(_problem([*names, "dummy"]), np.hstack([x, dummy]), y,
                                  num_resamples=_DELTA_RESAMPLES, conf_level=0.95,
                                  print_to_console=False, seed=_salib_seed(seed), method="delta")
    est = np.asarray(res["delta_balanced"], dtype=float)
    conf = np.asarray(res["delta_balanced_conf"], dtype=float)
    floor, est, conf = float(est[-1]), est[:-1], conf[:-1]
    notes = _notes(caught)
    warn = [] if np.isfinite(est).any() else \
        [f"delta is undefined with {len(y)} design points (SALib needs classes of at least 10 "
         f"points): use a larger design"]
    if not warn:
        warn = _leading_checks(names, est, conf, "delta")
    return _result("delta", names, {"delta": est, "delta_conf": conf}, notes, warn,
                   delta_dummy=floor)


def pawn(x: np.ndarray, y: np.ndarray, names: Sequence[str], *, slices: int = 10) -> xr.Dataset:
    """PAWN: median and maximum over ``slices`` conditioning slices of the KS distance.

    Below ``ks_critical`` (the two-sample Kolmogorov-Smirnov 95% critical value for a slice
    against the whole sample) a PAWN value is no evidence of influence. Deterministic: no random
    draws.
    """
    from SALib.analyze import pawn as salib_pawn

    x, y = np.asarray(x, dtype=float), _y(y)
    slices = int(max(2, min(slices, len(y) // 5)))
    with _salib_sandbox() as caught:  # PAWN draws nothing at random
        res = salib_pawn.analyze(_problem(names), x, y, S=slices, print_to_console=False,
                                 seed=None)
    n_slice = len(y) / slices
    critical = 1.36 * np.sqrt((n_slice + len(y)) / (n_slice * len(y)))
    return _result("pawn", names, {"pawn_median": res["median"], "pawn_max": res["maximum"]},
                   _notes(caught), [], slices=slices, ks_critical=float(critical))
