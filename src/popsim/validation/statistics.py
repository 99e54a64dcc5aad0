"""The statistics a validation target can ask for, computed from run datasets.

Every statistic takes a dataset of one or more runs stacked along ``replicate`` (a single run is
one replicate), a window of calendar years (inclusive) and a subset (``parity="2"``,
``composition="two girls"``, ...), and returns a :class:`Value`: the statistic of the *pooled*
counts (summed over the years and the replicates, the ratio taken last, so that noisy cells are
not averaged as ratios) and the same statistic for each replicate alone, from which
:mod:`popsim.validation.score` draws the model's interval.

The run variables each statistic reads are listed in :data:`STATISTICS`; they are declared, with
units and long names, in :mod:`popsim.model.recording`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..errors import InputError, did_you_mean
from .observed import counted_tfr

__all__ = ["Value", "Statistic", "STATISTICS", "compute", "RESIDENCE_OF"]

#: the observed residence categories mapped to the model's (a city or a town is urban hukou)
RESIDENCE_OF = {"city": "urban", "town": "urban", "urban": "urban", "rural": "rural"}
#: the observed service names mapped to the model's; a package is a sex check plus a late
#: termination bought together
SERVICES_OF = {"sex_check": ("sex_check",), "late_termination": ("late_termination",),
               "early_test": ("early_test",), "package": ("sex_check", "late_termination")}


@dataclass(frozen=True)
class Value:
    """A statistic of pooled runs and of each run alone."""

    pooled: float
    per_replicate: np.ndarray


@dataclass(frozen=True)
class Statistic:
    """A named statistic: what it computes, its unit, and the run variables it reads."""

    name: str
    unit: str
    meaning: str
    variables: tuple[str, ...]
    func: Callable[[xr.Dataset, tuple[int, int], Mapping[str, str]], Value]
    subset_keys: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------------
# helpers


def _window(da: xr.DataArray, years: tuple[int, int]) -> xr.DataArray:
    y0, y1 = years
    sel = da.sel(year=slice(y0, y1))
    if sel.sizes.get("year", 0) != y1 - y0 + 1:
        have = (int(da.year.min()), int(da.year.max())) if da.sizes.get("year") else None
        raise InputError(f"years {y0}-{y1} are not all recorded in the run (it records "
                         f"{have[0]}-{have[1]})" if have else f"years {y0}-{y1} not recorded")
    return sel


def _replicated(da: xr.DataArray) -> xr.DataArray:
    return da if "replicate" in da.dims else da.expand_dims(replicate=[0])


def _ratio(num: xr.DataArray, den: xr.DataArray, factor: float = 1.0) -> Value:
    """``factor * num / den`` pooled over everything but ``replicate``, and per replicate."""
    num, den = _replicated(num), _replicated(den)
    other = [d for d in num.dims if d != "replicate"]
    n_r = num.sum(other).values.astype(float)
    d_r = den.sum([d for d in den.dims if d != "replicate"]).values.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(d_r > 0, factor * n_r / d_r, np.nan)
        pooled = factor * n_r.sum() / d_r.sum() if d_r.sum() > 0 else np.nan
    return Value(float(pooled), per)


def _mean_per_year(da: xr.DataArray) -> Value:
    """The yearly mean of a count over the window, pooled (mean over replicates) and per run."""
    da = _replicated(da)
    other = [d for d in da.dims if d not in ("replicate", "year")]
    per = da.sum(other).mean("year").values.astype(float)
    return Value(float(per.mean()), per)


def _births(ds: xr.Dataset, years, subset) -> xr.DataArray:
    if "residence" in subset:
        res = subset["residence"]
        if res not in RESIDENCE_OF:
            raise InputError(f"residence '{res}' is not one of {', '.join(RESIDENCE_OF)}"
                             f"{did_you_mean(res, RESIDENCE_OF)}")
        if "births_by_residence" not in ds:
            raise InputError("statistic by residence needs run variable(s) births_by_residence, "
                             "which the dataset does not have")
        b = ds["births_by_residence"].sel(residence=RESIDENCE_OF[res], drop=True)
    else:
        b = ds["births"]
    b = _window(b, years)
    if "parity" in subset:
        b = b.sel(parity=subset["parity"], drop=True)
    return b


def _srb_of(b: xr.DataArray) -> Value:
    return _ratio(b.sel(sex="male", drop=True), b.sel(sex="female", drop=True), 100.0)


def _years_of(text: str) -> tuple[int, int]:
    a, _, b = text.partition("-")
    return int(a), int(b or a)


# ------------------------------------------------------------------------------------------------
# the statistics


def srb(ds, years, subset) -> Value:
    """True SRB of the births in the window (optionally of one birth order and residence)."""
    return _srb_of(_births(ds, years, subset))


def census_srb(ds, years, subset) -> Value:
    """SRB of the births China's censuses and surveys counted (optionally of one birth order).

    A measurement model, not a behaviour: the counts after 1990 missed about a quarter of
    the births (counted TFR 1.22 against an adjusted 1.6 in 2000, ``china_context.csv``), and
    the missing births were higher-order ones (over-quota children kept off the register and out
    of the enumeration). First births are counted in full; births of order 2 and higher, of
    either sex alike, at the share ``c`` that makes the counted TFR the census's:
    ``c = (counted - T * f1) / (T * (1 - f1))``, clipped to [0, 1], with ``T`` the run's TFR
    and ``f1`` its share of first births that year; the counted TFR is interpolated between
    the counts (``tfr_counted`` rows) and held after the last; before the first (1990) the
    counts are taken as complete. The girls their families concealed (``concealed_births``,
    ``behaviour.concealment``: under-registration of girls) are not counted either, so within
    a birth order the counted SRB is a little above the true one; the census's birth-order mix
    is what differs most from the births'. (Inverting the 2000 census's figures, 107.1 / 151.9
    / 159.4 by order and 116.9 in total, needs ~75% first births: what a TFR of 1.22 counts,
    not what 1.6 has.)"""
    b = _replicated(_window(ds["births"], years))
    anchors = counted_tfr()
    ys = b["year"].values
    counted = np.interp(ys, [a for a, _ in anchors], [v for _, v in anchors], left=np.nan)
    total = _replicated(_window(ds["tfr"], years))  # each run's yearly TFR (recording)
    f1 = b.isel(parity=0).sum("sex") / b.sum(["parity", "sex"])
    c = ((xr.DataArray(counted, dims="year", coords={"year": ys}) - total * f1)
         / (total * (1.0 - f1))).clip(0.0, 1.0).fillna(1.0)
    concealed = _replicated(_window(ds["concealed_births"], years))
    girls = b.sel(sex="female") - concealed
    b = xr.concat([b.sel(sex="male"), girls], dim="sex").transpose(*b.dims)
    b = b * xr.where(b["parity"] == b["parity"][0], 1.0, c)
    if "parity" in subset:
        b = b.sel(parity=subset["parity"], drop=True)
    return _srb_of(b)


def reported_srb(ds, years, subset) -> Value:
    """SRB of the births as reported to the office (after concealment and misreporting)."""
    b = _window(ds["reported_births"], years)
    if "parity" in subset:
        b = b.sel(parity=subset["parity"], drop=True)
    return _srb_of(b)


def srb_change(ds, years, subset) -> Value:
    """SRB of the window minus the SRB of the ``before`` window (points)."""
    before = _srb_of(_births(ds, _years_of(subset["before"]), {}))
    after = _srb_of(_births(ds, years, {}))
    return Value(after.pooled - before.pooled, after.per_replicate - before.per_replicate)


def srb_decline_per_year(ds, years, subset) -> Value:
    """Fall of the SRB from the ``before`` window to the window, per year between their middles."""
    b_years = _years_of(subset["before"])
    span = (years[0] + years[1]) / 2 - (b_years[0] + b_years[1]) / 2
    if span <= 0:
        raise InputError("srb_decline_per_year: the window must come after 'before'")
    before = _srb_of(_births(ds, b_years, {}))
    after = _srb_of(_births(ds, years, {}))
    return Value((before.pooled - after.pooled) / span,
                 (before.per_replicate - after.per_replicate) / span)


def peak_births_ratio(ds, years, subset) -> Value:
    """Births of the window's largest year over the mean yearly births of the ``before``
    window: the size of a birth response (the 2016 two-child change: 1.08 nationally)."""
    def yearly(window):  # births by year and replicate
        b = _replicated(_window(ds["births"], window))
        return b.sum([d for d in b.dims if d not in ("year", "replicate")])

    after, before = yearly(years), yearly(_years_of(subset["before"]))
    pooled = float(after.sum("replicate").max("year") / before.sum("replicate").mean("year"))
    with np.errstate(divide="ignore", invalid="ignore"):
        per = (after.max("year") / before.mean("year")).values.astype(float)
    return Value(pooled, per)


def _sibship(ds, years, subset) -> tuple[xr.DataArray, ...]:
    comp = subset["composition"]
    names = [str(c) for c in ds["composition"].values]
    if comp not in names:
        raise InputError(f"composition '{comp}' is not one of {', '.join(names)}"
                         f"{did_you_mean(comp, names)}")
    pick = {"composition": comp}
    return tuple(_window(ds[v], years).sel(pick, drop=True)
                 for v in ("sibship_women", "sibship_another", "sibship_next_male"))


def p_another_child(ds, years, subset) -> Value:
    """Of the women 21-40 at the year's end whose first children on the household roster had
    this sex composition, the share with another child there (a census cross-section, as
    Ebenstein 2010, Table 1; daughters living away are not on the roster:
    :func:`popsim.model.children.roster`)."""
    women, another, _ = _sibship(ds, years, subset)
    return _ratio(another, women)


def fraction_male_next(ds, years, subset) -> Value:
    """Of those women who had another child, the share whose next child is a boy."""
    _, another, male = _sibship(ds, years, subset)
    return _ratio(male, another)


def child_sex_ratio(ds, years, subset) -> Value:
    """Living children (of the women in the model) of an age group, males per 100 females."""
    c = _window(ds["living_children"], years).sel(child_group=subset["child_group"], drop=True)
    return _srb_of(c)


def illegal_price(ds, years, subset) -> Value:
    """Mean price paid for an illegal service (yuan); a package is the sum of its parts."""
    service = subset.get("service", "sex_check")
    if service not in SERVICES_OF:
        raise InputError(f"service '{service}' is not one of {', '.join(SERVICES_OF)}"
                         f"{did_you_mean(service, SERVICES_OF)}")
    pooled, per = 0.0, 0.0
    for part in SERVICES_OF[service]:
        v = _ratio(_window(ds["illegal_spending"], years).sel(service=part, drop=True),
                   _window(ds["illegal_purchases"], years).sel(service=part, drop=True))
        pooled, per = pooled + v.pooled, per + v.per_replicate
    return Value(float(pooled), np.asarray(per, dtype=float))


def tfr(ds, years, subset) -> Value:
    """Total fertility rate of the pooled window: 5 x the sum of the age-specific rates."""
    b, w = _replicated(_window(ds["births_by_age"], years)), _replicated(
        _window(ds["women_by_age"], years))
    rates = b.sum("year") / w.sum("year").where(w.sum("year") > 0)
    per = 5.0 * rates.sum("age_group").values
    pooled_rates = b.sum(["year", "replicate"]) / w.sum(["year", "replicate"])
    return Value(float(5.0 * pooled_rates.sum()), per.astype(float))


def women_share_by_children(ds, years, subset) -> Value:
    """Share of women 15-49 at the year's end with this number of living-born children."""
    w = _window(ds["women_by_children"], years)
    return _ratio(w.sel(children=subset["children"], drop=True), w)


def _count(variable: str, meaning: str) -> Callable:
    def f(ds, years, subset) -> Value:
        return _mean_per_year(_window(ds[variable], years))
    f.__doc__ = f"{meaning} a year (mean over the window; counts are scaled by run.scale)."
    return f


STATISTICS: dict[str, Statistic] = {s.name: s for s in (
    Statistic("srb", "males per 100 females", "sex ratio at birth (true)", ("births",), srb,
              ("parity", "residence")),
    Statistic("srb_by_parity", "males per 100 females", "sex ratio at birth of one birth order",
              ("births",), srb, ("parity", "residence")),
    Statistic("census_srb", "males per 100 females", "sex ratio at birth as China's censuses "
              "and surveys counted it (higher-order births under-counted)",
              ("births", "concealed_births", "tfr"), census_srb,
              ("parity",)),
    Statistic("reported_srb", "males per 100 females", "sex ratio at birth as reported",
              ("reported_births",), reported_srb, ("parity",)),
    Statistic("srb_change", "points", "change of the SRB since the 'before' window",
              ("births",), srb_change, ("before",)),
    Statistic("srb_decline_per_year", "points a year", "fall of the SRB per year since 'before'",
              ("births",), srb_decline_per_year, ("before",)),
    Statistic("peak_births_ratio", "ratio", "births of the window's largest year over the "
              "yearly births of 'before'", ("births",), peak_births_ratio, ("before",)),
    Statistic("p_another_child", "probability", "probability of another child by sibship",
              ("sibship_women", "sibship_another"), p_another_child, ("composition",)),
    Statistic("fraction_male_next", "fraction", "fraction male of the next birth by sibship",
              ("sibship_another", "sibship_next_male"), fraction_male_next, ("composition",)),
    Statistic("child_sex_ratio", "males per 100 females", "sex ratio of living children",
              ("living_children",), child_sex_ratio, ("child_group",)),
    Statistic("illegal_price", "yuan", "mean price paid for an illegal service",
              ("illegal_spending", "illegal_purchases"), illegal_price, ("service",)),
    Statistic("tfr", "children per woman", "total fertility rate",
              ("births_by_age", "women_by_age"), tfr),
    Statistic("women_share_by_children", "fraction", "share of women by number of children",
              ("women_by_children",), women_share_by_children, ("children",)),
    Statistic("cases", "cases a year", "cases against providers", ("cases",),
              _count("cases", "Cases against providers")),
    Statistic("fines", "yuan a year", "fines collected from providers", ("fines",),
              _count("fines", "Fines collected")),
    Statistic("followups", "follow-ups a year", "disappeared pregnancies followed up",
              ("followups",), _count("followups", "Disappeared pregnancies followed up")),
    Statistic("providers", "providers", "providers in the county (year end)", ("providers",),
              _count("providers", "Providers in the county")),
    Statistic("births", "births a year", "live births", ("births",),
              _count("births", "Live births")),
)}


def compute(name: str, ds: xr.Dataset, years: tuple[int, int],
            subset: Mapping[str, str] | None = None) -> Value:
    """The statistic ``name`` of ``ds`` over ``years`` (inclusive) for ``subset``."""
    if name not in STATISTICS:
        raise InputError(f"unknown statistic '{name}'{did_you_mean(name, STATISTICS)}; "
                         f"known: {', '.join(STATISTICS)}")
    stat = STATISTICS[name]
    subset = dict(subset or {})
    unknown = [k for k in subset if k not in stat.subset_keys]
    if unknown:
        raise InputError(f"statistic '{name}' takes no subset key '{unknown[0]}'"
                         f"{did_you_mean(unknown[0], stat.subset_keys)}")
    missing = [v for v in stat.variables if v not in ds]
    if missing:
        raise InputError(f"statistic '{name}' needs run variable(s) {', '.join(missing)}, which "
                         f"the dataset does not have")
    return stat.func(ds, tuple(int(y) for y in years), subset)
