"""Sensitivity analysis of a sweep: which parameters move an outcome, and how much.

An *outcome* is one number per run: a variable of the sweep in one year (by default the last), with
every other dimension pinned (``parity=2``). Replicates are averaged per design point first, so
noise from the seeds does not count as sensitivity (replicate r shares its seed across design
points: common random numbers).

Two methods, chosen by the sweep's design:

* **Sobol indices** for ``sobol`` designs (Saltelli sampling; SALib's ``sobol.analyze``, Saltelli
  2002, Saltelli et al. 2010): S1 is the share of the outcome's variance due to a parameter alone,
  ST its share including all interactions (ST - S1 large: the parameter works through
  interactions), with bootstrap confidence half-widths; S2 with ``second_order = true``.
* **Standardised regression coefficients** for ``grid`` and ``lhs`` designs: the outcome regressed
  on the standardised parameters (SRC; Saltelli et al. 2008, *Global Sensitivity Analysis: The
  Primer*, §1.2.5). SRC^2 is a parameter's share of variance when the response is close to linear
  (R^2 near 1); the rank version (SRRC) covers monotone non-linear responses. Confidence
  half-widths come from a bootstrap over design points. Choices and yes/no parameters enter as
  their codes in the listed order (an ordinal reading: say so when reporting).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..errors import did_you_mean
from ..io import save_figure
from .sweep import swept_parameters
from .sweep_spec import RUN_DIM, SpecError
from .sweep_store import COMPLETE, DIGEST

__all__ = ["outcome", "analyze", "sobol_indices", "regression_ranking", "table",
           "sensitivity_figure", "save_sensitivity_figure", "parse_select"]

_BOOTSTRAP = 500


def parse_select(items: list[str] | None) -> dict[str, str]:
    """``["parity=2", ...]`` (command line) -> ``{"parity": "2"}``."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SpecError(f"--select takes DIM=VALUE, e.g. parity=2; got '{item}'")
        dim, value = (s.strip() for s in item.split("=", 1))
        out[dim] = value
    return out


def _match(coord: xr.DataArray, value: Any) -> Any:
    """The coordinate value that ``value`` (often a string from the command line) names."""
    values = list(coord.values)
    for v in values:
        if v == value or str(v) == str(value):
            return v
    try:
        return next(v for v in values if np.isclose(float(v), float(value)))
    except (TypeError, ValueError, StopIteration):
        shown = ", ".join(map(str, values[:12])) + (" ..." if len(values) > 12 else "")
        raise SpecError(f"{coord.name} has no value {value!r}; values: {shown}") from None


def outcome(ds: xr.Dataset, variable: str = "srb", select: dict[str, Any] | None = None,
            year: int | None = None) -> xr.DataArray:
    """``variable`` reduced to one value per run: in ``year`` (default: the last), other
    dimensions pinned by ``select`` (which may also pin swept grid parameters, for plots)."""
    names = [str(v) for v in ds.data_vars if v not in (COMPLETE, DIGEST)]
    if variable not in names:
        raise SpecError(f"the sweep has no variable '{variable}'{did_you_mean(variable, names)}; "
                        f"it keeps: {', '.join(names)}")
    da = ds[variable]
    if "year" in da.dims:
        years = da["year"].values
        year = int(years[-1]) if year is None else int(year)
        if year not in years:
            raise SpecError(f"year {year} is not in the sweep ({years[0]}-{years[-1]})")
        da = da.sel(year=year)
    elif year is not None:
        raise SpecError("this sweep keeps end-year summaries (no 'year' dimension): drop --year")
    for dim, value in (select or {}).items():
        if dim not in da.dims:
            raise SpecError(f"'{variable}' has no dimension '{dim}'; its dimensions: "
                            f"{', '.join(map(str, da.dims))}")
        da = da.sel({dim: _match(da[dim], value)})
    run_dims = set(swept_parameters(ds)) | {RUN_DIM, "replicate"}
    for dim in da.dims:
        if dim not in run_dims:
            values = ", ".join(map(str, da[dim].values[:8]))
            raise SpecError(f"'{variable}' has dimension '{dim}' ({values}): pick one with "
                            f"--select {dim}=VALUE")
    label = ds[variable].attrs.get("long_name", variable)
    k = int(ds.attrs.get("summary_years", 1))
    where = [f"{year}"] if year is not None else \
        ["end year" if k == 1 else f"mean of the last {k} years"]
    where += [f"{k}={v}" for k, v in (select or {}).items()]
    return da.assign_attrs(outcome=f"{label} ({', '.join(where)})", variable=variable)


def _replicate_mean(y: xr.DataArray) -> xr.DataArray:
    y = y.load().mean("replicate", keep_attrs=True)
    bad = int(np.isnan(y.values).sum())
    if bad:
        raise SpecError(f"{y.attrs['outcome']} is undefined (NaN) at {bad} design point(s), e.g. "
                        f"an SRB with no female births: choose another outcome or larger runs")
    if np.ptp(y.values) == 0:
        raise SpecError(f"{y.attrs['outcome']} does not vary across the sweep: nothing to rank")
    return y


def sobol_indices(ds: xr.Dataset, variable: str = "srb", select: dict | None = None,
                  year: int | None = None, seed: int = 0) -> xr.Dataset:
    """Sobol S1 and ST (and S2) with 95% bootstrap half-widths, over dimension ``parameter``."""
    from SALib.analyze import sobol

    if ds.attrs.get("design") != "sobol":
        raise SpecError(f"Sobol indices need a sobol design; this sweep is a "
                        f"{ds.attrs.get('design')} design (use regression_ranking)")
    y = _replicate_mean(outcome(ds, variable, select, year))
    params = swept_parameters(ds)
    second = bool(ds.attrs["sobol_second_order"])
    problem = {"num_vars": len(params), "names": params, "bounds": [[0.0, 1.0]] * len(params)}
    res = sobol.analyze(problem, np.asarray(y.values, dtype=float), calc_second_order=second,
                        num_resamples=_BOOTSTRAP, conf_level=0.95, print_to_console=False,
                        seed=seed)
    data = {k: ("parameter", np.asarray(res[k])) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    if second:
        for k in ("S2", "S2_conf"):
            data[k] = (("parameter", "parameter_2"), np.asarray(res[k]))
    coords = {"parameter": params}
    if second:
        coords["parameter_2"] = params
    return xr.Dataset(data, coords=coords,
                      attrs={"method": "sobol", "outcome": y.attrs["outcome"],
                             "variable": variable, "design_points": int(y.size),
                             "replicates": int(ds.sizes["replicate"]),
                             "reference": "Saltelli 2002; Saltelli et al. 2010 (SALib)"})


def _design_matrix(y: xr.DataArray, params: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(X: one row per design point, one column per parameter as numbers; y as a vector)."""
    y = y.stack(point=[d for d in y.dims]) if len(y.dims) > 1 else y
    cols = []
    for p in params:
        values = np.asarray(y[p].values)
        if values.dtype.kind in "fiu":
            cols.append(values.astype(float))
        else:  # choices and yes/no: codes in the order the spec lists them
            order = list(dict.fromkeys(values.tolist()))
            cols.append(np.array([order.index(v) for v in values.tolist()], dtype=float))
    return np.column_stack(cols), np.asarray(y.values, dtype=float)


def _src(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
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


def _ranks(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata
    return rankdata(a, axis=0)


def regression_ranking(ds: xr.Dataset, variable: str = "srb", select: dict | None = None,
                       year: int | None = None, seed: int = 0) -> xr.Dataset:
    """SRC (with 95% bootstrap half-widths over design points), SRRC and R^2, over ``parameter``."""
    params = swept_parameters(ds)
    sel = dict(select or {})
    pinned = [p for p in params if p in sel]
    if pinned:
        raise SpecError(f"a sensitivity analysis varies every swept parameter; do not pin "
                        f"{', '.join(pinned)} with --select")
    y = _replicate_mean(outcome(ds, variable, sel, year))
    x, yv = _design_matrix(y, params)
    if len(yv) <= len(params) + 1:
        raise SpecError(f"{len(yv)} design points are too few to rank {len(params)} parameters "
                        f"by regression; add values or points")
    src, r2 = _src(x, yv)
    srrc, r2_rank = _src(_ranks(x), _ranks(yv))
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(_BOOTSTRAP):
        i = rng.integers(0, len(yv), len(yv))
        if np.ptp(yv[i]) > 0:
            boot.append(_src(x[i], yv[i])[0])
    lo, hi = np.nanpercentile(np.array(boot), [2.5, 97.5], axis=0)
    return xr.Dataset(
        {"src": ("parameter", src), "src_conf": ("parameter", (hi - lo) / 2),
         "srrc": ("parameter", srrc), "r2": ((), r2), "r2_rank": ((), r2_rank)},
        coords={"parameter": params},
        attrs={"method": "regression", "outcome": y.attrs["outcome"], "variable": variable,
               "design_points": int(len(yv)), "replicates": int(ds.sizes["replicate"]),
               "reference": "Saltelli et al. 2008, Global Sensitivity Analysis: The Primer"})


def analyze(ds: xr.Dataset, variable: str = "srb", select: dict | None = None,
            year: int | None = None, seed: int = 0) -> xr.Dataset:
    """Sobol indices for a sobol design, the regression ranking otherwise."""
    fn = sobol_indices if ds.attrs.get("design") == "sobol" else regression_ranking
    return fn(ds, variable, select, year, seed)


def _order(result: xr.Dataset) -> list[int]:
    key = result["ST"] if result.attrs["method"] == "sobol" else abs(result["src"])
    return list(np.argsort(-np.nan_to_num(key.values, nan=-1.0), kind="stable"))


def table(result: xr.Dataset) -> str:
    """The indices as a text table, most influential parameter first."""
    params = result["parameter"].values
    width = max(len(str(p)) for p in params)
    lines = [f"outcome: {result.attrs['outcome']}",
             f"{result.attrs['design_points']} design points x {result.attrs['replicates']} "
             f"replicate(s) (replicates averaged); +- is a 95% bootstrap half-width", ""]
    if result.attrs["method"] == "sobol":
        lines.append(f"{'parameter':<{width}}  {'S1':>14}  {'ST':>14}")
        for i in _order(result):
            lines.append(f"{params[i]:<{width}}  {result.S1[i]:>7.3f} +-{result.S1_conf[i]:>5.3f}"
                         f"  {result.ST[i]:>7.3f} +-{result.ST_conf[i]:>5.3f}")
        lines += ["", "S1: share of variance from the parameter alone; ST: including its "
                      "interactions."]
    else:
        lines.append(f"{'parameter':<{width}}  {'SRC':>14}  {'SRRC':>7}")
        for i in _order(result):
            lines.append(f"{params[i]:<{width}}  {result.src[i]:>7.3f} +-"
                         f"{result.src_conf[i]:>5.3f}  {result.srrc[i]:>7.3f}")
        r2, r2r = float(result.r2), float(result.r2_rank)
        lines += ["", f"R^2 = {r2:.2f} (linear), {r2r:.2f} (ranks). SRC: change of the outcome "
                      f"in sd per sd of the parameter."]
        if max(r2, r2r) < 0.7:
            lines.append("R^2 is low: the response is not close to monotone, so read the ranking "
                         "with care (a sobol design measures interactions).")
    return "\n".join(lines)


def sensitivity_figure(result: xr.Dataset) -> Figure:
    """Horizontal bars with confidence whiskers: S1 and ST (Sobol) or SRC and SRRC (regression)."""
    order = _order(result)[::-1]  # most influential at the top
    params = [str(result["parameter"].values[i]) for i in order]
    if result.attrs["method"] == "sobol":
        bars = [("S1 (alone)", result.S1, result.S1_conf, "#1b9e77"),
                ("ST (with interactions)", result.ST, result.ST_conf, "#d95f02")]
        xlabel = "Sobol index (share of variance)"
    else:
        bars = [("SRC", result.src, result.src_conf, "#7570b3"),
                ("SRRC (ranks)", result.srrc, None, "#bbbbbb")]
        xlabel = "standardised regression coefficient"
    fig = Figure(figsize=(8, 1.2 + 0.55 * len(params)), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(params))
    h = 0.38
    for k, (label, val, conf, colour) in enumerate(bars):
        err = None if conf is None else conf.values[order]
        ax.barh(pos + (0.5 - k) * h, val.values[order], height=h, xerr=err, color=colour,
                label=label, capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(pos, params)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(textwrap.fill(f"Sensitivity of {result.attrs['outcome']}", 80), fontsize=10)
    return fig


def save_sensitivity_figure(result: xr.Dataset, dest: str | Path) -> Path:
    """Write :func:`sensitivity_figure` as a PNG, atomically."""
    return save_figure(sensitivity_figure(result), dest)
