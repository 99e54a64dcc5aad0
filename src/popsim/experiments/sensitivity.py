"""Sensitivity analysis of a sweep: which parameters move an outcome, how much, and how sure.

An *outcome* is one number per run: a variable of the sweep in one year (by default the last), with
every other dimension pinned (``parity=2``; ``package=NAME`` in a sweep of lever packages).
Replicates are averaged per design point first, so noise from the seeds does not count as
sensitivity (replicate r shares its seed across design points: common random numbers).

Each design has its own analysis, and every design also gets the model-free delta and PAWN
indices, which accept any sample (:func:`~popsim.experiments.sensitivity_methods.methods_for`;
the methods and their references are in :mod:`popsim.experiments.sensitivity_methods`):

======== ====================================================================================
sobol    Sobol S1, ST (and S2): Saltelli 2002; Saltelli et al. 2010
morris   Morris mu*, mu, sigma (screening): Morris 1991; Campolongo et al. 2007
fast     extended FAST S1, ST: Saltelli, Tarantola & Chan 1999
lhs      regression SRC/SRRC (Saltelli et al. 2008) and RBD-FAST S1 (Tarantola et al. 2006;
         Plischke 2010)
grid     regression SRC/SRRC
any      delta (Borgonovo 2007) and PAWN (Pianosi & Wagener 2015)
======== ====================================================================================

**Honesty.** Every result carries a ``converged`` flag and its ``warnings`` (attrs, JSON): indices
that are not converged (an index above 1, an interval wider than its estimate, a negative index
beyond its interval), and replicate noise: :func:`noise_shares` gives, for every output of the
sweep, the *noise share* (mean variance across replicates at a design point over the variance
across all runs) and the noise share of the replicate means the indices are computed from. A
noise share of the means above :data:`NOISE_WARN`, or one replicate (noise not measurable), is a
warning: the indices may rank seed noise. :func:`report` prints the tables with their warnings.
"""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..errors import did_you_mean
from ..io import save_figure
from . import sensitivity_methods as sm
from .sweep import swept_parameters
from .sweep_design import sample_unit_cube
from .sweep_spec import PACKAGE_DIM, RUN_DIM, SpecError
from .sweep_store import COMPLETE, DIGEST

__all__ = ["outcome", "analyze", "analyses", "noise_shares", "report", "table",
           "sensitivity_figure", "save_sensitivity_figure", "parse_select", "NOISE_WARN"]

#: replicate noise above this share of the variance of the replicate means is a warning
NOISE_WARN = 0.1
#: methods that need their own design
_NEEDS = {"sobol": "sobol", "morris": "morris", "fast": "fast"}


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


def _run_dims(ds: xr.Dataset) -> set[str]:
    return set(swept_parameters(ds)) | {RUN_DIM, "replicate"}


def _reduce(ds: xr.Dataset, variable: str, select: dict[str, Any] | None,
            year: int | None) -> tuple[xr.DataArray, int | None]:
    """``variable`` in ``year`` (default: the last), with the ``select`` dimensions it has
    pinned; the year used."""
    da = ds[variable]
    if "year" in da.dims:
        years = da["year"].values
        year = int(years[-1]) if year is None else int(year)
        if year not in years:
            raise SpecError(f"year {year} is not in the sweep ({years[0]}-{years[-1]})")
        da = da.sel(year=year)
    elif year is not None:
        raise SpecError("this sweep keeps end-year summaries (no 'year' dimension): drop --year")
    return da.sel({d: _match(da[d], v) for d, v in (select or {}).items() if d in da.dims}), year


def outcome(ds: xr.Dataset, variable: str = "srb", select: dict[str, Any] | None = None,
            year: int | None = None, keep: tuple[str, ...] = ()) -> xr.DataArray:
    """``variable`` reduced to one value per run: in ``year`` (default: the last), other
    dimensions pinned by ``select`` (which may also pin swept grid parameters, for plots);
    dimensions in ``keep`` (e.g. ``package``) may stay."""
    names = [str(v) for v in ds.data_vars if v not in (COMPLETE, DIGEST)]
    if variable not in names:
        raise SpecError(f"the sweep has no variable '{variable}'{did_you_mean(variable, names)}; "
                        f"it keeps: {', '.join(names)}")
    for dim in select or {}:
        if dim not in ds[variable].dims:
            raise SpecError(f"'{variable}' has no dimension '{dim}'; its dimensions: "
                            f"{', '.join(map(str, ds[variable].dims))}")
    da, year = _reduce(ds, variable, select, year)
    allowed = _run_dims(ds) | set(keep)
    for dim in da.dims:
        if dim not in allowed:
            values = ", ".join(map(str, da[dim].values[:8]))
            hint = " (one package), or compare the packages with 'popsim robustness'" \
                if dim == PACKAGE_DIM else ""
            raise SpecError(f"'{variable}' has dimension '{dim}' ({values}): pick one with "
                            f"--select {dim}=VALUE{hint}")
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


def _inputs(y: xr.DataArray, params: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(X: one row per design point, one column per parameter as numbers; y as a vector)."""
    y = y.stack(point=list(y.dims)) if len(y.dims) > 1 else y
    cols = []
    for p in params:
        values = np.asarray(y[p].values)
        if values.dtype.kind in "fiu":
            cols.append(values.astype(float))
        else:  # choices and yes/no: codes in the order the spec lists them
            order = list(dict.fromkeys(values.tolist()))
            cols.append(np.array([order.index(v) for v in values.tolist()], dtype=float))
    return np.column_stack(cols), np.asarray(y.values, dtype=float)


def _unit_design(ds: xr.Dataset) -> np.ndarray:
    """The design in the unit cube, drawn again from the store's attrs (Morris's levels)."""
    options = json.loads(ds.attrs.get("design_options", "{}"))
    x = sample_unit_cube(ds.attrs["design"], int(ds.attrs["design_n"]),
                         len(swept_parameters(ds)), int(ds.attrs["seed"]), **options)
    if len(x) != ds.sizes[RUN_DIM]:
        raise SpecError(f"the store's design ({ds.sizes[RUN_DIM]} points) is not the "
                        f"{ds.attrs['design']} design its attrs describe ({len(x)} points)")
    return x


def noise_shares(ds: xr.Dataset, select: dict[str, Any] | None = None,
                 year: int | None = None) -> xr.Dataset:
    """The replicate-noise share of every output (each variable, each element of its other
    dimensions), over dimension ``output``: ``noise_share`` = mean over design points of the
    variance across replicates / the variance across all runs (population variances, so by the
    law of total variance it lies in [0, 1]); ``noise_share_of_mean`` = the noise left in the
    replicate means the indices compare, over their variance (at most 1). Under common random
    numbers a replicate's seed shifts every design point alike, and that shared offset cancels
    between points: the noise left is the point x replicate residual of a two-way decomposition
    (its variance / replicates). NaN with one replicate (not measurable) or for an output that
    does not vary."""
    rdims = _run_dims(ds) | {PACKAGE_DIM}
    labels, shares, of_mean = [], [], []
    reps = int(ds.sizes["replicate"])
    for name in [str(v) for v in ds.data_vars if v not in (COMPLETE, DIGEST)]:
        da, _ = _reduce(ds, name, select, year)
        runs = [d for d in da.dims if d in rdims and d != "replicate"]
        extra = [d for d in da.dims if d not in rdims]
        a = np.asarray(da.transpose(*runs, "replicate", *extra).values, dtype=float)
        a = a.reshape(-1, reps, int(np.prod([da.sizes[d] for d in extra], dtype=int)))
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN outputs: NaN, said so
            # law of total variance (population variances): total = mean within + between
            within = np.nanmean(np.nanvar(a, axis=1), axis=0)
            total = np.nanvar(a.reshape(-1, a.shape[2]), axis=0)
            share = np.where((total > 0) & (reps > 1), within / total, np.nan)
            # the replicate means compared across points: replicate r's seed is common to every
            # point, so its shared offset cancels; what remains is the point x replicate residual
            points = a.shape[0]
            resid = a - np.nanmean(a, axis=1, keepdims=True) - \
                np.nanmean(a, axis=0, keepdims=True) + np.nanmean(a, axis=(0, 1), keepdims=True)
            dof = max((points - 1) * (reps - 1), 1)
            noise = np.nansum(resid**2, axis=(0, 1)) / dof / reps
            means = np.nanvar(np.nanmean(a, axis=1), axis=0, ddof=1)
            share_mean = np.where((means > 0) & (reps > 1), np.minimum(noise / means, 1.0),
                                  np.nan)
        elements = [""] if not extra else \
            [", ".join(f"{d}={v}" for d, v in zip(extra, combo))
             for combo in np.array(np.meshgrid(*[da[d].values for d in extra],
                                               indexing="ij")).reshape(len(extra), -1).T]
        for label, s, sm_ in zip(elements, share, share_mean):
            labels.append(f"{name}[{label}]" if label else name)
            shares.append(s)
            of_mean.append(sm_)
    out = xr.Dataset({"noise_share": ("output", np.array(shares, dtype=float)),
                      "noise_share_of_mean": ("output", np.array(of_mean, dtype=float))},
                     coords={"output": labels}, attrs={"replicates": reps})
    out["noise_share"].attrs = {"long_name": "variance across replicates / total variance",
                                "units": "1"}
    out["noise_share_of_mean"].attrs = {"long_name": "noise share of the replicate means",
                                        "units": "1"}
    return out


def _noise_warning(noise: xr.Dataset, y: xr.DataArray, output: str) -> list[str]:
    if noise.attrs["replicates"] < 2:
        return [f"1 replicate: the share of seed noise in the variance of {y.attrs['outcome']} "
                f"cannot be measured, so the indices may rank noise; run replicates >= 2"]
    share = float(noise["noise_share_of_mean"].sel(output=output)) \
        if output in noise["output"].values else float("nan")
    if np.isfinite(share) and share > NOISE_WARN:
        raw = float(noise["noise_share"].sel(output=output))
        return [f"replicate noise is {share:.0%} of the variance of the replicate means of "
                f"{y.attrs['outcome']} across design points ({raw:.0%} of single runs'), even "
                f"with the seeds paired: the indices rank seed noise as much as parameters; "
                f"add replicates or widen the ranges"]
    return []


def _check_method(ds: xr.Dataset, method: str) -> None:
    design = ds.attrs.get("design")
    if method not in sm.METHODS:
        raise SpecError(f"no sensitivity method '{method}'{did_you_mean(method, sm.METHODS)}; "
                        f"methods: {', '.join(sm.METHODS)}")
    need = _NEEDS.get(method)
    if need and design != need:
        raise SpecError(f"{sm.METHODS[method].label} need a {need} design; this sweep is a "
                        f"{design} design (its methods: {', '.join(sm.methods_for(design))})")
    if method == "rbd_fast" and design == "grid":
        raise SpecError("RBD-FAST needs a sampled design (lhs, sobol, morris, fast), not a grid")


def _describe_n(ds: xr.Dataset, points: int) -> str:
    design, n = ds.attrs.get("design"), int(ds.attrs.get("design_n", -1))
    what = {"sobol": "base samples", "morris": "trajectories", "fast": "samples per parameter",
            "lhs": "points"}.get(design)
    return f"n = {n} {what}" if what else f"{points} grid points"


def analyses(ds: xr.Dataset, variable: str = "srb", select: dict | None = None,
             year: int | None = None, methods: list[str] | None = None,
             seed: int = 1) -> list[xr.Dataset]:
    """The analyses of ``variable`` (default: the design's own, then delta and PAWN), each a
    dataset over ``parameter`` with its ``converged`` flag and ``warnings``; the first also
    carries the replicate-noise shares of every output and the flag ``noise_small``."""
    params = swept_parameters(ds)
    sel = dict(select or {})
    pinned = [p for p in params if p in sel]
    if pinned:
        raise SpecError(f"a sensitivity analysis varies every swept parameter; do not pin "
                        f"{', '.join(pinned)} with --select")
    methods = methods or sm.methods_for(ds.attrs["design"])
    for method in methods:
        _check_method(ds, method)
    raw = outcome(ds, variable, sel, year)
    y = _replicate_mean(raw)
    x, yv = _inputs(y, params)
    options = json.loads(ds.attrs.get("design_options", "{}"))
    results = []
    for method in methods:
        try:
            if method == "sobol":
                res = sm.sobol(yv, params, second_order=bool(ds.attrs["sobol_second_order"]),
                               seed=seed)
            elif method == "morris":
                res = sm.morris(_unit_design(ds), yv, params, levels=options.get("levels") or 4,
                                seed=seed)
            elif method == "fast":
                res = sm.efast(yv, params, m=options.get("m") or 4, seed=seed)
            elif method == "pawn":
                res = sm.pawn(x, yv, params)
            else:
                res = getattr(sm, method)(x, yv, params, seed=seed)
        except ValueError as e:
            raise SpecError(f"{sm.METHODS[method].label} of {y.attrs['outcome']}: {e}") from None
        res.attrs.update({"outcome": y.attrs["outcome"], "variable": variable,
                          "design": ds.attrs["design"], "design_size": _describe_n(ds, len(yv)),
                          "design_points": int(len(yv)),
                          "replicates": int(ds.sizes["replicate"])})
        results.append(res)
    noise = noise_shares(ds, sel, year)
    first = results[0].merge(noise)
    noise_warn = _noise_warning(noise, raw, variable)  # its other dimensions are pinned
    first["noise_small"] = ((), not noise_warn)
    first["noise_small"].attrs["long_name"] = "replicate noise measured and small"
    first.attrs.update(results[0].attrs)
    first.attrs["noise_warnings"] = json.dumps(noise_warn)
    first.attrs["noise_output"] = variable
    results[0] = first
    return results


def analyze(ds: xr.Dataset, variable: str = "srb", select: dict | None = None,
            year: int | None = None, method: str | None = None, seed: int = 1) -> xr.Dataset:
    """One analysis (default: the design's own method), with the noise shares and flags."""
    return analyses(ds, variable, select, year, [method] if method else
                    sm.methods_for(ds.attrs["design"])[:1], seed)[0]


# ------------------------------------------------------------------------------------------------
# text


def _order(result: xr.Dataset) -> list[int]:
    key = abs(result[sm.METHODS[result.attrs["method"]].key])
    return list(np.argsort(-np.nan_to_num(key.values, nan=-1.0), kind="stable"))


def _method_table(result: xr.Dataset) -> list[str]:
    m = sm.METHODS[result.attrs["method"]]
    params = [str(p) for p in result["parameter"].values]
    width = max(len(p) for p in params + ["parameter"])
    cells = [f"{c:>18}" if conf else f"{c:>9}" for c, conf in m.columns]
    lines = [f"{m.label}: {m.reference}", f"{'parameter':<{width}}  " + "  ".join(cells)]
    for i in _order(result):
        row = []
        for c, conf in m.columns:
            v = float(result[c][i])
            row.append(f"{v:>9.4g} +-{float(result[conf][i]):>7.3g}" if conf else f"{v:>9.4g}")
        lines.append(f"{params[i]:<{width}}  " + "  ".join(row))
    lines.append(m.meaning)
    if m.name == "regression":
        lines.append(f"R^2 = {float(result.r2):.2f} (linear), {float(result.r2_rank):.2f} "
                     f"(ranks).")
    if m.name == "delta" and np.isfinite(result.attrs.get("delta_dummy", np.nan)):
        lines.append(f"A dummy input (no effect) gets delta = {result.attrs['delta_dummy']:.3f}: "
                     f"values near it say nothing.")
    if m.name == "pawn":
        lines.append(f"{result.attrs['slices']} slices; below {result.attrs['ks_critical']:.2f} "
                     f"(the KS 95% critical value) a PAWN value is no evidence of influence.")
    if m.name == "morris":
        lines.append(f"{result.attrs['trajectories']} trajectories; Morris ranks parameters, it "
                     f"does not apportion variance.")
    warn = json.loads(result.attrs["warnings"])
    if warn:
        shown = "; ".join(warn[:3]) + (f"; and {len(warn) - 3} more" if len(warn) > 3 else "")
        lines.append(f"WARNING: {m.label} {m.problem} ({result.attrs.get('design_size', '')}, "
                     f"{result.attrs.get('replicates')} replicate(s)): {shown}. {m.advice}")
    lines += [f"note: {n}" for n in json.loads(result.attrs.get("notes", "[]"))]
    return lines


def _noise_lines(result: xr.Dataset) -> list[str]:
    if "noise_share" not in result:
        return []
    reps = int(result.attrs["replicates"])
    lines = ["", "replicate noise share (variance across replicates / total variance; in "
                 "brackets, the noise left in the replicate means compared across points, the "
                 "seeds' shared offsets removed):"]
    if reps < 2:
        lines.append("  not measurable with 1 replicate")
    else:  # one line per variable: its elements (parity, sex, ...) as a range
        groups: dict[str, list[int]] = {}
        for i, o in enumerate(str(o) for o in result["output"].values):
            groups.setdefault(o.split("[", 1)[0], []).append(i)
        width = max(len(n) for n in groups)
        share, of_mean = result["noise_share"].values, result["noise_share_of_mean"].values
        for name, idx in groups.items():
            mark = "  <- analysed" if name == result.attrs.get("noise_output") else ""
            s, m = share[idx], of_mean[idx]
            if len(idx) == 1:
                lines.append(f"  {name:<{width}}  {s[0]:6.1%} ({m[0]:6.1%}){mark}")
            elif np.isfinite(s).any():
                top = str(result["output"].values[idx[int(np.nanargmax(s))]])
                lines.append(f"  {name:<{width}}  {np.nanmin(s):6.1%} to {np.nanmax(s):6.1%} "
                             f"over {len(idx)} elements (largest: {top.split('[', 1)[1][:-1]})")
            else:
                lines.append(f"  {name:<{width}}  undefined (does not vary)")
    lines += [f"WARNING: {w}" for w in json.loads(result.attrs.get("noise_warnings", "[]"))]
    return lines


def report(results: list[xr.Dataset]) -> str:
    """The analyses as text: the outcome, each method's table with its warnings, the noise."""
    first = results[0]
    lines = [f"outcome: {first.attrs['outcome']}",
             f"{first.attrs['design_points']} design points ({first.attrs['design']} design, "
             f"{first.attrs['design_size']}) x {first.attrs['replicates']} replicate(s) "
             f"(replicates averaged); +- is a 95% bootstrap half-width"]
    for result in results:
        lines += [""] + _method_table(result)
    lines += _noise_lines(first)
    return "\n".join(lines)


def table(result: xr.Dataset) -> str:
    """One analysis as text (see :func:`report`)."""
    return report([result])


# ------------------------------------------------------------------------------------------------
# figure


def sensitivity_figure(result: xr.Dataset) -> Figure:
    """Horizontal bars with confidence whiskers of the method's columns (at most two)."""
    m = sm.METHODS[result.attrs["method"]]
    order = _order(result)[::-1]  # most influential at the top
    params = [str(result["parameter"].values[i]) for i in order]
    colours = ["#1b9e77", "#d95f02"]
    fig = Figure(figsize=(8, 1.2 + 0.55 * len(params)), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(params))
    h = 0.38
    for k, (col, conf) in enumerate(m.columns[:2]):
        err = None if conf is None else np.abs(result[conf].values[order])
        ax.barh(pos + (0.5 - k) * h, result[col].values[order], height=h, xerr=err,
                color=colours[k], label=col, capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(pos, params)
    ax.set_xlabel(m.label)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    flag = "" if bool(result["converged"]) else " - NOT CONVERGED"
    if "noise_small" in result and not bool(result["noise_small"]):
        flag += " - noise large or unmeasured"
    ax.set_title(textwrap.fill(f"Sensitivity of {result.attrs['outcome']}{flag}", 80),
                 fontsize=10)
    return fig


def save_sensitivity_figure(result: xr.Dataset, dest: str | Path) -> Path:
    """Write :func:`sensitivity_figure` as a PNG, atomically."""
    return save_figure(sensitivity_figure(result), dest)

