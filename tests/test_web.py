"""The health endpoint over a real socket, as an orchestrator and a scraper would see it."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from monitor.service.web import HealthServer, probe

WAIT = 5.0  # generous upper bound for cross-thread hand-offs; never slept on


class Checks:
    """A readiness callable the test can steer: fixed problems, an exception, or a block."""

    def __init__(self) -> None:
        self.problems: dict[str, str] = {"store": "", "rules": "", "scheduler": ""}
        self.error: Exception | None = None
        self.entered = threading.Event()
        self.release: threading.Event | None = None

    def __call__(self) -> dict[str, str]:
        self.entered.set()
        if self.release is not None:
            assert self.release.wait(WAIT), "test never released the readiness check"
        if self.error is not None:
            raise self.error
        return dict(self.problems)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def checks() -> Checks:
    return Checks()


@pytest.fixture
def server(registry: CollectorRegistry, checks: Checks) -> Iterator[HealthServer]:
    with HealthServer("127.0.0.1", 0, registry, checks) as running:
        yield running


def get(server: HealthServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path, timeout=WAIT)


def test_port_zero_binds_a_free_port_and_url_names_it(server: HealthServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_healthz(server: HealthServer) -> None:
    response = get(server, "/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "ok\n"


def test_readyz_when_every_check_passes(server: HealthServer) -> None:
    response = get(server, "/readyz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "ready": True,
        "checks": {"store": "ok", "rules": "ok", "scheduler": "ok"},
    }


def test_readyz_names_the_failing_check(server: HealthServer, checks: Checks) -> None:
    checks.problems["scheduler"] = "not running"
    response = get(server, "/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "ready": False,
        "checks": {"store": "ok", "rules": "ok", "scheduler": "not running"},
    }


def test_readyz_when_the_check_itself_raises(server: HealthServer, checks: Checks) -> None:
    checks.error = ConnectionError("store ping timed out")
    response = get(server, "/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "ready": False,
        "checks": {"readiness": "ConnectionError: store ping timed out"},
    }
    assert "Traceback" not in response.text


def test_metrics_exposes_the_registry(server: HealthServer, registry: CollectorRegistry) -> None:
    alerts = Counter("monitor_test_alerts", "Alerts sent in this test.", registry=registry)
    alerts.inc(3)
    response = get(server, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    assert "# TYPE monitor_test_alerts_total counter" in response.text
    assert "monitor_test_alerts_total 3.0" in response.text

    alerts.inc()
    assert "monitor_test_alerts_total 4.0" in get(server, "/metrics").text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_head_answers_like_get_without_a_body(server: HealthServer, path: str) -> None:
    response = httpx.head(server.url + path, timeout=WAIT)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(get(server, path).content))


def test_unknown_path_is_404(server: HealthServer) -> None:
    response = get(server, "/admin")
    assert response.status_code == 404
    assert response.text == "not found\n"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_are_405(server: HealthServer, method: str) -> None:
    response = httpx.request(method, server.url + "/healthz", timeout=WAIT)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_healthz_answers_while_readyz_is_blocked(server: HealthServer, checks: Checks) -> None:
    checks.release = threading.Event()
    slow: list[httpx.Response] = []
    client = threading.Thread(target=lambda: slow.append(get(server, "/readyz")))
    client.start()
    try:
        assert checks.entered.wait(WAIT), "readiness check never started"
        assert get(server, "/healthz").status_code == 200
        assert not slow  # the readiness request really was still in flight
    finally:
        checks.release.set()
        client.join(WAIT)
    assert [r.status_code for r in slow] == [200]


def test_stop_does_not_wait_for_a_blocked_request(
    registry: CollectorRegistry, checks: Checks
) -> None:
    checks.release = threading.Event()
    server = HealthServer("127.0.0.1", 0, registry, checks)
    server.start()
    url = server.url

    def stuck_request() -> None:
        # The answer does not matter, only that stop() returned meanwhile.
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url + "/readyz", timeout=WAIT)

    client = threading.Thread(target=stuck_request)
    client.start()
    try:
        assert checks.entered.wait(WAIT)
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(WAIT)
        assert not stopper.is_alive(), "stop() hung on an in-flight request"
        ok, _ = probe(url + "/healthz", timeout=1.0)
        assert not ok  # the listening socket is closed
    finally:
        checks.release.set()
        client.join(WAIT)


def test_probe_against_the_server(server: HealthServer, checks: Checks) -> None:
    assert probe(server.url + "/healthz") == (True, "")

    checks.problems["store"] = "connection refused"
    ok, why = probe(server.url + "/readyz")
    assert not ok
    assert why.startswith("HTTP 503")
    assert json.loads(why.split(": ", 1)[1])["checks"]["store"] == "connection refused"

    ok, why = probe(server.url + "/nowhere")
    assert (ok, why) == (False, "HTTP 404 Not Found: not found")


def test_probe_against_a_closed_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ok, why = probe(f"http://127.0.0.1:{port}/healthz", timeout=1.0)
    assert not ok
    assert "ConnectError" in why


def test_probe_never_raises_on_a_bad_url() -> None:
    ok, why = probe("not a url at all")
    assert not ok and why
