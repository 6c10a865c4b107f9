"""The poller against a real HTTP server on 127.0.0.1: the ways the web misbehaves."""

from __future__ import annotations

import gzip
import random
import threading
import time
from datetime import timedelta

import brotli
import pytest
from sqlmodel import select

from monitor.config import FeedConfig, HttpConfig
from monitor.service.cycle import Service
from monitor.store.tables import ArticleRow, FeedState, utcnow
from monitor.util.retry_after import retry_after_seconds
from tests.conftest import ConsoleCapture, make_settings
from tests.httpserver import LocalServer, Reply, Request

LOCAL = ["127.0.0.1/32"]


def rss(items: list[tuple[str, str]], title: str = "Test Wire") -> bytes:
    """An RSS 2.0 document of (guid, title) items, each with a distinct body."""
    entries = "".join(
        f"<item><title>{t}</title><guid>{g}</guid><link>https://wire.example/{g}</link>"
        f"<description>Report {g}: {t}, with details only this report has.</description></item>"
        for g, t in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://wire.example/</link>{entries}</channel></rss>"
    ).encode()


FEED = rss([("a1", "Harbour reopens"), ("a2", "Grain prices fall")])
XML = {"Content-Type": "application/rss+xml"}


def make_service(db_url: str, feeds: list[FeedConfig], **http) -> Service:
    http.setdefault("allow_networks", LOCAL)
    settings = make_settings(db_url, feeds, http=HttpConfig(**http))
    service = ConsoleCapture(settings).service()
    service.poller.rng = random.Random(7)
    return service


def state_of(service: Service, name: str) -> FeedState:
    with service.store.session() as session:
        return session.exec(select(FeedState).where(FeedState.name == name)).one()


def titles(service: Service, feed: str) -> list[str]:
    with service.store.session() as session:
        return list(session.exec(select(ArticleRow.title).where(ArticleRow.feed == feed)).all())


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv


def test_conditional_get_304_means_nothing_new(server, db_url):
    def handler(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        headers = {**XML, "ETag": '"v1"', "Last-Modified": "Fri, 02 Aug 2019 06:30:00 GMT"}
        return Reply(200, FEED, headers)

    server.handlers["/feed"] = handler
    service = make_service(db_url, [FeedConfig(name="wire", url=server.url("/feed"))])
    first = service.cycle(force=True)
    assert first.ingest.new == 2
    second = service.cycle(force=True)
    assert second.ingest.new == 0 and second.failed_feeds == 0
    sent = server.requests[1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Fri, 02 Aug 2019 06:30:00 GMT"
    state = state_of(service, "wire")
    assert state.items_seen == 2 and state.consecutive_failures == 0
    assert state.etag == '"v1"'  # kept although the 304 repeated only the ETag
    service.close()


def test_polite_headers_and_compressed_bodies(server, db_url):
    server.handlers["/gzip"] = lambda _r: Reply(200, gzip.compress(FEED), {**XML, **_enc("gzip")})
    other = rss([("b1", "Ferry resumes"), ("b2", "Rice prices rise")])
    server.handlers["/br"] = lambda _r: Reply(200, brotli.compress(other), {**XML, **_enc("br")})
    feeds = [FeedConfig(name=n, url=server.url(f"/{n}")) for n in ("gzip", "br")]
    service = make_service(db_url, feeds)
    report = service.cycle(force=True)
    assert report.failed_feeds == 0
    assert sorted(titles(service, "gzip")) == ["Grain prices fall", "Harbour reopens"]
    assert sorted(titles(service, "br")) == ["Ferry resumes", "Rice prices rise"]
    for request in server.requests:
        assert request.headers["User-Agent"].startswith("sanctions-monitor/")
        assert {"gzip", "br"} <= {e.strip() for e in request.headers["Accept-Encoding"].split(",")}
    service.close()


def _enc(name: str) -> dict[str, str]:
    return {"Content-Encoding": name}


def test_permanent_redirect_moves_the_feed_and_temporary_does_not(server, db_url):
    server.handlers["/old"] = lambda _r: Reply(301, b"", {"Location": server.url("/new")})
    server.handlers["/new"] = lambda _r: Reply(200, FEED, XML)
    server.handlers["/temp"] = lambda _r: Reply(302, b"", {"Location": server.url("/new")})
    feeds = [
        FeedConfig(name="moved", url=server.url("/old")),
        FeedConfig(name="visiting", url=server.url("/temp")),
    ]
    service = make_service(db_url, feeds)
    service.cycle(force=True)
    assert state_of(service, "moved").url == server.url("/new")
    assert state_of(service, "visiting").url == server.url("/temp")
    service.cycle(force=True)
    assert server.hits("/old") == 1  # the second poll went straight to the new address
    assert server.hits("/temp") == 2
    service.close()


def test_a_failing_feed_backs_off_and_recovers_by_itself(server, db_url):
    calls = {"n": 0}

    def flaky(_request: Request) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return Reply(500, b"oops", {"Content-Type": "text/plain"})
        return Reply(200, FEED, XML)

    server.handlers["/flaky"] = flaky
    feed = FeedConfig(name="flaky", url=server.url("/flaky"), interval=600)
    service = make_service(db_url, [feed], jitter=0)
    before = utcnow()
    report = service.cycle(force=True)
    assert report.failed_feeds == 1
    state = state_of(service, "flaky")
    assert state.consecutive_failures == 1
    assert state.last_error == "HTTP 500 Internal Server Error"
    assert state.next_poll >= before + timedelta(seconds=1200)  # 2 x interval
    assert service.poller.due() == []  # not polled again before its backoff ends
    assert service.poller.due(now=before + timedelta(seconds=1300))[0].name == "flaky"
    report = service.cycle(force=True)
    assert report.failed_feeds == 0 and report.ingest.new == 2
    state = state_of(service, "flaky")
    assert state.consecutive_failures == 0 and state.last_error == ""
    assert state.last_success is not None and state.items_seen == 2
    service.close()


def test_retry_after_is_honoured_on_429_and_503(server, db_url):
    server.handlers["/busy"] = lambda _r: Reply(429, b"", {"Retry-After": "7200"})
    server.handlers["/down"] = lambda _r: Reply(
        503, b"", {"Retry-After": "Fri, 31 Dec 2100 23:59:59 GMT"}
    )
    feeds = [
        FeedConfig(name="busy", url=server.url("/busy"), interval=60),
        FeedConfig(name="down", url=server.url("/down"), interval=60),
    ]
    service = make_service(db_url, feeds, jitter=0)
    before = utcnow()
    service.cycle(force=True)
    busy, down = state_of(service, "busy"), state_of(service, "down")
    assert busy.last_error == "HTTP 429 Too Many Requests"
    assert busy.next_poll >= before + timedelta(seconds=7200)
    assert down.next_poll <= utcnow() + timedelta(hours=24, seconds=5)  # capped
    assert down.next_poll >= before + timedelta(hours=23)
    service.close()


def test_retry_after_header_forms():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("") is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0


def test_a_hanging_feed_times_out_and_the_others_are_polled(server, db_url):
    release = threading.Event()

    def hang(_request: Request) -> Reply:
        release.wait(30)
        return Reply(200, FEED, XML)

    server.handlers["/hang"] = hang
    server.handlers["/ok"] = lambda _r: Reply(200, FEED, XML)
    feeds = [FeedConfig(name=n, url=server.url(f"/{n}")) for n in ("hang", "ok")]
    service = make_service(db_url, feeds, timeout=0.5, connect_timeout=0.5)
    try:
        started = time.monotonic()
        report = service.cycle(force=True)
        assert time.monotonic() - started < 10
        assert report.failed_feeds == 1 and report.ingest.new == 2
        assert state_of(service, "hang").last_error.startswith("timed out")
        assert len(titles(service, "ok")) == 2
    finally:
        release.set()
        service.close()


def test_responses_over_the_cap_are_refused_even_compressed(server, db_url):
    big = rss([(f"g{i}", f"Item {i}") for i in range(200)])
    bomb = gzip.compress(b"<rss>" + b" " * 5_000_000 + b"</rss>")
    server.handlers["/big"] = lambda _r: Reply(200, big, XML)
    server.handlers["/bomb"] = lambda _r: Reply(200, bomb, {**XML, **_enc("gzip")})
    server.handlers["/ok"] = lambda _r: Reply(200, FEED, XML)
    feeds = [FeedConfig(name=n, url=server.url(f"/{n}")) for n in ("big", "bomb", "ok")]
    service = make_service(db_url, feeds, max_bytes=20_000)
    assert len(big) > 20_000 and len(bomb) < 20_000
    report = service.cycle(force=True)
    assert report.failed_feeds == 2
    assert "over the cap of 20000" in state_of(service, "big").last_error
    assert "over the cap of 20000" in state_of(service, "bomb").last_error
    assert len(titles(service, "ok")) == 2
    service.close()


def test_private_addresses_are_refused_unless_allowed(server, db_url):
    server.handlers["/feed"] = lambda _r: Reply(200, FEED, XML)
    # 127.0.0.2 is loopback too, but only 127.0.0.1 is allowed: the redirect is refused.
    server.handlers["/sneaky"] = lambda _r: Reply(301, b"", {"Location": "http://127.0.0.2/x"})
    feeds = [FeedConfig(name=n, url=server.url(f"/{n}")) for n in ("feed", "sneaky")]

    closed = make_service(db_url, feeds[:1], allow_networks=[])
    closed.cycle(force=True)
    assert "non-public address" in state_of(closed, "feed").last_error
    assert server.hits("/feed") == 0  # refused before connecting
    closed.close()

    service = make_service(db_url, feeds)
    service.cycle(force=True)
    assert state_of(service, "feed").consecutive_failures == 0
    assert "127.0.0.2 is a non-public address" in state_of(service, "sneaky").last_error
    service.close()


def test_at_most_per_host_requests_at_once(server, db_url):
    lock, active, peak = threading.Lock(), [0], [0]
    both_in = threading.Event()

    def slow(_request: Request) -> Reply:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            if active[0] >= 2:
                both_in.set()
        both_in.wait(5)  # hold until a second request is in, so overlap is certain
        with lock:
            active[0] -= 1
        return Reply(200, FEED, XML)

    for n in range(6):
        server.handlers[f"/f{n}"] = slow
    feeds = [FeedConfig(name=f"f{n}", url=server.url(f"/f{n}")) for n in range(6)]
    service = make_service(db_url, feeds, concurrency=6, per_host=2)
    report = service.cycle(force=True)
    assert report.failed_feeds == 0
    assert peak[0] == 2
    service.close()


def test_jitter_is_seedable_and_bounded(server, db_url):
    server.handlers["/feed"] = lambda _r: Reply(200, FEED, XML)
    offsets = []
    for _ in range(2):
        feed = FeedConfig(name="wire", url=server.url("/feed"), interval=1000)
        service = make_service(f"{db_url}{len(offsets)}", [feed], jitter=0.1)
        service.poller.rng = random.Random(42)
        service.poller.clock = lambda: utcnow().replace(year=2030, microsecond=0)
        service.cycle(force=True)
        state = state_of(service, "wire")
        offsets.append((state.next_poll - state.last_polled).total_seconds())
        service.close()
    assert offsets[0] == offsets[1]
    assert 900 <= offsets[0] <= 1100 and offsets[0] != 1000
