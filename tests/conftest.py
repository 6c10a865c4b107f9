from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from monitor.config import FeedConfig, HttpConfig, Settings
from monitor.delivery.channels.console import ConsoleNotifier
from monitor.ingest.fetch import make_client
from monitor.service.cycle import Service
from monitor.store import Store
from tests.httpserver import LocalServer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
RULES = ROOT / "rules"
SEED_FILES = sorted(SEEDS.glob("0*.txt"))

POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL")
POSTGRES_SKIP = (
    "PostgreSQL tests skipped: set MONITOR_TEST_POSTGRES_URL, e.g. "
    "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run does)"
)


@pytest.fixture
def seed_server() -> Iterator[LocalServer]:
    """The seed fixtures (feeds and pages) served over HTTP on 127.0.0.1."""
    with LocalServer(SEEDS) as server:
        yield server


@pytest.fixture(scope="module")
def loopback_server() -> Iterator[LocalServer]:
    """One server on 127.0.0.1 for a whole module whose tests add their own handlers."""
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="module")
def feed_client() -> Iterator[httpx.Client]:
    """The poller's own HTTP client (caps, guard, headers), allowed to reach 127.0.0.1."""
    with make_client(HttpConfig(allow_networks=["127.0.0.1/32"])) as client:
        yield client


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store on a SQLite file and, where MONITOR_TEST_POSTGRES_URL is set, on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    opened = Store(url)
    yield opened
    opened.close()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture
def pg_urls() -> Iterator[Callable[[], str]]:
    """Makes fresh, empty PostgreSQL schemas, each dropped after the test, so runs never see
    each other's rows or tables; the test is skipped where MONITOR_TEST_POSTGRES_URL is unset."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    admin = create_engine(POSTGRES_URL)
    schemas: list[str] = []

    def fresh() -> str:
        schema = f"t_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        sep = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"

    yield fresh
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_urls: Callable[[], str]) -> str:
    """A fresh, empty PostgreSQL schema for the test (see :func:`pg_urls`)."""
    return pg_urls()


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


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """setup_logging (a CLI test, the logging tests) changes process-wide state; without
    this its handler stays, and later tests' log lines land between pytest's dots."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "apscheduler")}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)
