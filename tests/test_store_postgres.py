"""The same pipeline on PostgreSQL: runs where MONITOR_TEST_POSTGRES_URL is set (CI does)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from monitor.config import FeedConfig
from tests.conftest import ConsoleCapture, make_settings
from tests.test_seeds_end_to_end import FEEDS, alert_blocks

POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL")

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="PostgreSQL tests skipped: set MONITOR_TEST_POSTGRES_URL, e.g. "
    "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run does)",
)


@pytest.fixture
def pg_url():
    """A fresh schema per test, dropped afterwards, so runs never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_seed_alerts_on_postgres(seed_server, pg_url):
    feeds = [FeedConfig(name=n, url=seed_server.url(p)) for n, p in FEEDS.items()]
    capture = ConsoleCapture(make_settings(pg_url, feeds))
    service = capture.service()
    service.cycle(force=True)
    blocks = alert_blocks(capture.take())
    assert len(blocks) == 2
    assert any("dprk-overseas-labor" in b and "Sources: 2" in b for b in blocks)
    service.cycle(force=True)
    assert alert_blocks(capture.take()) == []
    service.close()
