"""The config file's sections other than channels (feeds, routes, delivery, http, server,
replica, retention): each a model that refuses unknown keys and says what it expected."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from monitor import __version__
from monitor.ingest.urls import redact_url
from monitor.util.durations import parse_duration


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
        if not self.name:  # a name is shown everywhere: never with the URL's credentials
            self.name = redact_url(self.url) if self.url else str(self.path)
        return self

    @property
    def location(self) -> str:
        return self.url or str(self.path)


def _seconds(value: Any) -> float:
    """A duration in config: a number of seconds or text such as "30s", "5m", "1h"."""
    if isinstance(value, str):
        try:
            return float(value)  # plain seconds, as an environment variable gives them
        except ValueError:
            return parse_duration(value).total_seconds()
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(ge=0)]


class DeliveryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age: Seconds = Field(default=86400.0, description="retry a failed send for this long")
    backoff: Seconds = Field(default=30.0, description="first retry delay; doubles each time")
    max_backoff: Seconds = 3600.0


class RouteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(default_factory=list, description="rule ids; empty means any")
    severities: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict, description="rule labels to match")
    channels: list[str]
    updates: Literal["each", "digest", "none"] = "each"
    mode: Literal["immediate", "digest"] = "immediate"
    group_wait: Seconds = Field(default=0.0, description="wait before a story's first message")
    group_interval: Seconds = Field(default=60.0, description="wait before a follow-up")
    digest_interval: Seconds = Field(default=3600.0, description="one digest per channel per")
    repeat_interval: Seconds = Field(
        default=0.0, description="with updates: none, re-announce a growing story after; 0: never"
    )
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("severities")
    @classmethod
    def _known_severities(cls, value: list[str]) -> list[str]:
        from monitor.detect.rules.model import SEVERITIES

        for name in value:
            if name not in SEVERITIES:
                raise ValueError(f"unknown severity {name!r}; use one of {', '.join(SEVERITIES)}")
        return value


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


class ServerConfig(BaseModel):
    """The operator's HTTP endpoint: /healthz, /readyz and /metrics."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = Field(default="127.0.0.1", description="0.0.0.0 in a container")
    port: int = Field(default=8080, ge=0, le=65535, description="0 picks a free port")


class ReplicaConfig(BaseModel):
    """How replicas against one PostgreSQL store share the work."""

    model_config = ConfigDict(extra="forbid")

    lease: Seconds = Field(
        default=300.0, gt=0, description="a claimed feed or send is another's after this long"
    )
    shutdown_timeout: Seconds = Field(
        default=8.0, gt=0, description="on SIGTERM, wait this long for work in flight"
    )


class RetentionConfig(BaseModel):
    """``monitor db prune`` and its scheduled run: old articles no alert cites are deleted."""

    model_config = ConfigDict(extra="forbid")

    articles: Seconds = Field(default=90 * 86400.0, description="keep this long; 0: forever")
    interval: Seconds = Field(default=86400.0, gt=0, description="how often the daemon prunes")


class ConsoleConfig(BaseModel):
    """The analyst console on the server's port: who may read it and judge alerts."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    token: SecretStr | None = Field(default=None, description="required on every page and API call")
    token_file: Path | None = Field(default=None, description="a file holding the token")
    basic_auth_file: Path | None = Field(
        default=None, description="'user:password' lines, for HTTP basic authentication"
    )
    page_size: int = Field(default=50, ge=1, le=500, description="stories a page")
