"""Copy the current variable and coordinate attributes onto the pins, never their data.

``python tests/data/pins/update_pin_attrs.py``: for each case of ``make_pins.py``, run it, check
that its data variables and coordinates equal the pin's (:func:`xarray.testing.assert_equal`,
which ignores attributes), then write the fresh attributes onto the pin (atomically). A change
of attributes (units, long names: conventions) must not regenerate the data, because the pins
guard that refactors and optimisations of the model leave its results unchanged. When the data
differ the script stops without writing anything: that is a change of the model, not of its
attributes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import xarray as xr

import popsim
from popsim.io import atomic_path

HERE = Path(__file__).resolve().parent


def main() -> int:
    spec = importlib.util.spec_from_file_location("make_pins", HERE / "make_pins.py")
    make_pins = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_pins)
    fresh: dict[str, xr.Dataset] = {}
    pins: dict[str, xr.Dataset] = {}
    for name, (scenario, seed, overrides) in make_pins.CASES.items():
        ds = popsim.run(scenario, seed=seed, overrides=overrides)
        ds.attrs = {}
        with xr.open_dataset(HERE / f"{name}.nc") as pinned:
            pinned = pinned.load()
        try:
            assert set(ds.variables) == set(pinned.variables), name
            xr.testing.assert_equal(ds, pinned)
        except AssertionError as e:
            print(f"{name}: the run's data differ from the pin; nothing written\n{e}",
                  file=sys.stderr)
            return 1
        fresh[name], pins[name] = ds, pinned
    for name, pinned in pins.items():  # every case checked before any pin is written
        for var in pinned.variables:
            pinned[var].attrs = dict(fresh[name][var].attrs)
        with atomic_path(HERE / f"{name}.nc") as tmp:  # written as make_pins.py writes them
            pinned.to_netcdf(tmp)
        with xr.open_dataset(HERE / f"{name}.nc") as back:
            xr.testing.assert_identical(back.load(), fresh[name])
        print(f"{name}: attributes updated, data unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
