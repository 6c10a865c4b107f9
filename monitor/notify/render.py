"""An alert as plain text for people: the console now, the text part of emails later."""

from __future__ import annotations

from datetime import datetime

from monitor.models import AlertView


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "date unknown"


def alert_text(alert: AlertView, kind: str = "new") -> str:
    count = len(alert.citations)
    head = "UPDATE" if kind == "update" else "ALERT"
    lines = [
        f"{head} [{alert.severity.upper()}] {alert.title}",
        f"  Story:   {alert.headline}",
        f"  Rule:    {alert.rule} (version {alert.rule_version})",
        f"  Sources: {count}",
    ]
    for n, citation in enumerate(alert.citations, 1):
        lines.append(f"  [{n}] {citation.source}: {citation.title}")
        if citation.url:
            lines.append(f"      {citation.url}")
        lines.append(f"      published {when(citation.published)}")
        for sentence in citation.sentence_texts():
            lines.append(f"      > {sentence}")
    lines.append(f"  Alert {alert.id} · story {alert.story}")
    return "\n".join(lines)
