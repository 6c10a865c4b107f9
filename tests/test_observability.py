"""What an operator sees of a running daemon: /metrics after the seed run, /healthz and
/readyz (which fails while the store is unreachable), JSON logs without secrets, and a crash
loop that shows instead of hiding behind restarts."""

from __future__ import annotations

import json
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from monitor.store import Store
from monitor.store.tables import ArticleRow, StoryRow
from tests.conftest import ROOT
from tests.daemons import DaemonProcess, write_config
from tests.httpserver import LocalServer, Reply
from tests.tcpproxy import TcpProxy

DEFAULT_CONFIG = ROOT / "config" / "monitor.yaml"
LABOR, OIL = "dprk-overseas-labor", "dprk-oil-transfer"


def samples_of(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text as {(sample name, labels): value}."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    return samples_of(httpx.get(f"{url}/metrics", timeout=5).text)


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def until(check, timeout: float = 30, every: float = 0.1):
    """Ask again until ``check()`` is truthy (a condition, not a guess at how long it takes)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(every)
    return result


def test_metrics_after_the_seed_run_count_what_happened(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    started = time.time()
    daemon = DaemonProcess(DEFAULT_CONFIG, tmp_path, MONITOR_DATABASE_URL=db)
    try:
        url = daemon.server_url()
        daemon.wait_for(r"cycle: polled 2 feed")
        samples = scrape(url)
        assert httpx.get(f"{url}/healthz").status_code == 200
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"store": "ok", "rules": "ok", "scheduler": "ok"}
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    store = Store(db)
    with store.session() as session:
        articles = session.exec(select(func.count()).select_from(ArticleRow)).one()
        stories = session.exec(select(func.count()).select_from(StoryRow)).one()
    store.close()
    for feed in ("daily-ledger", "global-wire"):
        assert value(samples, "monitor_polls_total", feed=feed) == 1
        assert value(samples, "monitor_poll_errors_total", feed=feed) == 0
        assert value(samples, "monitor_poll_duration_seconds_count", feed=feed) == 1
        polled = value(samples, "monitor_last_successful_poll_timestamp_seconds", feed=feed)
        assert started <= polled <= time.time()
    assert value(samples, "monitor_articles_ingested_total") == articles == 8
    assert value(samples, "monitor_stories_total") == stories
    assert value(samples, "monitor_rule_matches_total", rule=LABOR) == 2
    assert value(samples, "monitor_rule_matches_total", rule=OIL) == 1
    assert value(samples, "monitor_alerts_total", rule=LABOR) == 1
    assert value(samples, "monitor_alerts_total", rule=OIL) == 1
    assert value(samples, "monitor_alert_citations_total", rule=LABOR) == 2
    # One message to the console holds both of the story's alerts.
    assert value(samples, "monitor_deliveries_total", channel="console", outcome="sent") == 1
    assert value(samples, "monitor_deliveries_total", channel="console", outcome="failed") == 0
    assert value(samples, "monitor_delivery_latency_seconds_count", channel="console") == 1
    assert value(samples, "monitor_rules_loaded") == 3
    assert value(samples, "monitor_cycles_total") == 1
    assert value(samples, "monitor_outbox", state="sent") == 1
    assert value(samples, "monitor_outbox", state="pending") == 0
    assert value(samples, "monitor_feeds_failing") == 0


def test_readyz_fails_while_the_store_is_unreachable(tmp_path, pg_url):
    proxy = TcpProxy((make_url(pg_url).host or "127.0.0.1", make_url(pg_url).port or 5432))
    proxy.start()
    through = make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False)
    daemon = DaemonProcess(DEFAULT_CONFIG, tmp_path, MONITOR_DATABASE_URL=through, MONITOR_TICK="1")
    try:
        url = daemon.server_url()
        until(lambda: httpx.get(f"{url}/readyz").status_code == 200)
        proxy.cut()
        down = until(lambda: (r := httpx.get(f"{url}/readyz")).status_code == 503 and r)
        assert down.json()["checks"]["store"].startswith("unreachable: OperationalError")
        assert down.json()["checks"]["rules"] == "ok"
        assert httpx.get(f"{url}/healthz").status_code == 200  # alive, only not ready
        daemon.wait_for("cycle stage '.*' failed")  # the daemon keeps running and says why
        # counted when that cycle ends, after its other stages have met the dead store too
        until(lambda: value(scrape(url), "monitor_cycle_failures_total") >= 1)
        proxy.start()
        until(lambda: httpx.get(f"{url}/readyz").status_code == 200)
        # and works again once the store is back: whole cycles, with no stage failing
        back = value(scrape(url), "monitor_cycles_total")
        failed = value(scrape(url), "monitor_cycle_failures_total")
        until(lambda: value(scrape(url), "monitor_cycles_total") >= back + 2)
        assert value(scrape(url), "monitor_cycle_failures_total") <= failed + 1
        assert daemon.stop() == 0, daemon.text()
    finally:
        daemon.kill()
        proxy.cut()


def test_json_logs_carry_ids_and_never_a_secret(tmp_path):
    secret_path = "/services/T0SECRET/B0SECRET/abcdefSECRETxyz"
    with LocalServer() as server:
        server.handlers[secret_path] = lambda _r: Reply(404, b"no_service")
        config = write_config(
            tmp_path / "monitor.yaml",
            [{"name": "daily-ledger", "path": str(ROOT / "seeds/feeds/daily-ledger.rss")}],
            channels={"desk": {"type": "slack", "webhook_url_env": "TEST_SLACK_URL"}},
            routes=[{"channels": ["desk"]}],
        )
        db = f"sqlite:///{tmp_path / 'j.db'}"
        daemon = DaemonProcess(
            config,
            tmp_path,
            MONITOR_DATABASE_URL=db,
            MONITOR_LOG_FORMAT="json",
            TEST_SLACK_URL=server.url(secret_path),
        )
        try:
            daemon.wait_for(r"failed for good|rejected")
            daemon.wait_for(r"cycle: polled")
            assert daemon.stop() == 0
        finally:
            daemon.kill()
    lines = [json.loads(line) for line in daemon.text().splitlines()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    matched = [line for line in lines if "matched rule" in line["message"]]
    assert matched and {"rule", "story", "article"} <= matched[0].keys()
    sent = [line for line in lines if line.get("channel") == "desk"]
    assert sent, lines
    assert "SECRET" not in daemon.text()


def test_a_crash_loop_shows_in_the_logs_and_the_metrics(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    for _ in range(2):  # two lives that die mid-cycle, as a crash would
        dying = DaemonProcess(
            DEFAULT_CONFIG, tmp_path, MONITOR_DATABASE_URL=db, MONITOR_FAILPOINT="after-claim"
        )
        assert dying.process.wait(timeout=60) == -9
    daemon = DaemonProcess(DEFAULT_CONFIG, tmp_path, MONITOR_DATABASE_URL=db)
    try:
        found = daemon.wait_for(r"(\d+) daemon life/lives in the last hour ended without a clean")
        assert found.group(1) == "2"
        daemon.wait_for(r"freed \d+ lease")  # the dead lives' feeds are not left waiting
        url = daemon.server_url()
        assert value(scrape(url), "monitor_unclean_exits_recent") == 2
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def test_a_taken_port_is_one_clear_error(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "PATH": "/usr/bin:/bin",
            "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
            "MONITOR_SERVER__PORT": str(port),
        }
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "-c", str(DEFAULT_CONFIG), "run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot serve /healthz, /readyz and /metrics on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_failures_are_counted_per_feed_and_per_channel(db_url):
    """A feed that answers 500 and a channel that answers 404 show in the metrics by name,
    and the cycle still stores and sends what it can."""
    from prometheus_client import generate_latest

    from monitor.config import ChannelConfig, FeedConfig, RouteConfig
    from monitor.service.cycle import Service
    from monitor.store import Store
    from tests.conftest import SEEDS, make_settings

    with LocalServer(SEEDS) as server:
        server.handlers["/broken.rss"] = lambda _r: Reply(500, b"oops")
        server.handlers["/hook"] = lambda _r: Reply(404, b"no_service")
        feeds = [
            FeedConfig(name="broken", url=server.url("/broken.rss")),
            FeedConfig(name="daily-ledger", url=server.url("/feeds/daily-ledger.rss")),
        ]
        settings = make_settings(
            db_url,
            feeds,
            channels={"desk": ChannelConfig(type="webhook", url=server.url("/hook"))},
            routes=[RouteConfig(channels=["desk"])],
        )
        service = Service(settings, store=Store(db_url))
        report = service.cycle()
        service.close()
    assert report.feeds == 2 and report.failed_feeds == 1
    samples = samples_of(generate_latest(service.metrics.registry).decode())
    assert value(samples, "monitor_poll_errors_total", feed="broken") == 1
    assert value(samples, "monitor_poll_errors_total", feed="daily-ledger") == 0
    assert value(samples, "monitor_last_successful_poll_timestamp_seconds", feed="broken") == 0
    assert value(samples, "monitor_feeds_failing") == 1
    assert value(samples, "monitor_deliveries_total", channel="desk", outcome="failed") == 1
    assert value(samples, "monitor_delivery_latency_seconds_count", channel="desk") == 0
    assert value(samples, "monitor_outbox", state="failed") == 1
