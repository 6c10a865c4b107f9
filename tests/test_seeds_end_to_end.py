"""The walking skeleton's promise: the two seed reports give exactly two alerts, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import FeedConfig
from tests.conftest import ROOT, SEED_FILES, SEEDS, ConsoleCapture, make_settings

LABOR, OIL = "dprk-overseas-labor", "dprk-oil-transfer"
FEEDS = {"daily-ledger": "/feeds/daily-ledger.rss", "global-wire": "/feeds/global-wire.atom"}
SEED_LINKS = {
    "https://daily-ledger.example/asia-pacific/2019/08/01/russia-north-korean-workers",
    "https://global-wire.example/world/2019/08/02/russia-north-korea-workers-sanctions",
}


def alert_blocks(console: str) -> list[str]:
    return [block for block in console.split("\n\n") if block.startswith(("ALERT", "UPDATE"))]


def test_seed_feeds_over_http_give_two_alerts_once(seed_server, db_url):
    feeds = [FeedConfig(name=n, url=seed_server.url(p)) for n, p in FEEDS.items()]
    capture = ConsoleCapture(make_settings(db_url, feeds))
    service = capture.service()
    report = service.cycle(force=True)

    assert report.feeds == 2 and report.failed_feeds == 0
    assert seed_server.hits("/feeds/daily-ledger.rss") == 1
    blocks = alert_blocks(capture.take())
    assert len(blocks) == 2, blocks
    labor = next(b for b in blocks if f"Rule:    {LABOR}" in b)
    oil = next(b for b in blocks if f"Rule:    {OIL}" in b)
    assert "Sources: 2" in labor
    assert "The Daily Ledger" in labor and "Global Wire" in labor
    assert all(link in labor for link in SEED_LINKS)
    assert "> Over 10,000 *new North Korean workers* have *registered* in *Russia*" in labor
    assert "Sources: 1" in oil and "Global Wire" in oil and "The Daily Ledger" not in oil
    assert "*illegal transfers* of *oil* to *North Korean* ships" in oil

    # The same feeds again: nothing new is stored, nothing is sent.
    again = service.cycle(force=True)
    assert again.ingest.new == 0 and seed_server.hits("/feeds/daily-ledger.rss") == 2
    assert alert_blocks(capture.take()) == []
    service.close()


def test_alerts_list_json_shape(seed_server, db_url):
    feeds = [FeedConfig(name=n, url=seed_server.url(p)) for n, p in FEEDS.items()]
    capture = ConsoleCapture(make_settings(db_url, feeds))
    capture.service().cycle(force=True)
    result = CliRunner().invoke(cli, ["alerts", "list", "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    alerts = {a["rule"]: a for a in map(json.loads, result.output.splitlines())}
    assert set(alerts) == {LABOR, OIL}
    labor = alerts[LABOR]
    assert labor["severity"] == "high"
    assert labor["headline"] == (
        "Russia allowing thousands of North Korean workers into the country: report"
    )
    assert {c["url"] for c in labor["citations"]} == SEED_LINKS
    assert {c["source"] for c in labor["citations"]} == {"The Daily Ledger", "Global Wire"}
    for citation in labor["citations"]:
        assert set(citation) >= {"id", "source", "title", "url", "published", "sentences"}
        assert citation["published"].startswith("2019-08-0")
        assert citation["sentences"]
    assert [c["source"] for c in alerts[OIL]["citations"]] == ["Global Wire"]
    assert alerts[LABOR]["story"] == alerts[OIL]["story"]


def _replay(args: list[str]) -> list[dict]:
    result = CliRunner().invoke(cli, ["replay", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _check_seed_alerts(alerts: list[dict], ids: list[str]) -> None:
    by_rule = {a["rule"]: a for a in alerts}
    assert sorted(by_rule) == sorted([LABOR, OIL])
    assert [c["id"] for c in by_rule[LABOR]["citations"]] == ids
    assert [c["id"] for c in by_rule[OIL]["citations"]] == ids[1:]


def test_replay_text_files_twice_with_same_db(tmp_path):
    db = f"sqlite:///{tmp_path / 'replay.db'}"
    paths = [str(p) for p in SEED_FILES]
    _check_seed_alerts(_replay([*paths, "--db", db]), [p.name for p in SEED_FILES])
    assert _replay([*paths, "--db", db]) == []


def test_replay_jsonl_gives_the_same_alerts(tmp_path):
    lines = [
        {
            "id": "seed-a",
            "text": SEED_FILES[0].read_text(encoding="utf-8"),
            "published": "2019-08-01T22:15:00Z",
        },
        {
            "id": "seed-b",
            "text": SEED_FILES[1].read_text(encoding="utf-8"),
            "source": "Second outlet",
            "published": "2019-08-02",
        },
    ]
    path = tmp_path / "seeds.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    _check_seed_alerts(_replay([str(path)]), ["seed-a", "seed-b"])


def test_replay_reports_a_bad_line_by_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n{"title": "no text"}\n')
    result = CliRunner().invoke(cli, ["replay", str(path)])
    assert result.exit_code != 0
    assert f"{path}:2: 'text' is required" in result.output


def test_run_once_on_the_default_config(tmp_path):
    """What `make run` starts: the default config, seed feeds as files, console output."""
    env = {**os.environ, "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    env.pop("MONITOR_CONFIG", None)
    command = [sys.executable, "-m", "monitor", "run", "--once"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    blocks = alert_blocks(first.stdout)
    assert len(blocks) == 2, first.stdout
    assert any(LABOR in b and "Sources: 2" in b for b in blocks)
    assert any(OIL in b and "Sources: 1" in b for b in blocks)
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert alert_blocks(second.stdout) == []
    assert "0 new article(s)" in second.stderr


def test_seed_files_are_the_shared_seeds_unchanged():
    shared = ROOT.parent / "shared" / "seeds"
    assert len(SEED_FILES) == 2
    if shared.is_dir():  # beside a checkout on CI and developer machines
        for path in SEED_FILES:
            assert path.read_bytes() == (shared / path.name).read_bytes()
    assert (SEEDS / "feeds" / "daily-ledger.rss").is_file()


def test_json_logging_makes_console_alerts_json_lines(tmp_path):
    """Under MONITOR_LOG_FORMAT=json a log collector reads stdout and stderr alike: every line
    is one JSON object, and each alert message is one of them."""
    env = {
        **os.environ,
        "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'j.db'}",
        "MONITOR_LOG_FORMAT": "json",
    }
    env.pop("MONITOR_CONFIG", None)
    command = [sys.executable, "-m", "monitor", "run", "--once"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert messages and all(m["type"] == "alert" for m in messages)
    rules = {a["rule"]: len(a["citations"]) for m in messages for a in m["alerts"]}
    assert rules == {"dprk-overseas-labor": 2, "dprk-oil-transfer": 1}
    assert all(m["channel"] == "console" and m["kind"] == "new" for m in messages)
