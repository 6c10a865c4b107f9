"""A named channel's settings: ``type`` picks the channel, whose own ``config`` module gives
its keys, what it requires, and how to describe it without its secrets.

One flat model rather than a union so the YAML reads the same for every type and a mistake
names the key. Secrets (``webhook_url``, ``token``, ``password``, ``secret``) are given inline,
or as ``<name>_env`` (an environment variable) or ``<name>_file`` (a file, e.g. a mounted
Docker/Kubernetes secret). :meth:`ChannelConfig.resolve_secret` reads them only when the channel
is built, so a command that sends nothing needs none; their values never appear in a repr.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from monitor.delivery.channels.email import config as email
from monitor.delivery.channels.slack import config as slack
from monitor.delivery.channels.webhook import config as webhook
from monitor.service.logs import register_secret
from monitor.util.secrets import read_secret_file

PARTS: dict[str, ModuleType] = {"slack": slack, "email": email, "webhook": webhook}
SECRETS = tuple(name for part in PARTS.values() for name in part.SECRETS)


class ChannelBase(BaseModel):
    type: Literal["console", "slack", "email", "webhook"] = "console"
    timeout: float = Field(default=10.0, gt=0, description="seconds for one send")


# Bases listed last come first in the model's keys: type and timeout, then slack, email, webhook.
class ChannelConfig(webhook.WebhookFields, email.EmailFields, slack.SlackFields, ChannelBase):
    """A named channel: ``type`` picks the notifier, the other keys configure it."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _complete(self) -> ChannelConfig:
        for name in SECRETS:
            given = [k for k in (name, f"{name}_env", f"{name}_file") if getattr(self, k)]
            if len(given) > 1:
                raise ValueError(f"give only one of {', '.join(given)}")
        part = PARTS.get(self.type)
        if part is None:
            return self
        for options in part.REQUIRED:
            if not any(self._has(k) for k in options):
                raise ValueError(
                    f"a {self.type} channel needs {' or '.join(repr(k) for k in options)}"
                )
        part.check(self)
        return self

    def _has(self, key: str) -> bool:
        if key in SECRETS:
            return any(getattr(self, k) for k in (key, f"{key}_env", f"{key}_file"))
        return bool(getattr(self, key))

    def describe(self) -> str:
        """Where the channel sends, with no secret in it."""
        part = PARTS.get(self.type)
        return part.describe(self) if part is not None else self.type

    def resolve_secret(self, name: str) -> str | None:
        """The secret ``name`` from the config, its ``_env`` variable or its ``_file``.

        Raises :class:`ValueError` naming the variable or file (never a value) when it is
        missing or empty.
        """
        found = self._read_secret(name)
        if found:
            register_secret(found)  # from here on, a log line that holds it is masked
        return found

    def _read_secret(self, name: str) -> str | None:
        value: SecretStr | None = getattr(self, name)
        if value is not None:
            return value.get_secret_value()
        env: str | None = getattr(self, f"{name}_env")
        if env:
            found = os.environ.get(env, "").strip()
            if not found:
                raise ValueError(f"{name}_env: environment variable {env} is not set or empty")
            return found
        path: Path | None = getattr(self, f"{name}_file")
        if path:
            return read_secret_file(path, f"{name}_file")
        return None
