"""Refactoring guard: small runs pinned to datasets written before a restructuring.

The pins in ``tests/data/pins`` were written by ``tests/data/pins/make_pins.py``. A pure refactor
must leave them identical (data, coordinates and variable attrs; the dataset attrs carry
provenance such as the git commit and are dropped). When an issue changes the model on purpose,
regenerate the pins deliberately with that script and say so in the commit.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import xarray as xr

import popsim

PINS = Path(__file__).parent / "data" / "pins"
_spec = importlib.util.spec_from_file_location("make_pins", PINS / "make_pins.py")
make_pins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_pins)


@pytest.mark.parametrize("name", sorted(make_pins.CASES))
def test_pinned_run_is_identical(name):
    scenario, seed, overrides = make_pins.CASES[name]
    ds = popsim.run(scenario, seed=seed, overrides=overrides)
    ds.attrs = {}
    with xr.open_dataset(PINS / f"{name}.nc") as pinned:
        xr.testing.assert_identical(ds, pinned.load())
