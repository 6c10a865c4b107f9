"""Summaries and content, as feedparser chooses between them.

A description or summary that comes when its context already has a summary, and no content
yet, becomes content (so an iTunes summary after an RSS description is the entry's content);
content also fills an empty summary. Atom's ``<content>`` pushes two entries on feedparser's
stack and pops one. Tables merged with :mod:`.handlers`.
"""

from __future__ import annotations

from monitor.ingest.fastfeed.errors import NeedsFeedparser
from monitor.ingest.fastfeed.handlers import expecting, on
from monitor.ingest.fastfeed.state import State


def _start_description(s: State, attrs: dict[str, str]) -> bool:
    if "summary" in s.context() and not s.has_content:
        s.summary_key = "content"
        return _start_content(s, attrs)
    s.push_content("description", attrs, "text/html", expecting(s))
    return True


def _start_abstract(s: State, attrs: dict[str, str]) -> bool:
    s.push_content("description", attrs, "text/plain", expecting(s))
    return True


def _end_description(s: State) -> None:
    if s.summary_key == "content":
        _end_content(s)
    else:
        s.pop_content("description")
    s.summary_key = None


def _start_summary(s: State, attrs: dict[str, str]) -> bool:
    if "summary" in s.context() and not s.has_content:
        s.summary_key = "content"
        return _start_content(s, attrs)
    s.summary_key = "summary"
    s.push_content("summary", attrs, "text/plain", 1)
    return True


def _end_summary(s: State) -> None:
    if s.summary_key == "content":
        _end_content(s)
    else:
        s.pop_content(s.summary_key or "summary")
    s.summary_key = None


def _start_content(s: State, attrs: dict[str, str]) -> bool:
    s.has_content = 1
    s.push_content("content", attrs, "text/plain", 1)
    s.push("content", 1)  # twice, as feedparser does: the first stays on its stack
    return True


def _start_content_encoded(s: State, attrs: dict[str, str]) -> bool:
    s.has_content = 1
    s.push_content("content", attrs, "text/html", 1)
    return True


def _end_content(s: State) -> None:
    if s.ctype is None:
        raise NeedsFeedparser("content without a type")
    value = s.pop_content("content")
    if value is None:
        raise NeedsFeedparser("content feedparser would store as None")
    s.context().setdefault("summary", value)


on("description", "dc_description", "media_description", start=_start_description)
on("description", "dc_description", "media_description", "abstract", end=_end_description)
on("abstract", start=_start_abstract)
on("summary", "itunes_summary", start=_start_summary, end=_end_summary)
on("content", start=_start_content, end=_end_content)
on("content_encoded", "fullitem", start=_start_content_encoded, end=_end_content)
