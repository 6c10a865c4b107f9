"""Finding and reading the config file: a YAML or schema mistake becomes one ``ConfigError``
at ``file:line:col`` with a suggestion, and relative paths are taken against the file itself,
so the same config works whatever folder the daemon is started from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    YamlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

from monitor.config.settings import DEFAULT_CONFIG, Settings
from monitor.errors import ConfigError
from monitor.service.logs import register_secret
from monitor.util.secrets import read_secret_file


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
    if settings.database_url_file is not None:
        settings.database_url = _url_from_file(settings.database_url_file, path)
    password = make_url(settings.database_url).password
    if password:
        register_secret(str(password))
    return _resolve_paths(settings, path, in_file, overrides)


def _url_from_file(file: Path, config: Path | None) -> str:
    """The store URL kept in a secret file; relative to the config file, like its other paths."""
    if not file.is_absolute() and config is not None:
        file = config.parent / file
    return read_secret_file(file, "database_url_file")


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
    for name in ("token_file", "basic_auth_file"):  # the console's secret files
        value = getattr(settings.console, name)
        if value is not None and not value.is_absolute():
            setattr(settings.console, name, (base / value).resolve())
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
