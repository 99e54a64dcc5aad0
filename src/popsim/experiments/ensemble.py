"""Posteriors and ensembles: runs whose parameters are drawn from what a calibration learnt.

A *posterior* is a weighted population of parameter sets (``popsim calibrate`` writes one; the
shipped china calibration is one). An *ensemble* run gives replicate ``i`` the ``i``-th posterior
draw *and* the ``i``-th seed, so that its interval combines the model's random noise with the
uncertainty of the calibrated coefficients. Replicate ``i`` of every scenario of a comparison or
a sweep uses the same draw (:func:`ensemble_scenarios` with the same posterior, count and seed),
so that differences between scenarios keep both common random numbers and common parameters.

netCDF layout of a posterior file (:data:`POSTERIOR_FORMAT`):

- dimensions ``sample`` (K) and ``parameter`` (P); coordinates ``sample`` (0..K-1) and
  ``parameter`` (dotted schema paths, e.g. ``"behaviour.seek_motivation"``);
- ``value(sample, parameter)``: float64 in the schema's units; ``weight(sample)``: float64,
  non-negative, summing to 1;
- optional variables a calibration adds (``distance(sample)``, ``simulated(sample, target)``,
  ``observed(target)``, per-generation diagnostics on other dimensions);
- attrs ``popsim_format``, ``method``, ``spec`` (TOML text), ``scenario``, ``seed``, software
  versions and a short ``title``.

A posterior's lever parameters (a calibrated history's ``enforcement.programme_intensity``)
belong to the scenario it was calibrated on and are left out elsewhere (:func:`scenario_bound`);
its behaviour and context parameters apply to every scenario.

It lives in :mod:`popsim.experiments` (not in the calibration package) because ``compare``,
``sweep`` and ``run`` read it; the calibration writes it with :func:`posterior_dataset` and
:func:`write_posterior`.

Convention of every command (so that ``run``, ``compare`` and ``sweep`` pair with each other):
replicate ``r`` of ``R`` runs with seed ``replicate_seeds(root, R)[r]``
(:func:`popsim.model.streams.replicate_seeds`) and draw ``r`` of ``posterior.draws(R, root)``.
:func:`run_replicates` is ``popsim run``'s use of it; :func:`ensemble_attrs` the attrs that
record an ensemble in any dataset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InputError, did_you_mean, shown
from ..io import write_netcdf
from ..model.streams import replicate_seeds
from ..provenance import provenance
from ..scenario.loader import load_scenario
from ..scenario.parameters import SECTIONS, Scenario, iter_params, param_spec
from .runs import run_all, stack

__all__ = ["POSTERIOR_FORMAT", "Posterior", "PosteriorError", "posterior_dataset",
           "write_posterior", "read_posterior", "ensemble_scenarios", "scenario_bound",
           "check_draws", "ensemble_attrs", "draw_coords", "shipped_posteriors",
           "run_replicates", "spec_ensemble", "WEIGHT_TOLERANCE", "MAX_DRAWS", "DEFAULT_DRAWS"]

#: the ``popsim_format`` attribute of every posterior file
POSTERIOR_FORMAT = "popsim-posterior-1"
#: how far the weights may sum from 1 (rounding of a sampler's normalisation) before the file is
#: refused; within it they are renormalised exactly
WEIGHT_TOLERANCE = 1e-6
#: the most draws one ensemble may ask for (a bound on a mistyped --draws, not on the posterior)
MAX_DRAWS = 100_000
#: replicates of an ensemble when neither its draws nor replicates are given
DEFAULT_DRAWS = 10
#: mixed into the seed of the draws so that they are not the model's first random numbers
_DRAW_STREAM = 0x0E75E4B1E


class PosteriorError(InputError):
    """A posterior file or dataset that cannot be used (the message names the file)."""


@dataclass(frozen=True)
class Posterior:
    """A weighted population of parameter sets.

    ``parameters`` are dotted schema paths; ``values[s, p]`` is parameter ``p`` of sample ``s``
    in the schema's unit; ``weights[s]`` (summing to 1) is sample ``s``'s posterior weight;
    ``attrs`` are the file's attrs; ``path`` is the file it was read from (None in memory).
    """

    parameters: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    attrs: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        label = f"posterior '{self.path}'" if self.path is not None else "posterior"
        values, weights = _checked(self.parameters, self.values, self.weights, label)
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", weights)

    @property
    def size(self) -> int:
        """The number of samples K."""
        return int(self.values.shape[0])

    @property
    def digest(self) -> str:
        """SHA-256 of the parameters, values and weights: equal posteriors, equal digests
        (whatever file they were read from), recorded with every ensemble run."""
        h = hashlib.sha256("\n".join(self.parameters).encode())
        h.update(np.ascontiguousarray(self.values, dtype="<f8").tobytes())
        h.update(np.ascontiguousarray(self.weights, dtype="<f8").tobytes())
        return h.hexdigest()

    def draw_indices(self, k: int, seed: int) -> np.ndarray:
        """The samples of :meth:`draws` (int, shape ``(k,)``): a pure function of ``(k, seed)``.

        Multinomial resampling by the inverse of the weights' cumulative sum, one uniform
        number per draw in order, so that the first ``k`` draws of ``k + 1`` are the draws of
        ``k`` (adding replicates keeps the earlier ones).
        """
        k = check_draws(k)
        rng = np.random.default_rng([int(seed) & (2**63 - 1), _DRAW_STREAM])
        cdf = np.cumsum(self.weights)
        cdf[-1] = 1.0  # rounding must not leave a uniform number above the last sample
        idx = np.searchsorted(cdf, rng.random(k), side="right")
        return np.minimum(idx, self.size - 1)

    def draws(self, k: int, seed: int) -> list[dict[str, float]]:
        """``k`` parameter sets ``{path: value}`` resampled by weight (see :meth:`draw_indices`)."""
        return [self.sample(int(i)) for i in self.draw_indices(k, seed)]

    def sample(self, i: int) -> dict[str, float]:
        """Sample ``i`` as ``{path: value}`` (integer parameters as ``int``)."""
        return {p: _typed(p, float(v)) for p, v in zip(self.parameters, self.values[i])}

    def central(self) -> dict[str, float]:
        """The weighted median of each parameter (the lower one when the weights split evenly)."""
        out = {}
        for j, p in enumerate(self.parameters):
            order = np.argsort(self.values[:, j], kind="stable")
            cum = np.cumsum(self.weights[order])
            i = int(np.searchsorted(cum, 0.5 - 1e-12, side="left"))
            out[p] = _typed(p, float(self.values[order[min(i, self.size - 1)], j]))
        return out

    def describe(self) -> str:
        """One line for a table's footnote: the file, the samples, the parameters."""
        where = self.path.name if self.path is not None else "in memory"
        return (f"posterior {where} ({self.size} samples of {', '.join(self.parameters)}; "
                f"sha256 {self.digest[:12]})")


def check_draws(k: object, where: str = "--draws") -> int:
    """``k`` as a number of draws: a whole number in [1, :data:`MAX_DRAWS`]."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or \
            not 1 <= int(k) <= MAX_DRAWS:
        raise InputError(f"{where} must be a whole number in [1, {MAX_DRAWS}], got {shown(k)}")
    return int(k)


def _typed(path: str, v: float) -> int | float:
    return int(round(v)) if param_spec(path).kind == "int" else v


def _check_parameter(path: object, label: str) -> str:
    if not isinstance(path, str):
        raise PosteriorError(f"{label}: parameter {shown(path)} is not a dotted schema path")
    try:
        spec = param_spec(path)
    except (KeyError, ValueError):
        paths = [p.path for p in iter_params()]
        raise PosteriorError(f"{label}: no such parameter {shown(path)}"
                             f"{did_you_mean(path, paths)}") from None
    if spec.section_kind == "run":
        raise PosteriorError(f"{label}: parameter '{path}' is a run setting, not a model "
                             "parameter a posterior can hold")
    if spec.kind not in ("float", "int"):
        raise PosteriorError(f"{label}: parameter '{path}' is not a number "
                             f"(it takes {spec.bounds_text()})")
    return path


def _checked(parameters: Sequence[str], values: Any, weights: Any, label: str
             ) -> tuple[np.ndarray, np.ndarray]:
    """Values (K, P) and weights (K,) as float64, checked against the schema; else one line."""
    params = list(parameters)
    if not params:
        raise PosteriorError(f"{label}: no parameters")
    for p in params:
        _check_parameter(p, label)
    dup = next((p for i, p in enumerate(params) if p in params[:i]), None)
    if dup is not None:
        raise PosteriorError(f"{label}: parameter '{dup}' appears twice")
    try:
        v = np.array(values, dtype=np.float64)
        w = np.array(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise PosteriorError(f"{label}: values and weights must be numbers") from None
    if v.ndim != 2 or v.shape[1] != len(params) or v.shape[0] < 1:
        raise PosteriorError(f"{label}: values must have shape (samples >= 1, {len(params)} "
                             f"parameters), got {v.shape}")
    if w.shape != (v.shape[0],):
        raise PosteriorError(f"{label}: weights must have shape ({v.shape[0]},) like the "
                             f"samples, got {w.shape}")
    for j, p in enumerate(params):
        _check_column(p, v[:, j], label)
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise PosteriorError(f"{label}: weight of sample {bad[0]} is {shown(float(w[bad[0]]))}, "
                             "not a finite number")
    bad = np.flatnonzero(w < 0)
    if bad.size:
        raise PosteriorError(f"{label}: weight of sample {bad[0]} is {shown(float(w[bad[0]]))}, "
                             "below 0")
    total = float(w.sum())
    if total <= 0:
        raise PosteriorError(f"{label}: every weight is 0 (no sample can be drawn)")
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise PosteriorError(f"{label}: weights sum to {total:.9g}, not 1")
    v.setflags(write=False)
    w = w / total
    w.setflags(write=False)
    return v, w


def _check_column(path: str, col: np.ndarray, label: str) -> None:
    spec = param_spec(path)
    unit = f" ({spec.unit})" if spec.unit and spec.unit != "-" else ""
    bad = np.flatnonzero(~np.isfinite(col))
    if bad.size:
        raise PosteriorError(f"{label}: {path} of sample {bad[0]} is {shown(float(col[bad[0]]))}"
                             ", not a finite number")
    if spec.lo is not None and (col < spec.lo).any():
        s = int(np.argmin(col))
        raise PosteriorError(f"{label}: {path} = {shown(float(col[s]))} (sample {s}) is below "
                             f"the lower bound {shown(spec.lo)}{unit}")
    if spec.hi is not None and (col > spec.hi).any():
        s = int(np.argmax(col))
        raise PosteriorError(f"{label}: {path} = {shown(float(col[s]))} (sample {s}) is above "
                             f"the upper bound {shown(spec.hi)}{unit}")
    if spec.kind == "int" and not np.array_equal(col, np.round(col)):
        s = int(np.flatnonzero(col != np.round(col))[0])
        raise PosteriorError(f"{label}: {path} = {shown(float(col[s]))} (sample {s}) is not a "
                             "whole number")


def posterior_dataset(parameters: Sequence[str], values: Any, weights: Any, *,
                      attrs: Mapping[str, Any],
                      extra: Mapping[str, xr.DataArray] | None = None) -> xr.Dataset:
    """A posterior as a dataset of the layout above (checked as :func:`read_posterior` does).

    ``attrs`` must be netCDF-safe (strings and numbers); ``popsim_format`` is set here.
    ``extra`` variables (``distance``, ``simulated``, ...) are added as they are.
    """
    v, w = _checked(parameters, values, weights, "posterior")
    k = v.shape[0]
    ds = xr.Dataset(
        {"value": (("sample", "parameter"), v.copy()), "weight": ("sample", w.copy())},
        coords={"sample": np.arange(k, dtype=np.int64),
                "parameter": np.array(list(parameters), dtype=object)})
    ds["value"].attrs = {"long_name": "parameter value of each sample (schema units)",
                         "units": "; ".join(f"{p}: {param_spec(p).unit}" for p in parameters)}
    ds["weight"].attrs = {"long_name": "posterior weight of each sample (sum 1)", "units": "1"}
    for name, da in (extra or {}).items():
        ds[name] = da
    ds.attrs = {**dict(attrs), "popsim_format": POSTERIOR_FORMAT}
    ds.attrs.setdefault("title", f"popsim posterior of {', '.join(parameters)}")
    return ds


def write_posterior(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a posterior dataset to ``path`` as netCDF-4, atomically (:mod:`popsim.io`)."""
    if ds.attrs.get("popsim_format") != POSTERIOR_FORMAT:
        raise PosteriorError(f"posterior '{path}': the dataset is not a posterior (make it with "
                             "posterior_dataset)")
    return write_netcdf(ds, path)


def shipped_posteriors() -> list[str]:
    """Names of the posteriors shipped in ``popsim/calibrations`` (``<name>_posterior.nc``)."""
    folder = resources.files("popsim").joinpath("calibrations")
    return sorted(e.name[:-len("_posterior.nc")] for e in folder.iterdir()
                  if e.name.endswith("_posterior.nc"))


def _shipped(path: Path) -> Path:
    # a bare name ("china") that is no file names a shipped posterior
    if path.exists() or path.suffix or len(path.parts) != 1:
        return path
    entry = resources.files("popsim").joinpath("calibrations", f"{path.name}_posterior.nc")
    return Path(str(entry)) if entry.is_file() else path


def read_posterior(path: str | Path) -> Posterior:
    """The posterior in the netCDF file ``path``, or the shipped posterior of that name
    (``"china"``: ``popsim/calibrations/china_posterior.nc``, :func:`shipped_posteriors`).

    Raises :class:`PosteriorError` (an :class:`InputError`, one line naming the file) when the
    file is missing or unreadable, is not a posterior, names a parameter the schema does not
    have, holds a value outside the schema's bounds, or has bad weights.
    """
    path = _shipped(Path(path))
    label = f"posterior '{path}'"
    if not path.exists():
        names = ", ".join(shipped_posteriors()) or "none"
        raise PosteriorError(f"{label}: no such file (shipped posteriors, by name: {names})")
    if not path.is_file():
        raise PosteriorError(f"{label}: not a file")
    try:
        with xr.open_dataset(path, engine="netcdf4") as opened:
            ds = opened.load()
    except Exception as e:  # noqa: BLE001 - any failure to read is the file's, said in one line
        raise PosteriorError(f"{label}: cannot be read as netCDF "
                             f"({type(e).__name__}: {shown(str(e), 80)})") from None
    fmt = ds.attrs.get("popsim_format")
    if fmt != POSTERIOR_FORMAT:
        raise PosteriorError(f"{label}: not a popsim posterior (attribute popsim_format is "
                             f"{shown(fmt) if fmt is not None else 'missing'}, expected "
                             f"'{POSTERIOR_FORMAT}')")
    for name, dims in (("value", ("sample", "parameter")), ("weight", ("sample",))):
        if name not in ds.data_vars:
            raise PosteriorError(f"{label}: no variable '{name}'"
                                 f"{did_you_mean(name, [str(n) for n in ds.data_vars])}")
        if ds[name].dims != dims:
            raise PosteriorError(f"{label}: variable '{name}' has dimensions "
                                 f"{ds[name].dims}, expected {dims}")
    params = [p.decode() if isinstance(p, bytes) else p for p in ds["parameter"].values.tolist()]
    attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in ds.attrs.items()}
    return Posterior(tuple(params), ds["value"].values, ds["weight"].values, attrs, path)


def ensemble_scenarios(scenario: Scenario, posterior: Posterior, draws: int, seed: int
                       ) -> list[Scenario]:
    """``draws`` copies of ``scenario``, copy ``i`` with the posterior's ``i``-th draw applied.

    The draws are :meth:`Posterior.draws` ``(draws, seed)``: the same posterior, count and seed
    give every scenario the same parameter sets in the same order (paired). A posterior
    parameter replaces the scenario's value in every year (a schedule becomes a constant),
    except the lever parameters of another scenario's history (:func:`scenario_bound`).
    """
    own = scenario_bound(posterior, scenario)
    out = []
    for params in posterior.draws(draws, seed):
        out.append(load_scenario(scenario, {p: v for p, v in params.items() if p not in own}))
    return out


def scenario_bound(posterior: Posterior, scenario: Scenario) -> tuple[str, ...]:
    """The posterior's parameters that ``scenario`` does not take: lever parameters (of a
    ``kind = "lever"`` section, e.g. ``enforcement.programme_intensity``) belong to the history
    of the scenario that was calibrated (the posterior's ``scenario`` attr), not to another
    scenario's package of measures; behaviour and context parameters apply to every scenario.
    A posterior that names no scenario binds nothing (every parameter applies).
    """
    names = {s.strip() for s in str(posterior.attrs.get("scenario", "")).split(",")} - {""}
    if not names or scenario.name in names:
        return ()
    return tuple(p for p in posterior.parameters
                 if SECTIONS[p.split(".")[0]].kind == "lever")


def ensemble_attrs(posterior: Posterior, draws: int, seed: int) -> dict[str, Any]:
    """Dataset attrs (netCDF-safe) recording which ensemble a result used."""
    return {"ensemble": str(posterior.path) if posterior.path is not None else "",
            "ensemble_sha256": posterior.digest,
            "ensemble_parameters": ", ".join(posterior.parameters),
            "ensemble_samples": posterior.size,
            "ensemble_draws": int(draws),
            "ensemble_seed": int(seed),
            "ensemble_method": str(posterior.attrs.get("method", "")),
            "ensemble_drawing": "replicate r uses posterior sample draw(r): weighted resampling, "
                                "Posterior.draws(ensemble_draws, ensemble_seed)"}


def draw_coords(posterior: Posterior, draws: int, seed: int, dim: str = "replicate"
                ) -> dict[str, tuple]:
    """Coordinates along ``dim`` that record each replicate's draw: ``draw`` (the posterior
    sample) and ``draw_value(dim, ensemble_parameter)`` (its parameter values)."""
    idx = posterior.draw_indices(draws, seed)
    units = "; ".join(f"{p}: {param_spec(p).unit}" for p in posterior.parameters)
    return {"draw": (dim, idx.astype(np.int64),
                     {"long_name": "posterior sample used by the replicate"}),
            "ensemble_parameter": ("ensemble_parameter",
                                   np.array(posterior.parameters, dtype=object),
                                   {"long_name": "parameter drawn from the posterior"}),
            "draw_value": ((dim, "ensemble_parameter"), posterior.values[idx].copy(),
                           {"long_name": "parameter value of the replicate's posterior draw",
                            "units": units})}


def run_replicates(scenario: Scenario, replicates: int, seed: int,
                   posterior: Posterior | None = None, *, workers: int | None = None,
                   scheduler: str | None = None, progress: bool = False) -> xr.Dataset:
    """``replicates`` runs of ``scenario`` stacked along ``replicate``.

    Replicate ``r`` uses seed ``replicate_seeds(seed, replicates)[r]`` (coordinate
    ``seed(replicate)``) and, with a ``posterior``, draw ``r`` of ``posterior.draws(replicates,
    seed)`` (coordinates of :func:`draw_coords`; attrs of :func:`ensemble_attrs`). The attrs
    are the provenance of ``scenario`` itself (not of a drawn member) with ``seed`` the root.
    """
    seeds = replicate_seeds(seed, replicates)
    members = [scenario] * replicates if posterior is None else \
        ensemble_scenarios(scenario, posterior, replicates, seed)
    runs = run_all(list(zip(members, seeds)), workers=workers, scheduler=scheduler,
                   progress=progress, desc=f"popsim {scenario.name}")
    ds = stack(runs, "replicate")
    ds = ds.assign_coords(replicate=np.arange(replicates, dtype=np.int64),
                          seed=("replicate", np.array(seeds, dtype=np.int64)))
    ds["replicate"].attrs = {"long_name": "Replicate"}
    ds["seed"].attrs = {"long_name": "Root seed of the replicate's run"}
    ds.attrs = {**provenance(scenario, seed), "replicates": int(replicates),
                "seeding": "replicate r uses seed replicate_seeds(seed, replicates)[r]"}
    if posterior is not None:
        ds = ds.assign_coords(draw_coords(posterior, replicates, seed))
        ds.attrs.update(ensemble_attrs(posterior, replicates, seed))
        ds.attrs["title"] += f" with an ensemble of {replicates} posterior draws"
    else:
        ds.attrs["title"] += f" ({replicates} replicates)"
    return ds


def spec_ensemble(data: Mapping[str, Any], label: str, folder: Path | None,
                  fixed: Mapping[str, str], error: type[InputError] = InputError,
                  ensemble: str | Path | None = None, draws: int | None = None
                  ) -> tuple[Posterior | None, int | None]:
    """The posterior a spec names (``ensemble = "file.nc"``, relative to the spec's ``folder``;
    ``ensemble`` from the command line replaces it) and the number of replicates it gives.

    ``draws`` (``data["draws"]``, or the command line's, which also replaces ``replicates``) and
    ``replicates`` are the same number: replicate ``r`` uses draw ``r``; either alone sets both,
    neither gives :data:`DEFAULT_DRAWS`. ``fixed`` maps the paths the spec sets itself (swept,
    overridden, set by a package) to where it sets them: a posterior parameter among them is
    refused. Returns ``(None, None)`` for a spec without an ensemble. Errors are ``error``,
    naming ``label`` and the key.
    """
    raw = data.get("ensemble") if ensemble is None else str(ensemble)
    if raw is None:
        if "draws" in data or draws is not None:
            raise error(f"{label}: 'draws' needs 'ensemble' (a posterior file) to draw from")
        return None, None
    if not isinstance(raw, str) or not raw:
        raise error(f"{label}: 'ensemble' must be the path of a posterior netCDF file, got "
                    f"{shown(raw)}")
    path = Path(raw)
    if ensemble is None and not path.is_absolute():
        if folder is None:
            raise error(f"{label}: ensemble = {shown(raw)}: an embedded spec takes an absolute "
                        f"path")
        path = folder / path  # relative to the spec, never the working directory
    try:
        posterior = read_posterior(path)
    except PosteriorError as e:
        raise error(f"{label}: ensemble: {e}") from None
    if draws is not None:
        count = check_draws(draws)
    else:
        given = {k: data[k] for k in ("draws", "replicates") if k in data}
        for key, value in given.items():
            if isinstance(value, bool) or not isinstance(value, int) or \
                    not 1 <= value <= MAX_DRAWS:
                raise error(f"{label}: '{key}' must be a whole number in [1, {MAX_DRAWS:,}], "
                            f"got {shown(value)}")
        if len(set(given.values())) > 1:
            raise error(f"{label}: draws = {given['draws']} and replicates = "
                        f"{given['replicates']} differ: replicate r uses draw r; give one")
        count = next(iter(given.values()), DEFAULT_DRAWS)
    for p in posterior.parameters:
        if p in fixed:
            raise error(f"{label}: {p} is drawn from the ensemble {path.name} and also set in "
                        f"{fixed[p]}; drop one of them")
    return posterior, int(count)
