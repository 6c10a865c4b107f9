"""Alerts as plain text for people (the console, ``alerts list``, ``replay``), and a message as
JSON for programs (the webhook, the console under JSON logging)."""

from __future__ import annotations

from monitor.delivery.channels.base import Message
from monitor.delivery.channels.markup import marked, starred, when
from monitor.models import AlertView, CitationView


def _citation_lines(n: int, citation: CitationView) -> list[str]:
    lines = [f"  [{n}] {citation.source}: {citation.title}"]
    if citation.url:
        lines.append(f"      {citation.url}")
    lines.append(f"      published {when(citation.published)}")
    # The terms that matched, *marked*, so a reader sees at a glance why the rule fired.
    lines += [f"      > {marked(sentence, str, starred)}" for sentence in citation.sentences]
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


def message_json(message: Message) -> dict:
    """A message as JSON: the webhook's body, and a console line under JSON logging."""
    return {
        "kind": message.kind,
        "key": message.key,
        "story": message.story,
        "headline": message.headline,
        "severity": message.severity,
        "new_sources": {a.id: [c.id for c in message.fresh(a)] for a in message.alerts},
        "alerts": [a.to_json() for a in message.alerts],
        "merges": [note.to_json() for note in message.merges],
    }
