"""A secret kept in a file (a mounted Docker or Kubernetes secret): read once, stripped, and
refused in one line naming the setting when it cannot be read or holds nothing."""

from __future__ import annotations

from pathlib import Path

from monitor.errors import ConfigError


def read_secret_file(path: Path, key: str) -> str:
    """The file's text without surrounding whitespace; ``key`` names the setting in errors."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {path}: {exc.strerror or exc}") from None
    if not value:
        raise ConfigError(f"{key}: {path} is empty")
    return value
