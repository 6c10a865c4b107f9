"""Crash tests: the daemon is SIGKILLed around a send, and a restart still delivers every
alert, with any repeat carrying the same idempotency key so the channel can drop it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS
from tests.daemons import Hook, run_once
from tests.httpserver import LocalServer


def write_config(tmp_path: Path, hook_url: str) -> Path:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"rules_dir: {ROOT / 'rules'}\n"
        "feeds:\n"
        f"  - {{name: daily-ledger, path: {SEEDS / 'feeds/daily-ledger.rss'}}}\n"
        f"  - {{name: global-wire, path: {SEEDS / 'feeds/global-wire.atom'}}}\n"
        "channels:\n"
        f"  hook: {{type: webhook, url: '{hook_url}'}}\n"
        "routes:\n"
        "  - channels: [hook]\n"
        "http: {allow_private: true}\n"
    )
    return config


@pytest.mark.parametrize("failpoint", ["before-notify", "before-send", "after-send"])
def test_a_crash_around_the_send_loses_nothing(tmp_path, failpoint):
    hook = Hook()
    with LocalServer() as server:
        server.handlers["/hook"] = hook
        config = write_config(tmp_path, server.url("/hook"))
        db = f"sqlite:///{tmp_path / 'crash.db'}"

        crashed = run_once(config, db, MONITOR_FAILPOINT=failpoint)
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        before = len(hook.received)
        assert before == (1 if failpoint == "after-send" else 0)

        restarted = run_once(config, db)
        assert restarted.returncode == 0, restarted.stderr

    keys = hook.keys()
    assert len(set(keys)) == 1, keys  # the seed story: one message to the channel
    (payload,) = {json.dumps(p, sort_keys=True) for _, p in hook.received}
    rules = sorted(a["rule"] for a in json.loads(payload)["alerts"])
    assert rules == ["dprk-oil-transfer", "dprk-overseas-labor"]
    # After a crash between sending and recording, the repeat is the same message with the
    # same key: a channel that honours idempotency keys drops it.
    assert len(keys) == (2 if failpoint == "after-send" else 1)
