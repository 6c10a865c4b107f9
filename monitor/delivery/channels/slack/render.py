"""Slack Block Kit rendering: what an analyst reads, within Slack's limits, with article text
made inert.

An analyst decides from the notification alone, so a message carries the severity and rule, the
story headline, and for each source its outlet, linked title, time and the matched sentences
with the matched terms in bold. Article text is escaped for mrkdwn (``&``, ``<``, ``>``), so a
source cannot ping ``@channel``, mention a user or forge a link. A message too big for one Slack
message is split within the documented limits, into payloads sent in order.
"""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.delivery.channels.base import Message
from monitor.delivery.channels.markup import (
    marked,
    rule_ids,
    rule_titles,
    safe_url,
    story_parts,
    truncate,
    when,
)
from monitor.models import CitationView

MAX_BLOCKS = 50  # blocks in one message
MAX_SECTION_TEXT = 3000  # characters in a section's text
MAX_HEADER_TEXT = 150  # characters in a header's plain_text
MAX_CONTEXT_ELEMENTS = 10
# Slack also rejects messages whose blocks are long in total ("msg_blocks_too_long") well below
# 50 x 3000; people report the edge near 13,000 characters, so keep each message under this.
MAX_MESSAGE_CHARS = 11000
MAX_FALLBACK_TEXT = 3000  # the notification text; Slack truncates at 40,000

SEVERITY_ICONS = {
    "critical": ":rotating_light:",
    "high": ":red_circle:",
    "medium": ":large_orange_circle:",
    "low": ":large_yellow_circle:",
    "info": ":large_blue_circle:",
}

Block = dict[str, Any]


def escape_code(text: str) -> str:
    """Text inside our own backticks (rule and story ids): only Slack's three entities, so an id
    copied from a message is the id, with nothing invisible in it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Formatting marks in mrkdwn, which has no escape character: a mark between two word joiners
# (U+2060, invisible, not a space) is never at a word boundary, so it can neither open nor
# close bold, italics, strike-through or code, and the reader still sees it.
_MARKS = re.compile(r"[*_~`]")


def escape(text: str) -> str:
    """Article text made literal in mrkdwn: no links, mentions, broadcasts or styling.

    Slack's own rule is to escape ``&``, ``<`` and ``>``; that alone stops ``<!channel>``,
    ``<@U123>`` and ``<https://evil|click>``. A bare ``@channel``/``@here``/``@everyone`` is
    also broken with a word joiner, since some clients and older apps still expand them, and
    so are ``*``, ``_``, ``~`` and backticks, so a headline cannot restyle the message.
    """
    text = _MARKS.sub("\u2060\\g<0>\u2060", escape_code(text))
    return re.sub(r"@(channel|here|everyone)\b", "@\u2060\\1", text, flags=re.IGNORECASE)


def _bold(text: str) -> str:
    """``*text*`` with the spaces kept outside, since Slack ignores ``* word*``."""
    stripped = text.strip()
    if not stripped:
        return text
    left = text[: len(text) - len(text.lstrip())]
    right = text[len(text.rstrip()) :]
    return f"{left}*{stripped}*{right}"


def link(url: str, title: str) -> str:
    """``<url|title>`` for an http(s) URL, else the title alone; both escaped."""
    title = escape(truncate(" ".join(title.split()) or "(untitled)", 300))
    url = safe_url(url)
    if not url:
        return title
    url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{url}|{title}>"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _header(text: str) -> Block:
    text = truncate(" ".join(text.split()), MAX_HEADER_TEXT)
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _source_blocks(citation) -> list[Block]:
    """One source: a line naming it, then its matched sentences as quotes, in sections that
    each stay under the section limit (a very long source takes several)."""
    lead = " · ".join(
        [f"*{escape(citation.source or 'unknown outlet')}*", link(citation.url, citation.title)]
        + [when(citation.published)]
    )
    lines = []
    budget = MAX_SECTION_TEXT - 200
    for sentence in citation.sentences:
        flat = {**sentence, "text": " ".join(str(sentence.get("text", "")).split())}
        line = "> " + marked(flat, escape, _bold)
        if len(line) > budget:  # a runaway "sentence": plain and cut, so no bold is left open
            line = "> " + escape(truncate(flat["text"], budget // 2))
        lines.append(line)
    blocks: list[Block] = []
    text = lead
    for line in lines:
        if len(text) + 1 + len(line) > MAX_SECTION_TEXT:
            blocks.append(_section(text))
            text = line
        else:
            text += "\n" + line
    blocks.append(_section(text))
    return blocks


def _title_line(message: Message) -> str:
    icon = SEVERITY_ICONS.get(message.severity, "")
    severity = message.severity.upper()
    if message.kind == "digest":
        stories = len({a.story for a in message.alerts})
        return f"{icon} {severity} · Digest: {stories} stories, {len(message.alerts)} alerts"
    prefix = "Update · " if message.kind == "update" else ""
    return f"{icon} {severity} · {prefix}{' / '.join(rule_titles(message))}"


def fallback_text(message: Message) -> str:
    """The notification text (push, desktop banner): severity, rules and headline."""
    if message.kind == "digest":
        text = _title_line(message).split(" ", 1)[1]
    else:
        update = "update: " if message.kind == "update" else ""
        text = f"[{message.severity.upper()}] {update}{', '.join(rule_ids(message))}: "
        text += escape(message.headline)
    return truncate(text, MAX_FALLBACK_TEXT)


def source_summary(citations: list[CitationView], kind: str) -> str:
    """Reports counted once however many rules cite them, and the outlets when fewer: an
    analyst weighs a story by how many independent outlets carry it."""
    reports = {c.url or c.id for c in citations}
    outlets = {c.source for c in citations if c.source}
    noun = "new source" if kind == "update" else "source"
    summary = f"{len(reports)} {noun}{'s' if len(reports) != 1 else ''}"
    if outlets and len(outlets) < len(reports):
        summary += f" from {len(outlets)} outlet{'s' if len(outlets) != 1 else ''}"
    return summary


def body_blocks(message: Message) -> list[Block]:
    """Everything between the header and the footer, in reading order."""
    blocks: list[Block] = [
        _context(escape(truncate(note.line(), MAX_SECTION_TEXT))) for note in message.merges
    ]
    digest = message.kind == "digest"
    for part in story_parts(message):
        sections = [s for s in part.sections if s.sources or message.kind != "update"]
        if not sections:
            continue
        summary = source_summary([c for s in sections for c in s.sources], message.kind)
        if digest:
            blocks.append({"type": "divider"})
        headline = escape(truncate(" ".join(part.headline.split()), 1000))
        blocks.append(_section(f"*{headline}*\n{summary}"))
        for section in sections:
            alert = section.alert
            if len(sections) > 1 or digest:
                blocks.append(
                    _context(
                        f"{SEVERITY_ICONS.get(alert.severity, '')} *{escape(alert.title)}* · "
                        f"`{escape_code(alert.rule)}` · {alert.severity}"
                    )
                )
            for citation in section.sources:
                blocks.extend(_source_blocks(citation))
    return blocks


def footer_text(message: Message) -> str:
    rules = ", ".join(f"`{escape_code(r)}`" for r in rule_ids(message))
    stories = list(dict.fromkeys(a.story for a in message.alerts)) or [message.story]
    story_list = ", ".join(f"`{escape_code(s)}`" for s in stories if s)
    label = "rules" if len(rule_ids(message)) > 1 else "rule"
    noun = "stories" if len(stories) > 1 else "story"
    return truncate(f"{label} {rules} · {noun} {story_list}", MAX_SECTION_TEXT - 100)


def _size(block: Block) -> int:
    return len(json.dumps(block, ensure_ascii=False))


def render(message: Message) -> list[dict[str, Any]]:
    """The message as one or more Slack payloads (``text`` + ``blocks``), to send in order.

    Every payload stays within Slack's limits: at most 50 blocks, 3,000 characters a section,
    150 a header, and a conservative total size. Each part carries the footer, and parts after
    the first say which part they are, so a reader who sees one alone knows there is more.
    """
    body = body_blocks(message)
    footer = footer_text(message)
    budget_blocks = MAX_BLOCKS - 2  # a lead block (header or "continued") and the footer
    budget_chars = MAX_MESSAGE_CHARS - _size(_header(_title_line(message))) - len(footer) - 300
    chunks: list[list[Block]] = [[]]
    used = 0
    for block in body:
        size = _size(block)
        if chunks[-1] and (len(chunks[-1]) >= budget_blocks or used + size > budget_chars):
            chunks.append([])
            used = 0
        chunks[-1].append(block)
        used += size
    total = len(chunks)
    payloads = []
    for n, chunk in enumerate(chunks, 1):
        part = f" · part {n} of {total}" if total > 1 else ""
        if n == 1:
            lead = _header(_title_line(message))
        else:
            headline = escape(truncate(message.headline, 200))
            lead = _context(f"_continued_ · *{headline}*{part}")
        blocks = [lead, *chunk, _context(footer + part)]
        text = fallback_text(message) + (f" (part {n} of {total})" if total > 1 else "")
        payloads.append({"text": text, "blocks": blocks})
    return payloads
