"""``popsim app`` facing hostile requests, as a real process on a free loopback port.

The server must answer only requests that name it in their ``Host`` header (DNS rebinding), for
plain HTTP and websocket handshakes alike, with a short plain-text refusal; and no malformed
request (garbage bytes, a bad request line, a huge header, a broken chunked body, a websocket
to Solara's kernel without a session, with a bogus one, or sending messages that are not
Jupyter messages, a missing asset) may put a traceback or an error in the server's log or stop
it serving the page. Requests are raw bytes on a socket, websockets use the ``websockets``
client (Solara's own dependency). :func:`running_app` is also how the browser test starts the
server. No test measures time: every wait is on an event, with a generous timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the app extra is not installed (pip install -e '.[app]')")

from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from popsim.app.server import allowed_hosts  # noqa: E402
from popsim.cli import main  # noqa: E402
from popsim.errors import UsageError  # noqa: E402

#: Seconds any one wait may take before the test fails: a limit for a hung server, not a speed.
TIMEOUT = 120
#: Extra names the module's server is started with (``--allow-host``).
EXTRA_HOSTS = ("Classroom-PC", "forwarded:9000")


@dataclass
class App:
    """A running ``popsim app`` process and its log files."""

    port: int
    proc: subprocess.Popen
    out_path: Path
    err_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        return self.err_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _popsim_command() -> list[str]:
    script = Path(sys.executable).with_name("popsim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "popsim.cli"]


@contextlib.contextmanager
def running_app(folder: Path, *args: str) -> Iterator[App]:
    """``popsim app --host 127.0.0.1 --port <free> *args`` in ``folder``, once it serves the
    page; interrupted (Ctrl-C) at the end."""
    port = free_port()
    out_path, err_path = folder / "stdout.log", folder / "stderr.log"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([*_popsim_command(), "app", "--port", str(port), "--host",
                                 "127.0.0.1", *args], stdout=out, stderr=err, cwd=folder,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    app = App(port, proc, out_path, err_path)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"popsim app exited with {proc.returncode}:\n{app.log()}")
            try:
                with urllib.request.urlopen(app.url, timeout=30) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"popsim app did not answer within {TIMEOUT} s:\n{app.log()}")
            time.sleep(0.3)
        yield app
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[App]:
    extra = [a for h in EXTRA_HOSTS for a in ("--allow-host", h)]
    with running_app(tmp_path_factory.mktemp("popsim_app_server"), *extra) as running:
        yield running


def raw(port: int, data: bytes) -> tuple[int | None, dict[str, str], bytes]:
    """Send ``data`` as it is; the status, headers and body of the answer (status None if
    the server closed without one)."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        with contextlib.suppress(OSError):  # the server may refuse before reading it all
            s.sendall(data)
        with contextlib.suppress(ConnectionResetError):
            while chunk := s.recv(65536):
                chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 "):
        return None, {}, body
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def get(port: int, host: str) -> tuple[int | None, dict[str, str], bytes]:
    """``GET /`` with ``host`` in the Host header."""
    return raw(port, f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())


#: The headers of a websocket handshake (RFC 6455's sample key).
UPGRADE = (b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")


def kernel_url(port: int, kernel: str, page: str | None = "page-1") -> str:
    query = f"?session_id={page}" if page is not None else ""
    return f"ws://127.0.0.1:{port}/jupyter/api/kernels/{kernel}/channels{query}"


def replies_until(ws, msg_type: str) -> list[str]:
    """The types of the messages the server sends on ``ws`` up to one of ``msg_type``."""
    types: list[str] = []
    while msg_type not in types:
        types.append(json.loads(ws.recv(timeout=TIMEOUT))["header"]["msg_type"])
    return types


def jupyter(msg_type: str, content: dict | None = None) -> str:
    """A well-formed Jupyter message, as the page's widget manager sends them."""
    return json.dumps({"header": {"msg_id": "m1", "msg_type": msg_type, "session": "s",
                                  "username": "", "date": "", "version": "5.3"},
                       "parent_header": {}, "metadata": {}, "channel": "shell",
                       "content": content or {}})


def assert_clean(app: App) -> None:
    """The server still serves the page, and its log holds no traceback and no error."""
    with urllib.request.urlopen(app.url, timeout=TIMEOUT) as r:
        assert r.status == 200 and b"<title>popsim classroom</title>" in r.read()
    assert app.proc.poll() is None
    log = app.log()
    for bad in ("Traceback", "ERROR", "Exception in ASGI"):
        assert bad not in log, log


def test_allowed_hosts_are_exact_names_with_the_port():
    assert allowed_hosts("127.0.0.1", 8765) == {"127.0.0.1:8765", "localhost:8765",
                                                "[::1]:8765"}
    # the bound address is allowed too, an IPv6 one in brackets; port 80 may be left out
    assert allowed_hosts("::1", 80) == {"[::1]:80", "[::1]", "localhost:80", "localhost",
                                        "127.0.0.1:80", "127.0.0.1"}
    assert allowed_hosts("0.0.0.0", 8765, ["Classroom-PC", "forwarded:9000",
                                           "[fe80::1]:8000"]) >= \
        {"0.0.0.0:8765", "classroom-pc:8765", "forwarded:9000", "[fe80::1]:8000"}
    for bad in ("evil.example/path", "a b", "host:99999", "host:port", "[::1", "user@host",
                "fe80::1", "", "a?b"):
        with pytest.raises(UsageError, match="is not a host name or address with an optional"):
            allowed_hosts("127.0.0.1", 8765, [bad])


def test_bad_allow_host_is_one_line_and_exit_2(capsys):
    assert main(["app", "--port", "0", "--allow-host", "evil.example/x"]) == 2
    err = capsys.readouterr().err
    assert "--allow-host 'evil.example/x' is not a host name" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_only_requests_naming_this_server_are_served(app):
    port = app.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}",
                 f"LOCALHOST:{port}", f"classroom-pc:{port}", "forwarded:9000"):
        status, _, body = get(port, host)
        assert status == 200 and b"popsim classroom" in body, host
    # DNS rebinding: a foreign name (even one that resolves here), the wrong port, no port
    for host in (f"evil.example:{port}", "evil.example", "127.0.0.1:1", "127.0.0.1",
                 f"localhost.:{port}", "forwarded:9001", f"forwarded:{port}",
                 f"127.0.0.1:{port}.evil.example"):
        status, headers, body = get(port, host)
        assert status == 421, host
        assert headers["content-type"].startswith("text/plain") and len(body) < 300, host
        assert body.startswith(b"popsim app: this server answers only for 127.0.0.1:"), host
        assert f"localhost:{port}".encode() in body and b"<" not in body, host
    status, _, body = raw(port, b"GET / HTTP/1.0\r\n\r\n")  # no Host at all
    assert status == 400 and body == b"popsim app: a request needs a Host header\n"
    assert f"refused a request for host 'evil.example:{port}'" in app.log()
    assert_clean(app)


def test_websockets_from_foreign_hosts_and_origins_are_refused(app):
    port = app.port
    path = "/jupyter/api/kernels/k-foreign/channels?session_id=p"
    # a handshake naming another host (a rebound name resolving here): the refusal of plain
    # HTTP, as the websocket's denial response, before Solara sees it
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://evil.example:{port}{path}", sock=sock, open_timeout=TIMEOUT)
    assert refused.value.response.status_code == 421
    assert refused.value.response.body.startswith(b"popsim app: this server answers only for")
    assert refused.value.response.headers["content-type"].startswith("text/plain")
    # a page of another site opening a websocket to localhost (Host right, Origin foreign)
    for origin in ("http://evil.example", f"http://evil.example:{port}", "null"):
        with pytest.raises(InvalidStatus) as refused:
            connect(kernel_url(port, "k-foreign"), origin=origin, open_timeout=TIMEOUT)
        assert refused.value.response.status_code == 403, origin
        assert refused.value.response.body == \
            b"popsim app: a websocket from another site's page is refused\n"
    assert "refused a websocket from origin 'http://evil.example'" in app.log()
    # the page's own origin is fine
    with connect(kernel_url(port, "k-own"), origin=f"http://localhost:{port}",
                 additional_headers={"Cookie": "solara-session-id=own"},
                 open_timeout=TIMEOUT) as ws:
        ws.send(jupyter("comm_info_request"))
        assert replies_until(ws, "comm_info_reply")[0] == "status"
    assert_clean(app)


MALFORMED = [
    ("garbage bytes", b"\x00\xff\x13garbage\r\n\r\n", 400),
    ("a bad request line", b"GET\r\n\r\n", 400),
    ("a TLS hello on plain http", bytes.fromhex("16030100a5010000a10303") + bytes(100), 400),
    ("a huge header", b"GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: " + b"a" * 200_000
     + b"\r\n\r\n", 400),
    ("a broken chunked body", b"POST / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ("a missing asset", b"GET /static/assets/missing.js HTTP/1.1\r\nHost: {host}\r\n"
     b"Connection: close\r\n\r\n", 404),
    ("a missing asset of the CDN proxy", b"GET /_solara/cdn/missing@1.0.0/x.js HTTP/1.1\r\n"
     b"Host: {host}\r\nConnection: close\r\n\r\n", 404),
    ("a path outside the assets", b"GET /static/assets/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n"
     b"Host: {host}\r\nConnection: close\r\n\r\n", 404),
    ("a page-close beacon without a session", b"POST /_solara/api/close/k HTTP/1.1\r\n"
     b"Host: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 400),
    ("a kernel websocket without a session", b"GET /jupyter/api/kernels/k/channels HTTP/1.1"
     b"\r\nHost: {host}\r\n" + UPGRADE + b"\r\n", 400),
]


@pytest.mark.parametrize("name, data, status", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_http_is_refused_without_a_traceback(app, name, data, status):
    got, _, _ = raw(app.port, data.replace(b"{host}", f"127.0.0.1:{app.port}".encode()))
    assert got == status, name
    assert_clean(app)


def _closed_code(ws) -> int:
    """Wait until the server closes ``ws``; its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=TIMEOUT)
    return closed.value.rcvd.code if closed.value.rcvd else -1


def test_kernel_websocket_with_a_bogus_session_and_messages(app):
    port, cookie = app.port, {"Cookie": "solara-session-id=bogus-session"}
    # without a page's session id Solara would index a missing query parameter
    for page in (None, ""):
        with pytest.raises(InvalidStatus) as refused:
            connect(kernel_url(port, "k-bogus", page), additional_headers=cookie,
                    open_timeout=TIMEOUT)
        assert refused.value.response.status_code == 400
        assert b"needs a session_id" in refused.value.response.body
    # a bogus session is just a new one; what it sends must be a Jupyter message
    not_jupyter = ["not json", b"\x00\x01binary garbage", b"\x7f\xff\xff\xff" + bytes(8),
                   "[1, 2, 3]", '{"header": {}}', "[" * 100_000,
                   jupyter("comm_msg", {"data": {}}), jupyter("comm_open", {"comm_id": 5,
                                                                            "target_name": "x",
                                                                            "data": {}})]
    for message in not_jupyter:
        with connect(kernel_url(port, "k-bogus"), additional_headers=cookie,
                     open_timeout=TIMEOUT) as ws:
            ws.send(message)
            assert _closed_code(ws) == 1003, message[:40]
    # the same kernel still answers a well-formed message (no dead connection left behind)
    with connect(kernel_url(port, "k-bogus"), additional_headers=cookie,
                 open_timeout=TIMEOUT) as ws:
        ws.send(jupyter("comm_msg", {"comm_id": "no-such-comm", "data": {}}))
        ws.send(jupyter("comm_info_request"))
        replies_until(ws, "comm_info_reply")
    # someone else's kernel id with another session's cookie: Solara refuses it
    with connect(kernel_url(port, "k-bogus"), open_timeout=TIMEOUT,
                 additional_headers={"Cookie": "solara-session-id=another-session"}) as ws:
        assert "Session id mismatch" in ws.recv(timeout=TIMEOUT)
        _closed_code(ws)
    log = app.log()
    assert "closed websocket /jupyter/api/kernels/k-bogus/channels: the client sent a " \
           "message that is not JSON" in log
    assert "ended websocket /jupyter/api/kernels/k-bogus/channels after an error on the " \
           "client's input: ValueError: Session id mismatch" in log
    assert_clean(app)
