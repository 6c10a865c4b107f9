"""Broken feeds as the web serves them: every entry a lenient reader can recover is stored.

The shapes are those seen failing on real-world feeds (issue #15): a truncated document whose
item has only a link, undeclared ``rss:`` prefixes behind a garbled XML declaration, a JSON
Feed whose version is the bare string "1.0", and an internal DTD entity built from another.
"""

from __future__ import annotations

import json
import time

from sqlmodel import select

from monitor.config import FeedConfig
from monitor.ingest.parse import parse_feed
from monitor.ingest.repair import drop_undeclared_prefixes
from monitor.store.tables import ArticleRow
from tests.conftest import ConsoleCapture, make_settings
from tests.httpserver import Reply
from tests.test_feeds_fulltext import PAGE

RSS = {"content-type": "application/rss+xml"}


def parse(body: bytes, headers: dict[str, str] = RSS):
    return parse_feed(body, "https://feeds.example/f", headers, "f", "")


def test_a_truncated_feed_keeps_its_link_only_item():
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Wire'
        b"</title><item><link>https://wire.example/a/1</link></item><item><link>https://wi"
    )
    parsed = parse(body)
    assert [a.url for a in parsed.articles][:1] == ["https://wire.example/a/1"]
    assert parsed.articles[0].summary_only and "SAXParseException" in parsed.problem


def test_undeclared_prefixes_behind_a_garbled_declaration_are_read():
    items = "".join(
        f"<rss:item><rss:title>Story {n}</rss:title><rss:link>https://p.example/{n}</rss:link>"
        f"<rss:description>Text of story {n}.</rss:description></rss:item>"
        for n in (1, 2)
    )
    body = (
        '<?xml version="1.0" encoding="utf-8" standalone="yes" ?? >\n<rss:rss version="2.0">'
        f"<rss:channel><rss:title>Pfx</rss:title>{items}</rss:channel></rss:rss>"
    ).encode()
    parsed = parse(body)
    assert [a.title for a in parsed.articles] == ["Story 1", "Story 2"]
    assert "undeclared prefix(es) rss" in parsed.problem


def test_declared_prefixes_are_left_alone():
    text = '<feed xmlns:media="http://search.yahoo.com/mrss/"><media:content/><x:y/></feed>'
    repaired, dropped = drop_undeclared_prefixes(text)
    assert dropped == ["x"] and "<media:content/>" in repaired and "<y/>" in repaired


def test_a_json_feed_with_a_bare_version_number():
    for version in ("1.0", "1", "1.1", "https://jsonfeed.org/version/1.1"):
        body = json.dumps(
            {"version": version, "title": "J", "items": [{"id": "1", "content_text": "Body."}]}
        ).encode()
        parsed = parse(body, {"content-type": "application/feed+json"})
        assert [a.text for a in parsed.articles] == ["Body."], version
    wrong = json.dumps({"version": "2.0", "items": []}).encode()
    try:
        parse(wrong, {"content-type": "application/feed+json"})
    except ValueError as exc:
        assert "no JSON Feed version (got '2.0')" in str(exc)
    else:
        raise AssertionError("a JSON Feed 2.0 (no such version) was accepted")


def test_an_entity_built_from_another_is_written_out():
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY copy "&#169;">\n'
        b'<!ENTITY pub "Example Pub &copy; 2024">\n]>\n<rss version="2.0"><channel>'
        b"<title>&pub;</title><item><title>Item by &pub;</title>"
        b"<link>https://d.example/1</link><description>Text.</description></item>"
        b"</channel></rss>"
    )
    parsed = parse(body)
    assert parsed.title == "Example Pub \u00a9 2024"
    assert [a.title for a in parsed.articles] == ["Item by Example Pub \u00a9 2024"]


def test_a_chain_of_entities_each_ten_times_the_last_stays_small():
    decls = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [{decls}]>\n<rss version="2.0"><channel>'
        "<title>T</title><item><title>&l9;</title><link>https://d.example/1</link></item>"
        "</channel></rss>"
    ).encode()
    started = time.process_time()
    parsed = parse(body)
    assert time.process_time() - started < 2
    assert len(parsed.articles[0].title) < 100 and "could expand" in parsed.problem


def test_a_link_only_entry_is_stored_with_its_pages_title_and_text(seed_server, db_url):
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Ledger</title>'
        f"<item><link>{seed_server.url(PAGE)}</link></item>"
        "<item><link>" + seed_server.url("/pages/gone.html") + "</link></item>"
        "</channel></rss>"
    ).encode()
    seed_server.handlers["/bare.rss"] = lambda _r: Reply(200, feed, {"Content-Type": "text/xml"})
    settings = make_settings(db_url, [FeedConfig(name="bare", url=seed_server.url("/bare.rss"))])
    service = ConsoleCapture(settings).service()
    try:
        report = service.cycle(force=True)
        with service.store.session() as session:
            rows = session.exec(select(ArticleRow)).all()
    finally:
        service.close()
    assert report.failed_feeds == 0 and report.ingest.new == 1  # the dead link is skipped
    assert len(rows) == 1 and rows[0].title and "North Korean" in rows[0].text


def test_a_feeds_pages_are_fetched_side_by_side(seed_server, db_url):
    """Two pages of one feed are in flight together (http.per_host 2): each page's handler
    waits for the other at a barrier, which only a concurrent fetch can pass."""
    import threading

    from monitor.config import HttpConfig

    barrier = threading.Barrier(2, timeout=10)
    page = (seed_server.root / PAGE.lstrip("/")).read_bytes()

    def together(_request):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return Reply(504, b"alone")
        return Reply(200, page, {"Content-Type": "text/html"})

    items = ""
    for n in (1, 2):
        seed_server.handlers[f"/side/{n}.html"] = together
        link = seed_server.url(f"/side/{n}.html")
        items += (
            f"<item><title>Teaser {n}</title><link>{link}</link><description>t</description></item>"
        )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>{items}</channel></rss>'
    )
    seed_server.handlers["/side.rss"] = lambda _r: Reply(
        200, feed.encode(), {"Content-Type": "text/xml"}
    )
    http = HttpConfig(allow_networks=["127.0.0.1/32"], per_host=2)
    settings = make_settings(
        db_url, [FeedConfig(name="side", url=seed_server.url("/side.rss"))], http=http
    )
    service = ConsoleCapture(settings).service()
    try:
        service.cycle(force=True)
        with service.store.session() as session:
            texts = session.exec(select(ArticleRow.text)).all()
    finally:
        service.close()
    assert len(texts) == 2 and all("North Korean" in t for t in texts)
