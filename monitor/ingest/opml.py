"""OPML 1.0/2.0 subscription lists: the format every feed reader imports and exports.

An OPML file is XML someone else wrote, so it gets the same care as a feed: a DOCTYPE (which
OPML never needs) is refused outright rather than parsed, so no entity can expand. The refusal
is defusedxml's, made by the parser as it meets the DOCTYPE: a pattern looking at the first
bytes misses one in a UTF-16 file, or one after a long comment or padding.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from monitor.errors import FeedError


class OPMLError(FeedError, ValueError):
    """The file is not an OPML subscription list; the message says why."""


@dataclass(slots=True, frozen=True)
class Subscription:
    url: str
    title: str = ""
    category: str = ""  # the enclosing outline's title, if the list is grouped


def parse_opml(data: bytes) -> list[Subscription]:
    """Every outline with an ``xmlUrl``, at any depth, in document order."""
    try:
        root = defused_fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise OPMLError(
            "OPML needs no DOCTYPE or entities; refusing to parse one that has them"
        ) from None
    except ET.ParseError as exc:
        raise OPMLError(f"not well-formed XML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OPMLError(f"the root element is <{root.tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        raise OPMLError("no <body> element")
    found: list[Subscription] = []

    def walk(element: ET.Element, category: str) -> None:
        for outline in element.findall("outline"):
            title = (outline.get("title") or outline.get("text") or "").strip()
            url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
            if url:
                found.append(Subscription(url=url, title=title, category=category))
            walk(outline, title if not url else category)

    walk(body, "")
    return found


def export_opml(feeds: list[Subscription], title: str = "sanctions-monitor feeds") -> str:
    """An OPML 2.0 document listing ``feeds``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(
            body,
            "outline",
            type="rss",
            text=feed.title or feed.url,
            title=feed.title or feed.url,
            xmlUrl=feed.url,
        )
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
