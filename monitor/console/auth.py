"""Who may read the console, and which writes are the analyst's own.

Three layers, each closing a different door:

- **credentials**: with ``console.token`` (or a basic-auth file) every page and API call needs
  them: ``Authorization: Bearer``, basic auth, or the cookie the login form sets (an HMAC of
  the token, never the token itself). Without credentials the console is only ever bound to
  loopback (see :mod:`monitor.console.build`), and then answers only requests whose ``Host`` is
  a loopback name, so a web page cannot reach it by rebinding its own name to 127.0.0.1.
- **forms** carry a CSRF token: an HMAC of a random cookie, which another site can neither
  read nor set; and a POST whose ``Origin`` is another site's is refused before that.
- **the API's writes** must be JSON (a cross-site form cannot send that without a CORS
  preflight, which the console never grants) with an ``Origin`` that is the console's own; a
  client without ``Origin`` must authenticate with a bearer token, which browsers never attach
  by themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from monitor.console.http import Request

SESSION_COOKIE = "console_session"
CSRF_COOKIE = "console_csrf"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def _host_name(host: str) -> str:
    """The name in a Host header, without its port."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookie(name: str, value: str) -> str:
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Strict"


@dataclass
class Guard:
    token: str = ""
    basic: dict[str, str] = field(default_factory=dict)  # user -> password
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def __post_init__(self) -> None:
        # Replicas behind one address must accept each other's cookies and forms: with
        # credentials configured, the secret is derived from them, the same on every replica.
        if self.token or self.basic:
            material = (
                self.token + "\n" + "\n".join(f"{u}:{p}" for u, p in sorted(self.basic.items()))
            )
            self.secret = hashlib.sha256(b"monitor-console\n" + material.encode()).digest()

    @property
    def open(self) -> bool:
        """No credentials configured: the loopback-only console."""
        return not (self.token or self.basic)

    def _sign(self, what: str) -> str:
        return hmac.new(self.secret, what.encode(), hashlib.sha256).hexdigest()

    def host_allowed(self, request: Request) -> bool:
        return not self.open or _host_name(request.header("Host")) in LOOPBACK_NAMES

    def bearer(self, request: Request) -> bool:
        scheme, _, value = request.header("Authorization").partition(" ")
        return (
            bool(self.token)
            and scheme.lower() == "bearer"
            and hmac.compare_digest(value.strip().encode(), self.token.encode())
        )

    def _basic_ok(self, request: Request) -> bool:
        scheme, _, value = request.header("Authorization").partition(" ")
        if not self.basic or scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        expected = self.basic.get(user)
        return expected is not None and hmac.compare_digest(password.encode(), expected.encode())

    def session_value(self) -> str:
        return self._sign("session")

    def authenticated(self, request: Request) -> bool:
        if self.open:
            return True
        cookie = request.cookie(SESSION_COOKIE)
        return (
            self.bearer(request)
            or self._basic_ok(request)
            or (bool(self.token) and hmac.compare_digest(cookie, self.session_value()))
        )

    def login(self, token: str) -> str | None:
        """The Set-Cookie header for a correct token typed into the login form."""
        if self.token and hmac.compare_digest(token.strip().encode(), self.token.encode()):
            return _cookie(SESSION_COOKIE, self.session_value())
        return None

    def csrf(self, request: Request) -> tuple[str, str | None]:
        """The form token for this browser, and the Set-Cookie header that starts its nonce
        when it has none yet."""
        nonce = request.cookie(CSRF_COOKIE)
        set_cookie = None
        if len(nonce) != 32:
            nonce = secrets.token_hex(16)
            set_cookie = _cookie(CSRF_COOKIE, nonce)
        return self._sign("csrf:" + nonce), set_cookie

    def same_origin(self, request: Request) -> bool:
        """Whether the Origin header names this console (as the Host header does)."""
        origin = request.header("Origin")
        return bool(origin) and urlsplit(origin).netloc == request.header("Host")

    def form_problem(self, request: Request, token: str) -> str:
        """Why a form's POST is refused; "" when it is the analyst's own."""
        if request.header("Origin") and not self.same_origin(request):
            return "the form came from another site"
        nonce = request.cookie(CSRF_COOKIE)
        if not nonce or not hmac.compare_digest(token, self._sign("csrf:" + nonce)):
            return "the form's CSRF token is missing or wrong: reload the page and submit again"
        return ""

    def api_write_problem(self, request: Request) -> str:
        """Why an API POST is refused; "" when it may change something."""
        if request.header("Content-Type").split(";")[0].strip() != "application/json":
            return "the body must be JSON (Content-Type: application/json)"
        if request.header("Origin"):
            return "" if self.same_origin(request) else "Origin does not match this console"
        if self.bearer(request):
            return ""
        host = request.header("Host")
        return f"send Origin: http://{host} (or authenticate with a bearer token)"
