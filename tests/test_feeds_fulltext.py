"""Summary-only entries get their page's full text (seed pages served on 127.0.0.1)."""

from __future__ import annotations

from sqlmodel import select

from monitor.config import FeedConfig
from monitor.ingest.fulltext import extract_text
from monitor.store.tables import ArticleRow
from tests.conftest import SEEDS, ConsoleCapture, make_settings
from tests.httpserver import Reply

PAGE = "/pages/daily-ledger.example/asia-pacific/2019/08/01/russia-north-korean-workers.html"
TEASER = "The Wall Street Journal has a report on Russia and Pyongyang."
FULL_ONLY = "Over 10,000 new North Korean workers have registered in Russia"


def teaser_feed(link: str, title: str = "The Daily Ledger") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://daily-ledger.example/</link><item>"
        "<title>A report from Moscow</title>"
        f"<link>{link}</link><guid>dl-1</guid><pubDate>Thu, 01 Aug 2019 22:15:00 +0000</pubDate>"
        f"<description>{TEASER}</description></item></channel></rss>"
    ).encode()


def serve_feed(server, body: bytes) -> str:
    server.handlers["/teaser.rss"] = lambda _r: Reply(200, body, {"Content-Type": "text/xml"})
    return server.url("/teaser.rss")


def test_summary_only_entry_is_matched_on_its_page_and_cites_the_page(seed_server, db_url):
    url = serve_feed(seed_server, teaser_feed(seed_server.url(PAGE)))
    capture = ConsoleCapture(make_settings(db_url, [FeedConfig(name="ledger", url=url)]))
    service = capture.service()
    report = service.cycle(force=True)
    assert report.failed_feeds == 0 and report.ingest.new == 1
    with service.store.session() as session:
        row = session.exec(select(ArticleRow)).one()
    assert row.text.startswith("Russia is allowing thousands of fresh North Korean laborers")
    assert FULL_ONLY in row.text
    assert "Subscribe" not in row.text and "Coronavirus" not in row.text  # page junk dropped
    assert row.url == seed_server.url(PAGE)
    console = capture.take()
    assert "Rule:    dprk-overseas-labor" in console
    assert "> Over 10,000 *new North Korean workers* have *registered* in *Russia*" in console
    assert seed_server.url(PAGE) in console

    # A changed feed body is parsed again, but a known entry's page is not fetched again.
    serve_feed(seed_server, teaser_feed(seed_server.url(PAGE), title="The Daily Ledger (new)"))
    service.cycle(force=True)
    assert seed_server.hits(PAGE) == 1
    service.close()


def test_full_text_can_be_turned_off_per_feed(seed_server, db_url):
    url = serve_feed(seed_server, teaser_feed(seed_server.url(PAGE)))
    feed = FeedConfig(name="ledger", url=url, full_text=False)
    capture = ConsoleCapture(make_settings(db_url, [feed]))
    service = capture.service()
    service.cycle(force=True)
    with service.store.session() as session:
        assert session.exec(select(ArticleRow.text)).one() == TEASER
    assert seed_server.hits(PAGE) == 0
    assert capture.take() == ""
    service.close()


def test_a_missing_page_keeps_the_summary(seed_server, db_url):
    url = serve_feed(seed_server, teaser_feed(seed_server.url("/pages/gone.html")))
    capture = ConsoleCapture(make_settings(db_url, [FeedConfig(name="ledger", url=url)]))
    service = capture.service()
    report = service.cycle(force=True)
    assert report.failed_feeds == 0 and report.ingest.new == 1
    with service.store.session() as session:
        assert session.exec(select(ArticleRow.text)).one() == TEASER
    service.close()


def test_extract_text_finds_the_article_body_on_every_seed_page():
    for page in sorted((SEEDS / "pages").rglob("*.html")):
        text = extract_text(page.read_bytes(), "https://example.org/")
        assert len(text) > 200, page
        assert "Subscribe" not in text, page
