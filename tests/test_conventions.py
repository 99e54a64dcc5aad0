"""CF conventions on the run dataset: UDUNITS units, attributes on every variable and coordinate,
the CF global attributes, and a netCDF file that CF readers (xarray's decoder, cf-xarray) take
as it is meant.

No UDUNITS parser is installed (udunits2 is a C library; cfunits and pint are not dependencies),
so the units strings are checked against :data:`UDUNITS_VALID`, an explicit list of strings that
UDUNITS-2 parses, each with the reason. A string not in it is either invalid (e.g. "births",
"yuan", "males per 100 females", "children per woman": not UDUNITS units) or must be added here
with its UDUNITS meaning. ("year", which popsim's calendar-year coordinate carried before, is
a UDUNITS unit, but a duration: a calendar year is a label, units "1".)
"""

from __future__ import annotations

import re
import socket

import numpy as np
import xarray as xr

from popsim.io import write_netcdf
from popsim.model.recording import DERIVED, MEASURES, RECORDED

#: Unit strings UDUNITS-2 parses, and what they mean there.
UDUNITS_VALID = {
    "1": "the number one: the unit of a dimensionless quantity (CF 3.1). popsim's counts, "
         "ratios, fractions and sums of money (UDUNITS has no currency units) and its label-like "
         "numeric coordinates (calendar year, township index)",
    "percent": "0.01 (UDUNITS-2 defines percent; CF 3.1 names it as a dimensionless unit)",
    "a": "the year, 3.15569259747e7 s (UDUNITS-2's symbol for year; a duration)",
    "a-1": "per year: a yearly rate (UDUNITS exponent syntax, as in 'm s-1')",
}


def _is_text(coord: xr.DataArray) -> bool:
    return coord.dtype.kind in "UOS"


def test_every_variable_has_udunits_units_a_long_name_and_a_comment(county_small):
    ds = county_small
    assert set(ds.data_vars) == set(RECORDED) | set(DERIVED)
    for name, var in ds.data_vars.items():
        attrs = var.attrs
        assert attrs.get("long_name"), name
        assert attrs.get("units") in UDUNITS_VALID, (name, attrs.get("units"))
        assert attrs.get("comment"), name  # what is counted, the currency or the scale
    # the scale of the sex ratios and the currency reach the reader who sees only long_name
    for name in ("srb", "srb_by_parity", "reported_srb", "reported_srb_by_parity",
                 "srb_by_township", "child_sex_ratio"):
        assert ds[name].attrs["long_name"].endswith(", males per 100 females"), name
        assert ds[name].attrs["comment"].startswith("males per 100 females"), name
    for name in ("fines", "total_cost", "illegal_spending", "maintenance_fees"):
        assert ds[name].attrs["long_name"].endswith(", yuan"), name
    assert ds["births"].attrs == {"long_name": "Live births (true) by birth order and sex",
                                  "units": "1", "comment": "number of births",
                                  "units_label": "births"}  # the unit tables and axes show
    assert ds["tfr"].attrs["long_name"] == "Total fertility rate, children per woman"


def test_every_measure_is_a_udunits_unit():
    for measure, (units, comment, _in_name) in MEASURES.items():
        assert units in UDUNITS_VALID and comment, measure
    used = {m for _dims, m, *_ in RECORDED.values()} | {m for m, _ in DERIVED.values()}
    assert used <= set(MEASURES)


def test_every_coordinate_says_what_it_is(county_small):
    ds = county_small
    for dim in ds.dims:
        assert dim in ds.coords, dim  # every dimension is labelled
    for name, coord in ds.coords.items():
        assert coord.attrs.get("long_name"), name
        if _is_text(coord):
            # text labels ("3+", "male", "out_of_county") are not quantities: no units
            assert "units" not in coord.attrs, name
        else:
            assert coord.attrs.get("units") in UDUNITS_VALID, name
    assert ds["year"].attrs["units"] == "1" and "calendar year" in ds["year"].attrs["comment"]


def test_cf_global_attributes_carry_no_time_or_machine(county_small):
    attrs = county_small.attrs
    assert attrs["Conventions"] == "CF-1.10"
    for key in ("title", "history", "source", "institution", "references"):
        assert isinstance(attrs[key], str) and attrs[key], key
    assert attrs["source"].startswith(f"popsim {attrs['popsim_version']}")
    assert f"seed {attrs['seed']}" in attrs["history"]
    assert attrs["scenario_sha256"][:16] in attrs["history"]
    text = " ".join(str(v) for k, v in attrs.items() if k != "scenario_toml")
    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b|\d\d:\d\d:\d\d", text)  # no time stamp
    host = socket.gethostname()
    if len(host) >= 4:
        assert host not in text


def test_cf_readers_take_the_netcdf_file_as_meant(county_small, tmp_path):
    import cf_xarray  # noqa: F401 - registers the .cf accessor

    path = write_netcdf(county_small, tmp_path / "run.nc")
    with xr.open_dataset(path) as back:  # CF decoding on, as every reader opens it
        back = back.load()
    # the calendar year stays a number (units 'years since ...' would decode it to dates)
    assert back["year"].dtype.kind == "i"
    np.testing.assert_array_equal(back["year"], county_small["year"])
    # and no number was turned into another by a scale or a fill value
    xr.testing.assert_identical(back, county_small)
    # cf-xarray parses every variable's and coordinate's attributes; nothing claims a CF axis,
    # coordinate or standard name the dataset does not satisfy
    assert "Data Variables" in repr(back.cf)
    assert back.cf.axes == {} and back.cf.coordinates == {} and back.cf.standard_names == {}
    for name, var in back.variables.items():
        for attr in ("coordinates", "cell_measures", "bounds", "grid_mapping",
                     "ancillary_variables"):
            assert attr not in var.attrs, (name, attr)  # none that would point at nothing

