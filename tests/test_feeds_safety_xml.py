"""Entity declarations in feeds and OPML files, as hostile ones write them.

The DTD of a feed used to be found by a pattern; a comment such as ``<!-- <a -->`` before the
DOCTYPE hid it, and expat's own limits (about 58 MB and seconds a document) were all that was
left. Every case here must end quickly, in little memory, with a reason on the feed's health.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.config import FeedConfig
from monitor.ingest.encoding import decode, defuse, to_utf8_xml
from monitor.ingest.opml import OPMLError, parse_opml
from monitor.ingest.parse import FeedParseError, ParsedFeed, parse_feed
from monitor.store.tables import FeedState
from tests.conftest import SEEDS, ConsoleCapture, make_settings
from tests.costs import measured
from tests.httpserver import LocalServer, Reply

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
URL = "https://x.example/feed"
BODY = (
    '<rss version="2.0"><channel><title>Laughs</title>'
    "<item><title>Entry {ref}</title><link>https://x.example/1</link>"
    "<description>Still here.</description></item></channel></rss>"
)
LAUGHS = "".join(
    ['<!ENTITY lol "lol">']
    + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    ]
)


def laughs(before_doctype: str, doctype: str = "<!DOCTYPE rss [{subset}]>") -> bytes:
    prolog = '<?xml version="1.0"?>' + before_doctype + doctype.format(subset=LAUGHS)
    return (prolog + "\n" + BODY.format(ref="&lol9;")).encode()


HIDDEN_DOCTYPES = {
    "comment with a tag": laughs("<!-- <a -->\n"),
    "processing instruction with a tag": laughs("<?note <a?>\n"),
    "comment, no newline": laughs("<!--<b>-->"),
    "system id with a tag": laughs("\n", '<!DOCTYPE rss SYSTEM "x<a" [{subset}]>'),
    "long padding": laughs("\n" + " " * 70_000 + "<!--" + "x" * 70_000 + "-->\n"),
}


@pytest.mark.parametrize("document", HIDDEN_DOCTYPES.values(), ids=list(HIDDEN_DOCTYPES))
def test_a_billion_laughs_cannot_hide_its_dtd(document):
    parsed, seconds, peak = measured(lambda: parse_feed(document, URL, {}, "laughs"))
    assert isinstance(parsed, ParsedFeed), parsed
    assert seconds < 1 and peak < 5_000_000
    assert len(parsed.articles[0].title) < 100  # &lol9; left unexpanded: never 3 GB of "lol"
    assert parsed.articles[0].text == "Still here."
    assert "dropped 6 DTD entity declaration(s) that could expand" in parsed.problem


def quadratic(value_length: int, references: int) -> bytes:
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "'
        + "x" * value_length
        + '">\n]>\n'
        + BODY.format(ref="&a;" * references)
    ).encode()


def test_a_quadratic_blowup_is_refused_in_time_and_memory():
    document = quadratic(10_000, 20_000)  # 70 KB that would expand to 200 MB of text
    parsed, seconds, peak = measured(lambda: parse_feed(document, URL, {}, "quadratic"))
    assert isinstance(parsed, ParsedFeed), parsed
    assert seconds < 1 and peak < 20_000_000
    assert "would add 200000000 characters" in parsed.problem
    assert len(parsed.articles[0].title) < 100_000


def test_short_entities_used_a_few_times_still_expand():
    document = (
        '<?xml version="1.0"?>\n<!-- the outlet -->\n<!DOCTYPE rss [\n<!ENTITY co "Acme Shipping">'
        '\n<!ENTITY nbsp "&#160;">\n<!ENTITY amp2 "&#38;">\n]>\n' + BODY.format(ref="&co;&nbsp;Ltd")
    ).encode()
    parsed = parse_feed(document, URL, {}, "entities")
    assert parsed.articles[0].title == "Entry Acme Shipping Ltd"  # the text keeps no nbsp
    assert parsed.problem == ""


@pytest.mark.parametrize(
    "declaration",
    [
        '<!ENTITY ext SYSTEM "{url}">',
        '<!ENTITY ext PUBLIC "-//X//Y" "{url}">',
        '<!ENTITY % pe SYSTEM "{url}"> %pe;',
        "<!ENTITY % pe \"<!ENTITY ext SYSTEM '{url}'>\"> %pe;",
    ],
    ids=["system", "public", "external parameter entity", "parameter entity declaring"],
)
def test_external_entities_are_never_fetched_nor_expanded(declaration):
    with LocalServer() as server:
        server.handlers["/secret"] = lambda _r: Reply(200, b"TOP SECRET", {})
        subset = declaration.format(url=server.url("/secret"))
        document = (
            f'<?xml version="1.0"?><!-- <a -->\n<!DOCTYPE rss [{subset}]>\n'
            + BODY.format(ref="&ext;")
        ).encode()
        parsed, seconds, _ = measured(lambda: parse_feed(document, URL, {}, "xxe"))
        assert server.hits("/secret") == 0
    assert isinstance(parsed, ParsedFeed), parsed
    assert seconds < 1
    assert "TOP SECRET" not in parsed.articles[0].title + parsed.articles[0].text
    assert "dropped 1 DTD entity declaration(s)" in parsed.problem


def test_entity_declarations_in_a_prolog_expat_cannot_read_are_refused():
    # "--" inside a comment is not XML: the prolog cannot be read, so nothing in it is trusted.
    document = laughs("<!-- a -- <a -->\n")
    parsed, seconds, _ = measured(lambda: parse_feed(document, URL, {}, "broken"))
    assert isinstance(parsed, FeedParseError)
    assert str(parsed).startswith("unsafe XML: entity declarations in a prolog that is not well")
    assert seconds < 1


def test_a_hidden_billion_laughs_is_on_the_feeds_health(db_url):
    with LocalServer() as server:
        server.handlers["/laughs"] = lambda _r: Reply(
            200, HIDDEN_DOCTYPES["comment with a tag"], {"Content-Type": "application/rss+xml"}
        )
        feed = FeedConfig(name="laughs", url=server.url("/laughs"))
        service = ConsoleCapture(make_settings(db_url, [feed])).service()
        try:
            started = time.monotonic()
            report = service.cycle(force=True)
            assert time.monotonic() - started < 10
            with service.store.session() as session:
                state = session.exec(select(FeedState).where(FeedState.name == "laughs")).one()
        finally:
            service.close()
    assert report.ingest.new == 1
    assert "dropped 6 DTD entity declaration(s) that could expand" in state.last_error


def _documents() -> Iterator[Path]:
    yield from sorted(FIXTURES.glob("*.xml"))
    yield from sorted((SEEDS / "feeds").iterdir())


@pytest.mark.parametrize("path", list(_documents()), ids=lambda p: p.name)
def test_ordinary_feeds_pass_through_unchanged(path):
    """No DTD with entities, nothing rewritten: the bytes feedparser sees are as before."""
    text = decode(path.read_bytes()).text
    defused, note = defuse(text)
    assert note == ""
    assert to_utf8_xml(defused) == to_utf8_xml(text)


OPML_WITH_ENTITY = (
    '<?xml version="1.0" encoding="{encoding}"?>{padding}'
    '<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    '<opml version="2.0"><head/><body><outline text="x" xmlUrl="https://x.example/&b;"/>'
    "</body></opml>"
)


@pytest.mark.parametrize(
    ("encoding", "padding"),
    [("utf-16", ""), ("utf-8", " " * 5000), ("utf-8", "<!--" + "x" * 5000 + "-->"), ("utf-8", "")],
    ids=["utf-16", "padded", "long comment", "plain"],
)
def test_opml_with_a_doctype_is_refused_however_it_is_written(encoding, padding):
    document = OPML_WITH_ENTITY.format(encoding=encoding, padding=padding).encode(encoding)
    with pytest.raises(OPMLError, match="refusing to parse"):
        parse_opml(document)


def test_utf16_opml_without_a_doctype_is_read():
    document = (
        '<?xml version="1.0" encoding="utf-16"?><opml version="2.0"><head/><body>'
        '<outline text="Küstenwache" xmlUrl="https://kueste.example/rss"/></body></opml>'
    ).encode("utf-16")
    [subscription] = parse_opml(document)
    assert subscription.url == "https://kueste.example/rss"
    assert subscription.title == "Küstenwache"
