"""The daemon as an operator runs it: a real process, stopped by SIGTERM."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading

from tests.conftest import ROOT


def start_daemon(tmp_path, stream: str, **env_vars: str):
    """`monitor run` on the default config and a fresh SQLite file; the lines of its
    ``stream`` ("stdout" or "stderr") arrive in the returned queue as it prints them, and the
    other stream is written to ``tmp_path / "daemon.<name>"``."""
    env = {**os.environ, "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", **env_vars}
    env.pop("MONITOR_CONFIG", None)
    other = "stderr" if stream == "stdout" else "stdout"
    log_file = (tmp_path / f"daemon.{other}").open("w")  # the other stream, read after exit
    pipes = {stream: subprocess.PIPE, other: log_file}
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run"], cwd=ROOT, env=env, text=True, **pipes
    )
    lines: queue.Queue[str] = queue.Queue()
    source = getattr(process, stream)
    threading.Thread(target=lambda: [lines.put(x) for x in source], daemon=True).start()
    return process, lines


def test_daemon_polls_at_start_and_stops_cleanly_on_sigterm(tmp_path):
    process, lines = start_daemon(tmp_path, "stdout")
    try:
        alerts = 0
        while alerts < 2:  # the first cycle runs at start; each alert ends with its ids line
            line = lines.get(timeout=60)
            alerts += line.startswith("  Alert al-")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    stderr = (tmp_path / "daemon.stderr").read_text()
    assert "received SIGTERM" in stderr and "stopped" in stderr


def test_daemon_reloads_changed_rules_and_keeps_the_last_good_set(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    process, lines = start_daemon(
        tmp_path, "stderr", MONITOR_RULES_DIR=str(rules), MONITOR_RULES_RELOAD="0.2"
    )

    def wait_for(fragment: str) -> str:
        while True:
            line = lines.get(timeout=60)
            if fragment in line:
                return line

    try:
        wait_for("daemon started")
        oil = rules / "dprk-oil-transfer.yaml"
        oil.write_text(oil.read_text().replace("    - diesel\n", "    - diesel\n    - kerosene\n"))
        assert "3 rule(s)" in wait_for("rules reloaded")
        oil.write_text(oil.read_text().replace("same_sentence:", "same_sentense:"))
        wait_for("rule change rejected")
        assert "unknown clause 'same_sentense'" in wait_for("dprk-oil-transfer.yaml")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
