"""Settings: defaults < the YAML config file < ``MONITOR_*`` environment variables.

Relative paths in the config file (feed ``path:``, ``rules_dir``) are taken relative to the file
itself, so the same config works whatever folder the daemon is started from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

from monitor import __version__
from monitor.delivery.channels.config import ChannelConfig
from monitor.errors import ConfigError
from monitor.ingest.urls import redact_url
from monitor.service.logs import register_secret
from monitor.util.durations import parse_duration

DEFAULT_CONFIG = Path("config/monitor.yaml")
# The rule pack shipped inside the package (a link to the checkout's rules/, copied into a
# wheel), used whenever no rules_dir is configured: `monitor replay FILE` works from any folder.
PACKAGED_RULES = Path(__file__).resolve().parent / "defaults" / "rules"
DEFAULT_STORE = "sqlite:///data/monitor.db"


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = DEFAULT_STORE
    rules_dir: Path = PACKAGED_RULES
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
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    replica: ReplicaConfig = Field(default_factory=ReplicaConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
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


def config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("MONITOR_CONFIG")
    if env:
        return Path(env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, the config file (if any), the environment and ``overrides``.

    Every problem is a :class:`ConfigError` whose message fits on one line: the command line
    shows it as it is, so an operator never reads a traceback for a typo.
    """
    path = config_path(path)
    in_file: dict[str, Any] = _read_config(path) if path is not None else {}

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
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            + (did_you_mean_key(err["loc"]) if err["type"] == "extra_forbidden" else "")
            for err in exc.errors()
        ]
        raise ConfigError(f"invalid configuration{where}: " + "; ".join(problems)) from None
    password = make_url(settings.database_url).password
    if password:
        register_secret(str(password))
    return _resolve_paths(settings, path, in_file, overrides)


def _read_config(path: Path) -> dict[str, Any]:
    """The file's top-level mapping, so a YAML mistake is reported at its line, not as a
    parser traceback, and the keys it sets are known when paths are resolved."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the config must be a mapping of keys, not a {type(data).__name__}"
        )
    return data


def did_you_mean_key(loc: tuple[int | str, ...]) -> str:
    """A suggestion for a misspelt key, from the keys the settings model allows there."""
    import difflib

    model: Any = Settings
    for part in loc[:-1]:
        model = _child_model(model, part)
        if model is None:
            return ""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    keys = [f.alias or name for name, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _child_model(model: Any, part: int | str) -> Any:
    """The type one step down a validation error's location: a field, a list item, a value."""
    from typing import get_args, get_origin

    if isinstance(model, type) and issubclass(model, BaseModel):
        field = model.model_fields.get(str(part))
        if field is None:
            field = next((f for f in model.model_fields.values() if f.alias == part), None)
        return field.annotation if field is not None else None
    origin, args = get_origin(model), get_args(model)
    if origin is list and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _resolve_paths(
    settings: Settings, path: Path | None, in_file: dict[str, Any], overrides: dict[str, Any]
) -> Settings:
    """Paths the config file gives, and the defaults it leaves, are taken relative to the
    file, so the same config works whatever folder a command is run from; paths from the
    environment are the shell's, relative to the working folder."""
    base = path.parent if path is not None else Path.cwd()
    from_env = {k for k in ("MONITOR_RULES_DIR", "MONITOR_DATABASE_URL") if k in os.environ}
    if (
        "rules_dir" in in_file
        and "rules_dir" not in overrides
        and "MONITOR_RULES_DIR" not in from_env
        and not settings.rules_dir.is_absolute()
    ):
        settings.rules_dir = (base / settings.rules_dir).resolve()
    if (
        path is not None
        and "database_url" not in overrides
        and "MONITOR_DATABASE_URL" not in from_env
    ):
        settings.database_url = sqlite_relative_to(settings.database_url, base)
    for feed in settings.feeds:
        if feed.path is not None and not feed.path.is_absolute():
            feed.path = (base / feed.path).resolve()
    for channel in settings.channels.values():  # secret files and CA bundles
        for name in ("webhook_url_file", "token_file", "password_file", "secret_file", "ca_file"):
            value = getattr(channel, name, None)
            if value is not None and not value.is_absolute():
                setattr(channel, name, (base / value).resolve())
    return settings


def sqlite_relative_to(url: str, base: Path) -> str:
    """A SQLite URL whose file path is relative, made absolute against ``base``; any other
    URL as it is."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    absolute = str((base / database).resolve())
    return parsed.set(database=absolute).render_as_string(hide_password=False)
