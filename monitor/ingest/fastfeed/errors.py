"""The fast reader's one error: the document is not one it can vouch for."""

from __future__ import annotations

from monitor.errors import FeedError


class NeedsFeedparser(FeedError):
    """The document uses something the fast reader does not mirror; feedparser reads it.

    Never shown to a user: :func:`monitor.ingest.fastfeed.read` turns it into ``None``.
    """
