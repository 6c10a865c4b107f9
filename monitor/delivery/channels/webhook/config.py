"""A webhook channel's settings: the URL to POST to, and the secret that signs each request."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

SECRETS = ("secret",)
REQUIRED: tuple[tuple[str, ...], ...] = (("url",),)


class WebhookFields(BaseModel):
    url: str | None = None
    secret: SecretStr | None = None
    secret_env: str | None = None
    secret_file: Path | None = None


def check(config: WebhookFields) -> None:
    if not str(config.url).startswith(("http://", "https://")):
        raise ValueError("webhook url must start with http:// or https://")


def describe(config: WebhookFields) -> str:
    parts = urlsplit(config.url or "")
    return f"webhook {parts.scheme}://{parts.netloc}/…"  # a path may hold a token
