"""feedparser's strict-parser state, mirrored for the elements :mod:`.handlers` knows.

feedparser keeps a stack of open text elements, a few "in this element" flags, the xml:base of
each open element, and a context (the feed, the current entry, an image, a source) that each
value lands in; which value wins depends on all of them (a title nested deeper loses to one
higher up, a second description becomes content, an Atom ``<content>`` leaves an element on
the stack for good). This class keeps the same state with the same rules, but only the values
an Article is built from; anything whose effect it does not mirror raises
:class:`NeedsFeedparser`, and the document goes to feedparser.
"""

from __future__ import annotations

import re

from feedparser.mixin import _FeedParserMixin
from feedparser.util import FeedParserDict

from monitor.ingest.fastfeed.errors import NeedsFeedparser
from monitor.ingest.fastfeed.names import Namespaces
from monitor.ingest.fastfeed.values import Field, Links, fix

_RELATIVE = frozenset(_FeedParserMixin.can_be_relative_uri)
_MARKUP = frozenset(_FeedParserMixin.can_contain_dangerous_markup)
_HTML_TYPES = frozenset(_FeedParserMixin.html_types)
_looks_like_html = _FeedParserMixin.looks_like_html
_KEPT = frozenset({"title", "link", "id", "summary", "content"})  # what an Article reads
_NOT_IMAGE = frozenset({"title", "link", "description", "url", "href", "width", "height"})
_NOT_TEXTINPUT = frozenset({"title", "link", "description", "name"})
_LINK_REF = re.compile("&([A-Za-z0-9_]+);")
ROOTS = frozenset({"rss", "feed", "rdf_rdf"})
KEYMAP = FeedParserDict.keymap
# Keys feedparser's own code reads or writes in a context (and the Article's): an element
# stored under one of them would change what feedparser does next.
PROTECTED = frozenset(
    "author authors base category chapters cloud content contributor contributors "
    "coordinates domain email enclosures generator guidislink height href id "
    "image info ispermalink itunes_block itunes_explicit label lang language lastmod license "
    "link links media_content media_credit media_license media_player media_rating "
    "media_restriction media_thumbnail mode name newlocation psc_chapters publisher "
    "publishers rel rights scheme source src srsDimension srsName srsdimension srsname "
    "subtitle summary tags term text textinput title type uri url validity_end "
    "validity_start value version where width".split()
)


def content_type(value: str | None) -> str | None:
    """feedparser's map_content_type, which also takes None (and then fails in feedparser)."""
    if value is None:
        return None
    value = value.lower()
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html"}.get(
        value, "application/xhtml+xml" if value == "xhtml" else value
    )


class Ctx(dict):
    """A context values land in, with the depth each was taken at (feedparser lets a value
    replace one taken at the same depth or deeper, never one taken higher up)."""

    __slots__ = ("depths",)

    def __init__(self) -> None:
        super().__init__()
        self.depths: dict[str, int] = {}


class State:
    """The state; :mod:`.handlers` holds what each element does to it."""

    def __init__(
        self, base: str, start: dict, end: dict, parser_start: frozenset, parser_end: frozenset
    ) -> None:
        self.base = base
        self.bases: list[str] = []
        self.stack: list[list] = []  # [name, expecting text, pieces]
        self.leaves: list[bool] = []  # per open element: must it stay without child elements
        self.depth = 0
        self.feed = Ctx()
        self.entries: list[Ctx] = []
        self.source = Ctx()
        self.infeed = self.inentry = self.inimage = self.intextinput = self.insource = 0
        self.incontent = 0
        self.ctype: str | None = None  # feedparser's contentparams["type"]; None when cleared
        self.title_depth = -1
        self.has_content = 0
        self.summary_key: str | None = None
        self.guidislink = False
        self.ns = Namespaces()
        self.links = Links()
        self._start, self._end = start, end
        self._parser_start, self._parser_end = parser_start, parser_end

    # expat's handlers

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag, key, prefixed = self.ns.start(name)
        attrs_d = self.ns.attributes(attrs) if attrs or self.ns.pending else {}
        if self.leaves and self.leaves[-1]:
            raise NeedsFeedparser(f"<{tag}> inside an element read as text")
        self.depth += 1
        if self.depth == 1 and key not in ROOTS:
            raise NeedsFeedparser(f"root <{tag}>")
        base = attrs_d.get("xml:base", attrs_d.get("base")) or self.base if attrs_d else self.base
        if self.base:
            self.base = self.links.safe(self.base, base) or self.base
        else:
            self.base = self.links.join(self.base, base)
        self.bases.append(self.base)
        if attrs_d:
            for attr, value in attrs_d.items():
                if attr.startswith("xmlns:"):
                    self.ns.track(attr[6:], value)
        if self.incontent:
            raise NeedsFeedparser(f"<{tag}> inside a text element")
        if not prefixed:
            if tag not in _NOT_TEXTINPUT:
                self.intextinput = 0
            if tag not in _NOT_IMAGE:
                self.inimage = 0
        handler = self._start.get(key)
        if handler is not None:
            leaf = handler(self, attrs_d)
        elif key in self._parser_start:
            raise NeedsFeedparser(f"<{tag}>, which feedparser handles")
        else:
            leaf = self.generic(key, attrs_d)
        self.leaves.append(leaf)

    def end(self, name: str) -> None:
        key = self.ns.end(name)
        handler = self._end.get(key)
        if handler is not None:
            handler(self)
        elif key in self._parser_end:
            raise NeedsFeedparser(f"</{key}>, which feedparser handles")
        else:
            self.drop(key)
        self.bases.pop()
        if self.bases and self.bases[-1]:
            self.base = self.bases[-1]
        self.depth -= 1
        self.leaves.pop()

    def data(self, text: str) -> None:
        if self.stack:
            self.stack[-1][2].append(text)

    # what feedparser's handlers share

    def generic(self, key: str, attrs: dict[str, str]) -> bool:
        """An element feedparser has no handler for: kept under its own key (its text, or
        its attributes), which must not be a key anything reads."""
        stored = KEYMAP.get(key, key)
        stored = stored[0] if isinstance(stored, list) else stored
        ends_by_handler = key in self._end  # itunes:block and the like: feedparser's design
        if not ends_by_handler and (stored in PROTECTED or stored.endswith(("_parsed", "_detail"))):
            raise NeedsFeedparser(f"<{key}> would overwrite a value feedparser reads")
        if not attrs:
            self.push(key, 1)
        return False

    def context(self) -> Ctx:
        if self.insource:
            return self.source
        if self.inimage and "image" in self.feed:
            return self.feed["image"]
        if self.intextinput:
            return self.feed["textinput"]
        if self.inentry:
            return self.entries[-1]
        return self.feed

    def push(self, name: str, expecting: int | bool) -> None:
        self.stack.append([name, expecting, []])

    def drop(self, name: str) -> None:
        """feedparser's pop for an element whose value no Article reads."""
        if self.stack and self.stack[-1][0] == name:
            self.stack.pop()

    def push_content(
        self, name: str, attrs: dict[str, str], default: str, expecting, read: bool = True
    ) -> None:
        """``read``: an Article may use the value, so only text and HTML are mirrored (not
        inline XHTML, not base64); a value nobody reads may be of any type."""
        self.incontent += 1
        ctype = content_type(attrs.get("type", default))
        if read and (ctype not in ("text/plain", "text/html") or attrs.get("mode") == "base64"):
            raise NeedsFeedparser(f"<{name}> of type {ctype}")
        self.ctype = ctype
        self.push(name, expecting)

    def pop_content(self, name: str):
        value = self.pop(name)
        self.incontent -= 1
        self.ctype = None
        return value

    def drop_content(self, name: str) -> None:
        self.drop(name)
        self.incontent -= 1
        self.ctype = None

    def pop(self, name: str):
        """feedparser's pop for a value an Article may read: None if another element is on
        top of the stack, else the value (a :class:`Field` for text that may hold markup),
        stored where feedparser stores it."""
        if not self.stack or self.stack[-1][0] != name:
            return None
        _, expecting, pieces = self.stack.pop()
        output = "".join(pieces).strip()
        if not expecting:
            return output
        if name in _RELATIVE and output and (name != "id" or self.guidislink):
            output = self.links.join(self.base or "", output)
        if (
            self.ctype == "text/plain"
            and not self.ns.version.startswith("atom")
            and _looks_like_html(output)
        ):
            self.ctype = "text/html"
        if name in _MARKUP:
            markup = content_type(self.ctype or "text/html") in _HTML_TYPES
            value = Field(output, markup)
        else:
            value = fix(output)
        if name == "title" and -1 < self.title_depth <= self.depth:
            return value
        return self._store(name, value)

    def _store(self, name: str, value):
        if self.inentry and not self.insource:
            entry = self.entries[-1]
            if name == "content":
                entry.setdefault("content", []).append(value)
            elif name == "link":
                if not self.inimage:
                    value = _LINK_REF.sub(r"&\g<1>", value.replace("&amp;", "&"))
                    entry["link"] = value
            else:
                key = "summary" if name == "description" else name
                if key in _KEPT:
                    old = entry.depths.get(key)
                    if old is None or self.depth <= old:
                        entry.depths[key] = self.depth
                        entry[key] = value
        elif self.infeed or self.insource:
            context = self.context()
            key = "subtitle" if name == "description" else name
            if name == "link":
                value = _LINK_REF.sub(r"&\g<1>", value)
            if key in _KEPT:
                context[key] = value
        return value
