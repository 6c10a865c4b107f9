"""The daemon as an operator runs it: a real process, stopped by SIGTERM."""

from __future__ import annotations

import shutil

from tests.conftest import ROOT
from tests.daemons import DaemonProcess

DEFAULT_CONFIG = ROOT / "config" / "monitor.yaml"


def test_daemon_polls_at_start_and_stops_cleanly_on_sigterm(tmp_path):
    daemon = DaemonProcess(
        DEFAULT_CONFIG, tmp_path, MONITOR_DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}"
    )
    try:
        daemon.wait_for(r"cycle: polled 2 feed")  # the first cycle runs at start
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    printed = daemon.stdout_path.read_text()
    assert printed.count("  Alert al-") == 2  # each alert ends with its ids line
    assert "received SIGTERM" in daemon.text() and "stopped" in daemon.text()


def test_daemon_reloads_changed_rules_and_keeps_the_last_good_set(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    daemon = DaemonProcess(
        DEFAULT_CONFIG,
        tmp_path,
        MONITOR_DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}",
        MONITOR_RULES_DIR=str(rules),
        MONITOR_RULES_RELOAD="0.2",
    )
    try:
        daemon.wait_for("daemon started")
        oil = rules / "dprk-oil-transfer.yaml"
        oil.write_text(oil.read_text().replace("    - diesel\n", "    - diesel\n    - kerosene\n"))
        assert "3 rule(s)" in daemon.wait_for("rules reloaded.*").group(0)
        oil.write_text(oil.read_text().replace("same_sentence:", "same_sentense:"))
        daemon.wait_for("rule change rejected")
        daemon.wait_for(r"dprk-oil-transfer\.yaml.*unknown clause 'same_sentense'")
        assert daemon.stop() == 0
    finally:
        daemon.kill()
