"""What every rich channel needs from a message: its parts in order, and article text made safe.

Article text is written by strangers. Each channel escapes it for its own markup (Slack mrkdwn,
HTML) through the helpers here, and matched terms are bolded from the match's own spans rather
than by searching the text again, so the bold is exactly what the rule matched.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from monitor.delivery.channels.base import Message
from monitor.models import AlertView, CitationView

MAIL_DOMAIN = "sanctions-monitor"


@dataclass(slots=True)
class Section:
    """One alert of a message and the sources to show for it (all, or only the new ones)."""

    alert: AlertView
    sources: list[CitationView]


@dataclass(slots=True)
class StoryPart:
    """One story of a message: a digest has several, a new or update message has one."""

    story: str
    headline: str
    sections: list[Section]


def story_parts(message: Message) -> list[StoryPart]:
    """The message's stories in order of first appearance, each with its alerts and sources.

    An update shows only :meth:`Message.fresh` sources; new messages and digests show every
    source, since the reader has not seen them in this form.
    """
    parts: dict[str, StoryPart] = {}
    for alert in message.alerts:
        story = alert.story or message.story
        part = parts.get(story)
        if part is None:
            part = parts[story] = StoryPart(story, alert.headline or message.headline, [])
        sources = message.fresh(alert) if message.kind == "update" else list(alert.citations)
        part.sections.append(Section(alert, sources))
    return list(parts.values())


def rule_ids(message: Message) -> list[str]:
    return list(dict.fromkeys(a.rule for a in message.alerts))


def rule_titles(message: Message) -> list[str]:
    return list(dict.fromkeys(a.title for a in message.alerts))


def when(value: datetime | None) -> str:
    """A published time as analysts read it: always UTC, to the minute."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "date unknown"


def safe_url(url: str) -> str:
    """The URL if it is http(s), else "": no javascript:, data: or mailto: links from feeds."""
    url = url.strip()
    return url if re.match(r"https?://[^\s]+$", url, re.IGNORECASE) else ""


def spans(sentence: dict) -> list[tuple[int, int]]:
    """The sentence's marks, clamped to the text, sorted, and merged where they overlap or
    only spaces part them, so "North Korean workers" reads as one bold phrase, not three."""
    text = sentence.get("text", "")
    length = len(text)
    marks = sorted(
        (max(0, int(a)), min(length, int(b)))
        for a, b in (m[:2] for m in sentence.get("marks", []) or [])
    )
    merged: list[tuple[int, int]] = []
    for start, end in marks:
        if end <= start:
            continue
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def segments(sentence: dict) -> Iterator[tuple[str, bool]]:
    """The sentence as (text, matched) pieces in order."""
    text = sentence.get("text", "")
    pos = 0
    for start, end in spans(sentence):
        if start > pos:
            yield text[pos:start], False
        yield text[start:end], True
        pos = end
    if pos < len(text):
        yield text[pos:], False


def marked(sentence: dict, escape: Callable[[str], str], bold: Callable[[str], str]) -> str:
    """The sentence escaped by ``escape``, with each matched span wrapped by ``bold``, and
    why it is cited when no clause cited it (the rule's model fired alone), so an analyst never
    mistakes the model's word for a clause's."""
    text = "".join(bold(escape(t)) if hit else escape(t) for t, hit in segments(sentence))
    why = str(sentence.get("why") or "")
    return f"{text} ({escape(why)})" if why else text


def starred(text: str) -> str:
    """A matched term in plain text: ``*term*``, as mail readers have long shown emphasis."""
    return f"*{text}*"


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    return text if len(text) <= limit else text[: max(0, limit - len(ellipsis))] + ellipsis


def digest(value: str, size: int = 24) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:size]


def redact(text: str, secrets: list[str | None]) -> str:
    """``text`` with every secret value replaced, for errors and logs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
