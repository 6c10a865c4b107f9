"""The console as one callable: a request in, a response out (None: not the console's path).

Every request passes the guard first (:mod:`monitor.console.auth`); then a route table sends
it to a page (:mod:`monitor.console.views`) or to the JSON API (:mod:`monitor.console.api`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib.resources import files
from urllib.parse import unquote

from jinja2 import Environment
from prometheus_client import Counter

from monitor.console import api, views
from monitor.console.auth import Guard
from monitor.console.http import CSS, Request, Response, json_response
from monitor.console.render import environment
from monitor.detect.rules import Rule
from monitor.store.db import Store

log = logging.getLogger(__name__)

Handler = Callable[["Console", Request, str], Response]

ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/"), views.story_list),
    ("GET", re.compile(r"/stories/([^/]+)"), views.story),
    ("POST", re.compile(r"/stories/([^/]+)/verdicts"), views.post_verdict),
    ("POST", re.compile(r"/stories/([^/]+)/silence"), views.post_silence),
    ("GET", re.compile(r"/rules/([^/]+)"), views.rule),
    ("POST", re.compile(r"/login"), views.post_login),
    ("GET", re.compile(r"/api/stories"), api.stories),
    ("GET", re.compile(r"/api/stories/([^/]+)"), api.story),
    ("POST", re.compile(r"/api/verdicts"), api.post_verdict),
]


@dataclass
class Console:
    store: Store
    rules: Callable[[], list[Rule]]  # the live rules: the daemon reloads them
    guard: Guard = field(default_factory=Guard)
    verdicts: Counter | None = None  # monitor_verdicts_total, when the daemon counts
    page_size: int = 50
    env: Environment = field(default_factory=environment)
    _css: bytes = field(default=b"", init=False)

    def __post_init__(self) -> None:
        self._css = files("monitor.console").joinpath("static/console.css").read_bytes()

    def rule_ids(self) -> list[str]:
        return sorted(rule.id for rule in self.rules())

    def __call__(self, request: Request) -> Response:
        if not self.guard.host_allowed(request):
            # A name other than loopback's reaching a loopback-only console: DNS rebinding.
            return Response(int(HTTPStatus.MISDIRECTED_REQUEST), b"not served under this name\n")
        if request.path == "/static/console.css":
            return Response(200, self._css, CSS, {"Cache-Control": "max-age=3600"})
        if not self.guard.authenticated(request) and request.path != "/login":
            return self._refuse(request)
        for method, pattern, handler in ROUTES:
            found = pattern.fullmatch(request.path)
            if found:
                if method != request.method and not (method == "GET" and request.method == "HEAD"):
                    continue
                arg = unquote(found.group(1)) if found.groups() else ""
                return handler(self, request, arg)
        if any(pattern.fullmatch(request.path) for _, pattern, _ in ROUTES):
            return Response(int(HTTPStatus.METHOD_NOT_ALLOWED), b"method not allowed\n")
        return views.not_found(self, request, "")

    def _refuse(self, request: Request) -> Response:
        headers = {}
        if self.guard.basic:
            headers["WWW-Authenticate"] = 'Basic realm="monitor console", charset="UTF-8"'
        if request.path.startswith("/api/") or not self.guard.token:
            return json_response({"error": "authentication required"}, 401, headers)
        return views.login_page(self, request, headers)
