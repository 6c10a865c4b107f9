"""What one poll of one feed brought: handed from the poller to the store and the recorder."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.config import FeedConfig
from monitor.models import Article


@dataclass(slots=True)
class PollOutcome:
    feed: FeedConfig
    articles: list[Article] = field(default_factory=list)
    status: int = 0  # HTTP status; 0 when the fetch failed before one arrived
    error: str = ""  # the poll failed: why
    problem: str = ""  # the poll worked, but the document was ill-formed: why
    title: str = ""
    url: str = ""
    moved_to: str = ""
    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    unchanged: bool = False  # 304, or the same bytes as last time: nothing was parsed
    entries: int = 0  # entries in the document
    retry_after: float | None = None
    full_texts: int = 0  # pages fetched for summary-only entries
    cancelled: bool = False  # cut short by shutdown: not to be recorded as a poll
    retry_items: bool = False  # an entry failed to store: fetch and parse afresh next time
    seconds: float = 0.0  # time to fetch and parse


def log_extra(feed: FeedConfig) -> dict[str, str]:
    """The ``extra`` of a log line about a feed: structured logs carry its name."""
    return {"feed": feed.name}
