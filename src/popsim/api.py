"""The boundary of the package: ``run(scenario, seed) -> xarray.Dataset``.

:func:`run` is pure (its output depends only on the scenario and the seed) and picklable, so
sweeps can call it in other processes and on other machines. Provenance
(:mod:`popsim.provenance`) goes into the dataset attrs; nothing time- or machine-dependent does,
so equal inputs give identical datasets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from .model.model import PopSimModel
from .model.snapshot import release
from .scenario.parameters import Scenario

__all__ = ["run"]


def run(scenario: Scenario | str | Path = "county", seed: int | None = None,
        overrides: Iterable[str] | Mapping[str, Any] | None = None) -> xr.Dataset:
    """Run one scenario with one seed and return its yearly dataset.

    ``scenario`` is a :class:`Scenario`, an embedded name or a TOML path; ``seed`` defaults to
    ``scenario.run.seed``; ``overrides`` as in :func:`popsim.load_scenario`.
    """
    model = PopSimModel(scenario, seed, overrides=overrides)
    model.run_to_end()
    ds = model.dataset()
    release(model)  # Mesa 3.3 would keep every finished model alive (see release)
    return ds
