"""Tables people open and conventions readers expect: the tidy CSV export with its data
dictionary, CF attributes on stores and exports, zarr metadata that opens without a warning."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

from popsim import cli
from popsim.experiments import sweep, sweep_spec
from popsim.model.streams import replicate_seeds

SPEC = """
name = "tidy"
scenario = "county"
seed = 11
replicates = 2

[overrides]
"run.households" = 1000
"run.start_year" = 2000
"run.end_year" = 2001
"run.burn_in_years" = 5

[parameters]
"enforcement.inspections_per_month" = [0, 40]
"incentives.benefit_per_year" = [0, 6000]

[outputs]
variables = ["srb", "births", "sex_selective_abortions", "enforcement_cost"]
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tidy")
    path = folder / "tidy.toml"
    path.write_text(SPEC, encoding="utf-8")
    out = folder / "tidy.zarr"
    sweep.run_sweep(sweep_spec.load_spec(path), out, workers=1, progress=False)
    return out


def test_csv_export_is_one_row_per_run_year_variable_and_element(store, tmp_path, capsys):
    csv = tmp_path / "tidy.csv"
    assert cli.main(["export", str(store), str(csv), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    table = pd.read_csv(csv)
    ds = sweep.open_sweep(store).load()
    runs, years = 8, 2
    per_run = 1 + ds.sizes["parity"] * ds.sizes["sex"] + ds.sizes["route"] + 1
    assert len(table) == runs * years * per_run and f"({len(table):,} rows" in out
    assert list(table.columns) == [
        "run_id", "enforcement.inspections_per_month", "incentives.benefit_per_year",
        "replicate", "seed", "year", "variable", "parity", "sex", "route", "value", "units"]
    # one row read back is the store's value, with its units and its run's seed
    row = table[(table["enforcement.inspections_per_month"] == 40)
                & (table["incentives.benefit_per_year"] == 6000) & (table.replicate == 1)
                & (table.year == 2001) & (table.variable == "births") & (table.parity == "2")
                & (table.sex == "female")]
    assert len(row) == 1
    expected = ds["births"].sel({"enforcement.inspections_per_month": 40.0,
                                 "incentives.benefit_per_year": 6000.0, "year": 2001,
                                 "parity": "2", "sex": "female"}).isel(replicate=1)
    assert float(row.value.iloc[0]) == float(expected)
    assert row.units.iloc[0] == ds["births"].attrs["units_label"] == "births"
    assert int(row.seed.iloc[0]) == replicate_seeds(11, 2)[1]
    assert int(row.run_id.iloc[0]) == 7  # (1, 1, 1) in task order
    srb = table[table.variable == "srb"]
    assert srb.parity.isna().all() and (srb.units == "males per 100 females").all()


def test_csv_data_dictionary_describes_every_column_and_variable(store, tmp_path):
    csv = tmp_path / "t.csv"
    assert cli.main(["export", str(store), str(csv)]) == 0  # the format from the suffix
    table = pd.read_csv(csv)
    dictionary = pd.read_csv(tmp_path / "t_dictionary.csv")
    assert list(dictionary.columns) == ["name", "kind", "meaning", "units", "values"]
    names = set(dictionary.name)
    assert set(table.columns) <= names and set(table.variable) <= names
    param = dictionary.set_index("name").loc["incentives.benefit_per_year"]
    assert param.kind == "parameter" and param.units == "yuan/year"
    births = dictionary.set_index("name").loc["births"]
    assert births.kind == "variable" and births.units == "births" and births["values"] == \
        "by year, parity, sex"


def test_csv_export_of_lever_packages_and_an_unfinished_sweep(tmp_path, capsys):
    text = SPEC.replace('[parameters]\n"enforcement.inspections_per_month" = [0, 40]\n'
                        '"incentives.benefit_per_year" = [0, 6000]',
                        '[parameters]\n"propaganda.reach" = { min = 0.0, max = 0.2 }\n'
                        '[design]\nkind = "lhs"\nn = 2\n[packages]\nnone = {}\n'
                        'crackdown = { "enforcement.inspections_per_month" = 60 }')
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    store = tmp_path / "p.zarr"
    sweep.run_sweep(sweep_spec.load_spec(path), store, workers=1, progress=False)
    # a run left unfinished (its flag cleared, as a kill would) is not written
    zarr.open_array(str(store / "run_complete"), mode="r+")[1, 0, 1] = False
    csv = tmp_path / "p.csv"
    assert cli.main(["export", str(store), str(csv), "--partial"]) == 0
    table = pd.read_csv(csv)
    assert list(table.columns[:6]) == ["run_id", "package", "run", "propaganda.reach",
                                       "replicate", "seed"]
    assert sorted(table.run_id.unique()) == [0, 1, 2, 3, 4, 6, 7]  # run 5 = (1, 0, 1)
    # the same context sample for both packages (common random numbers)
    reach = table.groupby(["package", "run"])["propaganda.reach"].first().unstack("package")
    np.testing.assert_array_equal(reach["none"], reach["crackdown"])
    dictionary = pd.read_csv(tmp_path / "p_dictionary.csv").set_index("name")
    assert "inspections_per_month = 60" in dictionary.loc["crackdown"].meaning
    assert cli.main(["export", str(store), str(tmp_path / "p.txt"), "--format", "csv"]) == 2
    assert "a csv export is a .csv file" in capsys.readouterr().err


def _check_cf(ds: xr.Dataset) -> None:
    """What CF-1.10 asks of popsim's datasets that can be checked without a CF checker."""
    assert ds.attrs["Conventions"] == "CF-1.10"
    for key in ("title", "history", "source", "institution", "references"):
        assert isinstance(ds.attrs[key], str) and ds.attrs[key], key
    assert ds.attrs["source"].startswith("popsim ")
    for name, coord in ds.coords.items():  # attributes on every coordinate
        assert coord.attrs.get("long_name") or coord.attrs.get("standard_name"), name
    for dim in ds.dims:  # and every dimension has one
        assert dim in ds.coords, dim
    for name, var in ds.data_vars.items():
        assert var.attrs.get("long_name"), name


def test_store_and_netcdf_export_carry_cf_attributes(store, tmp_path):
    _check_cf(sweep.open_sweep(store))
    nc = tmp_path / "t.nc"
    assert cli.main(["export", str(store), str(nc)]) == 0
    exported = xr.open_dataset(nc)
    _check_cf(exported)
    assert exported.attrs["history"].splitlines()[-1].endswith("export: netCDF copy of "
                                                                "tidy.zarr")
    assert exported["enforcement.inspections_per_month"].attrs["units"] == "inspections/month"


def test_cf_xarray_reads_the_store(store):
    import cf_xarray  # noqa: F401 - registers the .cf accessor

    ds = sweep.open_sweep(store)
    assert "Coordinates" in repr(ds.cf)  # parses every variable's and coordinate's attributes
    guessed = ds.cf.guess_coord_axis()
    assert set(guessed.coords) == set(ds.coords)


def test_opening_a_store_does_not_warn(store):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xr.open_zarr(store).load()  # consolidated metadata: found, used, no warning
        zarr.open_group(str(store), mode="r", use_consolidated=True)
        sweep.open_sweep(store).load()
