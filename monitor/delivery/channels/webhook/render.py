"""The webhook's body: the message's alerts as JSON, each in the ``alerts list --json`` shape."""

from __future__ import annotations

from monitor.delivery.channels.base import Message


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
