"""The output dataset: units and long names, provenance, netCDF round trip."""

import json

import numpy as np
import xarray as xr

import popsim
from popsim.io import write_netcdf
from popsim.model.recording import DERIVED, RECORDED
from popsim.scenario import load_scenario


def test_every_variable_has_units_and_long_name(county_small):
    for name in list(RECORDED) + list(DERIVED):
        v = county_small[name]
        assert v.attrs.get("units") and v.attrs.get("long_name"), name
    assert county_small.sizes["parity"] == 3 and county_small.sizes["sex"] == 2


def test_provenance_reloads_the_same_scenario(county_small):
    a = county_small.attrs
    assert a["popsim_version"] and a["scenario_name"] == "county" and len(a["scenario_sha256"]) == 64
    import tomllib

    data = tomllib.loads(a["scenario_toml"])
    assert data["run"]["households"] == 5000
    for v in a.values():
        assert isinstance(v, (str, int, float)), v  # netCDF-safe


def test_netcdf_round_trip_is_identical(tmp_path, county_small):
    path = write_netcdf(county_small, tmp_path / "run.nc")
    with xr.open_dataset(path) as back:
        back = back.load()
    xr.testing.assert_identical(back, county_small)


def test_counts_are_pooled_ratios_derived(county_small):
    ds = county_small
    m = ds["births"].sel(sex="male").sum("parity")
    f = ds["births"].sel(sex="female").sum("parity")
    np.testing.assert_allclose(ds["srb"], 100 * m / f)
    np.testing.assert_allclose(ds["missing_female_births"], m * 100 / ds.attrs["natural_srb"] - f)
    tfr = ds["tfr"].values
    assert ((tfr > 0.8) & (tfr < 3.5)).all(), tfr


def test_scenario_in_attrs_reproduces_the_run(tmp_path, county_small):
    f = tmp_path / "again.toml"
    f.write_text(county_small.attrs["scenario_toml"])
    again = popsim.run(load_scenario(f), seed=county_small.attrs["seed"])
    xr.testing.assert_identical(again.drop_attrs(), county_small.drop_attrs())
    json.dumps(dict(county_small.attrs))
