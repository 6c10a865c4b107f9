"""A feed as a user typed it on the command line: validated, and refused in one line if unsafe."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from pydantic import ValidationError

from monitor.config import FeedConfig, Settings
from monitor.ingest.safety import UnsafeURLError, check_url, parse_networks


def feed_or_fail(url: str, name: str, source: str, full_text: bool) -> FeedConfig:
    try:
        return FeedConfig(url=url, name=name, source=source, full_text=full_text)
    except ValidationError as exc:
        reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise click.ClickException(reason) from None


def check_safe(settings: Settings, url: str) -> None:
    http = settings.http
    try:
        check_url(url, http.allow_private, parse_networks(http.allow_networks))
    except UnsafeURLError as exc:
        raise click.ClickException(str(exc)) from None


def feed_for(location: str) -> FeedConfig:
    """A feed for a URL or an existing file, or one line saying it is neither."""
    if location.startswith(("http://", "https://")):
        return feed_or_fail(location, "", "", False)
    path = Path(location)
    if not path.is_file():
        raise click.ClickException(f"{location}: not an http(s) URL nor a file")
    return FeedConfig(path=path.resolve(), full_text=False)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
