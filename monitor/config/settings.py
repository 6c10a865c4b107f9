"""The settings as a whole: defaults < the YAML config file < ``MONITOR_*`` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    SettingsConfigDict,
)

from monitor.config.sections import (
    ConsoleConfig,
    DeliveryConfig,
    FeedConfig,
    HttpConfig,
    ReplicaConfig,
    RetentionConfig,
    RouteConfig,
    ServerConfig,
)
from monitor.delivery.channels.config import ChannelConfig

DEFAULT_CONFIG = Path("config/monitor.yaml")
# The rule pack shipped inside the package (a link to the checkout's rules/, copied into a
# wheel), used whenever no rules_dir is configured: `monitor replay FILE` works from any folder.
PACKAGED_RULES = Path(__file__).resolve().parent.parent / "defaults" / "rules"
DEFAULT_STORE = "sqlite:///data/monitor.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = DEFAULT_STORE
    # A file holding the URL (a mounted secret: the URL carries the database password); when
    # set, it wins over database_url.
    database_url_file: Path | None = None
    rules_dir: Path = PACKAGED_RULES
    tick: int = Field(default=60, ge=1, description="seconds between scheduler ticks")
    poll_interval: int = Field(default=900, ge=10, description="default seconds between polls")
    rules_reload: float = Field(default=5, gt=0, description="seconds between rule file checks")
    story_window_days: float = 14.0  # from a story's latest report
    # "matched": only articles that match a rule form stories (a story exists to give an event
    # one alert); "all": every article, for analysts who browse stories of all the news.
    story_scope: Literal["matched", "all"] = "matched"
    feeds: list[FeedConfig] = Field(default_factory=list)
    channels: dict[str, ChannelConfig] = Field(
        default_factory=lambda: {"console": ChannelConfig(type="console")}
    )
    routes: list[RouteConfig] = Field(default_factory=lambda: [RouteConfig(channels=["console"])])
    http: HttpConfig = Field(default_factory=HttpConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    replica: ReplicaConfig = Field(default_factory=ReplicaConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    log_format: Literal["text", "json"] = "text"

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
