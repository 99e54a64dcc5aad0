"""``popsim app``: serve the teaching app on this machine, with no internet access.

The command runs the Solara page (:mod:`popsim.app.page`) in this process under uvicorn, the
way Solara documents self-hosting (``SOLARA_APP`` names the page, the ASGI app is
``solara.server.starlette:app``). Everything the browser loads comes from this server:

- Solara's JavaScript, CSS and fonts, which Solara would otherwise fetch from a CDN, are served
  from the ``solara-assets`` package through Solara's asset proxy. ``ipyvue<3`` and
  ``ipyvuetify<3`` are pinned because with version 3 Solara asks for an asset version that
  ``solara-assets`` does not ship (the ``app`` extra in ``pyproject.toml``).
- The proxy's fallback CDN is replaced by an address no network can reach, so an asset missing
  from ``solara-assets`` fails as a 404 from this server (which the browser test sees) instead
  of a silent fetch from the internet.
- Production mode (no check-in frame to solara.dev), no telemetry, no version check.

The page is built for one machine (a teacher's laptop or a classroom server): the default host
is 127.0.0.1. Bad arguments (an unknown scenario, a port in use, a missing ``app`` extra) are one
message and exit code 2, like every ``popsim`` command.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import warnings
from importlib.util import find_spec

from ..scenario.loader import DEFAULT_SCENARIO, available_scenarios, load_scenario

__all__ = ["add_parser", "cmd_app", "PAGE_MODULE", "serve"]

#: The module whose ``Page`` component Solara serves.
PAGE_MODULE = "popsim.app.page"
DEFAULT_PORT = 8765


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``popsim app`` on the main parser's sub-commands."""
    p = sub.add_parser(
        "app", help="start the teaching app in a browser (offline, localhost)",
        description="Serve the teaching app: the levers, live charts against a no-measures "
                    "shadow run, and seven lessons on the policy trade-offs. Works with no "
                    "internet access. Needs the app extra: pip install 'popsim[app]'.")
    p.add_argument("--scenario", default=DEFAULT_SCENARIO,
                   help=f"embedded scenario to start with (default: {DEFAULT_SCENARIO}; "
                        f"'popsim scenarios' lists them)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"TCP port (default: {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.set_defaults(func=cmd_app)


def _usage_error(message: str) -> Exception:
    from ..errors import UsageError

    return UsageError(message)


def _bind_check(host: str, port: int) -> int:
    """Fail early, with a clear message, if ``host:port`` cannot be served; return the port
    (a free one when ``port`` is 0)."""
    if not 0 <= port <= 65535:
        raise _usage_error(f"--port {port} is not a TCP port (0-65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise _usage_error(f"--host {host}: {e.strerror}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise _usage_error(f"port {port} on {host} is in use; choose another with "
                                   f"--port") from None
            raise _usage_error(f"cannot listen on {host}:{port}: {e.strerror}") from None
        return s.getsockname()[1]


def _offline_environment(host: str, port: int, scenario: str) -> None:
    """Settings Solara reads from the environment when it is imported: set before that."""
    os.environ["SOLARA_APP"] = PAGE_MODULE
    os.environ["SOLARA_MODE"] = "production"
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    os.environ["SOLARA_ASSETS_PROXY"] = "true"
    # an asset missing from solara-assets must fail here, visibly, not come from a CDN
    os.environ["SOLARA_ASSETS_CDN"] = "offline://solara-assets-lacks-this-file/"
    os.environ["SOLARA_THEME_TITLE"] = "popsim classroom"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "false"
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    # read by the page when a browser tab opens (popsim.app.page.SCENARIO_ENV)
    os.environ["POPSIM_APP_SCENARIO"] = scenario


def serve(scenario: str, host: str, port: int) -> None:
    """Serve the app until interrupted (blocking)."""
    _offline_environment(host, port, scenario)
    import uvicorn

    # Solara warns on every page load that a session cookie cannot be SameSite=None over
    # plain http on a host other than "localhost"; that matters only for embedding the page in
    # an iframe on another site, which this app does not do.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https",
                            category=UserWarning)
    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                            log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run()


def cmd_app(args: argparse.Namespace) -> int:
    load_scenario(args.scenario)  # an unknown name is a ScenarioError: message, exit 2
    if args.scenario not in available_scenarios():
        raise _usage_error(f"--scenario takes an embedded scenario name "
                           f"({', '.join(available_scenarios())}), got '{args.scenario}'")
    # find, not import: Solara reads its settings from the environment when imported
    missing = [m for m in ("solara", "solara_assets", "uvicorn") if find_spec(m) is None]
    if missing:
        raise _usage_error(f"the app needs its optional dependencies ({', '.join(missing)} "
                           f"missing): pip install 'popsim[app]'")
    port = _bind_check(args.host, args.port)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"popsim app: scenario '{args.scenario}' at http://{shown}:{port}/ "
          f"(Ctrl-C to stop)", flush=True)
    sys.stdout.flush()
    serve(args.scenario, args.host, port)
    return 0
