"""Every feed format, served over HTTP on 127.0.0.1 and polled into a real SQLite store."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.config import FeedConfig
from monitor.ingest.encoding import decode, defuse
from monitor.ingest.parse import FeedParseError, parse_feed
from monitor.store.tables import ArticleRow, FeedState
from tests.conftest import ConsoleCapture, make_settings
from tests.httpserver import LocalServer, Reply

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
TANKER = "A tanker was seen alongside a North Korean vessel off Nampo"


@pytest.fixture
def server():
    with LocalServer(FIXTURES) as srv:
        yield srv


def poll_one(db_url: str, url: str, name: str = "feed") -> tuple[list[ArticleRow], FeedState]:
    capture = ConsoleCapture(make_settings(db_url, [FeedConfig(name=name, url=url)]))
    service = capture.service()
    try:
        service.cycle(force=True)
        with service.store.session() as session:
            rows = session.exec(select(ArticleRow).order_by(ArticleRow.id)).all()
            state = session.exec(select(FeedState).where(FeedState.name == name)).one()
    finally:
        service.close()
    return list(rows), state


@pytest.mark.parametrize(
    ("fixture", "outlet"),
    [
        ("rss091.xml", "Harbour Notes 0.91"),
        ("rss092.xml", "Harbour Notes 0.92"),
        ("rss20.xml", "Harbour Notes 2.0"),
        ("rdf.xml", "Harbour Notes RDF"),
        ("atom03.xml", "Harbour Notes Atom 0.3"),
        ("atom10.xml", "Harbour Notes Atom 1.0"),
        ("jsonfeed10.json", "Harbour Notes JSON 1.0"),
        ("jsonfeed11.json", "Harbour Notes JSON 1.1"),
    ],
)
def test_each_format_gives_its_two_entries(server, db_url, fixture, outlet):
    rows, state = poll_one(db_url, server.url(f"/{fixture}"))
    assert [r.title for r in rows] == ["Tanker seen off Nampo", "Port fees rise"]
    assert rows[0].text.startswith(TANKER)
    assert rows[1].text == "Port fees rise by five percent."
    assert {r.source for r in rows} == {outlet}
    assert all(r.url.startswith("http") for r in rows)
    assert state.consecutive_failures == 0 and state.items_seen == 2
    assert state.title == outlet


def test_html_in_entries_becomes_clean_text_and_tracking_params_go(server, db_url):
    rows, _ = poll_one(db_url, server.url("/rss20.xml"))
    tanker = rows[0]
    assert tanker.text == f"{TANKER}.\nSecond paragraph."  # script and style dropped
    assert tanker.external_id == "harbour-1"
    assert tanker.published is not None and tanker.published.year == 2019
    assert tanker.canonical_url == "https://harbour.example/2019/tanker-nampo"


def test_relative_links_resolve_against_xml_base_and_the_response_url(server, db_url):
    rows, _ = poll_one(db_url, server.url("/atom10.xml"))
    assert rows[0].title == "Tanker seen off Nampo"  # type="html" title cleaned
    assert rows[0].url == "https://harbour.example/news/2019/tanker-nampo"
    assert rows[1].url == "https://other.example/archive/port-fees"  # the entry's own xml:base
    rows, _ = poll_one(db_url, server.url("/noguid-nodate.xml"), name="bare")
    only_link = next(r for r in rows if r.title == "Only a link")
    assert only_link.url == server.url("/stories/only-a-link")


def test_entries_without_guid_or_date_get_link_or_hash_and_first_seen(server, db_url):
    rows, _ = poll_one(db_url, server.url("/noguid-nodate.xml"), name="bare")
    by_title = {r.title: r for r in rows}
    assert by_title["Only a link"].external_id == server.url("/stories/only-a-link")
    assert by_title["Nothing at all"].external_id.startswith("sha1:")
    for row in rows:
        assert row.published is None and row.dated is not None  # first-seen time

    # Polled again (a changed body, so it is parsed again): the hash id is stable, no copies.
    capture = ConsoleCapture(make_settings(db_url, [FeedConfig(name="bare", url="http://x")]))
    body = (FIXTURES / "noguid-nodate.xml").read_bytes().replace(b"Bare Wire", b"Bare Wire 2")
    parsed = parse_feed(body, server.url("/noguid-nodate.xml"), {}, "bare")
    result = capture.service().pipeline.ingest(parsed.articles)
    assert result.new == 0 and result.duplicates == 2


def test_ill_formed_feed_keeps_its_entries_and_records_the_problem(server, db_url):
    rows, state = poll_one(db_url, server.url("/bozo.xml"))
    assert [r.title for r in rows] == ["Tanker seen off Nampo", "Port fees rise"]
    assert state.consecutive_failures == 0
    assert state.last_error.startswith("ill-formed but readable:")
    assert "not well-formed" in state.last_error


@pytest.mark.parametrize("fixture", ["cp1251.xml", "cp1251-undeclared.xml"])
@pytest.mark.parametrize("content_type", ["text/xml", "application/rss+xml", "text/plain"])
def test_windows_1251_without_charset_in_the_http_header(db_url, fixture, content_type):
    body = (FIXTURES / fixture).read_bytes()
    with LocalServer() as srv:
        srv.handlers["/feed"] = lambda _req: Reply(200, body, {"Content-Type": content_type})
        rows, state = poll_one(db_url, srv.url("/feed"))
    assert rows[0].title == "Северокорейские рабочие получили новые разрешения"
    assert rows[0].source == "Приморские новости"
    assert "гражданам КНДР" in rows[0].text
    assert state.consecutive_failures == 0


def test_a_wrong_charset_in_the_header_loses_to_the_bytes(db_url):
    body = (FIXTURES / "cp1251.xml").read_bytes()
    with LocalServer() as srv:
        ctype = "application/rss+xml; charset=utf-8"
        srv.handlers["/feed"] = lambda _req: Reply(200, body, {"Content-Type": ctype})
        rows, state = poll_one(db_url, srv.url("/feed"))
    assert rows[1].title == "Погода во Владивостоке"
    assert "HTTP header said utf-8" in state.last_error


def test_utf8_feed_declared_latin1_stays_utf8():
    body = '<?xml version="1.0" encoding="iso-8859-1"?><rss><channel><title>Café ☕</title>'
    decoded = decode(body.encode(), "text/xml; charset=iso-8859-1")
    assert decoded.encoding == "utf-8" and "Café ☕" in decoded.text
    assert "bytes are UTF-8" in decoded.note


def _billion_laughs(one_line: bool) -> bytes:
    sep = "" if one_line else "\n"
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    ]
    return (
        f'<?xml version="1.0"?>{sep}<!DOCTYPE rss [{sep}{sep.join(entities)}{sep}]>{sep}'
        '<rss version="2.0"><channel><title>Laughs</title>'
        "<item><title>Entry &lol9;</title><link>https://x.example/1</link>"
        "<description>Still here.</description></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("one_line", [False, True])
def test_entity_expansion_cannot_blow_up_memory(one_line):
    tracemalloc.start()
    try:
        parsed = parse_feed(_billion_laughs(one_line), "https://x.example/feed", {}, "laughs")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # a billion "lol"s would be 3 GB
    assert len(parsed.articles) == 1
    assert parsed.articles[0].text == "Still here."
    assert len(parsed.articles[0].title) < 100
    # lol1..lol3 (30, 300, 3,000 characters) are written out; lol4 would be 30,000: dropped,
    # with every entity built on it.
    assert "dropped 6 DTD entity declaration" in parsed.problem
    assert "undefined entity" in parsed.problem  # &lol9; is left unexpanded


def test_safe_entities_survive_and_the_public_doctype_stays():
    doc = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n<!ENTITY co "Acme">\n]>'
        "<rss><channel><title>x</title></channel></rss>"
    )
    text, note = defuse(doc)
    assert '<!ENTITY nbsp "&#160;">' in text and '<!ENTITY co "Acme">' in text
    assert note == ""


def test_character_references_beyond_unicode_do_not_crash(server, db_url):
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Refs</title><item>'
        b"<title>Bad &#x110000; ref &#99999999999; and &#xD800;</title>"
        b"<link>https://x.example/1</link><description>Fine.</description></item>"
        b"</channel></rss>"
    )
    server.handlers["/refs"] = lambda _req: Reply(200, body, {"Content-Type": "text/xml"})
    rows, state = poll_one(db_url, server.url("/refs"))
    assert rows[0].title == "Bad \ufffd ref \ufffd and \ufffd"
    assert "outside Unicode" in state.last_error


def test_a_web_page_or_garbage_is_a_clear_error():
    with pytest.raises(FeedParseError, match="not a feed"):
        parse_feed(b"<html><body><p>Hello</p></body></html>", "https://x.example/", {}, "x")
    with pytest.raises(FeedParseError, match="not a feed: not valid JSON"):
        parse_feed(b"{nope", "https://x.example/", {"content-type": "application/json"}, "x")
    with pytest.raises(FeedParseError, match="no JSON Feed version"):
        parse_feed(b'{"items": []}', "https://x.example/", {}, "x")
