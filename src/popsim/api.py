"""The boundary of the package: ``run(scenario, seed) -> xarray.Dataset``.

:func:`run` is pure (its output depends only on the scenario and the seed) and picklable, so
sweeps can call it in other processes and on other machines. Provenance (the resolved scenario
as TOML and its hash, the seed, package versions, the git commit of a source checkout) goes into
the dataset attrs; nothing time- or machine-dependent does, so equal inputs give identical
datasets.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import xarray as xr

from .model import PopSimModel
from .scenario import load_scenario, scenario_hash, scenario_to_toml
from .schema import Scenario

__all__ = ["run", "provenance", "software_versions"]


@functools.cache
def _git_commit() -> str:
    """The commit of the source checkout popsim runs from, or "" if it is not one."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def software_versions() -> dict[str, str]:
    """Versions of popsim and its core libraries, and the git commit of a source checkout."""
    return {"popsim_version": _version("popsim"), "mesa_version": _version("mesa"),
            "numpy_version": _version("numpy"), "xarray_version": _version("xarray"),
            "git_commit": _git_commit()}


def provenance(scenario: Scenario, seed: int) -> dict[str, Any]:
    """Dataset attrs that say exactly what produced a run (netCDF-safe: strings and numbers)."""
    return {
        "title": f"popsim run of scenario '{scenario.name}'",
        "scenario_name": scenario.name,
        "scenario_description": scenario.description,
        "scenario_toml": scenario_to_toml(scenario),
        "scenario_sha256": scenario_hash(scenario),
        "seed": int(seed),
        **software_versions(),
        "counts_scale": float(scenario.run.scale),
        "natural_srb": float(scenario.behaviour.natural_srb),
    }


def run(scenario: Scenario | str | Path = "county", seed: int | None = None,
        overrides: Iterable[str] | Mapping[str, Any] | None = None) -> xr.Dataset:
    """Run one scenario with one seed and return its yearly dataset.

    ``scenario`` is a :class:`Scenario`, an embedded name or a TOML path; ``seed`` defaults to
    ``scenario.run.seed``; ``overrides`` as in :func:`popsim.load_scenario`.
    """
    if not isinstance(scenario, Scenario) or overrides:
        scenario = load_scenario(scenario, overrides)
    model = PopSimModel(scenario, seed)
    model.run_to_end()
    return model.dataset()
