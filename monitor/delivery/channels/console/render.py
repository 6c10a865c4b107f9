"""A whole message as the console prints it: a header line, then each alert as a block."""

from __future__ import annotations

from monitor.delivery.channels.base import Message
from monitor.delivery.render import alert_text


def message_text(message: Message) -> str:
    rules = ", ".join(a.rule for a in message.alerts)
    if message.kind == "digest":
        header = f"=== DIGEST: {len(message.alerts)} alert(s) [{rules}]"
    else:
        word = "follow-up on" if message.kind == "update" else "new story"
        header = f"=== {word} {message.story}: {message.headline} [{rules}]"
    kind = "update" if message.kind == "update" else "new"
    header = "\n".join([header, *(note.line() for note in message.merges)])
    blocks = [alert_text(a, kind, message.fresh(a)) for a in message.alerts]
    return "\n\n".join([header, *blocks])
