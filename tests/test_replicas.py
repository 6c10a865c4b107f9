"""Two daemons, separate processes, one PostgreSQL store: they share the polls, send each
notification once, and carry on when one of them dies (runs where MONITOR_TEST_POSTGRES_URL
is set; CI sets it)."""

from __future__ import annotations

import itertools
import time
from collections import Counter

import feedparser
from sqlmodel import func, select

from monitor.store import Store
from monitor.store.tables import ArticleRow, FeedState
from tests.conftest import SEEDS
from tests.daemons import DaemonProcess, FeedFarm, Hook, write_config
from tests.httpserver import LocalServer

FEEDS = 50
INTERVAL = 10  # seconds: the shortest poll interval the config allows
JITTER = 0.1
# What the channel must be told of the seed story, whichever replica polled which feed: the
# labor alert's two sources and the oil alert's one, each announced exactly once.
SEED_ANNOUNCED = {"dprk-overseas-labor": 2, "dprk-oil-transfer": 1}


def check_seed_announced(hook: Hook) -> None:
    keys = hook.keys()
    assert len(keys) == len(set(keys)), keys  # no notification sent twice
    pairs = hook.new_sources()
    assert len(pairs) == len(set(pairs)), pairs  # no source announced twice
    assert Counter(rule for rule, _ in pairs) == SEED_ANNOUNCED, pairs


def expected_articles(farm: FeedFarm) -> int:
    """Every item of every feed, once (the seed feeds' items counted by feedparser)."""
    seeds = [SEEDS / "feeds/daily-ledger.rss", SEEDS / "feeds/global-wire.atom"]
    return (len(farm.paths) - 2) * 3 + sum(
        len(feedparser.parse(p.read_bytes()).entries) for p in seeds
    )


def config(tmp_path, server: LocalServer, farm: FeedFarm, lease: float = 30):
    return write_config(
        tmp_path / "monitor.yaml",
        farm.feeds(),
        tick=1,
        poll_interval=INTERVAL,
        http={"allow_networks": ["127.0.0.1/32"], "jitter": JITTER, "concurrency": 4},
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        routes=[{"channels": ["hook"], "group_interval": 0}],  # follow-ups at once
        replica={"lease": lease, "shutdown_timeout": 5},
    )


def replica(tmp_path, cfg, name: str, pg_url: str, **env: str) -> DaemonProcess:
    return DaemonProcess(
        cfg,
        tmp_path,
        name,
        MONITOR_DATABASE_URL=pg_url,
        MONITOR_HTTP__USER_AGENT=f"monitor-test/{name}",
        **env,
    )


def gaps_ok(farm: FeedFarm) -> list[str]:
    """Feeds polled twice within one interval (less its jitter), with the gap."""
    short = []
    floor = INTERVAL * (1 - JITTER) - 0.5  # 0.5 s: one tick of scheduling slack
    for path, polls in farm.polls.items():
        times = sorted(t for t, _ in polls)
        short += [f"{path}: {b - a:.1f}s" for a, b in itertools.pairwise(times) if b - a < floor]
    return short


def stored_articles(pg_url: str) -> int:
    store = Store(pg_url)
    try:
        with store.session() as session:
            return session.exec(select(func.count()).select_from(ArticleRow)).one()
    finally:
        store.close()


def test_two_replicas_share_the_polls_and_send_once(tmp_path, pg_url):
    hook = Hook()
    with LocalServer() as server:
        server.handlers["/hook"] = hook
        farm = FeedFarm(server, FEEDS)
        cfg = config(tmp_path, server, farm)
        a = replica(tmp_path, cfg, "a", pg_url)
        b = replica(tmp_path, cfg, "b", pg_url)
        try:
            a.wait_for("daemon started")
            b.wait_for("daemon started")
            ran_until = time.monotonic() + 60  # the minute of polling
            while time.monotonic() < ran_until:
                time.sleep(1)  # the run's length is the point here, not a wait for luck
                assert a.process.poll() is None and b.process.poll() is None
            assert a.stop() == 0, a.text()
            assert b.stop() == 0, b.text()
        finally:
            a.kill()
            b.kill()
    assert len(farm.polls) == FEEDS
    assert gaps_ok(farm) == []
    counts = [len(p) for p in farm.polls.values()]
    assert min(counts) >= 4, counts  # every feed about every interval, for a minute
    agents = Counter(agent for polls in farm.polls.values() for _, agent in polls)
    assert set(agents) == {"monitor-test/a", "monitor-test/b"}
    assert min(agents.values()) >= 0.2 * sum(agents.values()), agents  # a share each
    gaps = [
        b - a
        for polls in farm.polls.values()
        for a, b in itertools.pairwise(sorted(t for t, _ in polls))
    ]
    print(
        f"polls per feed {min(counts)}-{max(counts)}, by replica {dict(agents)}, "
        f"shortest gap {min(gaps):.1f}s"
    )
    check_seed_announced(hook)
    assert stored_articles(pg_url) == expected_articles(farm)  # every item of every feed, once


def test_a_replica_killed_holding_leases_loses_nothing(tmp_path, pg_url):
    hook = Hook()
    with LocalServer() as server:
        server.handlers["/hook"] = hook
        farm = FeedFarm(server, FEEDS)
        cfg = config(tmp_path, server, farm, lease=4)
        b = replica(tmp_path, cfg, "b", pg_url)
        try:
            b.wait_for("daemon started")
            b.wait_for(r"cycle: polled \d+ feed")
            # a dies the moment it has claimed feeds, still holding them: SIGKILL, no cleanup.
            a = replica(tmp_path, cfg, "a", pg_url, MONITOR_FAILPOINT="after-claim")
            assert a.process.wait(timeout=60) == -9, a.text()
            killed = time.monotonic()
            # b takes the dead replica's feeds once their lease has run out.
            b.wait_for(r"took over \d+ feed", timeout=60)
            for path in farm.paths.values():  # every feed is polled again after the kill
                deadline = time.monotonic() + 60
                while not any(t > killed for t, _ in farm.polls.get(path, [])):
                    assert time.monotonic() < deadline, path
                    time.sleep(0.2)
            assert b.stop() == 0, b.text()
        finally:
            b.kill()
    store = Store(pg_url)
    with store.session() as session:
        assert {f.lease_owner for f in session.exec(select(FeedState)).all()} == {""}
    store.close()
    check_seed_announced(hook)
    assert stored_articles(pg_url) == expected_articles(farm)
