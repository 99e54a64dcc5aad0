"""Yearly output: preallocated count buffers turned into a labelled ``xarray.Dataset``.

Every recorded variable is declared once in :data:`RECORDED` (dimensions, measure, long name);
the model adds monthly counts into the buffer of the current year; :meth:`Recorder.to_dataset`
derives the ratios (SRB, TFR, missing female births, shares) from the counts. Counts are stored,
not only ratios, so that runs can be pooled. A run with ``run.scale = k`` simulates a 1/k sample
of the real county — its households, and, as the scenario should then say, its clinics and
inspection effort — so every count and cost is multiplied by ``k``; means, shares and ratios
are not.

The attributes follow the CF conventions (CF-1.10; the dataset's global attributes come from
:func:`popsim.provenance.provenance`). ``units`` is a UDUNITS string: every variable is a count,
a sum of money or a ratio, so it is ``"1"`` (UDUNITS has no unit for "births" and no currency).
What is counted, the currency or the scale of a ratio ("males per 100 females") is the
variable's ``comment`` (from :data:`MEASURES`) and, where a figure needs it, part of its
``long_name``. Every coordinate has a ``long_name``; the numeric ones (``year``, ``township``)
also have ``units``; the others are text labels.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from .coords import (AGE_GROUPS, CASE_SOURCES, CHILD_AGES, CHILD_GROUPS, CHILDREN, COMPOSITIONS,
                     LOCATIONS, PARITIES, REGIMES, RESIDENCES, ROUTES, SEXES, age_group_index,
                     parity_index)

__all__ = ["Recorder", "RECORDED", "DERIVED", "MEASURES", "SERVICES", "cf_attrs", "srb"]

#: What a household paid for: an illegal sex check (ultrasound), an unapproved late termination,
#: an early (blood) test sent abroad.
SERVICES = ["sex_check", "late_termination", "early_test"]
_COORDS = {"parity": PARITIES, "sex": SEXES, "route": ROUTES, "source": list(CASE_SOURCES),
           "age_group": AGE_GROUPS, "location": LOCATIONS, "residence": RESIDENCES,
           "regime": REGIMES, "composition": COMPOSITIONS, "child_group": CHILD_GROUPS,
           "children": CHILDREN, "child_age": CHILD_AGES, "service": SERVICES}
_LONG_NAMES = {"parity": "Birth order", "sex": "Sex of the child",
               "route": "Route to a prenatal sex determination or sex-selective abortion",
               "source": "Source of detection of a case against a provider",
               "age_group": "Mother's age group (completed years)",
               "location": "Location of the provider of an illegal service",
               "service": "Illegal service bought",
               "township": "Township index (0 to townships - 1)",
               "residence": "Hukou residence of the household",
               "regime": "Local fertility rule of the household",
               "composition": "Sexes of a woman's first children (census sibship table)",
               "child_group": "Age group of living children (completed years)",
               "children": "Children ever born", "child_age": "Age at death (years)"}
_MALE, _FEMALE = SEXES.index("male"), SEXES.index("female")
_COUNTY, _OUT_OF_COUNTY = LOCATIONS.index("county"), LOCATIONS.index("out_of_county")

#: name: (extra dims, measure (a key of :data:`MEASURES`), long name, scaled by run.scale)
RECORDED: dict[str, tuple[tuple[str, ...], str, str, bool]] = {
    "births": (("parity", "sex"), "births", "Live births (true) by birth order and sex", True),
    "reported_births": (("parity", "sex"), "births", "Live births as reported (after "
                        "concealment and misreporting)", True),
    "births_by_township": (("township", "sex"), "births", "Live births (true) by township", True),
    "births_by_age": (("age_group",), "births", "Live births by mother's age group", True),
    "births_by_residence": (("residence", "parity", "sex"), "births", "Live births (true) by "
                            "the household's hukou residence, birth order and sex", True),
    "births_by_regime": (("regime", "sex"), "births", "Live births (true) by the household's "
                         "local fertility rule", True),
    "overquota_births": (("sex",), "births", "Live births above the household's local "
                         "fertility rule (over quota)", True),
    "hidden_overquota_births": (("sex",), "births", "Over-quota births hidden from "
                                "registration (not reported, no fee)", True),
    "concealed_births": (("parity",), "births", "Girls' births their families left "
                         "unreported (behaviour.concealment; hidden over-quota births apart)",
                         True),
    "maintenance_fees": ((), "yuan", "Social maintenance fees collected on over-quota "
                         "births", True),
    "child_deaths": (("child_age", "sex"), "deaths", "Deaths of the women's children aged "
                     "0-17, by age at death", True),
    "excess_female_deaths": ((), "deaths", "Deaths of girls from the excess risk of "
                             "son-preferring households (abandonment, neglect)", True),
    "sibship_women": (("composition",), "women", "Women aged 21-40 at the year's end whose "
                      "first children on the household roster have this sex composition "
                      "(daughters living away are not on it)", True),
    "sibship_another": (("composition",), "women", "Of sibship_women, those with another "
                        "child after the composition", True),
    "sibship_next_male": (("composition",), "women", "Of sibship_women, those whose next child "
                          "after the composition is a boy", True),
    "living_children": (("child_group", "sex"), "children", "Living children of the women "
                        "15-49 at the year's end, by age group", True),
    "women_by_children": (("children",), "women", "Women 15-49 at the year's end by children "
                          "ever born", True),
    "women_by_regime": (("regime",), "women", "Women 15-49 at the year's end by local "
                        "fertility rule", True),
    "women_by_age": (("age_group",), "women", "Women at mid-year by age group", True),
    "sex_determinations": (("route",), "tests", "Prenatal sex determinations obtained", True),
    "sex_selective_abortions": (("route",), "abortions", "Abortions of fetuses believed to be "
                                "of the unwanted sex (girls, or boys for daughter-seekers)", True),
    "misclassified_male_abortions": ((), "abortions", "Abortions of male fetuses by son-seekers "
                                     "(misclassified as female)", True),
    "illegal_services": (("location",), "services", "Illegal sex determinations and late "
                         "terminations bought, by provider location", True),
    "unmet_searches": ((), "searches", "Seekers who found no willing provider", True),
    "disappeared_pregnancies": ((), "pregnancies", "Registered pregnancies ended by an "
                                "unapproved late termination (signals)", True),
    "clinics_offering": ((), "clinics", "Providers offering illegal services (mean over "
                         "months)", True),
    "clinics_closed": ((), "clinics", "Providers blacklisted and closed (cumulative, year "
                       "end)", True),
    "underground_entries": ((), "clinics", "Underground providers opened", True),
    "inspections": ((), "inspections", "Clinic inspections", True),
    "investigations": ((), "investigations", "Investigations (tips, follow-ups, audits)", True),
    "women_investigated": ((), "women", "Women investigated (follow-ups and audits)", True),
    "cases": (("source",), "cases", "Cases against providers, by source of detection", True),
    "grey_listed_new": ((), "women", "Women newly grey-listed", True),
    "grey_listed": ((), "women", "Women on the grey list (year end)", True),
    "fines": ((), "yuan", "Fines collected from providers", True),
    "rewards_paid": ((), "yuan", "Rewards paid for tips", True),
    "incentive_payments": ((), "yuan", "Incentives committed: present value of benefits of "
                           "newly certified households plus cash at girls' births", True),
    "certified_households": ((), "households", "Households newly certified for the yearly "
                             "benefit", True),
    "propaganda_contacts": ((), "contacts", "Propaganda contacts with households", True),
    "propaganda_cost": ((), "yuan", "Cost of propaganda contacts", True),
    "enforcement_cost": ((), "yuan", "Cost of inspections, investigations and rewards", True),
    "mean_son_preference": ((), "index 0-1", "Mean son preference of women 15-49 (year "
                            "end)", False),
    "share_needing_son": ((), "fraction", "Share of women whose son preference is above the "
                          "threshold (year end)", False),
    "mean_perceived_risk": ((), "probability", "Mean perceived risk of being caught (year "
                            "end)", False),
    "mean_illegal_price": ((), "yuan", "Mean price of an illegal sex determination among "
                           "providers offering (mean over months)", False),
    "effort_multiplier": ((), "x", "Enforcement effort multiplier from accountability", False),
    "illegal_spending": (("service",), "yuan", "What households paid for illegal services, by "
                         "service (mean price paid = spending / purchases)", True),
    "illegal_purchases": (("service",), "purchases", "Illegal services bought, by service",
                          True),
    "followups": ((), "pregnancies", "Disappeared registered pregnancies followed up (of any "
                  "cause)", True),
    "providers": ((), "providers", "Providers open in the county at year end (underground "
                  "included, out-of-county excluded)", True),
}

#: Variables derived from the counts in :meth:`Recorder.to_dataset`: (measure, long name).
DERIVED = {
    "total_births": ("births", "Live births (true)"),
    "srb": ("males per 100 females", "Sex ratio at birth (true)"),
    "srb_by_parity": ("males per 100 females", "Sex ratio at birth by birth order (true)"),
    "reported_srb": ("males per 100 females", "Sex ratio at birth as reported"),
    "reported_srb_by_parity": ("males per 100 females", "Reported SRB by birth order"),
    "srb_by_township": ("males per 100 females", "Sex ratio at birth by township (true)"),
    "child_sex_ratio": ("males per 100 females", "Sex ratio of living children by age group"),
    "tfr": ("children per woman", "Total fertility rate"),
    "missing_female_births": ("births", "Female births missing against the natural SRB "
                              "(males x 100 / natural SRB - females)"),
    "out_of_county_share": ("fraction", "Share of illegal services bought out of county"),
    "total_cost": ("yuan", "Enforcement, propaganda and incentive cost"),
}


#: What a variable measures -> (UDUNITS ``units``, ``comment``, added to the ``long_name``). A
#: count's unit is "1" (UDUNITS has no unit "births" or "women"), money's too (UDUNITS has no
#: currency); the meaning is in the comment, and the long name of money and of scaled ratios says
#: it as well, so that an axis label drawn from the long name alone needs no unit.
MEASURES: dict[str, tuple[str, str, bool]] = {
    **{thing: ("1", f"number of {thing}", False) for thing in (
        "births", "deaths", "women", "children", "tests", "abortions", "services", "searches",
        "pregnancies", "clinics", "inspections", "investigations", "cases", "households",
        "contacts", "purchases", "providers")},
    "yuan": ("1", "yuan (CNY): UDUNITS has no currency units", True),
    "males per 100 females": ("1", "males per 100 females (100 x males / females; NaN where "
                              "there is no female)", True),
    "children per woman": ("1", "children per woman (sum over five-year age groups of 5 x "
                           "births / women)", True),
    "index 0-1": ("1", "an index from 0 to 1", False),
    "fraction": ("1", "a fraction from 0 to 1", False),
    "probability": ("1", "a probability", False),
    "x": ("1", "a multiple of the scenario's enforcement effort (1: unchanged)", False),
}


def cf_attrs(measure: str, long_name: str) -> dict[str, str]:
    """The CF attributes (``long_name``, ``units``, ``comment``) of a variable of ``measure``, and
    ``units_label``: the unit as a reader says it ("births", "yuan", "males per 100 females"),
    which tables and axis labels show where the UDUNITS ``units`` would only say "1"."""
    units, comment, in_name = MEASURES[measure]
    return {"long_name": f"{long_name}, {measure}" if in_name else long_name, "units": units,
            "comment": comment, "units_label": measure}


#: the recorded fields of each result class given to :meth:`Recorder.add_fields`
_RECORDED_FIELDS: dict[type, list[str]] = {}


def srb(births: xr.DataArray) -> xr.DataArray:
    """Sex ratio at birth (males per 100 females) of counts with a ``sex`` dimension; NaN where
    there is no female birth. Pool counts first (sum over years, runs) and take the ratio last."""
    m, f = births.sel(sex="male", drop=True), births.sel(sex="female", drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return xr.where(f > 0, 100.0 * m / f, np.nan)


class Recorder:
    """Yearly buffers for the years ``[start_year, end_year]``."""

    def __init__(self, start_year: int, end_year: int, townships: int):
        self.years = np.arange(start_year, end_year + 1)
        self.start_year = start_year
        sizes = {k: len(v) for k, v in _COORDS.items()} | {"township": townships}
        self.townships = townships
        self.buf = {name: np.zeros((self.years.size,) + tuple(sizes[d] for d in dims))
                    for name, (dims, *_rest) in RECORDED.items()}
        self.year_index = -1

    def set_year(self, year: int) -> None:
        """Start recording ``year`` (-1 during burn-in: additions are dropped)."""
        i = year - self.start_year
        self.year_index = i if 0 <= i < self.years.size else -1

    @property
    def active(self) -> bool:
        return self.year_index >= 0

    def add(self, name: str, value) -> None:
        """Add ``value`` (a number, or an array over the variable's extra dimensions)."""
        if self.year_index >= 0:
            self.buf[name][self.year_index] += value

    def add_at(self, name: str, index: tuple[np.ndarray, ...], weights=1.0) -> None:
        """Scatter-add counts, e.g. births by (parity, sex) for many households at once."""
        if self.year_index >= 0:
            np.add.at(self.buf[name][self.year_index], index, weights)

    def set(self, name: str, value) -> None:
        if self.year_index >= 0:
            self.buf[name][self.year_index] = value

    def to_date(self, name: str) -> float:
        """The total of count ``name`` over the recorded years so far (0 before recording)."""
        if self.year_index < 0:
            return 0.0
        return float(self.buf[name][:self.year_index + 1].sum())

    def srb_to_date(self, name: str = "births") -> float:
        """The SRB of births (or ``reported_births``) pooled over the recorded years so far
        (NaN before a female birth is recorded)."""
        if self.year_index < 0:
            return float("nan")
        b = self.buf[name][:self.year_index + 1]
        m, f = b[..., _MALE].sum(), b[..., _FEMALE].sum()
        return float(100.0 * m / f) if f > 0 else float("nan")

    def add_fields(self, result) -> None:
        """Add every field of the dataclass ``result`` that is a recorded variable of that name
        (e.g. the office's month, :class:`popsim.model.enforcement.OfficeMonth`)."""
        names = _RECORDED_FIELDS.get(type(result))
        if names is None:
            names = [f.name for f in dataclasses.fields(result) if f.name in RECORDED]
            _RECORDED_FIELDS[type(result)] = names
        for name in names:
            self.add(name, getattr(result, name))

    # ---------------------------------------------------------------------------------------
    # what the parts of the model report, in the coordinates of the output

    def births(self, parity_before: np.ndarray, male: np.ndarray, shown: np.ndarray,
               township: np.ndarray, age_months: np.ndarray, incentive_cash: float,
               rural: np.ndarray, regime: np.ndarray, overquota: np.ndarray,
               hidden: np.ndarray, fees: float) -> None:
        """This month's births: true, reported (``shown``), by township, mother's age group
        (``age_months``), residence and local rule (index into ``REGIMES``); over-quota births,
        those ``hidden`` and the maintenance ``fees`` collected (yuan); the cash paid at girls'
        births (yuan)."""
        if self.year_index < 0:
            return
        parity = parity_index(parity_before)
        sex = np.where(male, _MALE, _FEMALE)
        self.add_at("births", (parity, sex))
        self.add_at("reported_births", (parity[shown], sex[shown]))
        self.add_at("births_by_township", (township, sex))
        self.add_at("births_by_age", (age_group_index(age_months),))
        self.add_at("births_by_residence", (rural.astype(np.int64), parity, sex))
        self.add_at("births_by_regime", (regime, sex))
        self.add_at("overquota_births", (sex[overquota],))
        self.add_at("hidden_overquota_births", (sex[hidden],))
        self.add_at("concealed_births", (parity[~male & ~shown & ~hidden],))
        self.add("maintenance_fees", fees)
        self.add("incentive_payments", incentive_cash)

    def child_deaths(self, age_band: np.ndarray, male: np.ndarray, excess: np.ndarray) -> None:
        """Children's deaths by age band (index into ``CHILD_AGES``) and sex; ``excess`` marks
        the girls' excess deaths."""
        if self.year_index < 0:
            return
        self.add_at("child_deaths", (age_band, np.where(male, _MALE, _FEMALE)))
        self.add("excess_female_deaths", float(excess.sum()))

    def census(self, counts: dict[str, np.ndarray]) -> None:
        """The year-end census (sibship table, living children, women by children and rule)."""
        for name, v in counts.items():
            self.add(name, v)

    def _add_cell(self, name: str, i: int, value) -> None:
        """Add ``value`` to element ``i`` of a variable of one extra dimension."""
        if self.year_index >= 0:
            self.buf[name][self.year_index, i] += value

    def sex_determinations(self, route: str, n: int) -> None:
        self._add_cell("sex_determinations", ROUTES.index(route), n)

    def abortions(self, route: str, n: int, misclassified_male: int) -> None:
        """Sex-selective abortions on ``route``, of which ``misclassified_male`` were boys."""
        self._add_cell("sex_selective_abortions", ROUTES.index(route), n)
        self.add("misclassified_male_abortions", float(misclassified_male))

    def illegal_services(self, out_of_county: np.ndarray) -> None:
        """Illegal services bought, one per element, ``out_of_county`` where bought outside."""
        outside = np.count_nonzero(out_of_county)
        self._add_cell("illegal_services", _COUNTY, float(out_of_county.size - outside))
        self._add_cell("illegal_services", _OUT_OF_COUNTY, float(outside))

    def illegal_purchases(self, service: str, n: int, spending: float) -> None:
        """``n`` purchases of ``service`` (one of :data:`SERVICES`) costing ``spending`` yuan."""
        i = SERVICES.index(service)
        self._add_cell("illegal_purchases", i, n)
        self._add_cell("illegal_spending", i, spending)

    def clinics(self, entries: int, unmet: float, offering: int, expected_price: float) -> None:
        """The market's month: underground entries, unmet searches, and the providers offering
        and the expected price of an illegal sex determination (means over the 12 months)."""
        self.add("underground_entries", entries)
        self.add("unmet_searches", unmet)
        self.add("clinics_offering", offering / 12.0)
        self.add("mean_illegal_price", expected_price / 12.0)

    def to_dataset(self, scale: float, natural_srb: float, attrs: dict) -> xr.Dataset:
        # Built once from Variables: every ``ds[name] = ...`` would be a merge and an alignment,
        # and DataArray arithmetic aligns coordinates the Variables share by construction. The
        # sums are xarray's (``Variable.sum``, as ``DataArray.sum`` computes them); the ratios
        # are the numpy operations ``srb`` and ``xr.where`` apply.
        coords = {"year": self.years, **_COORDS, "township": np.arange(self.townships)}
        coord_attrs = {dim: {"long_name": name} for dim, name in
                       {"year": "Calendar year", **_LONG_NAMES}.items()}
        # a label, not a CF time coordinate: units "years since ..." would make xarray and other
        # readers decode it to dates
        coord_attrs["year"] |= {"units": "1",
                                "comment": "Gregorian calendar year: totals and means cover its "
                                           "twelve months, states are at its end (or mid-year, "
                                           "as the variable's long name says)"}
        coord_attrs["township"]["units"] = "1"
        v = {}
        for name, (dims, measure, long_name, scaled) in RECORDED.items():
            x = self.buf[name] * scale if scaled else self.buf[name]
            v[name] = xr.Variable(("year",) + dims, x, cf_attrs(measure, long_name))
        # (a variable named as its dimension is that dimension's coordinate; the order of the
        # variables, as files list them, is that of the dataset built in steps before)
        v |= {k: xr.Variable(k, x, coord_attrs[k]) for k, x in coords.items()}

        b, rb, bp = v["births"], v["reported_births"], v["births"].sum("parity")
        male, female = b.isel(sex=_MALE), b.isel(sex=_FEMALE)
        svc, women = v["illegal_services"], v["women_by_age"]
        tot = svc.sum("location")
        with np.errstate(divide="ignore", invalid="ignore"):
            asfr = xr.Variable(women.dims, np.where(women.values > 0,
                                                    v["births_by_age"].values / women.values, 0))
            derived = {
                "total_births": b.sum(["parity", "sex"]), "srb": _srb(bp),
                "srb_by_parity": _srb(b), "reported_srb": _srb(rb.sum("parity")),
                "reported_srb_by_parity": _srb(rb),
                "srb_by_township": _srb(v["births_by_township"]),
                "child_sex_ratio": _srb(v["living_children"]),
                "tfr": 5.0 * asfr.sum("age_group"),
                "missing_female_births": (male.sum("parity") * 100.0 / natural_srb
                                          - female.sum("parity")),
                "out_of_county_share": xr.Variable(tot.dims, np.where(
                    tot.values > 0, svc.values[:, _OUT_OF_COUNTY] / tot.values,
                    np.nan)),
                "total_cost": (v["enforcement_cost"] + v["propaganda_cost"]
                               + v["incentive_payments"])}
        for name, (measure, long_name) in DERIVED.items():
            v[name] = xr.Variable(derived[name].dims, derived[name].values,
                                  cf_attrs(measure, long_name))
        return xr.Dataset(v, attrs=attrs)


def _srb(births: xr.Variable) -> xr.Variable:
    """:func:`srb` of a Variable with a ``sex`` dimension (the same operations, without the
    alignment of DataArrays: the dataset's variables share their coordinates by construction)."""
    m, f = births.isel(sex=_MALE).values, births.isel(sex=_FEMALE).values
    return xr.Variable(births.isel(sex=0).dims, np.where(f > 0, 100.0 * m / f, np.nan))
