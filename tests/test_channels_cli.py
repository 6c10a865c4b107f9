"""``monitor channels test NAME`` through real channels, and channel config with secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import ChannelConfig, load_settings
from monitor.delivery.channels.build import BrokenChannel, build_channel
from monitor.delivery.channels.email import EmailNotifier
from monitor.delivery.channels.slack import SlackNotifier
from monitor.errors import ConfigError
from monitor.service.cycle import build_notifiers
from tests.httpserver import LocalServer, Reply
from tests.test_notify_email import Inbox, Server, _serve
from tests.test_notify_slack import FakeSlack, problems

SLACK_PATH = "/services/T000/B000/XXXX"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with LocalServer() as server:
        yield FakeSlack(server)


@pytest.fixture
def smtp() -> Iterator[Server]:
    yield from _serve(Inbox())


def write_config(tmp_path: Path, channels: dict) -> Path:
    path = tmp_path / "monitor.yaml"
    config = {
        "database_url": f"sqlite:///{tmp_path / 'monitor.db'}",
        "channels": channels,
        "routes": [{"channels": list(channels)}],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def run(config: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["--config", str(config), "channels", *args], env=env)


def test_slack_test_message_arrives(tmp_path: Path, slack: FakeSlack) -> None:
    config = write_config(
        tmp_path, {"team": {"type": "slack", "webhook_url_env": "TEST_SLACK_WEBHOOK"}}
    )
    result = run(config, "test", "team", env={"TEST_SLACK_WEBHOOK": slack.webhook_url})
    assert result.exit_code == 0, result.output
    assert "test message sent" in result.output
    [payload] = slack.arrived
    assert problems(payload) == [] and "Channel test" in payload["blocks"][0]["text"]["text"]
    assert "XXXX" not in result.output


def test_slack_failure_says_what_failed(tmp_path: Path, slack: FakeSlack) -> None:
    slack.failures.append(Reply(404, b"no_service"))
    secret = tmp_path / "webhook"
    secret.write_text(slack.webhook_url + "\n")
    config = write_config(tmp_path, {"team": {"type": "slack", "webhook_url_file": str(secret)}})
    result = run(config, "test", "team")
    assert result.exit_code == 1
    assert "FAILED (permanent" in result.output and "404: no_service" in result.output
    assert "XXXX" not in result.output


def test_missing_secret_is_reported(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"team": {"type": "slack", "token_env": "NO_SUCH_VAR_X"}})
    # a bot token needs a channel: the config itself is refused, naming the key
    result = run(config, "test", "team", env={"NO_SUCH_VAR_X": ""})
    assert result.exit_code == 1 and "needs 'channel:'" in result.output
    config = write_config(
        tmp_path, {"team": {"type": "slack", "token_env": "NO_SUCH_VAR_X", "channel": "C1"}}
    )
    result = run(config, "test", "team", env={"NO_SUCH_VAR_X": ""})
    assert result.exit_code == 1
    assert "environment variable NO_SUCH_VAR_X is not set" in result.output
    assert "temporary" not in result.output and "provide the secret" in result.output


def test_email_test_message_and_list(tmp_path: Path, smtp: Server) -> None:
    config = write_config(
        tmp_path,
        {
            "mail": {
                "type": "email",
                "host": "127.0.0.1",
                "port": smtp.port,
                "security": "plain",
                "sender": "monitor@example.org",
                "recipients": ["a@example.org", "b@example.org"],
                "password_env": "TEST_SMTP_PASSWORD",
                "username": "",
            }
        },
    )
    result = run(config, "test", "mail", env={"TEST_SMTP_PASSWORD": "pw-123"})
    assert result.exit_code == 0, result.output
    [(rcpts, mail)] = smtp.inbox.mails
    assert rcpts == ["a@example.org", "b@example.org"]
    assert mail["Subject"].strip() == "[INFO] channel-test: Test message for channel mail"
    listing = run(config, "list", env={"TEST_SMTP_PASSWORD": "pw-123"})
    assert "mail\temail plain://127.0.0.1" in listing.output and "pw-123" not in listing.output


def test_email_connection_refused(tmp_path: Path) -> None:
    from tests.test_notify_email import free_port

    config = write_config(
        tmp_path,
        {"mail": {"type": "email", "host": "127.0.0.1", "port": free_port(),
                  "security": "plain", "sender": "m@example.org", "recipients": ["a@x.org"]}},
    )  # fmt: skip
    result = run(config, "test", "mail")
    assert result.exit_code == 1
    assert "FAILED (temporary" in result.output and "cannot connect" in result.output


def test_unknown_channel(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"console": {"type": "console"}})
    result = run(config, "test", "nope")
    assert result.exit_code == 1 and "no channel named 'nope' (channels: console)" in result.output


def test_config_validation_and_secrets(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(ValueError, match="needs 'webhook_url' or 'token'"):
        ChannelConfig(type="slack")
    with pytest.raises(ValueError, match="give only one of token, token_env"):
        ChannelConfig(type="slack", token="x", token_env="Y", channel="C1")
    with pytest.raises(ValueError, match="needs 'recipients'"):
        ChannelConfig(type="email", host="h", sender="s@x.org")
    config = ChannelConfig(type="slack", token="xoxb-very-secret", channel="C1")
    assert "xoxb-very-secret" not in repr(config) and "xoxb-very-secret" not in str(config)
    monkeypatch.setenv("MONITOR_TEST_HOOK_SECRET", "hunter2")
    hook = ChannelConfig(
        type="webhook", url="https://h.example/x", secret_env="MONITOR_TEST_HOOK_SECRET"
    )
    assert hook.resolve_secret("secret") == "hunter2"
    path = write_config(tmp_path, {"hook": {"type": "webhook", "url": "ftp://x"}})
    with pytest.raises(ConfigError, match="webhook url must start with http"):
        load_settings(path)


def test_build_notifiers_wires_every_type(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MONITOR_TEST_TOKEN", "xoxb-1")
    path = write_config(
        tmp_path,
        {
            "console": {"type": "console"},
            "slack": {"type": "slack", "token_env": "MONITOR_TEST_TOKEN", "channel": "C1"},
            "mail": {"type": "email", "host": "h", "sender": "s@x.org", "recipients": ["a@x.org"]},
            "broken": {"type": "slack", "webhook_url_env": "MONITOR_TEST_UNSET_VAR"},
        },
    )
    notifiers = build_notifiers(load_settings(path))
    assert isinstance(notifiers["slack"], SlackNotifier)
    assert isinstance(notifiers["mail"], EmailNotifier) and notifiers["mail"].port == 587
    assert isinstance(notifiers["broken"], BrokenChannel)
    assert "MONITOR_TEST_UNSET_VAR" in notifiers["broken"].reason
    assert json.dumps(repr(notifiers["slack"])).find("xoxb-1") == -1
    assert isinstance(build_channel("c", ChannelConfig(type="webhook", url="http://h/x")), object)


def test_seed_story_reaches_slack_through_the_outbox(tmp_path: Path, slack: FakeSlack) -> None:
    """The daemon's own path: config -> build_notifiers -> outbox -> Slack bot, threaded."""
    from monitor.service.cycle import Service
    from monitor.service.replay import read_articles
    from tests.conftest import RULES, SEED_FILES

    path = write_config(
        tmp_path,
        {
            "team": {
                "type": "slack",
                "token_env": "MONITOR_TEST_SLACK_TOKEN",
                "channel": "C1",
                "api_base": slack.api_base,
            }
        },
    )
    config = yaml.safe_load(path.read_text())
    config["rules_dir"] = str(RULES)
    path.write_text(yaml.safe_dump(config))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MONITOR_TEST_SLACK_TOKEN", FakeSlack.TOKEN)
        service = Service(load_settings(path))
    try:
        for seed in SEED_FILES:
            result = service.pipeline.ingest(list(read_articles(seed)))
            service.notify(result.changed_alerts)
            service.deliver()
    finally:
        service.close()
    # the labor alert first, then the oil alert on the same story (a second rule's first
    # notice); the labor alert's second source waits for the route's group_interval
    assert slack.rejected == []
    assert [p["text"].split(":")[0] for p in slack.arrived] == [
        "[HIGH] dprk-overseas-labor",
        "[HIGH] dprk-oil-transfer",
    ]
    assert "Russia allowing thousands" in slack.arrived[0]["text"]
