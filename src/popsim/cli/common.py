"""What every ``popsim`` sub-command shares: the scenario arguments, the output folder and the
checks made before any work starts (worker count, output paths).

Only argparse-level things are imported here, so that building the parser (``popsim --help``,
``--version``) imports neither Mesa, xarray, numpy nor the scenario schema: the checks import what
they need when they run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ..scenario.parameters import Scenario

__all__ = ["add_scenario_args", "add_yes_arg", "check_workers", "check_folder", "check_file",
           "check_inside", "overrides_tag", "overrides_json", "RESULTS_DIR",
           "DEFAULT_SCENARIO_NAME"]

#: where outputs go when no ``--out`` is given (relative to the working directory)
RESULTS_DIR = "results"
#: the scenario of ``popsim run``/``show`` when none is named: ``loader.DEFAULT_SCENARIO``,
#: spelt out so that building the parser does not import the schema (tests/test_cli.py checks it)
DEFAULT_SCENARIO_NAME = "county"


def _set_help() -> str:
    return ("override a parameter, e.g. --set enforcement.inspections_per_month=40 or "
            "--set 'policy.regime={step=[[1980,\"one_child\"],[2016,\"two_child\"]]}' "
            "(repeatable; 'popsim params' lists every parameter)")


def add_scenario_args(p: argparse.ArgumentParser, positional: bool = True) -> None:
    if positional:
        p.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO_NAME,
                       help=f"embedded scenario name or TOML path "
                            f"(default: {DEFAULT_SCENARIO_NAME})")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help=_set_help())


def add_yes_arg(p: argparse.ArgumentParser) -> None:
    """``--yes``: accept a request whose estimated CPU time is long (popsim.workload)."""
    from ..workload import MAX_CPU_HOURS  # light: workload imports only popsim.errors

    p.add_argument("--yes", action="store_true",
                   help=f"run even when the estimated CPU time exceeds {MAX_CPU_HOURS:g} h (a "
                        f"request that needs more memory than this machine has is refused "
                        f"regardless)")


# ------------------------------------------------------------------------------------------------
# numbers (a seed is checked by popsim.scenario.loader.check_seed, as the schema checks run.seed)


def check_workers(value: int | None, where: str = "--workers") -> int | None:
    """``value`` if it is a sane worker count (1 to :data:`popsim.workload.MAX_WORKERS`)."""
    if value is None:
        return None
    from ..workload import MAX_WORKERS, check_count

    return check_count(where, value, hi=MAX_WORKERS)


# ------------------------------------------------------------------------------------------------
# output paths: checked before the simulation starts


def check_folder(folder: str | Path, what: str) -> Path:
    """Create ``folder`` if needed and check that popsim can write into it.

    Refuses an existing path that is not a folder, and a folder where a file cannot be created
    (the probe file is removed at once).
    """
    folder = Path(folder)
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{what}: {parent} is a file, not a folder")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".popsim-write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(f"{what}: cannot write into {folder}: {e.strerror}") from None
    return folder


def check_file(path: str | Path, what: str) -> Path:
    """Refuse an output file path that exists as a folder (it would fail after the run)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{what}: {path} is a folder; give a file name")
    return path


def check_inside(path: str | Path, root: str | Path, what: str) -> Path:
    """Refuse an output ``path`` that would resolve outside ``root`` (links and '..' resolved)."""
    resolved, base = Path(path).resolve(), Path(root).resolve()
    if not resolved.is_relative_to(base):
        raise UsageError(f"{what}: {path} would be written outside {root}")
    return Path(path)


def overrides_tag(scenario: Scenario, overrides: Iterable[str] | Mapping[str, Any] | None) -> str:
    """``-set-<8 hex digits>`` naming the ``--set`` overrides of a run's output, "" without any.

    The hash is of the overridden values as the scenario holds them (so ``fine=3`` and
    ``fine=3.0``, or the order of the ``--set`` options, give one name); the values themselves
    are in the dataset's ``scenario_toml`` and ``overrides`` attrs.
    """
    from ..scenario.loader import parse_overrides

    parsed = parse_overrides(overrides)
    if not parsed:
        return ""
    return "-set-" + hashlib.sha256(overrides_json(scenario, parsed).encode()).hexdigest()[:8]


def overrides_json(scenario: Scenario, parsed: Mapping[str, Any]) -> str:
    """The overridden values as the scenario holds them, as canonical JSON (sorted keys)."""
    from ..scenario.schema import Schedule

    def value(key: str) -> Any:
        v = getattr(scenario, key) if key in ("name", "description") else scenario.get(key)
        return v.to_toml() if isinstance(v, Schedule) else list(v) if isinstance(v, tuple) else v

    return json.dumps({k: value(k) for k in parsed}, sort_keys=True)
