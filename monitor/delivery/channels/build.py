"""Build a channel's notifier from its config, reading its secrets only now.

A channel whose secret is missing does not stop the daemon: it becomes a notifier that fails
every send with the reason (retryable, so its messages wait in the outbox until an operator sets
the secret and restarts), while every other channel keeps working.
"""

from __future__ import annotations

import logging

from monitor.delivery.channels.base import Message, Notifier, NotifyError
from monitor.delivery.channels.config import ChannelConfig
from monitor.store import Store

log = logging.getLogger(__name__)


class BrokenChannel:
    """Stands in for a channel that could not be built; says why on every send."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def send(self, message: Message) -> None:
        raise NotifyError(f"channel {self.name!r} is not usable: {self.reason}", retryable=True)


def build_channel(name: str, config: ChannelConfig, store: Store | None = None) -> Notifier:
    """The notifier for a channel of any type.

    ``store`` is where Slack bot mode keeps its threads, so follow-ups reply in the thread
    across restarts; without one they are kept for the life of the process.
    """
    try:
        return _build(name, config, store)
    except ValueError as exc:
        log.error("channel %r: %s", name, exc)
        return BrokenChannel(name, str(exc))


def _build(name: str, config: ChannelConfig, store: Store | None) -> Notifier:
    if config.type == "console":
        from monitor.delivery.channels.console import ConsoleNotifier

        return ConsoleNotifier()
    if config.type == "slack":
        from monitor.delivery.channels.slack import SlackNotifier
        from monitor.store.slack_threads import SlackThreads

        token = config.resolve_secret("token")
        return SlackNotifier(
            webhook_url=config.resolve_secret("webhook_url"),
            token=token,
            channel=config.channel,
            api_base=config.api_base,
            timeout=config.timeout,
            threads=SlackThreads(store) if store is not None and token else None,
            name=name,
        )
    if config.type == "email":
        from monitor.delivery.channels.email import EmailNotifier

        return EmailNotifier(
            host=config.host or "",
            port=config.port,
            security=config.security,
            username=config.username,
            password=config.resolve_secret("password"),
            sender=config.sender or "",
            recipients=config.recipients,
            timeout=config.timeout,
            ca_file=config.ca_file,
            name=name,
        )
    if config.type == "webhook":
        from monitor.delivery.channels.webhook import WebhookNotifier

        return WebhookNotifier(
            config.url or "",
            secret=config.resolve_secret("secret"),
            timeout=config.timeout,
            name=name,
        )
    raise ValueError(f"unknown channel type {config.type!r}")
