"""What every ``popsim`` sub-command shares: the scenario arguments and the output folder."""

from __future__ import annotations

import argparse

from ..scenario.loader import DEFAULT_SCENARIO

__all__ = ["add_scenario_args", "RESULTS_DIR"]

#: where outputs go when no ``--out`` is given (relative to the working directory)
RESULTS_DIR = "results"


def _set_help() -> str:
    return ("override a parameter, e.g. --set enforcement.inspections_per_month=40 or "
            "--set 'policy.regime={step=[[1980,\"one_child\"],[2016,\"two_child\"]]}' "
            "(repeatable; 'popsim params' lists every parameter)")


def add_scenario_args(p: argparse.ArgumentParser, positional: bool = True) -> None:
    if positional:
        p.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                       help=f"embedded scenario name or TOML path (default: {DEFAULT_SCENARIO})")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help=_set_help())


