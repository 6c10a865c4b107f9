"""``monitor feeds add|list|remove|import|export``, and the poller polling stored feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_settings
from monitor.ingest.opml import OPMLError, parse_opml
from monitor.service.cycle import Service
from tests.conftest import RULES, SEEDS


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "database_url": f"sqlite:///{tmp_path / 'm.db'}",
                "rules_dir": str(RULES),
                "feeds": [{"name": "ledger-file", "path": str(SEEDS / "feeds/daily-ledger.rss")}],
                "http": {"allow_networks": ["127.0.0.1"]},
            }
        )
    )
    return path


def run(config: Path, *args: str, ok: bool = True):
    result = CliRunner().invoke(cli, ["--config", str(config), "feeds", *args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def listed(config: Path) -> dict[str, dict]:
    lines = run(config, "list", "--json").stdout.splitlines()
    return {row["name"]: row for row in map(json.loads, lines)}


def test_added_feeds_are_listed_polled_and_reported_healthy(config, seed_server):
    url = seed_server.url("/feeds/global-wire.atom")
    added = run(config, "add", url, "--name", "wire")
    assert "added feed wire" in added.output
    rows = listed(config)
    assert set(rows) == {"ledger-file", "wire"}
    assert rows["wire"]["origin"] == "added" and rows["wire"]["url"] == url
    assert rows["wire"]["last_success"] is None and rows["wire"]["items_seen"] == 0

    service = Service(load_settings(config), notifiers={})
    report = service.cycle()
    service.close()
    assert report.feeds == 2 and report.failed_feeds == 0

    rows = listed(config)
    for row in rows.values():
        assert set(row) >= {
            "name",
            "url",
            "last_success",
            "last_error",
            "consecutive_failures",
            "items_seen",
        }
        assert row["last_success"] and row["consecutive_failures"] == 0
    assert rows["wire"]["items_seen"] == 4
    table = run(config, "list").stdout
    assert table.splitlines()[0].split() == [
        "NAME",
        "STATUS",
        "LAST",
        "SUCCESS",
        "FAILS",
        "ITEMS",
        "URL",
    ]
    assert any(line.startswith("wire ") and " ok " in line for line in table.splitlines())


def test_add_refuses_duplicates_bad_urls_and_private_addresses(config, tmp_path):
    run(config, "add", "https://news.example/feed.rss", "--name", "news")
    result = run(config, "add", "https://news.example/feed.rss", "--name", "other", ok=False)
    assert result.exit_code == 1 and "already has https://news.example/feed.rss" in result.output
    result = run(config, "add", "https://news.example/2.rss", "--name", "ledger-file", ok=False)
    assert "the config already has a feed named 'ledger-file'" in result.output
    result = run(config, "add", "ftp://news.example/feed", ok=False)
    assert "feed url must start with http:// or https://" in result.output
    result = run(config, "add", "http://10.1.2.3/feed", ok=False)
    assert "10.1.2.3 is a non-public address" in result.output
    result = run(config, "add", "http://[::1]:8080/feed", ok=False)
    assert "non-public address" in result.output
    assert set(listed(config)) == {"ledger-file", "news"}

    assert "removed feed news" in run(config, "remove", "news").output
    assert "no stored feed named 'news'" in run(config, "remove", "news", ok=False).output
    assert "is in the config file" in run(config, "remove", "ledger-file", ok=False).output


OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head><title>My reader</title></head>
  <body>
    <outline text="Asia">
      <outline type="rss" text="Harbour" title="Harbour" xmlUrl="https://harbour.example/rss"/>
      <outline type="rss" text="Grain" xmlUrl="https://grain.example/atom"/>
    </outline>
    <outline type="rss" title="Harbour" xmlUrl="https://harbour2.example/rss"/>
    <outline type="rss" title="Broken" xmlUrl="gopher://old.example/feed"/>
    <outline type="rss" title="Local" xmlUrl="http://192.168.1.20/feed"/>
    <outline text="no feed here"/>
  </body>
</opml>
"""


def test_import_adds_each_feed_once_and_explains_what_it_skipped(config, tmp_path):
    path = tmp_path / "subs.opml"
    path.write_text(OPML)
    result = run(config, "import", str(path))
    assert "imported 3 feed(s)" in result.stderr and "skipped 2" in result.stderr
    assert "skipped gopher://old.example/feed: feed url must start with" in result.stderr
    assert "skipped http://192.168.1.20/feed: 192.168.1.20 is a non-public" in result.stderr
    rows = listed(config)
    assert rows["Harbour"]["url"] == "https://harbour.example/rss"
    assert rows["https://harbour2.example/rss"]["origin"] == "opml"  # its title was taken
    assert rows["Grain"]["url"] == "https://grain.example/atom"

    again = run(config, "import", str(path))
    assert "imported 0 feed(s)" in again.stderr and "skipped 5" in again.stderr

    exported = run(config, "export").stdout
    urls = {s.url for s in parse_opml(exported.encode())}
    assert urls == {
        "https://harbour.example/rss",
        "https://grain.example/atom",
        "https://harbour2.example/rss",
    }  # the file feed has no URL to export


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<opml><body><outline", "not well-formed XML"),
        (b"<rss version='2.0'/>", "the root element is <rss>, not <opml>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>',
            "refusing to parse",
        ),
    ],
)
def test_a_bad_opml_file_is_a_clear_error_and_changes_nothing(config, tmp_path, document, message):
    with pytest.raises(OPMLError, match=message):
        parse_opml(document)
    path = tmp_path / "bad.opml"
    path.write_bytes(document)
    result = run(config, "import", str(path), ok=False)
    assert result.exit_code == 1 and message in result.output
    assert set(listed(config)) == {"ledger-file"}
