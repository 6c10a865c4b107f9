"""HTML fragments from feeds (descriptions, content) to clean paragraphs of text.

Most fragments in feeds are plain markup: tags with quoted attributes, references, simple
comments. Those are split with regular expressions, which give exactly what the HTMLParser
below gives at a fraction of its cost; anything else (a bare "<", unquoted attributes,
scripts, CDATA, odd comments) goes through HTMLParser. ``tests/test_fastparse_html.py``
compares the two on generated fragments.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

_BLOCK = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote tr table section article header footer "
    "figure figcaption pre hr dd dt".split()
)
_DROP = frozenset("script style noscript template iframe object svg head".split())
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")

# Plain markup: every "<" opens a start tag (quoted ASCII attribute values without "<", ">"
# or "&"), an end tag, or a comment without "--", "<" or ">" inside. Each is checked alone.
_WS = r"[ \t\r\n]"
_ATTRIBUTE = (
    rf"{_WS}+[a-zA-Z_][-a-zA-Z0-9_.:]*"
    rf"""(?:{_WS}*={_WS}*(?:"[ !#-%'-;=?-~]*"|'[ -%(-;=?-~]*'))?"""
)
TAG = re.compile(
    rf"<[a-zA-Z][a-zA-Z0-9]*(?:{_ATTRIBUTE})*{_WS}*/?>"
    rf"|</[a-zA-Z][a-zA-Z0-9]*{_WS}*>"
    r"|<!--(?:[^<>-]|-[^<>-])*-->"
)
MARKUP = re.compile(r"<(/?)([a-zA-Z0-9!]*)[^<>]*>")  # a candidate tag, its "/" and its name
_CDATA = frozenset({"script", "style"})  # HTMLParser reads their content as text


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _DROP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment: one paragraph a line, scripts and styles dropped."""
    if "<" not in fragment and "&" not in fragment:
        return _tidy(fragment)
    parts = _plain_parts(fragment)
    if parts is None:
        collector = _TextCollector()
        collector.feed(fragment)
        collector.close()
        parts = collector.parts
    return _tidy("".join(parts))


def _plain_parts(fragment: str) -> list[str] | None:
    """What :class:`_TextCollector` collects from plain markup; None if it is not plain, or
    holds a script or style."""
    parts: list[str] = []
    skipping = 0
    at = 0
    tags = 0
    for match in MARKUP.finditer(fragment):
        tags += 1
        start = match.start()
        if start > at and not skipping:
            parts.append(unescape(fragment[at:start]))
        at = match.end()
        closing, name = match.groups()
        name = name.lower()
        if name in _CDATA or not TAG.fullmatch(match.group()):
            return None
        if name.startswith("!"):  # a comment
            continue
        ends = closing or fragment[at - 2] == "/"
        if not closing:
            if name in _DROP:
                skipping += 1
            elif name in _BLOCK:
                parts.append("\n")
        if ends:
            if name in _DROP:
                skipping = max(skipping - 1, 0)
            elif name in _BLOCK:
                parts.append("\n")
    if tags != fragment.count("<"):  # a "<" that opens no tag
        return None
    if at < len(fragment) and not skipping:
        parts.append(unescape(fragment[at:]))
    return parts


def _tidy(text: str) -> str:
    # One substitution for the whole text: no run of _SPACES crosses a line break. NUL, which
    # no text means and PostgreSQL's text cannot hold, goes too.
    lines = (line.strip() for line in _SPACES.sub(" ", text.replace("\x00", "")).split("\n"))
    return "\n".join(line for line in lines if line)
