"""A real HTTP server on 127.0.0.1 for tests: static files plus per-path handlers.

Feeds, article pages and (later) Slack stand-ins are served over a real socket, so the poller's
httpx client, redirects, headers and timeouts are exercised as they are in production.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # A body sent piece by piece (a slow server): ``length`` is its declared Content-Length.
    stream: Iterator[bytes] | None = None
    length: int = 0


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Request], Reply]

_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


class _QuietServer(ThreadingHTTPServer):
    """socketserver prints a client that hung up (a reset while reading its request) to
    sys.stderr, which a CLI test may be capturing as the command's own output; a vanished
    client is normal here, anything else still goes to the log."""

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return
        logging.getLogger(__name__).exception("test server: request from %s", client_address)


class LocalServer:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.handlers: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Without these, a client writing headers and body apart, or this server
                # doing so, waits out the peer's delayed ACK: 40 ms a request on loopback.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if hasattr(socket, "TCP_QUICKACK"):
                    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    self.path,
                    dict(self.headers),
                    self.rfile.read(length) if length else b"",
                )
                with server._lock:
                    server.requests.append(request)
                reply = server.reply(request)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                length = reply.length if reply.stream is not None else len(reply.body)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if reply.stream is None:
                    self.wfile.write(reply.body)
                    return
                try:
                    for piece in reply.stream:
                        self.wfile.write(piece)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on us, as a shutting-down poller does

            do_GET = do_POST = do_HEAD = _handle

        self.httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def reply(self, request: Request) -> Reply:
        path = request.path.split("?")[0]
        if path in self.handlers:
            return self.handlers[path](request)
        if self.root is not None:
            target = (self.root / path.lstrip("/")).resolve()
            if target.is_file() and self.root.resolve() in target.parents:
                ctype = _TYPES.get(target.suffix, "application/octet-stream")
                return Reply(200, target.read_bytes(), {"Content-Type": ctype})
        return Reply(404, b"not found", {"Content-Type": "text/plain"})

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
