"""Requests and responses as plain data, so the console is tested and served without caring
which HTTP server carries it (the daemon's is the standard library's)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

HTML = "text/html; charset=utf-8"
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
CSS = "text/css; charset=utf-8"
MAX_BODY = 64 * 1024  # a verdict with its note; anything larger is not one

# No script at all, styles only from the console's own stylesheet, no framing, forms only to
# itself: article text that slipped past escaping could still not run or restyle anything.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # case-insensitive (the server's message object)
    body: bytes = b""

    @classmethod
    def of(
        cls, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Request:
        return cls(method, path, parse_qs(query, keep_blank_values=True), headers, body)

    def header(self, name: str) -> str:
        return str(self.headers.get(name) or "")

    def param(self, name: str) -> str:
        values = self.query.get(name)
        return values[0].strip() if values else ""

    def cookie(self, name: str) -> str:
        jar = SimpleCookie()
        try:
            jar.load(self.header("Cookie"))
        except CookieError:
            return ""
        morsel = jar.get(name)
        return morsel.value if morsel is not None else ""

    def form(self) -> dict[str, str]:
        """An urlencoded form's fields (the first value of each)."""
        if not self.header("Content-Type").startswith("application/x-www-form-urlencoded"):
            return {}
        fields = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[0] for name, values in fields.items()}

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        return {**SECURITY_HEADERS, **self.headers}


def html(body: str, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None) -> Response:
    return Response(int(status), body.encode(), HTML, dict(headers or {}))


def json_response(
    data: Any, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str).encode() + b"\n"
    return Response(int(status), body, JSON, dict(headers or {}))


def redirect(location: str, headers: dict[str, str] | None = None) -> Response:
    return Response(int(HTTPStatus.SEE_OTHER), b"", TEXT, {"Location": location, **(headers or {})})
