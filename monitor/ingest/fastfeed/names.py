"""Element and attribute names as feedparser's strict (SAX) parser sees them.

feedparser names an element by the prefix it knows for its namespace (``dc:creator`` whatever
the document's own prefix), by the first prefix declared for a namespace it does not know,
or by its bare local name; then it maps that prefix again through the prefixes declared so
far, and looks up a handler called ``_start_<prefix>_<name>``. The feed's version starts from
the first namespace declared that names one. All of it is mirrored here from expat's events,
with expat configured as ``xml.sax`` configures it for feedparser.
"""

from __future__ import annotations

from feedparser.mixin import _FeedParserMixin

from monitor.ingest.fastfeed.errors import NeedsFeedparser

KNOWN = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
USERLAND = "http://backend.userland.com/rss"
XLINK = "http://www.w3.org/1999/xlink"
_VERSIONS = {"http://purl.org/rss/1.0/": "rss10", "http://www.w3.org/2005/atom": "atom10"}
_RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
_MARKUP = {("math", "http://www.w3.org/1998/Math/MathML"), ("svg", "http://www.w3.org/2000/svg")}


def _split(name: str) -> tuple[str | None, str]:
    """expat's "uri local prefix" (or "uri local", or "local") as xml.sax splits it."""
    parts = name.split()
    if len(parts) == 1:
        return None, name
    if len(parts) in (2, 3):
        return parts[0], parts[1]
    raise NeedsFeedparser("a namespace name with spaces")


class Namespaces:
    """The namespaces declared so far, and the names and handler keys they give elements."""

    def __init__(self) -> None:
        self.version = ""
        self.prefixes: dict[str | None, str] = {}  # a declared prefix -> feedparser's own
        self.in_use: dict[str, str] = {}  # feedparser's prefix (or the declared one) -> URI
        self.pending: dict[str, str] = {}  # xlink declarations for the next element's attributes
        self._starts: dict[str, tuple[str, str, bool]] = {}
        self._ends: dict[str, str] = {}

    def declare(self, prefix: str | None, uri: str) -> None:
        """expat's StartNamespaceDecl, which comes before the element that declares it."""
        if not uri:
            return
        if any(c.isspace() for c in uri):
            raise NeedsFeedparser("a namespace URI with spaces")
        self.track(prefix or None, uri)
        if prefix and uri == XLINK:
            self.pending["xmlns:" + prefix] = uri

    def track(self, prefix: str | None, uri: str) -> None:
        lower = uri.lower()
        if not self.version:
            if prefix is None and lower == _RSS090:
                self.version = "rss090"
            elif lower in _VERSIONS:
                self.version = _VERSIONS[lower]
        if "backend.userland.com/rss" in lower:
            uri = lower = USERLAND
        known = KNOWN.get(lower)
        if known is not None:
            self.prefixes[prefix] = known
            self.in_use[known] = uri
        else:
            self.in_use[prefix or ""] = uri
        self._starts.clear()
        self._ends.clear()

    def start(self, name: str) -> tuple[str, str, bool]:
        """An opening element's tag, handler key, and whether its prefix is feedparser's."""
        found = self._starts.get(name)
        if found is None:
            found = self._starts[name] = self._start(name)
        return found

    def _start(self, name: str) -> tuple[str, str, bool]:
        uri, local = _split(name)
        lower = (uri or "").lower()
        if "backend.userland.com/rss" in lower:
            uri = lower = USERLAND
        local = local.lower()
        if (local, uri) in _MARKUP:
            raise NeedsFeedparser(f"<{local}> outside content")
        prefix = KNOWN.get(lower)
        tag = local
        if prefix:
            tag = f"{prefix.lower()}:{local}"
        elif uri:
            tag = self._declared(uri, local)
        tag = tag.lower()
        key, prefixed = self._key(tag)
        return tag, key, prefixed

    def end(self, name: str) -> str:
        """A closing element's handler key (feedparser names it again, slightly otherwise)."""
        found = self._ends.get(name)
        if found is None:
            uri, local = _split(name)
            prefix = KNOWN.get((uri or "").lower(), "")
            tag = f"{prefix}:{local}" if prefix else self._declared(uri, local) if uri else local
            found = self._ends[name] = self._key(tag.lower())[0]
        return found

    def _declared(self, uri: str, local: str) -> str:
        for prefix, value in self.in_use.items():
            if prefix and value == uri:
                return f"{prefix}:{local}"
        return local

    def _key(self, tag: str) -> tuple[str, bool]:
        prefix, suffix = tag.split(":", 1) if ":" in tag else ("", tag)
        prefix = self.prefixes.get(prefix, prefix)
        return (f"{prefix}_{suffix}" if prefix else suffix), bool(prefix)

    def attributes(self, attrs: dict[str, str]) -> dict[str, str]:
        """The attributes as feedparser's handlers get them: keys lowercased, known prefixes
        put on, each also under its qualified name; ``rel`` and ``type`` values lowercased."""
        pending, self.pending = self.pending, {}
        if not attrs and not pending:
            return {}
        merged = dict(pending)
        qnames = []
        for name, value in attrs.items():
            parts = name.split()
            if len(parts) == 1:
                uri, local, qname = None, name, name
            elif len(parts) == 3:
                uri, local, qname = parts[0], parts[1], f"{parts[2]}:{parts[1]}"
            elif len(parts) == 2:
                uri, local, qname = parts[0], parts[1], parts[1]
            else:
                raise NeedsFeedparser("an attribute name with spaces")
            prefix = KNOWN.get((uri or "").lower(), "")
            merged[(f"{prefix}:{local}" if prefix else local).lower()] = value
            qnames.append((qname.lower(), value))
        merged.update(qnames)
        return {
            key.lower(): value.lower() if key.lower() in ("rel", "type") else value
            for key, value in merged.items()
        }
