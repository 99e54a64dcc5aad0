"""Per-replicate metrics of a comparison, the intervals across replicates, and when an SRB cell
has too few births to read.

:func:`add_metrics` adds :data:`METRICS` to the dataset :func:`popsim.experiments.compare.compare`
builds (dims ``scenario`` x ``replicate``); :func:`quantile_interval` and
:func:`unpaired_interval` are the 90% intervals of the planner table (their meaning is in
:mod:`popsim.experiments.compare`); :func:`srb_standard_error` and :func:`min_births` say when one
run's SRB of a cell is mostly sampling noise.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import xarray as xr

from ..model.recording import srb

__all__ = ["LEVEL", "METRICS", "add_metrics", "quantile_interval", "unpaired_interval",
           "srb_standard_error", "min_births", "MAX_SRB_SE", "simulated_births",
           "QUANTILES", "quiet_nan", "PRESENT_VALUE"]

#: The two-sided interval: 5th to 95th percentile across replicates.
LEVEL = 0.90
QUANTILES = ((1.0 - LEVEL) / 2.0, 1.0 - (1.0 - LEVEL) / 2.0)

#: What "incentives committed" means (the recorder's ``incentive_payments``,
#: :mod:`popsim.model.incentives`): said wherever the figure is shown, since a planner reads
#: a cost column as this year's budget.
PRESENT_VALUE = ("the present value, booked when a household is certified, of the yearly "
                 "benefits (pensions) it will draw for years to come, plus cash at girls' "
                 "births: a commitment on future budgets, not this year's spending")

#: Per-replicate metrics added to the comparison dataset: name -> (units, long name).
METRICS: dict[str, tuple[str, str]] = {
    "srb_end": ("males per 100 females", "True sex ratio at birth in the end year"),
    "srb_by_parity_end": ("males per 100 females", "True SRB by birth order in the end year"),
    "reported_srb_end": ("males per 100 females", "Reported SRB in the end year"),
    "report_gap_end": ("SRB points", "Reported minus true SRB in the end year (negative: the "
                       "reports look better than the truth)"),
    "srb_run": ("males per 100 females", "True SRB of all births of the run (pooled)"),
    "srb_by_parity_run": ("males per 100 females", "True SRB by birth order, all births of the "
                          "run (pooled)"),
    "reported_srb_run": ("males per 100 females", "Reported SRB of all births of the run "
                         "(pooled)"),
    "report_gap_run": ("SRB points", "Reported minus true SRB over the run (pooled births)"),
    "missing_female_births_end": ("births", "Missing female births in the end year"),
    "missing_female_births_run": ("births", "Missing female births summed over the run"),
    "averted_end": ("births", "Missing female births averted against the baseline in the end "
                    "year (same replicate)"),
    "averted_run": ("births", "Missing female births averted against the baseline over the run "
                    "(same replicate)"),
    "total_cost_run": ("yuan", "Cost of the measures over the run: incentives committed (a "
                       "present value) + enforcement + propaganda"),
    "incentive_cost_run": ("yuan", f"Incentives committed over the run: {PRESENT_VALUE}"),
    "enforcement_cost_run": ("yuan", "Enforcement cost over the run (inspections, "
                             "investigations and tip rewards)"),
    "rewards_run": ("yuan", "Tip rewards paid over the run (inside the enforcement cost)"),
    "propaganda_cost_run": ("yuan", "Propaganda cost over the run"),
    "extra_cost_run": ("yuan", "Cost over the run minus the baseline's (same replicate)"),
    "cost_per_averted": ("yuan per birth", "Extra cost per missing female birth averted (NaN "
                         "when none is averted)"),
    "cases_run": ("cases", "Cases against providers found and pursued over the run"),
    "women_investigated_run": ("women", "Women investigated over the run"),
    "grey_listed_run": ("women", "Women newly grey-listed over the run"),
    "investigated_per_case": ("women per case", "Women investigated per case found"),
    "grey_listed_per_case": ("women per case", "Women grey-listed per case found"),
    "out_of_county_share_run": ("fraction", "Share of illegal services bought out of county "
                                "over the run"),
    "births_end": ("births", "Simulated births by birth order in the end year (not multiplied "
                   "by run.scale: the sample an SRB cell is read from)"),
    "reported_births_end": ("births", "Simulated reported births by birth order in the end "
                            "year (not multiplied by run.scale)"),
    "births_run": ("births", "Simulated births by birth order over the run (not multiplied by "
                   "run.scale)"),
    "reported_births_run": ("births", "Simulated reported births by birth order over the run "
                            "(not multiplied by run.scale)"),
}


@contextlib.contextmanager
def quiet_nan():
    """Silence numpy's warnings about all-NaN slices: NaN is the intended answer there."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    return xr.where(den > 0, num / den.where(den > 0), np.nan)


def add_metrics(ds: xr.Dataset) -> xr.Dataset:
    """Add the per-replicate metrics of :data:`METRICS` to a comparison dataset."""
    end = ds["year"].values[-1]
    base_name = ds.attrs["baseline"]
    m: dict[str, xr.DataArray] = {}
    m["srb_end"] = ds["srb"].sel(year=end, drop=True)
    m["srb_by_parity_end"] = ds["srb_by_parity"].sel(year=end, drop=True)
    m["reported_srb_end"] = ds["reported_srb"].sel(year=end, drop=True)
    m["report_gap_end"] = m["reported_srb_end"] - m["srb_end"]
    births = ds["births"].sum("year")
    reported = ds["reported_births"].sum("year")
    m["srb_run"] = srb(births.sum("parity"))
    m["srb_by_parity_run"] = srb(births)
    m["reported_srb_run"] = srb(reported.sum("parity"))
    m["report_gap_run"] = m["reported_srb_run"] - m["srb_run"]
    m["missing_female_births_end"] = ds["missing_female_births"].sel(year=end, drop=True)
    m["missing_female_births_run"] = ds["missing_female_births"].sum("year")
    for name, total in (("averted_end", "missing_female_births_end"),
                        ("averted_run", "missing_female_births_run")):
        m[name] = m[total].sel(scenario=base_name, drop=True) - m[total]
    m["total_cost_run"] = ds["total_cost"].sum("year")
    m["incentive_cost_run"] = ds["incentive_payments"].sum("year")
    m["enforcement_cost_run"] = ds["enforcement_cost"].sum("year")
    m["rewards_run"] = ds["rewards_paid"].sum("year")
    m["propaganda_cost_run"] = ds["propaganda_cost"].sum("year")
    m["extra_cost_run"] = m["total_cost_run"] - m["total_cost_run"].sel(scenario=base_name,
                                                                        drop=True)
    m["cost_per_averted"] = _ratio(m["extra_cost_run"], m["averted_run"])
    scale = float(ds.attrs.get("scale", 1.0))
    for name, var in (("births_end", "births"), ("reported_births_end", "reported_births")):
        m[name] = ds[var].sel(year=end, drop=True).sum("sex") / scale
    m["births_run"] = births.sum("sex") / scale
    m["reported_births_run"] = reported.sum("sex") / scale
    m["cases_run"] = ds["cases"].sum(["year", "source"])
    m["women_investigated_run"] = ds["women_investigated"].sum("year")
    m["grey_listed_run"] = ds["grey_listed_new"].sum("year")
    m["investigated_per_case"] = _ratio(m["women_investigated_run"], m["cases_run"])
    m["grey_listed_per_case"] = _ratio(m["grey_listed_run"], m["cases_run"])
    svc = ds["illegal_services"].sum("year")
    m["out_of_county_share_run"] = _ratio(svc.sel(location="out_of_county", drop=True),
                                          svc.sum("location"))
    out = ds.copy()
    for name, (units, long_name) in METRICS.items():
        out[name] = m[name].transpose("scenario", "replicate", ...)
        out[name].attrs = {"units": units, "long_name": long_name}
    return out


def quantile_interval(values: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """The 90% interval across replicates along ``axis``: 5th and 95th percentiles.

    NaN where fewer than two finite values are available.
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values).sum(axis=axis)
    with quiet_nan():
        lo, hi = np.nanquantile(values, QUANTILES, axis=axis)
    return np.where(finite >= 2, lo, np.nan), np.where(finite >= 2, hi, np.nan)


def unpaired_interval(base: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """90% interval of ``base - other`` as independent seeds would give it.

    ``base[i] - other[j]`` over all pairs of *different* replicates ``i != j``: each difference
    then compares two runs that share no random numbers.
    """
    base, other = np.asarray(base, float), np.asarray(other, float)
    diff = base[:, None] - other[None, :]
    off = diff[~np.eye(base.size, dtype=bool)]
    if off.size < 2:
        return float("nan"), float("nan")
    lo, hi = quantile_interval(off)
    return float(lo), float(hi)


#: Largest binomial standard error (SRB points) of one run's SRB in a cell that the table shows
#: without a mark. Ten points make a 90% sampling interval of about +-16 points around one run's
#: value, larger than the whole distortion the measures are meant to remove (the county's ~118
#: against the natural 106): such a cell cannot tell a distorted county from a natural one. At
#: the natural SRB it takes 450 births (the county has about 170 third births a year).
MAX_SRB_SE = 10.0


def srb_standard_error(births: np.ndarray | float, natural_srb: float = 106.0) -> np.ndarray:
    """Binomial standard error (SRB points) of the SRB of ``births`` births at the natural SRB.

    With ``p = s / (100 + s)`` the share of boys, the SRB is ``100 p / (1 - p)``; by the delta
    method its standard error is ``100 sqrt(p (1 - p) / n) / (1 - p)**2`` (about ``212 / sqrt(n)``
    at s = 106). Infinite for no births.
    """
    p = natural_srb / (100.0 + natural_srb)
    n = np.asarray(births, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, 100.0 * np.sqrt(p * (1 - p) / np.where(n > 0, n, 1))
                        / (1 - p) ** 2, np.inf)


def min_births(max_se: float = MAX_SRB_SE, natural_srb: float = 106.0) -> int:
    """The fewest births whose SRB has a binomial standard error of at most ``max_se`` points
    (:func:`srb_standard_error`): 450 at the defaults."""
    p = natural_srb / (100.0 + natural_srb)
    return math.ceil(p * (1 - p) * (100.0 / ((1 - p) ** 2 * max_se)) ** 2)


def simulated_births(ds: xr.Dataset, metric: str, sel: dict[str, str]) -> xr.DataArray | None:
    """Mean simulated births per run (dim ``scenario``) behind an SRB metric of
    :data:`METRICS` (``srb_end``, ``srb_by_parity_end``, ``reported_srb_run``...), or None for
    a metric that is not an SRB."""
    period = "end" if metric.endswith("_end") else "run" if metric.endswith("_run") else None
    if period is None or "srb" not in metric or metric.startswith("report_gap"):
        return None
    name = f"{'reported_' if metric.startswith('reported') else ''}births_{period}"
    if name not in ds:
        return None
    b = ds[name]
    b = b.sel(sel, drop=True) if sel else b.sum("parity")
    return b.mean("replicate")
