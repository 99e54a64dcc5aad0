"""Provenance: what exactly produced a dataset.

The resolved scenario as TOML and its hash, the seed, package versions and the git commit of a
source checkout go into every dataset's attrs. Nothing time- or machine-dependent does, so equal
inputs give identical datasets.
"""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .scenario.loader import scenario_hash, scenario_to_toml
from .scenario.parameters import Scenario

__all__ = ["provenance", "software_versions"]


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
