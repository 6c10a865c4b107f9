"""Generic webhook: the message's alerts as JSON, for anything else (Teams, PagerDuty, a SIEM).

The body is ``{"kind", "key", "story", "headline", "severity", "new_sources", "alerts",
"merges"}``, each alert in the ``monitor alerts list --json`` shape. ``Idempotency-Key`` carries
the message key so a receiver can drop a retried duplicate.

With a secret, each attempt is signed afresh (:mod:`.signature`), so a retry an hour later
verifies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from monitor.delivery.channels.base import Message
from monitor.delivery.channels.httppost import make_client, post
from monitor.delivery.channels.webhook.render import payload
from monitor.delivery.channels.webhook.signature import (
    SIGNATURE_HEADER,
    TIMESTAMPED_HEADER,
    signature,
    timestamped_signature,
)


class WebhookNotifier:
    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        timeout: float = 10.0,
        name: str = "webhook",
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.name = name
        self.client = client or make_client(timeout)
        self.clock = clock

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.name!r}, signed={bool(self.secret)})"

    def send(self, message: Message) -> None:
        body = json.dumps(payload(message), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.key}
        if self.secret:
            stamp = int(self.clock())
            headers[TIMESTAMPED_HEADER] = timestamped_signature(self.secret, body, stamp)
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
