"""What each element does to the mirrored state, for the elements of RSS 0.9x/2.0, RSS 1.0
(RDF), Atom and their common extensions (Dublin Core, content:encoded, iTunes, Media RSS).

Each start handler returns whether the element must stay a leaf: the fast reader mirrors
feedparser only where an element that holds a value (a title, a link, a date) has no child
elements. Elements feedparser handles in ways not mirrored here (inline XHTML, GeoRSS,
Creative Commons, podcast chapters) are absent from the tables, so they send the document to
feedparser; an element feedparser has no handler for is kept by :meth:`State.generic`.
"""

from __future__ import annotations

from collections.abc import Callable

from feedparser.datetimes import _parse_date

from monitor.ingest.fastfeed.errors import NeedsFeedparser
from monitor.ingest.fastfeed.state import Ctx, State, content_type

_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}
_ATOM_VERSIONS = {"0.1": "atom01", "0.2": "atom02", "0.3": "atom03"}
_HTML_TYPES = ("application/xhtml+xml", "text/html")

Start = Callable[[State, dict[str, str]], bool]
End = Callable[[State], None]
# One registry for every module's handlers (bodies.py and passive.py add theirs); no element
# has two.
START: dict[str, Start] = {}
END: dict[str, End] = {}


def on(*keys: str, start: Start | None = None, end: End | None = None) -> None:
    for key in keys:
        if start is not None:
            START[key] = start
        if end is not None:
            END[key] = end


def expecting(s: State) -> int:
    return s.infeed or s.inentry or s.insource


def _feed_level(s: State, what: str) -> None:
    if s.inentry or s.insource or s.inimage or s.intextinput:
        raise NeedsFeedparser(f"<{what}> inside another element")


def _cdf(attrs: dict[str, str], what: str) -> None:
    if "lastmod" in attrs or "href" in attrs:
        raise NeedsFeedparser(f"<{what}> with CDF attributes")


# The document


def _start_rss(s: State, attrs: dict[str, str]) -> bool:
    if not s.ns.version.startswith("rss"):
        version = attrs.get("version", "")
        s.ns.version = _RSS_VERSIONS.get(version) or (
            "rss20" if version.startswith("2.") else "rss"
        )
    return False


def _start_channel(s: State, attrs: dict[str, str]) -> bool:
    s.infeed = 1
    _cdf(attrs, "channel")
    return False


def _start_feed(s: State, attrs: dict[str, str]) -> bool:
    s.infeed = 1
    if not s.ns.version:
        s.ns.version = _ATOM_VERSIONS.get(attrs.get("version"), "atom")
    return False


def _end_feed(s: State) -> None:
    s.infeed = 0


def _start_item(s: State, attrs: dict[str, str]) -> bool:
    _feed_level(s, "item")
    s.entries.append(Ctx())
    s.push("item", 0)
    s.inentry = 1
    s.guidislink = False
    s.title_depth = -1
    about = attrs.get(s.ns.prefixes.get("rdf", "rdf") + ":about")
    if about:
        s.context()["id"] = about
    _cdf(attrs, "item")
    return False


def _end_item(s: State) -> None:
    s.drop("item")
    s.inentry = 0
    s.has_content = 0


def _start_image(s: State, attrs: dict[str, str]) -> bool:
    _feed_level(s, "image")
    s.feed.setdefault("image", Ctx())
    s.inimage = 1
    s.title_depth = -1
    s.push("image", 0)
    return False


def _end_image(s: State) -> None:
    s.drop("image")
    s.inimage = 0


def _start_textinput(s: State, attrs: dict[str, str]) -> bool:
    _feed_level(s, "textinput")
    s.feed.setdefault("textinput", Ctx())
    s.intextinput = 1
    s.title_depth = -1
    s.push("textinput", 0)
    return False


def _end_textinput(s: State) -> None:
    s.drop("textinput")
    s.intextinput = 0


def _start_source(s: State, attrs: dict[str, str]) -> bool:
    if s.insource:
        raise NeedsFeedparser("<source> inside <source>")
    s.push("source", 1)
    s.insource = 1
    s.title_depth = -1
    return False


def _end_source(s: State) -> None:
    s.insource = 0
    s.drop("source")
    s.source = Ctx()


on("rss", start=_start_rss)
on("channel", start=_start_channel, end=_end_feed)
on("feed", start=_start_feed, end=_end_feed)
on("item", "entry", start=_start_item, end=_end_item)
on("image", start=_start_image, end=_end_image)
on("textinput", start=_start_textinput, end=_end_textinput)
on("source", start=_start_source, end=_end_source)


# Values an Article is made of


def _start_title(s: State, attrs: dict[str, str]) -> bool:
    s.push_content("title", attrs, "text/plain", expecting(s))
    return True


def _end_title(s: State) -> None:
    value = s.pop_content("title")
    if value is not None and (value if isinstance(value, str) else value.nonempty()):
        s.title_depth = s.depth


def _end_media_title(s: State) -> None:
    kept = s.title_depth
    _end_title(s)
    s.title_depth = kept


def _start_link(s: State, attrs: dict[str, str]) -> bool:
    rel = attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if rel == "self" else "text/html")
    context = s.context()
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        attrs["href"] = href
    if "href" in attrs:
        href = s.links.join(s.base or "", attrs["href"])
        if attrs.get("rel") == "alternate" and content_type(attrs.get("type")) in _HTML_TYPES:
            context["link"] = href
    else:
        s.push("link", expecting(s))
    return True


def _end_link(s: State) -> None:
    s.pop("link")


def _start_guid(s: State, attrs: dict[str, str]) -> bool:
    s.guidislink = attrs.get("ispermalink", "true") == "true"
    s.push("id", 1)
    return True


def _end_guid(s: State) -> None:
    value = s.pop("id")
    if value is None:
        raise NeedsFeedparser("an id feedparser would store as None")
    if s.guidislink:
        s.context().setdefault("link", value)


def _dates(kind: str) -> tuple[Start, End]:
    def start(s: State, attrs: dict[str, str]) -> bool:
        s.push(kind, 1)
        return True

    def end(s: State) -> None:
        value = s.pop(kind)
        if value is None:
            raise NeedsFeedparser(f"a {kind} date feedparser would parse from None")
        s.context()[f"{kind}_parsed"] = _parse_date(value)

    return start, end


on("title", "dc_title", "media_title", start=_start_title, end=_end_title)
END["media_title"] = _end_media_title
on("link", start=_start_link, end=_end_link)
on("guid", "id", start=_start_guid, end=_end_guid)
for _kind, _keys in (
    ("published", ("published", "issued", "pubdate", "dcterms_issued")),
    ("updated", ("updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified")),
    ("created", ("created", "dcterms_created")),
):
    _start_date, _end_date = _dates(_kind)
    on(*_keys, start=_start_date, end=_end_date)
