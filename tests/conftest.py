"""Shared fixtures and helpers: small, cached model runs for statistical tests."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

import popsim

#: A shortened county for lever tests: enough births per run (~10k) to see real effects.
SHORT = {"run.households": 20000, "run.start_year": 2000, "run.end_year": 2012,
         "run.burn_in_years": 25}


@functools.lru_cache(maxsize=256)
def _cached_run(scenario: str, overrides_json: str, seed: int):
    return popsim.run(scenario, seed=seed, overrides=json.loads(overrides_json))


def run_cached(scenario: str, seed: int, **overrides):
    """``popsim.run`` with dotted overrides given as keyword ``section__field=value``."""
    ov = {k.replace("__", "."): v for k, v in overrides.items()}
    return _cached_run(scenario, json.dumps(ov, sort_keys=True), seed)


def paired(scenario: str, a: dict, b: dict, seeds, outcome, base: dict = SHORT):
    """Outcome of arm a and arm b with the same seeds: returns (values_a, values_b)."""
    va, vb = [], []
    for s in seeds:
        va.append(outcome(_cached_run(scenario, json.dumps({**base, **a}, sort_keys=True), s)))
        vb.append(outcome(_cached_run(scenario, json.dumps({**base, **b}, sort_keys=True), s)))
    return np.array(va, dtype=float), np.array(vb, dtype=float)


def assert_paired_increase(a: np.ndarray, b: np.ndarray, what: str, z: float = 3.0) -> None:
    """b exceeds a: the mean paired difference is more than ``z`` standard errors above 0."""
    d = b - a
    se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else 0.0
    assert d.mean() > z * se and d.mean() > 0, (
        f"{what}: expected an increase; paired differences {np.round(d, 3)} "
        f"(mean {d.mean():.4g}, se {se:.3g})")


def srb_of(ds, parity=None) -> float:
    b = ds["births"].sum("year")
    if parity is not None:
        b = b.sel(parity=parity)
    else:
        b = b.sum("parity")
    return float(100.0 * b.sel(sex="male") / b.sel(sex="female"))


@pytest.fixture(scope="session")
def county_small():
    """A small county run used by structural tests."""
    return run_cached("county", 7, run__households=5000, run__end_year=2008,
                      run__burn_in_years=30)
