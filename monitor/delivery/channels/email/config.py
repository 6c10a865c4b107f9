"""An email channel's settings: the SMTP server, how to secure and log in to it, and who gets
the mail."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

SECRETS = ("password",)
REQUIRED: tuple[tuple[str, ...], ...] = (("host",), ("sender",), ("recipients",))


class EmailFields(BaseModel):
    host: str | None = None
    port: int | None = None  # default: 587 starttls, 465 tls, 25 plain
    security: Literal["starttls", "tls", "plain"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = None
    password_file: Path | None = None
    sender: str | None = None
    recipients: list[str] = Field(default_factory=list)
    ca_file: Path | None = None  # extra CA for a private SMTP server's certificate


def check(config: EmailFields) -> None:
    """Nothing beyond the required keys: the server's answer says the rest."""


def describe(config: EmailFields) -> str:
    port = f":{config.port}" if config.port else ""
    return f"email {config.security}://{config.host}{port} to {', '.join(config.recipients)}"
