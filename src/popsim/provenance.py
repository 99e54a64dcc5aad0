"""Provenance: what exactly produced a dataset.

The resolved scenario as TOML and its hash, the seed, package versions and the git commit of a
source checkout go into every dataset's attrs, with the global attributes of the CF conventions
(``Conventions``, ``title``, ``history``, ``source``, ``institution``, ``references``). Nothing
time- or machine-dependent does (``history`` names the call that made the dataset, not when or
where), so equal inputs give identical datasets.
"""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .scenario.loader import scenario_hash, scenario_to_toml
from .scenario.parameters import Scenario

__all__ = ["CONVENTIONS", "cf_source", "provenance", "software_versions"]


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


#: The CF conventions the datasets follow (the sweep stores of popsim.experiments.sweep too).
CONVENTIONS = "CF-1.10"


def cf_source(versions: dict[str, str]) -> str:
    """CF ``source``: the software that made the data, its version and commit."""
    commit = versions["git_commit"]
    return (f"popsim {versions['popsim_version']}" + (f" (commit {commit[:12]})" if commit else "")
            + f", an agent-based model of the sex ratio at birth (Mesa {versions['mesa_version']})")


def provenance(scenario: Scenario, seed: int) -> dict[str, Any]:
    """Dataset attrs that say exactly what produced a run (netCDF-safe: strings and numbers).

    The CF global attributes come first: ``history`` names the call (``popsim.run`` of the
    scenario, by name and hash, and the seed) without a time stamp or a host, so that the same
    scenario and seed give an identical dataset; ``institution`` is not known to popsim.
    """
    versions = software_versions()
    sha = scenario_hash(scenario)
    return {
        "Conventions": CONVENTIONS,
        "title": f"popsim run of scenario '{scenario.name}'",
        "history": f"popsim {versions['popsim_version']}: popsim.run(scenario '{scenario.name}' "
                   f"(sha256 {sha[:16]}), seed {int(seed)})",
        "source": cf_source(versions),
        "institution": "not recorded (popsim does not know who ran it)",
        "references": "the resolved scenario is the attribute scenario_toml; the model is "
                      "described in popsim's docs/model.md",
        "scenario_name": scenario.name,
        "scenario_description": scenario.description,
        "scenario_toml": scenario_to_toml(scenario),
        "scenario_sha256": sha,
        "seed": int(seed),
        **versions,
        "counts_scale": float(scenario.run.scale),
        "natural_srb": float(scenario.behaviour.natural_srb),
    }
