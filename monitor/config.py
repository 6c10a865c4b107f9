"""Settings: defaults < the YAML config file < ``MONITOR_*`` environment variables.

Relative paths in the config file (feed ``path:``, ``rules_dir``) are taken relative to the file
itself, so the same config works whatever folder the daemon is started from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from monitor import __version__

DEFAULT_CONFIG = Path("config/monitor.yaml")


class FeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    url: str | None = None
    path: Path | None = None
    source: str = ""  # the outlet's name in citations; default: the feed's own title
    interval: int | None = Field(default=None, ge=10, description="seconds between polls")
    full_text: bool = True

    @model_validator(mode="after")
    def _one_location(self) -> FeedConfig:
        if (self.url is None) == (self.path is None):
            raise ValueError("a feed needs exactly one of 'url:' (http/https) or 'path:' (a file)")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"feed url must start with http:// or https://, got {self.url!r}")
        if not self.name:
            self.name = self.url or str(self.path)
        return self

    @property
    def location(self) -> str:
        return self.url or str(self.path)


class ChannelConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["console"] = "console"


class RouteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(default_factory=list, description="rule ids; empty means any")
    severities: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict, description="rule labels to match")
    channels: list[str]
    updates: Literal["each", "none"] = "each"
    continue_: bool = Field(default=False, alias="continue")


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout: float = 20.0
    connect_timeout: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    user_agent: str = f"sanctions-monitor/{__version__} (news feed poller)"
    concurrency: int = 8
    per_host: int = Field(default=2, ge=1, description="requests at once to one host")
    deadline: float = Field(default=60.0, gt=0, description="seconds for a whole response")
    jitter: float = Field(default=0.1, ge=0, le=0.5, description="+/- share of the interval")
    allow_private: bool = False  # fetch loopback/private addresses (SSRF guard off)
    allow_networks: list[str] = Field(default_factory=list, description="e.g. 10.0.0.0/8")

    @model_validator(mode="after")
    def _networks(self) -> HttpConfig:
        import ipaddress  # only here: the rest of the config needs no address parsing

        for value in self.allow_networks:
            try:
                ipaddress.ip_network(value.strip(), strict=False)
            except ValueError:
                raise ValueError(f"allow_networks: not an address or network: {value!r}") from None
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = "sqlite:///data/monitor.db"
    rules_dir: Path = Path("rules")
    tick: int = Field(default=60, ge=1, description="seconds between scheduler ticks")
    poll_interval: int = Field(default=900, ge=10, description="default seconds between polls")
    rules_reload: float = Field(default=5, gt=0, description="seconds between rule file checks")
    story_window_days: float = 7.0
    feeds: list[FeedConfig] = Field(default_factory=list)
    channels: dict[str, ChannelConfig] = Field(
        default_factory=lambda: {"console": ChannelConfig(type="console")}
    )
    routes: list[RouteConfig] = Field(default_factory=lambda: [RouteConfig(channels=["console"])])
    http: HttpConfig = Field(default_factory=HttpConfig)

    @model_validator(mode="after")
    def _routes_name_channels(self) -> Settings:
        for i, route in enumerate(self.routes):
            for name in route.channels:
                if name not in self.channels:
                    known = ", ".join(sorted(self.channels)) or "none"
                    raise ValueError(
                        f"routes[{i}].channels: unknown channel '{name}' (channels: {known})"
                    )
        return self


class ConfigError(ValueError):
    """The config file or environment does not hold valid settings."""


def config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("MONITOR_CONFIG")
    if env:
        return Path(env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, the config file (if any), the environment and ``overrides``."""
    path = config_path(path)
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if path is not None:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
            return tuple(sources)

    try:
        settings = _FileSettings(**overrides)
    except ValidationError as exc:
        where = f" in {path}" if path else ""
        lines = [
            f"  {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigError(f"invalid configuration{where}:\n" + "\n".join(lines)) from None
    return _resolve_paths(settings, path)


def _resolve_paths(settings: Settings, path: Path | None) -> Settings:
    """Make the file's relative paths relative to the file; the rest to the working folder."""
    base = path.parent if path is not None else Path.cwd()
    in_file = path is not None and "rules_dir" in (yaml.safe_load(path.read_text()) or {})
    if in_file and "MONITOR_RULES_DIR" not in os.environ and not settings.rules_dir.is_absolute():
        settings.rules_dir = (base / settings.rules_dir).resolve()
    for feed in settings.feeds:
        if feed.path is not None and not feed.path.is_absolute():
            feed.path = (base / feed.path).resolve()
    return settings
