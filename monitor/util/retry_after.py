"""``Retry-After`` as seconds: feeds and channels both honour it, so it is read in one place."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait: the header is a number of seconds or an HTTP date (RFC 9110 §10.2.3).

    A negative number or a date in the past means "now" (0), an unreadable value None, so the
    caller falls back on its own backoff rather than on a guess.
    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
