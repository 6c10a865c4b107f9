"""``monitor channels``: list the configured channels and send a test message through one.

``channels test NAME`` goes through the same notifier the daemon uses, so a wrong webhook URL,
token, password or certificate shows up here with the channel's own error text, before the
first real alert is due.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from monitor.config import Settings
from monitor.delivery.channels.base import Message, NotifyError
from monitor.delivery.channels.build import BrokenChannel, build_channel
from monitor.models import AlertView, CitationView


def _settings(obj: Any) -> Settings:
    """The settings of the ``monitor`` context object (``monitor.cli.app.Context``)."""
    return obj.settings


def test_message(name: str, now: datetime | None = None) -> Message:
    """A harmless message with every part a real one has: rule, headline, a linked source,
    a sentence with a matched term."""
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S")
    story = f"st-test-{stamp}"
    sentence = "This is a test message from sanctions-monitor; the word test is matched."
    citation = CitationView(
        id=f"test-{stamp}",
        source="sanctions-monitor",
        title="Channel test",
        url="https://example.org/sanctions-monitor/channel-test",
        published=now,
        fetched=now,
        sentences=[{"field": "text", "text": sentence, "marks": [[10, 14]]}],
    )
    alert = AlertView(
        id=f"al-test-{stamp}",
        rule="channel-test",
        title="Channel test",
        severity="info",
        tags=["test"],
        story=story,
        headline=f"Test message for channel {name}",
        rule_version="test",
        revision=1,
        created=now,
        updated=now,
        citations=[citation],
    )
    return Message(
        key=f"channel-test:{name}:{stamp}",
        channel=name,
        kind="new",
        story=story,
        headline=alert.headline,
        alerts=[alert],
    )


@click.group()
def channels() -> None:
    """Notification channels: list them, test one."""


@channels.command("list")
@click.pass_obj
def channels_list(obj: Any) -> None:
    """Each configured channel and where it sends (secrets are never shown)."""
    for name, config in _settings(obj).channels.items():
        click.echo(f"{name}\t{config.describe()}")


@channels.command("test")
@click.argument("name")
@click.pass_obj
def channels_test(obj: Any, name: str) -> None:
    """Send a test message through channel NAME; exit 1 saying what failed.

    \b
    Example:
        monitor channels test analysts-slack
    """
    configured = _settings(obj).channels
    config = configured.get(name)
    if config is None:
        known = ", ".join(sorted(configured)) or "none"
        raise click.ClickException(f"no channel named {name!r} (channels: {known})")
    notifier = build_channel(name, config)

    if isinstance(notifier, BrokenChannel):  # a missing secret: no retry sends anything
        raise click.ClickException(
            f"channel {name!r} ({config.describe()}): FAILED (not usable, fix the config or "
            f"provide the secret): {notifier.reason}"
        )
    try:
        notifier.send(test_message(name))
    except NotifyError as exc:
        kind = "temporary, a retry may succeed" if exc.retryable else "permanent, fix the config"
        wait = f"; retry after {exc.retry_after:g} s" if exc.retry_after is not None else ""
        raise click.ClickException(
            f"channel {name!r} ({config.describe()}): FAILED ({kind}{wait}):\n  {exc}"
        ) from None
    finally:
        close = getattr(notifier, "close", None)
        if callable(close):
            close()
    click.echo(f"channel {name!r} ({config.describe()}): test message sent")
