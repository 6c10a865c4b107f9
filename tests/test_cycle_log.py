"""The cycle's summary line: at info when a cycle did something, at debug on a quiet tick.

A daemon ticks every few seconds; a line per tick saying it polled nothing buries the lines
that matter, so only cycles that polled, queued, sent or failed are logged at info.
"""

from __future__ import annotations

import logging

from monitor.config import FeedConfig
from tests.conftest import ConsoleCapture, make_settings

FEEDS = {"daily-ledger": "/feeds/daily-ledger.rss", "global-wire": "/feeds/global-wire.atom"}


def summaries(caplog) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if "cycle: " in r.getMessage()]


def test_a_busy_cycle_logs_at_info_and_a_quiet_one_at_debug(seed_server, db_url, caplog):
    feeds = [FeedConfig(name=n, url=seed_server.url(p)) for n, p in FEEDS.items()]
    service = ConsoleCapture(make_settings(db_url, feeds)).service()
    caplog.set_level(logging.DEBUG, logger="monitor.service.cycle")
    try:
        service.cycle(force=True)  # polls both feeds, sends the seed alerts
        service.cycle()  # nothing due, nothing to send
    finally:
        service.close()
    (busy_level, busy), (quiet_level, quiet) = summaries(caplog)
    assert busy_level == logging.INFO and busy.startswith("cycle: polled 2 feed(s)")
    assert quiet_level == logging.DEBUG and quiet.startswith("cycle: polled 0 feed(s)")
