"""A fast reader for well-formed RSS, RDF and Atom: feedparser's result, at a tenth of its cost.

In: the document's text (decoded and defused by :mod:`monitor.ingest.encoding`) and the URL it
came from. Out: a :class:`FastFeed` with what :mod:`monitor.ingest.parse` builds Articles from,
the same values feedparser would give, or None when the reader cannot vouch for that.

feedparser costs about 0.7 ms of CPU an item, most of it in its generic SAX handlers and its
HTML sanitizer. This reader feeds the same bytes to the same expat parser, configured as
``xml.sax`` configures it for feedparser, so a document is well-formed here exactly when it is
for feedparser (an ill-formed one goes to feedparser, which reads it leniently). Its handlers
mirror feedparser's rules for the values an Article uses (which title, link, id, summary,
content and date win; xml:base; relative links), for the elements of the common formats;
a document with anything else (a DTD, inline XHTML, an element feedparser handles in a way
not mirrored, markup inside a text element) returns None and goes to feedparser.
``tests/test_fastparse.py`` compares both on every fixture and on mutated and generated feeds.
"""

from __future__ import annotations

import pyexpat
import re
from dataclasses import dataclass

from feedparser.api import StrictFeedParser
from feedparser.urls import make_safe_absolute_uri

from monitor.ingest.encoding import to_utf8_xml
from monitor.ingest.fastfeed import bodies, handlers, passive
from monitor.ingest.fastfeed.errors import NeedsFeedparser
from monitor.ingest.fastfeed.state import Ctx, State
from monitor.ingest.fastfeed.values import Field
from monitor.ingest.html import html_to_text

__all__ = ["FastEntry", "FastFeed", "NeedsFeedparser", "read"]

assert bodies and passive  # imported for the handlers they add to handlers.START and END
_START, _END = handlers.START, handlers.END
# Every element feedparser has a handler for: one not in the tables above needs feedparser.
_PARSER_START = frozenset(n[7:] for n in dir(StrictFeedParser) if n.startswith("_start_"))
_PARSER_END = frozenset(n[5:] for n in dir(StrictFeedParser) if n.startswith("_end_"))
_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARATION = re.compile(r"^<\?xml[^>]*?>")  # feedparser's, which it rewrites or adds
_FEEDPARSER_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>"


@dataclass(slots=True)
class FastEntry:
    """What an Article is made of, as :func:`monitor.ingest.parse._article` takes it from a
    feedparser entry."""

    title: str
    text: str
    summary_only: bool
    link: str
    id: str
    dates: Ctx  # published_parsed, updated_parsed, created_parsed as feedparser parsed them


@dataclass(slots=True)
class FastFeed:
    version: str
    title: str
    entries: list[FastEntry]


def read(text: str, url: str) -> FastFeed | None:
    """The feed in ``text`` as feedparser would read it, or None if that is not certain.

    ``url`` is where the body came from: the base for relative links, as feedparser gets it.
    """
    if _DTD.search(text):
        return None
    base = make_safe_absolute_uri("", url) or make_safe_absolute_uri(url) or ""
    state = State(base, _START, _END, _PARSER_START, _PARSER_END)
    parser = pyexpat.ParserCreate(None, " ")
    parser.namespace_prefixes = True
    parser.buffer_text = True
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_UNLESS_STANDALONE)
    parser.StartNamespaceDeclHandler = state.ns.declare
    parser.StartElementHandler = state.start
    parser.EndElementHandler = state.end
    parser.CharacterDataHandler = state.data
    try:
        parser.Parse(_as_feedparser_gets_it(text), True)
    except (pyexpat.ExpatError, NeedsFeedparser):
        return None
    if not state.ns.version:
        return None
    title = state.feed.get("title")
    return FastFeed(
        version=state.ns.version,
        title=_text(title),
        entries=[_entry(entry) for entry in state.entries],
    )


def _as_feedparser_gets_it(text: str) -> bytes:
    """The bytes feedparser's expat parses: UTF-8, with feedparser's declaration."""
    data = to_utf8_xml(text).decode("utf-8")
    if _DECLARATION.search(data):
        data = _DECLARATION.sub(_FEEDPARSER_DECLARATION, data)
    else:
        data = _FEEDPARSER_DECLARATION + "\n" + data
    return data.encode("utf-8")


def _text(value: Field | str | None) -> str:
    if value is None:
        return ""
    return value.text() if isinstance(value, Field) else html_to_text(value)


def _entry(entry: Ctx) -> FastEntry:
    """The choices :func:`monitor.ingest.parse._article` makes on a feedparser entry: the
    longest content, else the summary; the id, else the link."""
    contents: list[Field] = entry.get("content") or []
    body = None
    if len(contents) == 1:
        body = contents[0]
    elif contents:
        body = max(contents, key=lambda field: len(field.value))
    if body is not None and body.nonempty():
        text, summary_only = body.text(), False
    else:
        text, summary_only = _text(entry.get("summary")), True
    return FastEntry(
        title=_text(entry.get("title")),
        text=text,
        summary_only=summary_only,
        link=entry.get("link", ""),
        id=entry.get("id") or "",
        dates=entry,
    )
