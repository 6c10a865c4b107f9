"""Config: defaults < file < environment, relative paths, and errors that name the key."""

from pathlib import Path

import pytest
import yaml

from monitor.config import load_settings
from monitor.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "monitor.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_file_then_environment(tmp_path, monkeypatch):
    path = write(tmp_path, "poll_interval: 600\nfeeds:\n  - path: feeds/a.rss\n")
    monkeypatch.delenv("MONITOR_POLL_INTERVAL", raising=False)
    settings = load_settings(path)
    assert settings.poll_interval == 600
    assert settings.feeds[0].path == (path.parent / "feeds" / "a.rss").resolve()
    assert settings.feeds[0].name == "feeds/a.rss"
    monkeypatch.setenv("MONITOR_POLL_INTERVAL", "1200")
    monkeypatch.setenv("MONITOR_HTTP__TIMEOUT", "5")
    settings = load_settings(path)
    assert settings.poll_interval == 1200
    assert settings.http.timeout == 5.0


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    settings = load_settings(None)
    assert settings.database_url == "sqlite:///data/monitor.db"
    assert list(settings.channels) == ["console"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("feeds:\n  - name: x\n", "feeds.0: Value error, a feed needs exactly one of 'url:'"),
        ("feeds:\n  - url: ftp://x/feed\n", "feed url must start with http:// or https://"),
        ("poll_interval: soon\n", "poll_interval: Input should be a valid integer"),
        ("routes:\n  - channels: [slack]\n", "unknown channel 'slack' (channels: console)"),
        ("pol_interval: 5\n", "pol_interval: Extra inputs are not permitted"),
    ],
)
def test_errors_name_the_key(tmp_path, text, expected):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert expected in str(info.value)
    assert "monitor.yaml" in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_channel_secret_files_are_relative_to_the_config_file(tmp_path):
    path = write(
        tmp_path,
        "channels:\n  hook:\n    type: webhook\n    url: https://example.org/h\n"
        "    secret_file: secrets/hook\nroutes:\n  - channels: [hook]\n",
    )
    settings = load_settings(path)
    assert settings.channels["hook"].secret_file == (path.parent / "secrets" / "hook").resolve()


def test_config_show_redacts_secrets(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from monitor.cli import cli

    path = write(
        tmp_path,
        "channels:\n  hook:\n    type: webhook\n    url: https://example.org/h\n"
        "    secret: s3cr3t-value\nroutes:\n  - channels: [hook]\n",
    )
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+psycopg://app:hunter2@db:5432/monitor")
    result = CliRunner().invoke(cli, ["-c", str(path), "config", "show"])
    assert result.exit_code == 0, result.output
    assert "s3cr3t-value" not in result.output and "hunter2" not in result.output
    shown = yaml.safe_load(result.output)
    assert shown["channels"]["hook"]["secret"] == "**********"
    assert shown["database_url"] == "postgresql+psycopg://app:***@db:5432/monitor"
    assert shown["routes"][0]["channels"] == ["hook"]


def test_the_production_example_is_a_valid_config(monkeypatch):
    """The example operators copy must load as it stands (its secrets come from the env)."""
    from tests.conftest import ROOT

    settings = load_settings(ROOT / "config" / "production.example.yaml")
    assert settings.server.host == "0.0.0.0" and settings.log_format == "json"
    assert settings.retention.articles == 90 * 86400
    assert set(settings.channels) == {"analysts-slack", "analysts-mail"}
    assert settings.channels["analysts-slack"].token is None  # named, never written there


def test_the_store_and_rules_in_the_file_are_relative_to_the_file(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("MONITOR_RULES_DIR", raising=False)
    path = write(tmp_path, "database_url: sqlite:///data/x.db\nrules_dir: my-rules\n")
    settings = load_settings(path)
    assert settings.database_url == f"sqlite:///{(path.parent / 'data' / 'x.db').resolve()}"
    assert settings.rules_dir == (path.parent / "my-rules").resolve()


def test_the_default_store_is_beside_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    path = write(tmp_path, "tick: 30\n")
    settings = load_settings(path)
    assert settings.database_url == f"sqlite:///{(path.parent / 'data/monitor.db').resolve()}"


def test_paths_from_the_environment_are_the_shells(tmp_path, monkeypatch):
    monkeypatch.setenv("MONITOR_DATABASE_URL", "sqlite:///here.db")
    settings = load_settings(write(tmp_path, "database_url: sqlite:///data/x.db\n"))
    assert settings.database_url == "sqlite:///here.db"
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+psycopg://u@db/monitor")
    assert load_settings(write(tmp_path, "")).database_url == "postgresql+psycopg://u@db/monitor"


def test_without_rules_dir_the_packaged_rule_pack_is_used(tmp_path, monkeypatch):
    from monitor.config import PACKAGED_RULES
    from tests.conftest import RULES

    monkeypatch.delenv("MONITOR_RULES_DIR", raising=False)
    assert load_settings(write(tmp_path, "tick: 30\n")).rules_dir == PACKAGED_RULES
    for pattern in ("*.yaml", "*.json"):  # rules and lexicons; gate models
        shipped = sorted(p.relative_to(PACKAGED_RULES) for p in PACKAGED_RULES.rglob(pattern))
        assert shipped == sorted(p.relative_to(RULES) for p in RULES.rglob(pattern))
    pyproject = (RULES.parent / "pyproject.toml").read_text()
    for pattern in ("*.yaml", "lexicon/*.yaml", "models/*.json"):
        assert f'"defaults/rules/{pattern}"' in pyproject, pattern
    # Every file the rules name is one of those patterns, so a wheel holds it.
    assert {p.suffix for p in RULES.rglob("*") if p.is_file()} <= {".yaml", ".json"}


def test_a_yaml_mistake_is_one_line_with_its_position(tmp_path):
    path = write(tmp_path, "tick: 30\nfeeds:\n  - name: a\n    url: [oops\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value).startswith(f"{path}:5:1: invalid YAML")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="must be a mapping of keys, not a list"):
        load_settings(write(tmp_path, "- a\n- b\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pol_interval: 5\n", "pol_interval: Extra inputs are not permitted (did you mean "),
        ("http:\n  timout: 3\n", "http.timout: Extra inputs are not permitted (did you mean"),
        ("feeds:\n  - path: a\n    intervall: 60\n", "(did you mean 'interval'?)"),
        ("routes:\n  - channels: [console]\n    continu: true\n", "(did you mean 'continue'?)"),
    ],
)
def test_a_misspelt_key_gets_a_suggestion(tmp_path, text, expected):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_commands_work_from_any_folder(tmp_path, monkeypatch):
    """With -c, a command run elsewhere finds the store beside the config; with no config
    file, it says which defaults it runs on, and replay uses the packaged rules."""
    from click.testing import CliRunner

    from monitor.cli import cli
    from tests.conftest import SEED_FILES

    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.delenv("MONITOR_RULES_DIR", raising=False)
    path = write(tmp_path, "database_url: sqlite:///data/m.db\n")
    store = (path.parent / "data" / "m.db").resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runner = CliRunner()
    assert runner.invoke(cli, ["-c", str(path), "db", "upgrade"]).exit_code == 0
    status = runner.invoke(cli, ["-c", str(path), "status"])
    assert status.exit_code == 0, status.output
    assert f"store     sqlite:///{store}" in status.output
    assert list(elsewhere.iterdir()) == []

    replay = runner.invoke(cli, ["replay", *map(str, SEED_FILES)])
    assert replay.exit_code == 0, replay.output
    assert "Alert al-" in replay.stdout
    assert "no config file" in replay.stderr and "built-in defaults" in replay.stderr
    assert "defaults/rules" in replay.stderr


def test_database_url_from_a_secret_file(tmp_path, monkeypatch):
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("MONITOR_DATABASE_URL_FILE", raising=False)
    path = write(tmp_path, "database_url_file: secrets/db\n")
    (path.parent / "secrets").mkdir()
    (path.parent / "secrets" / "db").write_text("postgresql+psycopg://m:pw-in-file@db/m\n")
    assert load_settings(path).database_url == "postgresql+psycopg://m:pw-in-file@db/m"
    from monitor.service.logs import redact

    assert "pw-in-file" not in redact("postgresql+psycopg://m:pw-in-file@db/m")
    (path.parent / "secrets" / "db").unlink()
    with pytest.raises(ConfigError, match=r"database_url_file: cannot read .*secrets/db"):
        load_settings(path)
