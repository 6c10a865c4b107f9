"""Feed bytes to :class:`monitor.models.Article` objects, through feedparser."""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import feedparser

from monitor.feeds.html import html_to_text
from monitor.feeds.urls import canonical_url
from monitor.models import Article


@dataclass(slots=True)
class ParsedFeed:
    title: str
    articles: list[Article] = field(default_factory=list)
    problem: str = ""  # why feedparser found the document ill-formed, if it did


def parse_feed(
    body: bytes, url: str, headers: dict[str, str], feed_name: str, source: str = ""
) -> ParsedFeed:
    """Parse a feed; relative links resolve against ``url``, the address it came from."""
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers.setdefault("content-location", url)
    parsed = feedparser.parse(body, response_headers=response_headers)
    title = str(parsed.feed.get("title", "")).strip()
    outlet = source or title or feed_name
    problem = ""
    if parsed.get("bozo"):
        problem = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
    articles = [_article(entry, outlet, feed_name) for entry in parsed.entries]
    return ParsedFeed(
        title=title, articles=[a for a in articles if a.text or a.title], problem=problem
    )


def _article(entry: feedparser.FeedParserDict, outlet: str, feed_name: str) -> Article:
    content = entry.get("content") or []
    body_html = max((c.get("value", "") for c in content), key=len, default="")
    summary_html = entry.get("summary", "")
    text = html_to_text(body_html or summary_html)
    title = html_to_text(entry.get("title", ""))
    link = entry.get("link", "")
    guid = entry.get("id") or link
    if not guid:
        guid = "sha1:" + hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()
    return Article(
        title=title,
        text=text,
        source=outlet,
        url=link,
        canonical_url=canonical_url(link),
        external_id=guid,
        published=_date(entry),
        feed=feed_name,
        summary_only=not body_html,
    )


def _date(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None
