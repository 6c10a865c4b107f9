"""The generic webhook against a real HTTP server on 127.0.0.1: body shape, idempotency key,
HMAC signature, and the same retry semantics as Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest

from monitor.delivery.channels.base import NotifyError
from monitor.delivery.channels.webhook import WebhookNotifier
from monitor.delivery.channels.webhook.signature import TIMESTAMPED_HEADER, verify_signature
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


NOW = 1_767_225_600  # a fixed clock, so the signed timestamp is known


def _signed(server: LocalServer) -> tuple[str, bytes]:
    """A message sent through the real server: its timestamped signature header and body."""
    WebhookNotifier(server.url("/hook"), secret=SECRET, timeout=5, clock=lambda: NOW).send(
        message([alert([citation(1)])])
    )
    [request] = server.requests
    return request.headers[TIMESTAMPED_HEADER], request.body


def test_no_timestamped_signature_without_secret(server: LocalServer) -> None:
    WebhookNotifier(server.url("/hook"), timeout=5).send(message([alert([citation(1)])]))
    assert TIMESTAMPED_HEADER not in server.requests[0].headers


def test_timestamped_signature_signs_the_time_and_the_body(server: LocalServer) -> None:
    header, body = _signed(server)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert verify_signature(SECRET, header, body, now=NOW + 10)


def test_a_tampered_body_or_another_secret_fails(server: LocalServer) -> None:
    header, body = _signed(server)
    tampered = body.replace(b'"kind": "new"', b'"kind": "upd"')
    assert tampered != body
    assert not verify_signature(SECRET, header, tampered, now=NOW)
    assert not verify_signature("another-secret", header, body, now=NOW)
    # The timestamp is signed too: moving it forward to pass the window breaks the signature.
    moved = header.replace(f"t={NOW}", f"t={NOW + 3600}")
    assert not verify_signature(SECRET, moved, body, now=NOW + 3600)


def test_a_replay_outside_the_tolerance_fails(server: LocalServer) -> None:
    header, body = _signed(server)
    assert verify_signature(SECRET, header, body, now=NOW + 300)
    assert not verify_signature(SECRET, header, body, now=NOW + 301)  # captured, sent later
    assert not verify_signature(SECRET, header, body, now=NOW - 301)  # from the future
    assert verify_signature(SECRET, header, body, now=NOW + 3000, tolerance=3600)


GOOD_V1 = hmac.new(SECRET.encode(), f"{NOW}.{{}}".encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "header",
    [
        "",
        "junk",
        f"v1={GOOD_V1}",  # no time
        f"t={NOW}",  # no signature
        f"t=,v1={GOOD_V1}",
        f"t={NOW}.0,v1={GOOD_V1}",
        f"t=-{NOW},v1={GOOD_V1}",
        f"t={NOW},t={NOW - 1},v1={GOOD_V1}",  # which time was signed?
        f"t={NOW},v1={GOOD_V1.upper()}x",
        f"t={NOW},v1=\u00e9{GOOD_V1}",  # not ASCII: refused, not an exception
        f"t=\u0661\u0662,v1={GOOD_V1}",  # digits, but not ASCII ones
    ],
)
def test_a_malformed_signature_header_fails(header: str) -> None:
    assert verify_signature(SECRET, f"t={NOW},v1={GOOD_V1}", b"{}", now=NOW)
    assert not verify_signature(SECRET, header, b"{}", now=NOW)


def test_a_header_may_carry_several_v1_signatures(server: LocalServer) -> None:
    """While a secret is rotated a receiver may be sent one v1 per secret; any one verifies."""
    header, body = _signed(server)
    t, v1 = header.split(",")
    assert verify_signature(SECRET, f"{t},v1={'0' * 64},{v1}", body, now=NOW)
    assert not verify_signature(SECRET, f"{t},v1={'0' * 64}", body, now=NOW)


def test_an_html_error_page_becomes_one_line_of_its_text(server: LocalServer) -> None:
    page = (
        "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title>"
        "<style>body { font: 12px sans-serif }</style></head>\n<body>\n<h1>Bad Gateway</h1>\n"
        "<p>The upstream server did not answer.</p>\n"
        + "<div>padding</div>\n" * 400
        + "</body></html>"
    ).encode()
    server.handlers["/hook"] = lambda _request: Reply(502, page, {"Content-Type": "text/html"})
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(server.url("/hook"), secret=SECRET, timeout=5).send(
            message([alert([citation(1)])])
        )
    said = str(caught.value)
    assert "Bad Gateway" in said and "The upstream server did not answer." in said
    assert "<" not in said and "\n" not in said and "font:" not in said
    assert len(said) < 400
