"""``popsim app``: the command line of the teaching app (the server is :mod:`popsim.app.server`).

The parser is defined here, not in the app package, so that building it imports nothing heavy:
:mod:`popsim.app.server` (and with it the scenario schema) is imported only when the command runs.
Every option of ``popsim app`` is declared here; :func:`popsim.app.server.cmd_app` reads them.
"""

from __future__ import annotations

import argparse

from .common import DEFAULT_SCENARIO_NAME

__all__ = ["add_parser", "cmd_app", "DEFAULT_PORT"]

#: the TCP port the app listens on when none is given
DEFAULT_PORT = 8765


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``popsim app`` on the main parser's sub-commands."""
    p = sub.add_parser(
        "app", help="start the teaching app in a browser (offline, localhost)",
        description="Serve the teaching app: the levers, live charts against a no-measures "
                    "shadow run, and seven lessons on the policy trade-offs. Works with no "
                    "internet access. Needs the app extra: pip install 'popsim[app]'.")
    p.add_argument("--scenario", default=DEFAULT_SCENARIO_NAME,
                   help=f"embedded scenario to start with (default: {DEFAULT_SCENARIO_NAME}; "
                        f"'popsim scenarios' lists them)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"TCP port (default: {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME[:PORT]",
                   help="also answer requests addressed to NAME (the server's port unless "
                        "given), e.g. the machine's name on a classroom network; repeatable. "
                        "Other names are refused (DNS rebinding)")
    p.set_defaults(func=cmd_app)


def cmd_app(args: argparse.Namespace) -> int:
    """Check the arguments and serve the app (:func:`popsim.app.server.cmd_app`)."""
    from ..app import server

    return server.cmd_app(args)
