"""Dates as the sources give them, made into aware UTC datetimes.

Feeds, replay files and the store all hand over dates with or without a zone; everything past
this module compares aware UTC datetimes, so a naive one never meets an aware one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def as_utc(value: datetime) -> datetime:
    """A datetime in UTC: SQLite hands stored ones back without their zone (they were written
    in UTC), and a date from a feed or a file without a zone is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_date(value: str | None) -> datetime | None:
    """ISO 8601 or RFC 2822 to UTC (a date without zone is taken as UTC); None if empty."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise ValueError(f"not a date: {value!r} (use ISO 8601, e.g. 2019-08-02)") from None
    return as_utc(parsed)
