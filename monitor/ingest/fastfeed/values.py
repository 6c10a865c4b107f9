"""Field values as feedparser stores them, computed only when an Article needs them.

feedparser ends every value the same way: markup in a title, summary or content is passed
through its HTML sanitizer, text that is really UTF-8 read as Latin-1 is read again, and C1
control characters become the Windows-1252 characters they stand for. The sanitizer is a
pure-Python SGML parser and the costliest step; the monitor keeps only the text of these
fields (:func:`monitor.ingest.html.html_to_text`), and on plain markup (known elements kept by
the sanitizer, quoted ASCII attributes, known entities, simple comments) the sanitizer cannot
change that text. So such markup skips it, and anything else goes through feedparser's own
sanitizer, for the same value it would store. ``tests/test_fastparse_html.py`` holds both
claims against generated markup.
"""

from __future__ import annotations

import contextlib
import html.entities
import re
from urllib.parse import urlparse

from feedparser.html import _BaseHTMLProcessor, _cp1252
from feedparser.sanitizer import _HTMLSanitizer, _sanitize_html
from feedparser.urls import _urljoin, make_safe_absolute_uri

from monitor.ingest.html import MARKUP, TAG, html_to_text

# Elements the sanitizer keeps as they are. Their end tags too, but not those it drops (a
# dropped </br> would join two lines); and none whose content some HTML parser reads as text.
_STARTS = frozenset(_HTMLSanitizer.acceptable_elements) - {"textarea", "title", "xmp", "plaintext"}
_ENDS = _STARTS - _BaseHTMLProcessor.elements_no_end_tag
_ENTITIES = frozenset(html.entities.name2codepoint) | {"apos"}
_BARE_AMPERSAND = re.compile(r"&(?![a-zA-Z][a-zA-Z0-9]*;|#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};)")
_ENTITY_NAMES = re.compile(r"&([a-zA-Z][a-zA-Z0-9]*);")


def plain_markup(fragment: str) -> bool:
    """Whether the sanitizer would keep every tag and reference of ``fragment`` as it is."""
    if "<" not in fragment and "&" not in fragment:
        return True
    if _BARE_AMPERSAND.search(fragment):
        return False
    tags = 0
    for match in MARKUP.finditer(fragment):
        tags += 1
        closing, name = match.groups()
        if not name.startswith("!") and name.lower() not in (_ENDS if closing else _STARTS):
            return False
        if not TAG.fullmatch(match.group()):
            return False
    if tags != fragment.count("<"):
        return False
    return all(name in _ENTITIES for name in _ENTITY_NAMES.findall(fragment))


def fix(value: str) -> str:
    """feedparser's last steps for every value: UTF-8 misread as Latin-1 is read again, and
    C1 controls become Windows-1252 characters."""
    if value.isascii():
        return value
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(_cp1252)


class Field:
    """A title, summary or content: the stripped text feedparser collected, and whether it
    sanitizes it as HTML. ``value`` is the string feedparser would store; ``text`` is what
    :func:`html_to_text` makes of it."""

    __slots__ = ("raw", "markup", "_plain", "_value", "_text")

    def __init__(self, raw: str, markup: bool) -> None:
        self.raw = raw
        self.markup = markup
        self._plain: bool | None = None
        self._value: str | None = None
        self._text: str | None = None

    def plain(self) -> bool:
        """True when the sanitizer cannot change this field's text (or never runs on it)."""
        if self._plain is None:
            self._plain = not self.markup or plain_markup(self.raw)
        return self._plain

    @property
    def value(self) -> str:
        if self._value is None:
            raw = _sanitize_html(self.raw, "utf-8", "text/html") if self.markup else self.raw
            self._value = fix(raw)
        return self._value

    def nonempty(self) -> bool:
        # The sanitizer keeps every tag and all text of plain markup, so it empties none.
        return bool(self.raw) if self.plain() else bool(self.value)

    def text(self) -> str:
        if self._text is None:
            self._text = html_to_text(fix(self.raw) if self.plain() else self.value)
        return self._text


# An absolute http(s) URL that urllib's urljoin returns as it is, whatever the base (if the
# base parses): a lower-case scheme, a plain host, printable ASCII, no ";" params, no empty
# query or fragment; urlparse and urlunparse would change nothing else of it.
_AS_IS = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?"
    r"(?:/[!\"$-:<->@-\[\]-~]*)?"  # a path: no "#", "?", ";" or backslash
    r"(?:\?[!\"$-\[\]-~]+)?"  # a query: not empty, no "#" or backslash
    r"(?:#[!-\[\]-~]+)?"  # a fragment: not empty, no backslash
)


class Links:
    """feedparser's URL joins, remembered for one document (it joins the base with itself at
    every element, and most links of a feed share their base), and skipped for absolute
    links that would come back unchanged."""

    __slots__ = ("_joined", "_safe", "_bases")

    def __init__(self) -> None:
        self._joined: dict[tuple[str, str], str] = {}
        self._safe: dict[tuple[str, str], str] = {}
        self._bases: dict[str, bool] = {}

    def join(self, base: str, uri: str) -> str:
        if _AS_IS.fullmatch(uri) and self._parses(base):
            return uri
        key = (base, uri)
        found = self._joined.get(key)
        if found is None:
            found = self._joined[key] = _urljoin(base, uri)
        return found

    def _parses(self, base: str) -> bool:
        """Whether urljoin gets past parsing ``base`` (an empty one it never parses)."""
        ok = self._bases.get(base)
        if ok is None:
            try:
                urlparse(base)
                ok = True
            except ValueError:
                ok = False
            self._bases[base] = ok
        return ok

    def safe(self, base: str, uri: str) -> str:
        key = (base, uri)
        found = self._safe.get(key)
        if found is None:
            found = self._safe[key] = make_safe_absolute_uri(base, uri)
        return found
