"""The ASGI middleware in front of the Solara app: who may talk to ``popsim app``, and how a
malformed request ends.

:class:`RequestGuard` wraps Solara's Starlette app (:mod:`popsim.app.server`) and, for every HTTP
request and websocket handshake, in this order:

1. **Host** (DNS rebinding). A page on another site can make its own name resolve to 127.0.0.1
   and then read this server as if it were its own origin; the browser still sends that name in
   the ``Host`` header. A request is served only if its ``Host`` is one of the exact
   ``name:port`` values the server was started for (:func:`popsim.app.server.allowed_hosts`);
   anything else, or no ``Host`` at all, gets a short plain-text 421 (400 without a ``Host``).
   This also keeps a foreign name out of Solara's ``base_url``, which Solara takes from the
   first page request it serves. Starlette's ``TrustedHostMiddleware`` does the same check for
   HTTP and websockets but compares only the name, not the port, so the exact comparison here
   is both stricter and simpler.
2. **Origin** of a websocket handshake (a browser always sends one): a page on another site may
   open a websocket to localhost (the Host is then right), so the kernel websocket also needs an
   ``Origin`` that is one of the same hosts; 403 otherwise. A client that is not a browser sends
   no ``Origin`` and is not a page another site controls.
3. **Session**: Solara's kernel websocket and its page-close beacon index the request's
   ``session_id`` query parameter without checking it (a ``KeyError`` and a traceback per
   request). A request to them without one is refused with a plain-text 400.
4. **Messages** on the kernel websocket: Solara parses each one and reads the envelope of the
   Jupyter messaging protocol (``header.msg_type``, ``channel``, ``content``, a comm's
   ``comm_id``) without checking it. A message that is not such an envelope closes the
   websocket (code 1003) with one log line, and Solara is told the client left, so it drops
   the connection from its session as after any disconnect (an error instead would leave a dead
   connection that the next message to the same kernel trips over, with a traceback).

A request that passes goes to Solara. Anything Solara still raises while handling a client's
request (a kernel id reused with another session's cookie, ...) is client input, not a server
fault the log should show as a traceback: it is logged as one warning line naming the request
and the error (the traceback at debug level), and the connection is ended (a 500 if nothing was
sent yet). Lifespan events pass through untouched, so a failure to start the server still
shows in full. What a widget does with a well-formed message of its own session is Solara's and
ipywidgets' business, not checked here.

uvicorn's default websocket protocol (``websockets-sansio``, uvicorn 0.54) logs "ASGI callable
returned without completing handshake." at ERROR after every websocket refused with a status and
a body, although the client got the refusal (an open uvicorn bug: Kludex/uvicorn pull request
3138). :class:`_DenialEcho` drops exactly that line right after a refusal of this guard, and
no other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from urllib.parse import urlsplit

from solara.server.kernel import deserialize_binary_message
from starlette.datastructures import Headers, QueryParams
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestGuard", "SESSION_ROUTES", "message_problem"]

#: Solara routes that need a ``session_id`` query parameter (the page's id in its session).
SESSION_ROUTES = ("/jupyter/api/kernels/", "/_solara/api/close/")
#: The kernel websocket of Solara (``/jupyter/api/kernels/{kernel_id}/{channel}``).
KERNEL_ROUTE = SESSION_ROUTES[0]
#: The keys of ``content`` that the comm handlers read without checking (Jupyter messaging).
COMM_KEYS = {"comm_open": ("comm_id", "target_name", "data"), "comm_msg": ("comm_id", "data"),
             "comm_close": ("comm_id",)}
#: uvicorn's error logger is the server's log (its format, its level: ``log_level`` of uvicorn).
LOG = logging.getLogger("uvicorn.error")


def _shown(value: str | None) -> str:
    """A client's header value for the log: quoted, control characters escaped, cut short."""
    text = repr(value) if value is not None else "none"
    return text if len(text) <= 80 else text[:77] + "..."


def _reason(error: BaseException) -> str:
    """One line for an error: the first leaf of an exception group, its type and message."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = " ".join(str(error).split())
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def message_problem(message: Message) -> str | None:
    """What is wrong with a client's websocket message for Solara's kernel, or None: it must be
    a Jupyter message (JSON text, or Solara's binary framing of JSON and buffers) with the
    envelope keys Solara and the comm handlers read."""
    text, data = message.get("text"), message.get("bytes")
    try:
        if text is not None:
            msg = json.loads(text)
        elif data is not None:
            # a count of parts, their offsets, the parts: Solara builds a format string as long
            # as the count, so a count the message cannot hold is refused before parsing
            count = int.from_bytes(data[:4], "big", signed=True)
            if len(data) < 8 or not 0 < count < len(data) // 4:
                return "a binary message with a bad framing"
            msg = deserialize_binary_message(data)
        else:
            return "an empty message"
    except (ValueError, TypeError, RecursionError, struct.error) as error:
        return f"a message that is not JSON ({_reason(error)})"
    header = msg.get("header") if isinstance(msg, dict) else None
    content = msg.get("content") if isinstance(msg, dict) else None
    if not (isinstance(header, dict) and isinstance(header.get("msg_type"), str)
            and isinstance(msg.get("channel"), str) and isinstance(content, dict)):
        return "a message that is not a Jupyter message (header.msg_type, channel, content)"
    kind = header["msg_type"]
    missing = [k for k in COMM_KEYS.get(kind, ()) if k not in content]
    if missing:
        return f"a {kind} message without {', '.join(missing)}"
    if kind in COMM_KEYS and not isinstance(content["comm_id"], str):
        return f"a {kind} message whose comm_id is not text"
    return None


class _DenialEcho(logging.Filter):
    """Drop uvicorn's spurious "without completing handshake" error that follows a websocket
    refusal of :class:`RequestGuard`: uvicorn logs it synchronously when the guard returns, so
    a flag set then and cleared on the event loop's next iteration pairs the two exactly."""

    MESSAGE = "ASGI callable returned without completing handshake."

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def arm(self) -> None:
        self.armed = True
        asyncio.get_running_loop().call_soon(self._disarm)

    def _disarm(self) -> None:
        self.armed = False

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.armed and record.getMessage() == self.MESSAGE)


class RequestGuard:
    """ASGI middleware: refuse foreign hosts and origins and session-less Solara requests; end a
    request that Solara fails on with one log line instead of a traceback.

    ``allowed`` holds the exact, lower-case ``Host`` header values to serve (``name:port``).
    """

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)
        self._echo = _DenialEcho()
        LOG.addFilter(self._echo)

    def _refusal(self, scope: Scope) -> PlainTextResponse | None:
        headers = Headers(scope=scope)
        host = headers.get("host")
        hosts = ", ".join(sorted(self.allowed))
        if host is None:
            return PlainTextResponse("popsim app: a request needs a Host header\n", 400)
        if host.lower() not in self.allowed:
            LOG.warning("refused a request for host %s (serving %s; popsim app --allow-host "
                        "adds a name)", _shown(host), hosts)
            return PlainTextResponse(f"popsim app: this server answers only for {hosts}, not "
                                     f"for the host in this request\n", 421)
        if scope["type"] == "websocket" and "origin" in headers:
            origin = headers["origin"]
            try:
                netloc = urlsplit(origin).netloc.lower()
            except ValueError:  # an unparsable origin (an unclosed "[") is just as foreign
                netloc = ""
            if netloc not in self.allowed:
                LOG.warning("refused a websocket from origin %s (serving %s)", _shown(origin),
                            hosts)
                return PlainTextResponse("popsim app: a websocket from another site's page is "
                                         "refused\n", 403)
        if scope["path"].startswith(SESSION_ROUTES) and \
                not QueryParams(scope.get("query_string", b"")).get("session_id"):
            LOG.warning("refused %s without a session_id", scope["path"])
            return PlainTextResponse("popsim app: this request needs a session_id (open the "
                                     "page to get one)\n", 400)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            # on a websocket scope Starlette sends this as a denial response (an HTTP status)
            await refusal(scope, receive, send)
            if scope["type"] == "websocket":
                self._echo.arm()
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        async def checked_receive() -> Message:
            message = await receive()
            problem = message_problem(message) if message["type"] == "websocket.receive" \
                else None
            if problem is None:
                return message
            LOG.warning("closed websocket %s: the client sent %s", scope["path"], problem)
            with contextlib.suppress(Exception):  # the client may have gone already
                await send({"type": "websocket.close", "code": 1003,
                            "reason": "not a Jupyter message"})
            return {"type": "websocket.disconnect", "code": 1003}

        checked = scope["type"] == "websocket" and scope["path"].startswith(KERNEL_ROUTE)
        try:
            await self.app(scope, checked_receive if checked else receive, tracked_send)
        except Exception as error:  # noqa: BLE001 - client input can fail anywhere in Solara
            kind = "websocket" if scope["type"] == "websocket" else scope.get("method", "HTTP")
            LOG.warning("ended %s %s after an error on the client's input: %s", kind,
                        scope["path"], _reason(error))
            LOG.debug("the error in full", exc_info=True)
            if started and scope["type"] == "http":
                # e.g. a chunked body uvicorn could not read: it has answered 400 and is closing
                # the connection; wait for that, or it reports an unfinished response on top
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(10):
                        while (await receive())["type"] != "http.disconnect":
                            pass
            if not started:
                with contextlib.suppress(Exception):  # the client may have gone already
                    if scope["type"] == "websocket":
                        await send({"type": "websocket.close", "code": 1011})
                    else:
                        await PlainTextResponse("popsim app: internal error\n", 500)(
                            scope, receive, send)
