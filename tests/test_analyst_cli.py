"""`alerts list` filters, and `feeds check` trying one feed without storing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import RULES, SEED_FILES, SEEDS
from tests.httpserver import LocalServer, Reply


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store holding the seed story's alerts: two high-severity rules, one story."""
    db = f"sqlite:///{tmp_path_factory.mktemp('alerts') / 'm.db'}"
    result = CliRunner().invoke(
        cli, ["replay", "--db", db, "--rules", str(RULES), *map(str, SEED_FILES)]
    )
    assert result.exit_code == 0, result.output
    return db


def listed(db: str, *args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["alerts", "list", "--json", "--db", db, *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_alerts_list_filters(seeded: str) -> None:
    every = listed(seeded)
    assert {a["rule"] for a in every} == {"dprk-overseas-labor", "dprk-oil-transfer"}
    assert [a["rule"] for a in listed(seeded, "--rule", "dprk-oil-transfer")] == [
        "dprk-oil-transfer"
    ]
    assert len(listed(seeded, "--rule", "dprk-oil-transfer", "--rule", "dprk-overseas-labor")) == 2
    assert len(listed(seeded, "--severity", "high")) == 2
    assert len(listed(seeded, "--severity", "medium")) == 2  # or higher
    assert listed(seeded, "--severity", "critical") == []
    story = every[0]["story"]
    assert len(listed(seeded, "--story", story)) == 2
    assert listed(seeded, "--story", "st-none") == []
    assert len(listed(seeded, "--since", "1h")) == 2
    newest = listed(seeded, "--limit", "1")
    assert [a["id"] for a in newest] == [every[-1]["id"]]


def test_alerts_list_rejects_a_bad_filter(seeded: str) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["alerts", "list", "--db", seeded, "--since", "soon"])
    assert bad.exit_code == 2 and "not a duration" in bad.output
    bad = runner.invoke(cli, ["alerts", "list", "--db", seeded, "--severity", "urgent"])
    assert bad.exit_code == 2 and "'urgent' is not one of" in bad.output


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    data = {
        "database_url": f"sqlite:///{tmp_path / 'm.db'}",
        "rules_dir": str(RULES),
        "http": {"allow_networks": ["127.0.0.1/32"]},
    }
    path.write_text(yaml.safe_dump(data))
    return path


def test_feeds_check_shows_a_feed_over_http_and_stores_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with LocalServer(SEEDS) as server:
        url = server.url("/feeds/daily-ledger.rss")
        result = CliRunner().invoke(cli, ["-c", str(config), "feeds", "check", url])
        as_json = CliRunner().invoke(cli, ["-c", str(config), "feeds", "check", "--json", url])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("The Daily Ledger  [rss20]")
    assert "Russia allowing thousands of North Korean workers" in result.stdout
    assert "2019-08-01T22:15:00+00:00 · 2074 chars of text" in result.stdout
    assert "4 entry/entries" in result.stderr
    shown = json.loads(as_json.stdout)
    assert shown["title"] == "The Daily Ledger" and len(shown["entries"]) == 4
    assert {"title", "published", "url", "text_length"} <= set(shown["entries"][0])
    assert not (tmp_path / "m.db").exists()


def test_feeds_check_lists_problems_and_fails_on_a_non_feed(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    undated = tmp_path / "undated.rss"
    undated.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>A report</title><description>Words here.</description></item>"
        "</channel></rss>"
    )
    result = CliRunner().invoke(cli, ["-c", str(config), "feeds", "check", str(undated)])
    assert result.exit_code == 0, result.output
    assert "problem: 1 entry/entries without a date" in result.stderr
    with LocalServer() as server:
        server.handlers["/page"] = lambda _request: Reply(
            200, b"<html><body>hello</body></html>", {"Content-Type": "text/html"}
        )
        server.handlers["/gone"] = lambda _request: Reply(404, b"no")
        for path in ("/page", "/gone"):
            failed = CliRunner().invoke(
                cli, ["-c", str(config), "feeds", "check", server.url(path)]
            )
            assert failed.exit_code == 1, failed.output
            assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    missing = CliRunner().invoke(cli, ["-c", str(config), "feeds", "check", "nope.rss"])
    assert missing.exit_code == 1 and "not an http(s) URL nor a file" in missing.stderr


def test_a_silence_for_a_rule_that_does_not_exist_is_refused(tmp_path):
    from click.testing import CliRunner

    from monitor.cli import cli

    db = f"sqlite:///{tmp_path / 'silence.db'}"
    run = CliRunner().invoke
    typo = run(cli, ["silence", "add", "--rule", "dprk-oil-transfers", "--reason", "x", "--db", db])
    assert typo.exit_code == 2 and "did you mean 'dprk-oil-transfer'" in typo.output
    assert "Traceback" not in typo.output
    kept = run(cli, ["silence", "add", "--rule", "feed-health", "--reason", "noisy", "--db", db])
    assert kept.exit_code == 0, kept.output
