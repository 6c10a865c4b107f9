"""The generic webhook against a real HTTP server on 127.0.0.1: body shape, idempotency key,
HMAC signature, and the same retry semantics as Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest

from monitor.notify.base import NotifyError
from monitor.notify.webhook import WebhookNotifier
from tests.httpserver import LocalServer, Reply
from tests.test_notify_slack import HOSTILE, alert, citation, message

SECRET = "whsec-test-secret"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        local.handlers["/hook"] = lambda request: Reply(204)
        yield local


def test_body_headers_and_signature(server: LocalServer) -> None:
    a = alert([citation(1), citation(2, HOSTILE)])
    msg = message([a], kind="update", key="st-1:hook:update:2", new_sources={a.id: ["c2"]})
    WebhookNotifier(server.url("/hook"), secret=SECRET, timeout=5).send(msg)
    [request] = server.requests
    assert request.headers["Idempotency-Key"] == "st-1:hook:update:2"
    assert request.headers["Content-Type"] == "application/json"
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Signature-256"] == f"sha256={expected}"
    body = json.loads(request.body)
    assert body["kind"] == "update" and body["key"] == msg.key and body["story"] == "st-1"
    assert body["new_sources"] == {a.id: ["c2"]}
    assert body["alerts"] == [a.to_json()]  # the `monitor alerts list --json` shape
    assert body["alerts"][0]["citations"][1]["sentences"] == [HOSTILE]  # JSON needs no escaping


def test_no_signature_without_secret(server: LocalServer) -> None:
    WebhookNotifier(server.url("/hook"), timeout=5).send(message([alert([citation(1)])]))
    assert "X-Signature-256" not in server.requests[0].headers


@pytest.mark.parametrize(
    ("reply", "retryable", "text"),
    [
        (Reply(429, b"slow down", {"Retry-After": "12"}), True, "429"),
        (Reply(502, b"bad gateway"), True, "502"),
        (Reply(400, b'{"error": "unknown routing key"}'), False, "unknown routing key"),
        (Reply(401, b"bad signature"), False, "bad signature"),
    ],
)
def test_failures(server: LocalServer, reply: Reply, retryable: bool, text: str) -> None:
    server.handlers["/hook"] = lambda request: reply
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(server.url("/hook"), secret=SECRET, timeout=5).send(
            message([alert([citation(1)])])
        )
    assert caught.value.retryable is retryable and text in str(caught.value)
    assert caught.value.retry_after == (12 if reply.status == 429 else None)
    assert SECRET not in str(caught.value)


def test_redirect_is_not_followed(server: LocalServer) -> None:
    server.handlers["/hook"] = lambda request: Reply(301, b"", {"Location": "/elsewhere"})
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(server.url("/hook"), timeout=5).send(message([alert([citation(1)])]))
    assert not caught.value.retryable
    assert server.hits("/elsewhere") == 0
