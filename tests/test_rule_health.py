"""A broken or empty rule pack is hard to miss: it refuses to start, and a rejected reload
shows in /readyz, the metrics and `monitor status`."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import ServerConfig
from monitor.service.cycle import Service
from monitor.service.daemon import Daemon
from tests.conftest import RULES, make_settings

BROKEN = "id: broken\ntitle: Broken\nseverity: high\nmatch: {all: [no-such-list]}\n"


def write_config(tmp_path: Path, rules_dir: Path, **keys: object) -> Path:
    path = tmp_path / "monitor.yaml"
    data = {
        "rules_dir": str(rules_dir),
        "database_url": f"sqlite:///{tmp_path / 'm.db'}",
        **keys,
    }
    path.write_text(yaml.safe_dump(data))
    return path


def copy_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    return rules


def test_an_empty_rule_pack_refuses_to_start(tmp_path: Path) -> None:
    empty = tmp_path / "rules"
    empty.mkdir()
    config = write_config(tmp_path, empty)
    result = CliRunner().invoke(cli, ["-c", str(config), "run", "--once"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: no rules under {empty}, not starting: a monitor without rules never alerts "
        "(set rules_dir, or pass --allow-empty-rules)"
    )
    allowed = CliRunner().invoke(cli, ["-c", str(config), "run", "--once", "--allow-empty-rules"])
    assert allowed.exit_code == 0, allowed.output


def test_a_broken_rule_pack_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    (rules / "broken.yaml").write_text(BROKEN)
    config = write_config(tmp_path, rules)
    result = CliRunner().invoke(cli, ["-c", str(config), "run", "--once"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{rules / 'broken.yaml'}:" in lines[0], result.stderr
    assert not (tmp_path / "m.db").exists()  # refused before the store was touched


def test_validate_says_an_empty_folder_has_no_rules(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no rules in {tmp_path} (0 file(s))" in result.stderr


def test_run_once_fails_when_every_feed_failed(tmp_path: Path) -> None:
    config = write_config(tmp_path, RULES, feeds=[{"name": "gone", "path": "missing.rss"}])
    result = CliRunner().invoke(cli, ["-c", str(config), "run", "--once"])
    assert result.exit_code == 1
    assert "Error: every feed polled (1) failed" in result.stderr


def test_a_rejected_reload_shows_in_readyz_metrics_and_status(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    settings = make_settings(
        f"sqlite:///{tmp_path / 'm.db'}", [], server=ServerConfig(port=0)
    ).model_copy(update={"rules_dir": rules})
    service = Service(settings, notifiers={})
    daemon = Daemon(service)
    assert daemon.server is not None
    daemon.server.start()
    try:
        (rules / "broken.yaml").write_text(BROKEN)
        daemon._check_rules()
        ready = httpx.get(f"{daemon.server.url}/readyz").json()
        assert ready["ready"] is False
        assert ready["checks"]["rules"].startswith("change rejected, the last good rules stay")
        assert f"{rules / 'broken.yaml'}:" in ready["checks"]["rules"]
        metrics = httpx.get(f"{daemon.server.url}/metrics").text
        assert "monitor_rules_reload_failures_total 1.0" in metrics
        assert "monitor_rules_reload_ok 0.0" in metrics

        config = write_config(tmp_path, rules)
        status = CliRunner().invoke(cli, ["-c", str(config), "status"])
        assert status.exit_code == 0, status.output
        assert "rules     1 problem(s) in" in status.stdout
        assert "broken.yaml" in status.stdout

        (rules / "broken.yaml").unlink()
        daemon._check_rules()
        ready = httpx.get(f"{daemon.server.url}/readyz").json()
        assert ready["checks"]["rules"] == "ok"
        assert "monitor_rules_reload_ok 1.0" in httpx.get(f"{daemon.server.url}/metrics").text
        status = CliRunner().invoke(cli, ["-c", str(config), "status"])
        assert "rules     3 rule(s) in" in status.stdout
    finally:
        daemon.server.stop()
        service.close()
