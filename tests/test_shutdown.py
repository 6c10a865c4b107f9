"""SIGTERM in the middle of a poll cycle: the daemon exits 0 within 10 s, and the store holds
either all of a feed's poll or none of it, so the next start simply carries on."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

from sqlmodel import func, select

from monitor.store import Store
from monitor.store.tables import (
    AlertRow,
    ArticleRow,
    ArticleVectorRow,
    CitationRow,
    FeedState,
    ReplicaRow,
)
from tests.daemons import DaemonProcess, FeedFarm, filler_rss, run_once, write_config
from tests.httpserver import LocalServer, Reply, Request
from tests.test_seeds_end_to_end import alert_blocks

PADDED = filler_rss(99).replace(b"<channel>", b"<channel><!--" + b" " * 20_000 + b"-->", 1)


def slow_feed(started: threading.Event, release: threading.Event, stall: bool = False):
    """A feed that drips its body until released, or (``stall``) sends its headers and then
    nothing at all until released: a reader blocked on a socket that no check can reach."""

    def handle(_request: Request) -> Reply:
        def pieces() -> Iterator[bytes]:
            if stall:
                started.set()
                release.wait(30)
            else:
                yield PADDED[:100]
                started.set()
            for at in range(0 if stall else 100, len(PADDED), 64):
                if not release.is_set():
                    # Pacing, not waiting for luck: the server sends a piece every 50 ms.
                    release.wait(0.05)
                yield PADDED[at : at + 64]

        return Reply(
            200,
            headers={"Content-Type": "application/rss+xml"},
            stream=pieces(),
            length=len(PADDED),
        )

    return handle


def start(tmp_path, server: LocalServer, slow: list[str], **env: str):
    farm = FeedFarm(server, 20)
    feeds = [
        {"name": name, "url": server.url(f"/slow/{name}"), "full_text": False} for name in slow
    ]
    config = write_config(tmp_path / "monitor.yaml", feeds + farm.feeds(), tick=60)
    db = f"sqlite:///{tmp_path / 'stop.db'}"
    return DaemonProcess(config, tmp_path, MONITOR_DATABASE_URL=db, **env), config, db


def sigterm_once_started(daemon: DaemonProcess, started: threading.Event) -> float:
    """SIGTERM as soon as a slow feed is being downloaded; seconds until the daemon exited 0."""
    try:
        assert started.wait(60), daemon.text()
        began = time.monotonic()
        assert daemon.stop(timeout=10) == 0, daemon.text()
        return time.monotonic() - began
    finally:
        daemon.kill()


def check_store(db: str) -> dict[str, FeedState]:
    """Nothing half-written: no lease left behind, every article that alerted has its story
    and every story's article its vector, every alert its citations, and each feed has all of
    its items or none."""
    store = Store(db)
    try:
        with store.session() as session:
            feeds = {f.name: f for f in session.exec(select(FeedState)).all()}
            assert {f.lease_owner for f in feeds.values()} == {""}
            cited_without_story = select(ArticleRow.id).join(
                CitationRow, CitationRow.article_id == ArticleRow.id
            )
            cited_without_story = cited_without_story.where(ArticleRow.story_id == None)  # noqa: E711
            assert session.exec(cited_without_story).all() == []
            storied = set(
                session.exec(select(ArticleRow.id).where(ArticleRow.story_id != None)).all()  # noqa: E711
            )
            assert storied == set(session.exec(select(ArticleVectorRow.article_id)).all())
            for alert in session.exec(select(AlertRow)).all():
                cited = session.exec(
                    select(func.count()).where(CitationRow.alert_id == alert.id)
                ).one()
                assert cited == alert.revision
            per_feed = dict(
                session.exec(select(ArticleRow.feed, func.count()).group_by(ArticleRow.feed)).all()
            )
            for name, feed in feeds.items():
                if name.startswith(("town", "slow")):
                    assert per_feed.get(name, 0) == (3 if feed.last_success else 0), name
            (life,) = session.exec(select(ReplicaRow)).all()
            assert life.clean and life.stopped is not None
    finally:
        store.close()
    return feeds


def test_sigterm_mid_download_drops_it_stores_the_rest_and_exits_0(tmp_path):
    started, release = threading.Event(), threading.Event()
    with LocalServer() as server:
        for name in ("slow-1", "slow-2"):  # the two requests allowed to one host at once
            server.handlers[f"/slow/{name}"] = slow_feed(started, release)
        daemon, config, db = start(tmp_path, server, ["slow-1", "slow-2"])
        took = sigterm_once_started(daemon, started)
        log = daemon.text()
        assert "received SIGTERM" in log and "stopped" in log
        assert "still in flight" not in log  # the download was dropped, not abandoned
        feeds = check_store(db)
        assert feeds["slow-1"].last_polled is None  # never recorded: polled afresh next time
        release.set()
        again = run_once(config, db)
    assert again.returncode == 0, again.stderr
    store = Store(db)
    with store.session() as session:
        rows = session.exec(select(FeedState)).all()
        assert all(f.last_success is not None for f in rows), [f.name for f in rows]
    store.close()
    printed = (tmp_path / "daemon.stdout").read_text() + again.stdout
    rules = sorted(re.search(r"Rule:\s+(\S+)", b).group(1) for b in alert_blocks(printed))
    assert rules == ["dprk-oil-transfer", "dprk-overseas-labor"], printed
    print(f"SIGTERM to exit: {took:.2f}s")


def test_sigterm_with_a_stalled_server_gives_up_after_the_timeout_and_exits_0(tmp_path):
    started, release = threading.Event(), threading.Event()
    with LocalServer() as server:
        server.handlers["/slow/stalled"] = slow_feed(started, release, stall=True)
        daemon, _, db = start(tmp_path, server, ["stalled"], MONITOR_REPLICA__SHUTDOWN_TIMEOUT="2")
        try:
            took = sigterm_once_started(daemon, started)
        finally:
            release.set()
    assert 2 <= took < 10, daemon.text()
    print(f"SIGTERM to exit with a stalled read: {took:.2f}s")
    assert "still in flight after 2s" in daemon.text()
    feeds = check_store(db)
    assert feeds["stalled"].last_polled is None
