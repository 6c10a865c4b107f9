"""Email rendering: one multipart/alternative mail (text and HTML) per message.

The subject names severity, rule(s) and headline so an inbox list is enough to triage. Each
mail's Message-ID is derived from the message key, so a retried send is recognisably the same
mail. Mail clients thread by ``References``: every mail of a story refers to one root id,
``<story-{story}.{channel}@sanctions-monitor>``, derived from the story and channel with no
stored state, and a follow-up also names it in ``In-Reply-To``. The root is never itself a
Message-ID because a story can get more than one first notice (a second rule matching it
later), and two mails must never share a Message-ID. The HTML uses inline CSS only and no
images, and all article text is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from monitor.delivery.channels.base import Message
from monitor.delivery.channels.markup import (
    MAIL_DOMAIN,
    digest,
    marked,
    rule_ids,
    rule_titles,
    safe_url,
    starred,
    story_parts,
    truncate,
    when,
)

SEVERITY_COLORS = {
    "critical": "#7a0916",
    "high": "#c62828",
    "medium": "#d9730d",
    "low": "#b59400",
    "info": "#2f6fb5",
}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def thread_id(story: str, channel: str) -> str:
    """The id every mail of a story on a channel refers to, so clients thread them."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", f"{story}.{channel}").strip("-.") or "story"
    return f"<story-{slug}@{MAIL_DOMAIN}>"


def message_id(message: Message) -> str:
    return f"<{digest(message.key)}@{MAIL_DOMAIN}>"


def subject(message: Message) -> str:
    """E.g. ``[HIGH] dprk-overseas-labor: Russia allowing thousands of North Korean …``."""
    severity = message.severity.upper()
    if message.kind == "digest":
        stories = len({a.story for a in message.alerts})
        return f"[{severity}] Digest: {stories} stories, {len(message.alerts)} alerts"
    text = f"[{severity}] {', '.join(rule_ids(message))}: {_one_line(message.headline)}"
    text = truncate(text, 180)
    return f"Re: {text}" if message.kind == "update" else text


def _intro(message: Message) -> str:
    if message.kind == "digest":
        return "Digest of alerts"
    prefix = "New sources for" if message.kind == "update" else "New alert:"
    return f"{prefix} {' / '.join(rule_titles(message))}"


def render_text(message: Message) -> str:
    """The plain-text part: the same content as the HTML, matched terms in *stars*."""
    lines = [f"{message.severity.upper()} · {_intro(message)}", ""]
    lines += [*(note.line() for note in message.merges), *([""] if message.merges else [])]
    for part in story_parts(message):
        sections = [s for s in part.sections if s.sources or message.kind != "update"]
        if not sections:
            continue
        lines += [_one_line(part.headline), "=" * min(len(_one_line(part.headline)), 72)]
        for section in sections:
            alert = section.alert
            lines.append(f"{alert.severity.upper()} {alert.title} ({alert.rule})")
            for n, citation in enumerate(section.sources, 1):
                lines.append(f"  [{n}] {citation.source}: {_one_line(citation.title)}")
                if safe_url(citation.url):
                    lines.append(f"      {safe_url(citation.url)}")
                lines.append(f"      published {when(citation.published)}")
                for sentence in citation.sentences:
                    flat = {**sentence, "text": _one_line(str(sentence.get("text", "")))}
                    lines.append("      > " + marked(flat, str, starred))
            lines.append("")
        lines.append(f"story {part.story} · alerts {', '.join(s.alert.id for s in sections)}")
        lines.append("")
    lines.append("-- sanctions-monitor")
    return "\n".join(lines) + "\n"


_MUTED = "color:#5e6470;font-size:13px;"


def _mark(text: str) -> str:
    return f'<strong style="background:#fff1a8;color:#1d1f23;padding:0 1px;">{text}</strong>'


def render_html(message: Message) -> str:
    """The HTML part: inline CSS only, no images or scripts; article text escaped."""
    esc = html.escape
    color = SEVERITY_COLORS.get(message.severity, "#5e6470")
    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width">',
        f"<title>{esc(subject(message))}</title></head>",
        '<body style="margin:0;padding:0;background:#f3f4f6;'
        "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d1f23;\">",
        '<div style="max-width:720px;margin:0 auto;padding:24px 16px;">',
        f'<div style="background:#ffffff;border-top:6px solid {color};border-radius:6px;'
        'padding:20px 24px;">',
        f'<div style="font-size:12px;font-weight:700;letter-spacing:0.06em;color:{color};'
        f'text-transform:uppercase;">{esc(message.severity)} · {esc(_intro(message))}</div>',
        *(f'<p style="{_MUTED}margin:8px 0 0;">{esc(n.line())}</p>' for n in message.merges),
    ]
    for part in story_parts(message):
        sections = [s for s in part.sections if s.sources or message.kind != "update"]
        if not sections:
            continue
        count = sum(len(s.sources) for s in sections)
        noun = "new source" if message.kind == "update" else "source"
        out.append(
            '<h1 style="font-size:20px;line-height:1.3;margin:10px 0 4px;">'
            f"{esc(_one_line(part.headline))}</h1>"
            f'<div style="{_MUTED}">{count} {noun}{"s" if count != 1 else ""}</div>'
        )
        for section in sections:
            alert = section.alert
            alert_color = SEVERITY_COLORS.get(alert.severity, "#5e6470")
            out.append(
                '<h2 style="font-size:15px;margin:20px 0 10px;">'
                f'<span style="color:{alert_color};">{esc(alert.severity.upper())}</span> '
                f"{esc(alert.title)} "
                f'<code style="font-size:12px;color:#5e6470;">{esc(alert.rule)}</code></h2>'
            )
            for citation in section.sources:
                url = safe_url(citation.url)
                title = esc(_one_line(citation.title) or "(untitled)")
                linked = (
                    f'<a href="{esc(url)}" style="color:#0b57d0;text-decoration:none;">{title}</a>'
                    if url
                    else title
                )
                out.append(
                    '<div style="border-left:3px solid #d0d4db;padding:2px 0 2px 12px;'
                    'margin:0 0 16px;">'
                    f'<div style="{_MUTED}"><strong style="color:#1d1f23;">'
                    f"{esc(citation.source or 'unknown outlet')}</strong> · "
                    f"{esc(when(citation.published))}</div>"
                    f'<div style="font-size:15px;font-weight:600;margin:2px 0 6px;">{linked}</div>'
                )
                for sentence in citation.sentences:
                    flat = {**sentence, "text": _one_line(str(sentence.get("text", "")))}
                    out.append(
                        '<p style="margin:0 0 6px;font-size:14px;line-height:1.5;color:#30343b;">'
                        f"{marked(flat, esc, _mark)}</p>"
                    )
                out.append("</div>")
        ids = ", ".join(esc(s.alert.id) for s in sections)
        out.append(
            f'<div style="{_MUTED}font-size:12px;">story {esc(part.story)} · alert {ids}</div>'
        )
    out += [
        "</div>",
        '<div style="color:#8a909c;font-size:12px;padding:12px 4px;">sanctions-monitor · '
        f"{esc(', '.join(rule_ids(message)))}</div>",
        "</div></body></html>",
    ]
    return "\n".join(out) + "\n"


def build_email(message: Message, sender: str, recipients: list[str]) -> EmailMessage:
    """The full mail, headers included; what :class:`EmailNotifier` sends."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = subject(message)
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id(message)
    if message.thread and message.kind != "digest":
        root = thread_id(message.thread, message.channel)
        if message.kind == "update":
            mail["In-Reply-To"] = root
        mail["References"] = root
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    mail["X-Auto-Response-Suppress"] = "All"
    mail["X-Sanctions-Monitor-Rule"] = ", ".join(rule_ids(message))
    if message.story:
        mail["X-Sanctions-Monitor-Story"] = message.story
    mail.set_content(render_text(message))
    mail.add_alternative(render_html(message), subtype="html")
    return mail
