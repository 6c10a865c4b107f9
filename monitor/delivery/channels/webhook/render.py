"""The webhook's body: the message's alerts as JSON, each in the ``alerts list --json`` shape."""

from __future__ import annotations

from monitor.delivery.render import message_json as payload

__all__ = ["payload"]
