"""Generic webhook: the message's alerts as JSON, for anything else (Teams, PagerDuty, a SIEM).

The body is ``{"kind", "key", "story", "headline", "severity", "new_sources", "alerts"}``, each
alert in the ``monitor alerts list --json`` shape. ``Idempotency-Key`` carries the message key so
a receiver can drop a retried duplicate, and with a secret ``X-Signature-256:
sha256=<hex HMAC-SHA256 of the raw body>`` (GitHub's scheme) proves who sent it.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from monitor.notify.base import Message
from monitor.notify.httppost import make_client, post

SIGNATURE_HEADER = "X-Signature-256"


def payload(message: Message) -> dict:
    return {
        "kind": message.kind,
        "key": message.key,
        "story": message.story,
        "headline": message.headline,
        "severity": message.severity,
        "new_sources": {a.id: [c.id for c in message.fresh(a)] for a in message.alerts},
        "alerts": [a.to_json() for a in message.alerts],
    }


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        timeout: float = 10.0,
        name: str = "webhook",
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.name = name
        self.client = client or make_client(timeout)

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.name!r}, signed={bool(self.secret)})"

    def send(self, message: Message) -> None:
        body = json.dumps(payload(message), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.key}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        post(
            self.client,
            self.url,
            what=f"webhook channel {self.name!r}: message {message.key}",
            content=body,
            headers=headers,
            secrets=[self.secret],
        )

    def close(self) -> None:
        self.client.close()
