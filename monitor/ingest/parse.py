"""Feed bytes to :class:`monitor.models.Article` objects: every format feedparser reads, and
JSON Feed.

XML goes through :mod:`monitor.ingest.encoding` first (charset chosen, DTD defused by what expat
reads in the prolog, re-encoded as UTF-8), so feedparser never has to guess a charset or expand
an entity that could grow the document. Relative links resolve against the address the body came
from (feedparser also honours ``xml:base``). A document feedparser calls ill-formed but still
reads entries from ("bozo") keeps its entries; the problem is reported beside them for the
feed's health.

A well-formed RSS, RDF or Atom document is read by :mod:`monitor.ingest.fastfeed` first, which
gives the Articles feedparser would give at a fraction of its cost, or declines the document;
feedparser reads whatever it declines. ``fast=False`` skips it (the tests compare both paths).
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import feedparser

from monitor.errors import FeedError
from monitor.ingest import fastfeed
from monitor.ingest.encoding import UnsafeXMLError, decode, defuse, to_utf8_xml
from monitor.ingest.html import html_to_text
from monitor.ingest.jsonfeed import JSONFeedError, looks_like_json, parse_json_feed
from monitor.ingest.repair import drop_undeclared_prefixes
from monitor.ingest.urls import canonical_url
from monitor.models import Article


class FeedParseError(FeedError, ValueError):
    """The document is not a feed at all; the message says why."""


# feedparser spends about 50 microseconds on each tag, whatever the document: a real feed of
# 10 MB (a tag every 60 bytes or so) parses in about 10 s, but 10 MB of nothing but tags, such
# as elements nested thousands deep, would take minutes of a worker and of the GIL. Counted as
# "<" characters, which is quick and never too few.
MAX_TAGS = 200_000


@dataclass(slots=True)
class ParsedFeed:
    title: str
    articles: list[Article] = field(default_factory=list)
    problem: str = ""  # why the document is ill-formed (or its charset was wrong), if it is
    format: str = ""  # feedparser's version name (rss20, atom10, rdf, ...) or json1.x
    entries: int = 0  # entries in the document, including any without title or text


def parse_feed(
    body: bytes,
    url: str,
    headers: dict[str, str],
    feed_name: str,
    source: str = "",
    fast: bool = True,
) -> ParsedFeed:
    """Parse a feed; raise :class:`FeedParseError` if the document is not one.

    ``url`` is where the body came from, after redirects: the base for relative links.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    content_type = lower.get("content-type", "")
    if looks_like_json(body, content_type):
        return _parse_json(body, url, feed_name, source)
    decoded = decode(body, content_type)
    tags = decoded.text.count("<")
    if tags > MAX_TAGS:
        raise FeedParseError(f"not parsed: {tags} tags, more than the {MAX_TAGS} a feed may have")
    try:
        text, defused = defuse(decoded.text)
    except UnsafeXMLError as exc:
        raise FeedParseError(f"unsafe XML: {exc}") from None
    problems = [p for p in (decoded.note, defused) if p]
    if fast and (quick := fastfeed.read(text, url)) is not None:
        return _parsed_fast(quick, problems, feed_name, source)
    response_headers = {"content-type": "application/xml; charset=utf-8", "content-location": url}
    if "content-language" in lower:
        response_headers["content-language"] = lower["content-language"]
    parsed = _feedparse(text, response_headers)
    if not parsed.get("version") and not parsed.entries:
        repaired, prefixes = drop_undeclared_prefixes(text)
        if prefixes:  # a second chance: the document is unreadable as it stands
            parsed = _feedparse(repaired, response_headers)
            problems.append(f"undeclared prefix(es) {', '.join(prefixes)}: dropped to read it")
    if parsed.get("bozo"):
        problems.append(f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}")
    if not parsed.get("version") and not parsed.entries:
        why = "; ".join(problems) or "no RSS, Atom or RDF root element"
        raise FeedParseError(f"not a feed: {why}")
    title = html_to_text(str(parsed.feed.get("title", "")))
    outlet = source or title or feed_name
    articles = [_article(entry, outlet, feed_name) for entry in parsed.entries]
    return ParsedFeed(
        title=title,
        articles=[a for a in articles if _readable(a)],
        problem="; ".join(problems),
        format=str(parsed.get("version") or "unknown"),
        entries=len(parsed.entries),
    )


def _parsed_fast(
    feed: fastfeed.FastFeed, problems: list[str], feed_name: str, source: str
) -> ParsedFeed:
    outlet = source or feed.title or feed_name
    articles = [
        _made(e.title, e.text, e.summary_only, e.link, e.id, _date(e.dates), outlet, feed_name)
        for e in feed.entries
    ]
    return ParsedFeed(
        title=feed.title,
        articles=[a for a in articles if _readable(a)],
        problem="; ".join(problems),
        format=feed.version,
        entries=len(feed.entries),
    )


def _feedparse(text: str, response_headers: dict[str, str]) -> feedparser.FeedParserDict:
    try:
        # Links inside entries' HTML are never kept (only its text is), so feedparser need
        # not resolve them: a fifth of its time on a typical feed. Entry links still resolve.
        return feedparser.parse(
            to_utf8_xml(text), response_headers=response_headers, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser raises on a few hostile documents
        raise FeedParseError(f"feedparser failed: {type(exc).__name__}: {exc}") from None


def _parse_json(body: bytes, url: str, feed_name: str, source: str) -> ParsedFeed:
    try:
        feed = parse_json_feed(body, url)
    except JSONFeedError as exc:
        raise FeedParseError(f"not a feed: {exc}") from None
    outlet = source or feed.title or feed_name
    articles = []
    for entry in feed.entries:
        full = html_to_text(entry.content_html) if entry.content_html else entry.content_text
        text = full or html_to_text(entry.summary)
        title = html_to_text(entry.title)
        url, canonical = _link(entry.url)
        articles.append(
            Article(
                title=title,
                text=text,
                source=outlet,
                url=url,
                canonical_url=canonical,
                external_id=entry.id or entry.url or _content_id(title, text),
                published=entry.published,
                feed=feed_name,
                summary_only=not full,
            )
        )
    return ParsedFeed(
        title=feed.title,
        articles=[a for a in articles if _readable(a)],
        problem="; ".join(feed.problems),
        format=f"json{feed.version}",
        entries=len(feed.entries),
    )


def _article(entry: feedparser.FeedParserDict, outlet: str, feed_name: str) -> Article:
    content = entry.get("content") or []
    body_html = max((c.get("value", "") for c in content), key=len, default="")
    summary_html = entry.get("summary", "")
    text = html_to_text(body_html or summary_html)
    title = html_to_text(entry.get("title", ""))
    link = entry.get("link", "")
    guid = entry.get("id")
    return _made(title, text, not body_html, link, guid, _date(entry), outlet, feed_name)


def _made(
    title: str,
    text: str,
    summary_only: bool,
    link: str,
    guid: str | None,
    published: datetime | None,
    outlet: str,
    feed_name: str,
) -> Article:
    """The Article of an entry, whichever reader read it."""
    url, canonical = _link(link)
    return Article(
        title=title,
        text=text,
        source=outlet,
        url=url,
        canonical_url=canonical,
        external_id=guid or link or _content_id(title, text),
        published=published,
        feed=feed_name,
        summary_only=summary_only,
    )


def _readable(article: Article) -> bool:
    """An entry worth keeping: it has words, or at least a link whose page has them (a broken
    feed's last item is often a bare link; the poller fetches the page for its text)."""
    return bool(article.text or article.title or article.url.startswith(("http:", "https:")))


def _link(value: str) -> tuple[str, str]:
    """An entry's link and its canonical form; ("", "") for a link no URL parser reads (a port
    past 65535, an unclosed IPv6 bracket), which could be neither fetched nor cited."""
    try:
        return value, canonical_url(value)
    except ValueError:
        return "", ""


def _content_id(title: str, text: str) -> str:
    """An id for an entry with neither guid nor link: stable while its words stay the same."""
    return "sha1:" + hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()


def _date(entry: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # not entry.get: its key aliasing warns on every miss
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None
