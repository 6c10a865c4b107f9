"""The operator's HTTP endpoint: liveness, readiness and Prometheus metrics.

Kept on the standard library's threaded server because it serves three tiny, read-only
resources to an orchestrator and a scraper; a web framework would add dependencies and
startup cost for nothing. Each request gets its own thread so that a readiness check stuck on
a store ping never delays /healthz, which is what keeps a container from being killed while
the store is merely down.

Every other path goes to the analyst console when the daemon gives one (``app``): the console
is a plain callable from a request to a response (:mod:`monitor.console`), so this server stays
the only HTTP code, and the probes keep their own paths ahead of it.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from monitor.console.http import MAX_BODY, Request, Response

__all__ = ["HealthServer", "Readiness", "probe"]

log = logging.getLogger(__name__)

# check name -> problem; "" means the check passed.
Readiness = Callable[[], dict[str, str]]

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"
_ALLOWED = "GET, HEAD"
_PROBES = ("/healthz", "/readyz", "/metrics")

# The console, if served: a request in, a response out.
App = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    """Carries what the handlers need, so the handler class needs no per-instance closure."""

    # Request threads must not keep the process alive, and stop() must not wait for a
    # request stuck in a slow readiness check: both would defeat a prompt shutdown.
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        registry: CollectorRegistry,
        readiness: Readiness,
        app: App | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.registry = registry
        self.readiness = readiness
        self.app = app
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr, bypassing the log format and redaction.
        # What reaches here is almost always a client hanging up mid-response.
        log.debug("health endpoint: error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0 closes each connection after its response: probes are one-shot, and kept-alive
    # connections would keep being served by their threads after stop().
    protocol_version = "HTTP/1.0"
    server_version = "sanctions-monitor"
    # A client that connects and sends nothing must not hold a thread forever.
    timeout = 10.0

    server: _Server

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if self.server.app is None or path in _PROBES:
            self._method_not_allowed()
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 <= length <= MAX_BODY:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _TEXT, b"too large\n", send_body=True)
            return
        self._console(self.rfile.read(length), send_body=True)

    def _console(self, body: bytes, send_body: bool) -> None:
        assert self.server.app is not None
        parts = urlsplit(self.path)
        request = Request.of(self.command, parts.path, parts.query, self.headers, body)
        try:
            response = self.server.app(request)
        except Exception:
            log.exception("console: %s %s failed", self.command, parts.path)
            self._reply(
                HTTPStatus.INTERNAL_SERVER_ERROR, _TEXT, b"internal error\n", send_body=True
            )
            return
        status = HTTPStatus(response.status)
        headers = response.all_headers()
        self._reply(
            status, response.content_type, response.body, send_body=send_body, headers=headers
        )

    def __getattr__(self, name: str) -> Any:
        # The base class answers 501 for any method without a do_* attribute; every method
        # other than GET and HEAD is refused with 405 instead, which is what it means here.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _method_not_allowed(self) -> None:
        self._reply(
            HTTPStatus.METHOD_NOT_ALLOWED,
            _TEXT,
            b"method not allowed\n",
            send_body=True,
            headers={"Allow": _ALLOWED},
        )

    def _dispatch(self, send_body: bool) -> None:
        path = urlsplit(self.path).path
        if self.server.app is not None and path not in _PROBES:
            self._console(b"", send_body)
            return
        try:
            if path == "/healthz":
                status, ctype, body = HTTPStatus.OK, _TEXT, b"ok\n"
            elif path == "/readyz":
                status, ctype, body = self._readyz()
            elif path == "/metrics":
                status, ctype, body = HTTPStatus.OK, CONTENT_TYPE_LATEST, self._metrics()
            else:
                status, ctype, body = HTTPStatus.NOT_FOUND, _TEXT, b"not found\n"
        except Exception:
            # A broken collector must not take the endpoint down or leak a traceback.
            log.exception("health endpoint: %s failed", path)
            status, ctype, body = HTTPStatus.INTERNAL_SERVER_ERROR, _TEXT, b"internal error\n"
        self._reply(status, ctype, body, send_body=send_body)

    def _readyz(self) -> tuple[HTTPStatus, str, bytes]:
        try:
            problems = {str(k): str(v) for k, v in dict(self.server.readiness()).items()}
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
            # One line, no traceback: orchestrators probe every few seconds.
            log.warning("readiness check raised %s", problem)
            problems = {"readiness": problem}
        ready = all(p == "" for p in problems.values())
        checks = {name: p or "ok" for name, p in problems.items()}
        body = json.dumps({"ready": ready, "checks": checks}).encode() + b"\n"
        return (HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE), _JSON, body

    def _metrics(self) -> bytes:
        return generate_latest(self.server.registry)

    def _reply(
        self,
        status: HTTPStatus,
        content_type: str,
        body: bytes,
        *,
        send_body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        # Probe answers describe this instant; a cache in between would make them lie.
        headers = {"Cache-Control": "no-store", **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Probes arrive every few seconds; on stderr they would bury the daemon's own lines.
        log.debug("health endpoint: %s %s", self.address_string(), format % args)


class HealthServer:
    """Serves /healthz, /readyz and /metrics from a background thread.

    The socket is bound in start(), not in __init__, so constructing one (e.g. while wiring the
    daemon) has no side effects and a port clash surfaces where the server is started.
    """

    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        readiness: Readiness,
        app: App | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._registry = registry
        self._readiness = readiness
        self._app = app
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("health server already started")
        server = _Server((self._host, self._port), self._registry, self._readiness, self._app)
        thread = threading.Thread(
            # A short poll interval is what makes stop() return promptly.
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="health-http",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        log.debug("health endpoint listening on %s", self.url)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def port(self) -> int:
        """The bound port, which differs from the requested one when that was 0."""
        if self._server is None:
            raise RuntimeError("health server not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def probe(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """GET url and report whether it answered 200, for a container HEALTHCHECK.

    Never raises: the caller turns the result into an exit status, and a traceback there would
    only clutter `docker inspect`. Proxy variables are ignored because the target is this
    container's own port, which a proxy cannot reach.
    """
    try:
        response = httpx.get(url, timeout=timeout, trust_env=False, follow_redirects=False)
    except Exception as exc:
        return False, (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if response.status_code == 200:
        return True, ""
    snippet = response.text.strip()[:200]
    why = f"HTTP {response.status_code} {response.reason_phrase}"
    return False, (f"{why}: {snippet}" if snippet else why)
