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
is 127.0.0.1, and only requests that name this server in their ``Host`` header are served
(:func:`allowed_hosts`, checked by :class:`popsim.app.guard.RequestGuard` against DNS
rebinding); ``--allow-host`` adds a name, for a classroom that reaches the server by the
machine's name or through a forwarded port. Bad arguments (an unknown scenario, a port in use, a
bad ``--allow-host``, a missing ``app`` extra) are one message and exit code 2, like every
``popsim`` command.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import warnings
from collections.abc import Iterable
from importlib.util import find_spec
from urllib.parse import urlsplit

from ..scenario.loader import DEFAULT_SCENARIO, available_scenarios, load_scenario

__all__ = ["allowed_hosts", "cmd_app", "LOCAL_NAMES", "PAGE_MODULE", "serve"]

#: The module whose ``Page`` component Solara serves.
PAGE_MODULE = "popsim.app.page"
#: Names of this machine that a browser on it may use, whatever address the server listens on.
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")


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


def _host_value(name: str, port: int) -> set[str]:
    """The ``Host`` header values a browser sends for ``name`` at ``port`` (lower case, an IPv6
    address in brackets, no port for the default port 80)."""
    name = name.lower()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return {f"{name}:{port}", name} if port == 80 else {f"{name}:{port}"}


def _extra_host(value: str, port: int) -> set[str]:
    """The ``Host`` values of one ``--allow-host`` value (``NAME`` or ``NAME:PORT``)."""
    bad = (f"--allow-host {value!r} is not a host name or address with an optional port (e.g. "
           f"classroom-pc, classroom-pc:8765 or [fe80::1]:8765)")
    try:
        parts = urlsplit(f"//{value}")
        name, extra_port = parts.hostname, parts.port
    except ValueError as e:
        raise _usage_error(f"{bad}: {e}") from None
    if not name or parts.username is not None or parts.path or parts.query or parts.fragment \
            or any(c.isspace() for c in value):
        raise _usage_error(bad)
    return _host_value(name, port if extra_port is None else extra_port)


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The exact ``Host`` header values the server answers: the address it listens on
    (``host``), this machine's :data:`LOCAL_NAMES`, each at ``port``, and each ``--allow-host``
    value of ``extra`` (``NAME`` or ``NAME:PORT``, the server's port when none is given).
    """
    names = (host, *LOCAL_NAMES)
    return frozenset().union(*(_host_value(n, port) for n in names),
                             *(_extra_host(v, port) for v in extra))


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


def serve(scenario: str, host: str, port: int, allowed: frozenset[str]) -> None:
    """Serve the app until interrupted (blocking), answering only requests whose ``Host`` is in
    ``allowed`` (:func:`allowed_hosts`)."""
    _offline_environment(host, port, scenario)
    import uvicorn
    from solara.server.starlette import app as solara_app  # reads the environment set above

    from .guard import RequestGuard

    # Solara warns on every page load that a session cookie cannot be SameSite=None over
    # plain http on a host other than "localhost"; that matters only for embedding the page in
    # an iframe on another site, which this app does not do.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https",
                            category=UserWarning)
    config = uvicorn.Config(RequestGuard(solara_app, allowed), host=host, port=port,
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
    allowed_hosts(args.host, args.port, args.allow_host)  # a bad --allow-host: before binding
    port = _bind_check(args.host, args.port)
    allowed = allowed_hosts(args.host, port, args.allow_host)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"popsim app: scenario '{args.scenario}' at http://{shown}:{port}/ "
          f"(Ctrl-C to stop)", flush=True)
    if args.host in ("0.0.0.0", "::"):
        print("popsim app: other machines must use a name given with --allow-host (the "
              "machine's name or address); other names are refused", flush=True)
    serve(args.scenario, args.host, port, allowed)
    return 0
