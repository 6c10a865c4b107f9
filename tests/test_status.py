"""`monitor status`: the daemon lives, their leases and the outbox, as the store has them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

from click.testing import CliRunner

from monitor.cli import cli
from monitor.service.replicas import _started, instance, register
from monitor.store import Store
from monitor.store.feeds import claim_feeds, ensure_feed_rows
from monitor.store.tables import NotificationRow, ReplicaRow, utcnow


def test_status_tells_running_stopped_and_gone_lives_and_the_outbox(db_url):
    store = Store(db_url)
    now = utcnow()
    with store.session() as session:
        session.add(ReplicaRow(id="host:1:run", started=now, heartbeat=now))
        session.add(
            ReplicaRow(
                id="host:2:kill",
                started=now - timedelta(hours=1),
                heartbeat=now - timedelta(minutes=30),
            )
        )
        session.add(
            ReplicaRow(id="host:3:done", started=now, heartbeat=now, stopped=now, clean=True)
        )
        session.add(NotificationRow(key="a", story_id="s", channel="c", state="pending"))
        session.add(NotificationRow(key="b", story_id="s", channel="c", state="failed"))
        session.commit()
    ensure_feed_rows(store, [("one", "https://example.org/1"), ("two", "https://example.org/2")])
    claim_feeds(store, ["one", "two"], "host:1:run", now, timedelta(minutes=5))
    store.close()

    result = CliRunner().invoke(cli, ["status", "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    lives = {life["id"]: life for life in found["lives"]}
    assert lives["host:1:run"]["state"] == "running" and lives["host:1:run"]["feeds_held"] == 2
    assert lives["host:2:kill"]["state"] == "gone"
    assert lives["host:3:done"]["state"] == "stopped"
    assert found["outbox"] == {"pending": 1, "failed": 1}
    assert found["schema"] == found["head"] and found["feeds"] == 2

    text = CliRunner().invoke(cli, ["status", "--db", db_url]).output
    assert "host:1:run  running" in text and "holds 2 feed(s)" in text
    assert "outbox    1 failed, 1 pending (oldest pending since" in text


def test_a_life_proven_dead_at_another_start_is_gone_at_once(db_url):
    """A SIGKILLed daemon's row still beats "now"; the next start on its host proves the
    process gone, and from then on `status` shows it gone, not running for another minute."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        boot, namespace, _pid, _start = instance().split(":")
        killed_instance = f"{boot}:{namespace}:{child.pid}:{_started(child.pid)}"
    finally:
        child.kill()
        child.wait()
    store = Store(db_url)
    now = utcnow()
    with store.session() as session:
        session.add(ReplicaRow(id="host:9:killed", instance=killed_instance, heartbeat=now))
        session.commit()
    crashed = register(store, "host:10:new", silent_after=timedelta(minutes=1))
    store.close()
    assert [r.id for r in crashed] == ["host:9:killed"]

    found = json.loads(CliRunner().invoke(cli, ["status", "--json", "--db", db_url]).output)
    lives = {life["id"]: life["state"] for life in found["lives"]}
    assert lives == {"host:9:killed": "gone", "host:10:new": "running"}


def test_status_in_a_fresh_process_prints_only_the_status(db_url):
    """Alembic logs "setup plugin ..." at info when first imported; an operator's `status`
    must not open with a screen of it (in-process tests import Alembic long before)."""
    Store(db_url).close()
    command = [sys.executable, "-m", "monitor", "status", "--db", db_url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("store ")
    assert "alembic" not in done.stderr
