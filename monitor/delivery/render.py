"""Alerts as plain text for people: the console, `alerts list`, the text part of emails."""

from __future__ import annotations

from datetime import datetime

from monitor.delivery.channels.base import Message
from monitor.models import AlertView, CitationView


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "date unknown"


def _citation_lines(n: int, citation: CitationView) -> list[str]:
    lines = [f"  [{n}] {citation.source}: {citation.title}"]
    if citation.url:
        lines.append(f"      {citation.url}")
    lines.append(f"      published {when(citation.published)}")
    lines += [f"      > {sentence}" for sentence in citation.sentence_texts()]
    return lines


def alert_text(
    alert: AlertView, kind: str = "new", citations: list[CitationView] | None = None
) -> str:
    """One alert; ``citations`` limits the sources shown (a follow-up shows the new ones)."""
    shown = alert.citations if citations is None else citations
    head = "UPDATE" if kind == "update" else "ALERT"
    count = len(alert.citations)
    sources = f"{count}" if len(shown) == count else f"{len(shown)} new, {count} in all"
    lines = [
        f"{head} [{alert.severity.upper()}] {alert.title}",
        f"  Story:   {alert.headline}",
        f"  Rule:    {alert.rule} (version {alert.rule_version})",
        f"  Sources: {sources}",
    ]
    numbers = {c.id: n for n, c in enumerate(alert.citations, 1)}
    for citation in shown:
        lines += _citation_lines(numbers[citation.id], citation)
    lines.append(f"  Alert {alert.id} · story {alert.story}")
    return "\n".join(lines)


def message_text(message: Message) -> str:
    """A whole message: a header line, then each alert as a block of its own."""
    rules = ", ".join(a.rule for a in message.alerts)
    if message.kind == "digest":
        header = f"=== DIGEST: {len(message.alerts)} alert(s) [{rules}]"
    else:
        word = "follow-up on" if message.kind == "update" else "new story"
        header = f"=== {word} {message.story}: {message.headline} [{rules}]"
    kind = "update" if message.kind == "update" else "new"
    blocks = [alert_text(a, kind, message.fresh(a)) for a in message.alerts]
    return "\n\n".join([header, *blocks])
