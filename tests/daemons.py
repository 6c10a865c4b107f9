"""Daemons as operators run them, for tests: real ``monitor run`` processes, their log lines
as they print them, and generated feeds for them to poll.

Waiting is always on something the daemon prints or a server sees, with a timeout as a safety
net, never on a sleep that hopes the daemon got there.
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT, SEEDS
from tests.httpserver import LocalServer, Reply, Request

WORDS = (
    "harvest council river bridge festival railway museum election budget school weather "
    "orchestra library harbour market stadium tram vineyard glacier bakery theatre forest "
    "marathon airport ferry clinic garden bicycle canal summit"
).split()


class DaemonProcess:
    """``monitor run`` in its own process; every stderr line lands in ``lines``."""

    def __init__(self, config: Path, tmp_path: Path, name: str = "daemon", **env: str) -> None:
        full_env = {**os.environ, "MONITOR_SERVER__PORT": "0", **env}
        full_env.pop("MONITOR_CONFIG", None)
        self.name = name
        self.stdout_path = tmp_path / f"{name}.stdout"
        self.log: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        with self.stdout_path.open("w") as stdout:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "-c", str(config), "run"],
                cwd=ROOT,
                env=full_env,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
            )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line from now on that matches ``pattern`` (a regex)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no line matching {pattern!r}:\n{self.text()}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            found = re.search(pattern, line)
            if found:
                return found

    def server_url(self) -> str:
        return self.wait_for(r"serving /healthz, /readyz and /metrics on (\S+)").group(1)

    def text(self) -> str:
        return "".join(self.log)

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, then the exit code; a daemon still running after ``timeout`` fails."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"{self.name} still running {timeout}s after SIGTERM") from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_once(config: Path, db: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``monitor run --once`` on ``config`` and the store ``db``, to its end (or a failpoint)."""
    full_env = {**os.environ, "MONITOR_DATABASE_URL": db, **env}
    full_env.pop("MONITOR_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(config), "run", "--once"],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def filler_rss(number: int, items: int = 3) -> bytes:
    """A small RSS feed of local news that no sanctions rule matches (fixed seed per feed)."""
    rng = random.Random(number)
    entries = []
    for item in range(items):
        words = " ".join(rng.choice(WORDS) for _ in range(60))
        when = format_datetime(datetime(2019, 8, 1, 8, item, tzinfo=UTC))
        entries.append(
            f"<item><title>Town {number} notice {item}: {rng.choice(WORDS)}</title>"
            f"<link>https://town{number}.example/{item}</link>"
            f"<guid>town{number}-{item}</guid><pubDate>{when}</pubDate>"
            f"<description>{words}.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Town {number} News</title><link>https://town{number}.example/</link>"
        f"<description>Local news</description>{''.join(entries)}</channel></rss>"
    ).encode()


class FeedFarm:
    """Many feeds on one local server, the two seed feeds among them; every poll is noted
    with its time and the poller's User-Agent."""

    def __init__(self, server: LocalServer, count: int) -> None:
        self.server = server
        self.polls: dict[str, list[tuple[float, str]]] = {}
        self.lock = threading.Lock()
        self.paths: dict[str, str] = {
            "daily-ledger": "/feeds/daily-ledger.rss",
            "global-wire": "/feeds/global-wire.atom",
        }
        for n in range(count - 2):
            self.paths[f"town-{n:02d}"] = f"/town/{n}.rss"
        bodies = {f"/town/{n}.rss": filler_rss(n) for n in range(count - 2)}
        for seed in ("/feeds/daily-ledger.rss", "/feeds/global-wire.atom"):
            bodies[seed] = (SEEDS / seed.lstrip("/")).read_bytes()
        for path, body in bodies.items():
            server.handlers[path] = self._handler(path, body)

    def _handler(self, path: str, body: bytes):
        ctype = "application/atom+xml" if path.endswith(".atom") else "application/rss+xml"

        def handle(request: Request) -> Reply:
            agent = {k.lower(): v for k, v in request.headers.items()}.get("user-agent", "")
            with self.lock:
                self.polls.setdefault(path, []).append((time.monotonic(), agent))
            return Reply(200, body, {"Content-Type": ctype})

        return handle

    def feeds(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "url": self.server.url(path), "full_text": False}
            for name, path in self.paths.items()
        ]


class Hook:
    """A webhook receiver: every POST's Idempotency-Key and JSON body."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        key = {k.lower(): v for k, v in request.headers.items()}.get("idempotency-key", "")
        with self.lock:
            self.received.append((key, json.loads(request.body)))
        return Reply(200, b"{}", {"Content-Type": "application/json"})

    def keys(self) -> list[str]:
        with self.lock:
            return [key for key, _ in self.received]

    def new_sources(self) -> list[tuple[str, str]]:
        """Every (rule, source id) announced as new, once per time it was announced."""
        pairs = []
        with self.lock:
            for _, body in self.received:
                rules = {a["id"]: a["rule"] for a in body["alerts"]}
                for alert_id, sources in body["new_sources"].items():
                    pairs.extend((rules[alert_id], source) for source in sources)
        return sorted(pairs)


def write_config(path: Path, feeds: list[dict[str, Any]], **settings: Any) -> Path:
    data: dict[str, Any] = {
        "rules_dir": str(ROOT / "rules"),
        "feeds": feeds,
        "http": {"allow_networks": ["127.0.0.1/32"]},
        **settings,
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
