"""A Slack channel's settings: an incoming webhook (``webhook_url``), or a bot token (``token``)
with the ``channel`` to post in; only bot mode threads follow-ups."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, SecretStr

DEFAULT_API = "https://slack.com/api"
SECRETS = ("webhook_url", "token")
REQUIRED: tuple[tuple[str, ...], ...] = (("webhook_url", "token"),)


class SlackFields(BaseModel):
    webhook_url: SecretStr | None = None
    webhook_url_env: str | None = None
    webhook_url_file: Path | None = None
    token: SecretStr | None = None
    token_env: str | None = None
    token_file: Path | None = None
    channel: str | None = None  # Slack channel id or name, bot mode
    api_base: str = DEFAULT_API


def bot_mode(config: SlackFields) -> bool:
    return bool(config.token or config.token_env or config.token_file)


def check(config: SlackFields) -> None:
    if bot_mode(config) and not config.channel:
        raise ValueError("a slack channel with a bot token needs 'channel:'")


def describe(config: SlackFields) -> str:
    """Where it sends, with no secret in it."""
    if bot_mode(config):
        return f"slack bot, channel {config.channel} via {config.api_base}"
    return "slack incoming webhook"
