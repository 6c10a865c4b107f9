"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read.

The format is small enough to read with :mod:`json`: a top-level object with ``version``,
``title`` and ``items``; each item has an ``id`` and ``content_html`` and/or ``content_text``,
optionally ``url``, ``title``, ``summary``, ``date_published`` and ``date_modified`` (RFC 3339).
Version 1.0 also allowed ``author``; 1.1 has ``authors``; neither matters to the rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from monitor.errors import FeedError
from monitor.util.dates import parse_date


class JSONFeedError(FeedError, ValueError):
    """The document is JSON but not a JSON Feed; the message says what is missing."""


@dataclass(slots=True)
class JSONEntry:
    id: str
    url: str
    title: str
    content_html: str
    content_text: str
    summary: str
    published: datetime | None


@dataclass(slots=True)
class JSONFeed:
    version: str
    title: str
    home_page_url: str
    entries: list[JSONEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def looks_like_json(body: bytes, content_type: str) -> bool:
    """JSON by its first character; a JSON content type only breaks the tie (servers mislabel
    XML feeds as JSON and JSON feeds as text/plain often enough)."""
    first = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return first == b"{" or (first != b"<" and "json" in (content_type or "").lower())


def parse_json_feed(body: bytes, url: str) -> JSONFeed:
    """Read a JSON Feed; relative item URLs resolve against the feed's address ``url``.

    A bad item is skipped and noted in ``problems``; a document that is not a JSON Feed at all
    raises :class:`JSONFeedError`.
    """
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JSONFeedError(f"not valid JSON: {exc}") from None
    except RecursionError:  # arrays in arrays thousands deep: json recurses once a level
        raise JSONFeedError("not valid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise JSONFeedError("a JSON Feed is an object, this document is not")
    version = _version(document.get("version"))
    if not version:
        raise JSONFeedError(f"no JSON Feed version (got {document.get('version')!r})")
    items = document.get("items")
    if not isinstance(items, list):
        raise JSONFeedError("a JSON Feed needs an 'items' list")
    feed = JSONFeed(
        version=version,
        title=_text(document.get("title")),
        home_page_url=_text(document.get("home_page_url")),
    )
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            feed.problems.append(f"items[{n}] is not an object")
            continue
        link = _text(item.get("url")) or _text(item.get("external_url"))
        feed.entries.append(
            JSONEntry(
                id=_text(item.get("id")),
                url=_absolute(url, link),
                title=_text(item.get("title")),
                content_html=_text(item.get("content_html")),
                content_text=_text(item.get("content_text")),
                summary=_text(item.get("summary")),
                published=_date(item.get("date_published")) or _date(item.get("date_modified")),
            )
        )
    return feed


def _absolute(base: str, link: str) -> str:
    """``link`` resolved against the feed's address; "" if no URL parser reads it."""
    try:
        return urljoin(base, link) if link else ""
    except ValueError:  # an unclosed IPv6 bracket, say
        return ""


def _text(value: Any) -> str:
    """Strings as they are, but for NUL characters, which JSON may carry ("\\u0000") and
    PostgreSQL's text cannot (an article holding one could never be stored there); numbers
    (ids are sometimes numbers) as text; anything else empty."""
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_date(value)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved into UTC
        return None


def _version(value: object) -> str:
    """The spec's version ("1", "1.1") from its URL, or from the bare number some generators
    write ("1.0"); "" when the document does not claim to be a JSON Feed."""
    text = str(value or "").strip().rstrip("/")
    for prefix in ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    else:
        if not isinstance(value, str | int | float):
            return ""
    if text in ("1", "1.0"):
        return "1"
    return text if text in ("1.1",) else ""
