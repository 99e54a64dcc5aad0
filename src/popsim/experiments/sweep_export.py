"""Exports of a sweep store: one netCDF file, or a long (tidy) CSV table with its data dictionary.

**netCDF** (the default) is the store as one CF-1.10 dataset (:func:`write_netcdf_export`).

**CSV** (:func:`write_csv_export`) is one row per run x year x variable x element of the
variable's own dimensions (parity, sex, route, ...), the shape R's tidyverse, pandas, Excel pivot
tables and NetLogo BehaviorSpace's "table" output use::

    run_id, [package,] [run,] <parameter columns>, replicate, seed, [year,] variable,
    <dimension columns: parity, sex, ...>, value, units

``run_id`` is the run's index in the store's task order (package, design point, replicate), the
same index its digest binds; a dimension column is empty where a variable lacks that dimension.
Only finished, verified runs are written. A companion data dictionary
(``<name>_dictionary.csv``: name, kind, meaning, units, values) describes every column, every
variable and every lever package.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import xarray as xr

from ..io import atomic_path, write_netcdf
from ..provenance import software_versions
from .sweep import packages, swept_parameters
from .sweep_spec import PACKAGE_DIM, RUN_DIM
from .sweep_store import COMPLETE, DIGEST

__all__ = ["tidy_table", "data_dictionary", "write_csv_export", "write_netcdf_export",
           "dictionary_path", "with_history", "DICTIONARY_COLUMNS"]


def with_history(ds: xr.Dataset, line: str) -> xr.Dataset:
    """``ds`` with ``line`` appended to its CF ``history`` (a new dataset; no time stamp, so
    equal exports stay equal)."""
    out = ds.copy()
    version = software_versions()["popsim_version"]
    old = out.attrs.get("history", "")
    out.attrs["history"] = (old + "\n" if old else "") + f"popsim {version} {line}"
    return out


def write_netcdf_export(ds: xr.Dataset, dest: str | Path, store: str | Path) -> Path:
    """Write the loaded sweep ``ds`` (from ``store``) as one netCDF file, atomically."""
    out = with_history(ds, f"export: netCDF copy of {Path(store).name}")
    for v in out.variables.values():
        v.encoding = {}  # zarr chunking and codecs do not apply to netCDF
    return write_netcdf(out, dest)


def _run_dims(ds: xr.Dataset) -> list[str]:
    grid = ds.attrs["design"] == "grid"
    return ([PACKAGE_DIM] if packages(ds) else []) + \
        (swept_parameters(ds) if grid else [RUN_DIM]) + ["replicate"]


def _variables(ds: xr.Dataset) -> list[str]:
    return [str(v) for v in ds.data_vars if v not in (COMPLETE, DIGEST)]


def _dimension_columns(ds: xr.Dataset, run_dims: list[str]) -> list[str]:
    """The variables' own dimensions, in first-seen order, ``year`` apart."""
    dims: dict[str, None] = {}
    for name in _variables(ds):
        dims.update({str(d): None for d in ds[name].dims if d not in run_dims and d != "year"})
    return list(dims)


def tidy_table(ds: xr.Dataset) -> dict[str, list]:
    """The sweep as a long table: column name -> values, columns as in the module docstring
    (``pandas.DataFrame(tidy_table(ds))`` makes it a data frame)."""
    run_dims = _run_dims(ds)
    shape = tuple(ds.sizes[d] for d in run_dims)
    done = np.flatnonzero(np.asarray(ds[COMPLETE].transpose(*run_dims).values).ravel())
    position = dict(zip(run_dims, np.unravel_index(done, shape)))
    per_run: dict[str, np.ndarray] = {"run_id": done}
    if PACKAGE_DIM in position:
        per_run[PACKAGE_DIM] = ds[PACKAGE_DIM].values[position[PACKAGE_DIM]]
    if RUN_DIM in position:
        per_run[RUN_DIM] = ds[RUN_DIM].values[position[RUN_DIM]]
    for p in swept_parameters(ds):
        per_run[p] = ds[p].values[position[ds[p].dims[0]]]
    per_run["replicate"] = ds["replicate"].values[position["replicate"]]
    per_run["seed"] = ds["seed"].values[position["replicate"]]
    dim_cols = _dimension_columns(ds, run_dims)
    names = [*per_run, *(["year"] if "year" in ds.dims else []), "variable", *dim_cols,
             "value", "units"]
    table: dict[str, list] = {name: [] for name in names}
    for name in _variables(ds):
        da = ds[name]
        own = [str(d) for d in da.dims if d not in run_dims]
        values = np.asarray(da.transpose(*run_dims, *own).values)
        values = values.reshape(int(np.prod(shape)), -1)[done]  # run x element
        n_el = values.shape[1]
        rows = len(done) * n_el
        runs = np.repeat(np.arange(len(done)), n_el)
        element = np.unravel_index(np.tile(np.arange(n_el), len(done)),
                                   [da.sizes[d] for d in own]) if own else ()
        for column, v in per_run.items():
            table[column] += v[runs].tolist()
        for d, i in zip(own, element):
            table[d] += da[d].values[i].tolist()
        for d in [c for c in [*dim_cols, "year"] if c in table and c not in own]:
            table[d] += [""] * rows  # a dimension this variable does not have
        table["variable"] += [name] * rows
        table["value"] += values.ravel().tolist()
        table["units"] += [da.attrs.get("units_label", da.attrs.get("units", ""))] * rows
    return table


def _values_text(coord: xr.DataArray, limit: int = 12) -> str:
    values = [str(v) for v in coord.values[:limit]]
    return " | ".join(values) + (" | ..." if coord.size > limit else "")


DICTIONARY_COLUMNS = ["name", "kind", "meaning", "units", "values"]


def data_dictionary(ds: xr.Dataset) -> list[tuple[str, str, str, str, str]]:
    """What every column, variable and lever package of :func:`tidy_table` means: rows of
    :data:`DICTIONARY_COLUMNS`."""
    run_dims = _run_dims(ds)
    rows = [("run_id", "identifier", "index of the run in the store's task order (package, "
             "design point, replicate); the index its digest binds", "", "")]
    if PACKAGE_DIM in run_dims:
        rows.append((PACKAGE_DIM, "identifier", ds[PACKAGE_DIM].attrs.get("long_name", ""), "",
                     _values_text(ds[PACKAGE_DIM])))
    if RUN_DIM in run_dims:
        rows.append((RUN_DIM, "identifier", ds[RUN_DIM].attrs.get("long_name", ""), "", ""))
    for p in swept_parameters(ds):
        rows.append((p, "parameter", ds[p].attrs.get("long_name", ""),
                     ds[p].attrs.get("units", ""), ""))
    rows.append(("replicate", "identifier", ds["replicate"].attrs.get("long_name", ""), "", ""))
    rows.append(("seed", "identifier", ds["seed"].attrs.get("long_name", "") + " (up to 19 "
                 "digits: read it as text in R or Excel, whose numbers keep 15)", "", ""))
    if "year" in ds.dims:
        rows.append(("year", "dimension", "calendar year of the value (empty for a variable "
                     "without years)", "", ""))
    rows.append(("variable", "identifier", "the output variable of the row (kind 'variable' "
                 "below)", "", ""))
    for d in _dimension_columns(ds, run_dims):
        rows.append((d, "dimension", ds[d].attrs.get("long_name", d) + " (empty where the "
                     "variable has no such dimension)", "", _values_text(ds[d])))
    rows.append(("value", "measure", "the value of the variable (units in column units)", "",
                 ""))
    rows.append(("units", "measure", "units of the value", "", ""))
    for name in _variables(ds):
        da = ds[name]
        own = [str(d) for d in da.dims if d not in run_dims]
        rows.append((name, "variable", da.attrs.get("long_name", ""),
                     da.attrs.get("units_label", da.attrs.get("units", "")),
                     "by " + ", ".join(own) if own else ""))
    for name, levers in json.loads(ds.attrs.get("packages", "[]")):
        text = "; ".join(f"{k} = {json.dumps(v)}" for k, v in levers.items()) or "no change"
        rows.append((name, "package", f"lever package: {text}", "", ""))
    return rows


def dictionary_path(dest: str | Path) -> Path:
    """Where the data dictionary of the CSV table ``dest`` goes: ``<stem>_dictionary.csv``."""
    dest = Path(dest)
    return dest.with_name(f"{dest.stem}_dictionary.csv")


def _write_csv(header: list[str], rows, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


def write_csv_export(ds: xr.Dataset, dest: str | Path) -> tuple[Path, Path, int]:
    """Write the tidy table to ``dest`` and its data dictionary beside it, each atomically:
    (table path, dictionary path, number of rows)."""
    dest = Path(dest)
    table = tidy_table(ds)
    _write_csv(list(table), zip(*table.values()), dest)
    dictionary = dictionary_path(dest)
    _write_csv(DICTIONARY_COLUMNS, data_dictionary(ds), dictionary)
    return dest, dictionary, len(table["run_id"])
