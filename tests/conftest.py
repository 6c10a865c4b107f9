from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import FeedConfig, HttpConfig, Settings
from monitor.notify.console import ConsoleNotifier
from monitor.service import Service
from monitor.store import Store
from tests.httpserver import LocalServer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
RULES = ROOT / "rules"
SEED_FILES = sorted(SEEDS.glob("0*.txt"))


@pytest.fixture
def seed_server() -> Iterator[LocalServer]:
    """The seed fixtures (feeds and pages) served over HTTP on 127.0.0.1."""
    with LocalServer(SEEDS) as server:
        yield server


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


def make_settings(db_url: str, feeds: list[FeedConfig], **extra) -> Settings:
    # The test servers listen on 127.0.0.1, which the SSRF guard refuses unless allowed.
    extra.setdefault("http", HttpConfig(allow_networks=["127.0.0.1/32"]))
    return Settings(database_url=db_url, rules_dir=RULES, feeds=feeds, **extra)


class ConsoleCapture:
    """A service whose console channel writes to a buffer the test can read."""

    def __init__(self, settings: Settings) -> None:
        self.buffer = io.StringIO()
        self.settings = settings
        self.store = Store(settings.database_url)

    def service(self) -> Service:
        return Service(
            self.settings, store=self.store, notifiers={"console": ConsoleNotifier(self.buffer)}
        )

    def take(self) -> str:
        out = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return out
