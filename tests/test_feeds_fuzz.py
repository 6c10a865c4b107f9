"""Fuzzing the fetch-and-parse path with documents made from the project's own feeds.

Every fixture and seed feed is cut short, has bytes flipped, is re-encoded (UTF-16, or Latin-1
under a declaration that lies), gets elements duplicated or nested thousands deep, or gets a DTD
with hostile entities put in front. Whatever comes in, the parser may only answer with a feed or
with :class:`FeedParseError` (the fetcher with :class:`FetchError`), within two seconds and a
bounded amount of memory: anything else would end as "internal error" on a feed's health, or
stall every other feed behind it.

Hypothesis runs derandomized (a fixed seed per test) and without its example database, so every
run tries the same documents.
"""

from __future__ import annotations

import gzip
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import brotli
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from monitor.config import FeedConfig
from monitor.ingest.fetch import FetchError, get
from monitor.ingest.parse import FeedParseError, ParsedFeed, parse_feed
from monitor.store.tables import FeedState
from tests.conftest import SEEDS, ConsoleCapture, make_settings
from tests.costs import measured
from tests.httpserver import Reply

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
CORPUS = {
    p.name: p.read_bytes() for p in [*sorted(FIXTURES.iterdir()), *sorted(SEEDS.glob("feeds/*"))]
}
MAX_SIZE = 60_000  # duplication stops growing a document past this
SECONDS = 2.0
PEAK_BYTES = 64 * 1024 * 1024

FUZZ = settings(
    derandomize=True,
    database=None,
    # Hypothesis times the whole example, tracemalloc's overhead and the server included; the
    # parse (or fetch and parse) alone must take less than SECONDS, asserted in bounded().
    deadline=timedelta(seconds=3 * SECONDS),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Draw = Callable[[st.SearchStrategy], object]


def truncate(draw: Draw, body: bytes) -> bytes:
    return body[: draw(st.integers(0, len(body)))]


def flip_bytes(draw: Draw, body: bytes) -> bytes:
    if not body:
        return body
    out = bytearray(body)
    for _ in range(draw(st.integers(1, 8))):
        out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


_DECLARED = re.compile(rb"encoding\s*=\s*[\"'][^\"']*[\"']")


def reencode(draw: Draw, body: bytes) -> bytes:
    """The same text in another charset, its declaration left alone, made to lie, or removed."""
    text = body.decode("cp1251" if b"windows-1251" in body[:100] else "utf-8", "replace")
    codec = draw(
        st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1251"])
    )
    out = text.encode(codec, "replace")
    declared = draw(st.sampled_from([b"", b"utf-8", b"iso-8859-1", b"utf-16", b"koi8-r", b"x?"]))
    if declared and not codec.startswith("utf-"):  # a byte-wide charset: the declaration lies
        out = _DECLARED.sub(b'encoding="' + declared + b'"', out, count=1)
    return out


def duplicate(draw: Draw, body: bytes) -> bytes:
    """A slice repeated, as a feed that lists one item over and over (or a torn copy does)."""
    if not body:
        return body
    start = draw(st.integers(0, len(body) - 1))
    end = draw(st.integers(start, min(len(body), start + 4000)))
    times = draw(st.integers(1, 200))
    piece = body[start:end] * times
    return (body[:end] + piece + body[end:])[:MAX_SIZE]


_TAG = re.compile(rb"<([A-Za-z][\w:.-]*)[\s>/]")


def nest(draw: Draw, body: bytes) -> bytes:
    """An element (or a JSON array) nested up to thousands deep somewhere in the document."""
    depth = draw(st.sampled_from([2, 50, 500, 2000]))
    at = draw(st.integers(0, len(body)))
    if body.lstrip()[:1] in (b"{", b"["):
        # Just after a ":" the arrays are a value: well-formed JSON, only very deep.
        colons = [m.end() for m in re.finditer(rb":\s*", body)]
        at = draw(st.sampled_from(colons)) if colons and draw(st.booleans()) else at
        opening, closing = b"[" * depth, b"]" * depth
    else:
        names = _TAG.findall(body) or [b"item"]
        name = draw(st.sampled_from(sorted(set(names))))
        opening, closing = (b"<" + name + b">") * depth, (b"</" + name + b">") * depth
    return body[:at] + opening + closing + body[at:]


LAUGHS = "".join(
    ['<!ENTITY lol "lol">']
    + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    ]
)
SUBSETS = {
    "lol9": LAUGHS,
    "big": '<!ENTITY big "' + "x" * 5000 + '">',
    "ext": '<!ENTITY ext SYSTEM "file:///etc/passwd">',
    "pe": "<!ENTITY % pe \"<!ENTITY pe2 'x'>\"> %pe;",
    "co": '<!ENTITY co "Acme">',
}
PREFIXES = ["", "<!-- <a -->", "<?pi <b?>", "\n", "<!-- a -- b -->"]


def entities(draw: Draw, body: bytes) -> bytes:
    """A DTD with hostile (or harmless) entities put in front, and references to them inside."""
    name = draw(st.sampled_from(sorted(SUBSETS)))
    prefix = draw(st.sampled_from(PREFIXES)).encode()
    doctype = prefix + f"<!DOCTYPE rss [{SUBSETS[name]}]>\n".encode()
    declaration = re.match(rb"\s*<\?xml[^>]*\?>", body)
    head = declaration.end() if declaration and draw(st.booleans()) else 0
    body = body[:head] + doctype + body[head:]
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(head + len(doctype), len(body)))
        body = body[:at] + f"&{name};".encode() * draw(st.sampled_from([1, 10, 1000])) + body[at:]
    return body


# Values feeds really carry now and then: links a URL parser chokes on, dates at the edge of
# what a datetime holds, text in place of numbers.
ODD_VALUES = [
    b"http://[::1",
    b"http://x.example:99999/a",
    b"https://[fe80::1%25eth0]/a",
    b"//no-scheme.example/a",
    b"javascript:alert(1)",
    b"0001-01-01T00:00:00+01:00",
    b"9999-12-31T23:59:59-01:00",
    b"Mon, 31 Feb 2019 25:61:00 +9999",
    b"-1",
    b"1e999",
    b"",
]
# The fields the code reads for more than text: links, dates, ids (XML elements, attributes,
# JSON keys).
_FIELDS = rb"link|guid|id|pubDate|published|updated|issued|modified|created|dc:date|url|date_\w+"
_VALUES = re.compile(
    rb"<(?:" + _FIELDS + rb")(?:\s[^>]*)?>([^<]*)<|(?:href|about|resource)=\"([^\"]*)\""
    rb'|"(?:' + _FIELDS + rb'|external_url|id)":\s*"([^"]*)"'
)


def odd_values(draw: Draw, body: bytes) -> bytes:
    """A link, date or id (as element, attribute or JSON value) replaced by one of ODD_VALUES."""
    spans = [m.span(g) for m in _VALUES.finditer(body) for g in (1, 2, 3) if m.start(g) >= 0]
    if not spans:
        return body
    for _ in range(draw(st.integers(1, 4))):
        start, end = draw(st.sampled_from(spans))
        if end <= len(body):
            body = body[:start] + draw(st.sampled_from(ODD_VALUES)) + body[end:]
    return body


MUTATIONS = [truncate, flip_bytes, reencode, duplicate, nest, entities, odd_values]


@st.composite
def documents(draw: Draw) -> bytes:
    body = CORPUS[draw(st.sampled_from(sorted(CORPUS)))]
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        body = mutation(draw, body)
    return body


CONTENT_TYPES = ["", "application/rss+xml", "text/xml", "text/xml; charset=utf-8",
                 "application/json", "text/html; charset=iso-8859-1"]  # fmt: skip


def bounded(call: Callable[[], object], expected: type[Exception] | tuple) -> object:
    """``call``'s result, or ``expected`` raised by it; within SECONDS and PEAK_BYTES."""
    result, seconds, peak = measured(call)
    if isinstance(result, Exception) and not isinstance(result, expected):
        raise result
    STATS.append((seconds, peak))
    assert seconds < SECONDS, f"{seconds:.2f}s"
    assert peak < PEAK_BYTES, f"{peak / 1e6:.0f} MB"
    return result


STATS: list[tuple[float, int]] = []


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """The figures behind the bounds, for ``pytest -s``."""
    yield
    if STATS:
        seconds, peak = max(s for s, _ in STATS), max(p for _, p in STATS)
        print(
            f"\nfuzz: {len(STATS)} documents, slowest {seconds:.2f}s, "
            f"largest tracemalloc peak {peak / 1e6:.1f} MB"
        )


# What the fuzzer found, kept as fixed cases: each escaped as another exception before.
FOUND = {
    "link with a port past 65535": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>a</title>'
        b"<link>http://x.example:99999/a</link></item></channel></rss>",
        "",
    ),
    "link with an unclosed IPv6 bracket": (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": '
        b'[{"id": "1", "title": "a", "url": "http://[::1"}]}',
        "application/feed+json",
    ),
    "JSON arrays 5000 deep": (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": '
        + b"[" * 5000
        + b"]" * 5000
        + b"}",
        "application/json",
    ),
    "JSON date in year 1 with a zone": (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "title": "a", '
        b'"date_published": "0001-01-01T00:00:00+01:00"}]}',
        "application/json",
    ),
}


@pytest.mark.parametrize(("body", "content_type"), FOUND.values(), ids=list(FOUND))
def test_what_the_fuzzer_found_is_a_feed_or_its_own_error(body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    result = bounded(
        lambda: parse_feed(body, "https://x.example/feed", headers, "f"), FeedParseError
    )
    if isinstance(result, ParsedFeed):
        assert [a.url for a in result.articles] == [""]  # an unreadable link is dropped


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/feed", "http://[::1/feed", "http://\x00/"])
def test_a_link_no_url_parser_reads_is_a_fetch_error(feed_client, url):
    with pytest.raises(FetchError, match="valid URL"):
        get(feed_client, url, MAX_SIZE)


@settings(FUZZ, max_examples=80)
@given(body=documents(), content_type=st.sampled_from(CONTENT_TYPES))
def test_parse_feed_answers_with_a_feed_or_its_own_error(body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    result = bounded(
        lambda: parse_feed(body, "https://x.example/feed", headers, "f"), FeedParseError
    )
    if isinstance(result, ParsedFeed):
        for article in result.articles:
            assert isinstance(article.title, str) and isinstance(article.text, str)
            assert len(article.title) + len(article.text) < 4 * MAX_SIZE  # nothing expanded


ENCODINGS: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda b: b,
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "br": brotli.compress,
    "gzip, br": lambda b: brotli.compress(gzip.compress(b, mtime=0)),
}


@settings(FUZZ, max_examples=20)
@given(
    body=documents(),
    encoding=st.sampled_from(sorted(ENCODINGS)),
    damage=st.sampled_from(["none", "cut", "flip"]),
    at=st.floats(0, 1),
)
def test_fetch_and_parse_over_http(loopback_server, feed_client, body, encoding, damage, at):
    """The bytes on the wire damaged too: a cut or flipped compressed stream."""
    wire = ENCODINGS[encoding](body)
    where = int(at * max(len(wire) - 1, 0))
    if damage == "cut":
        wire = wire[:where]
    elif damage == "flip" and wire:
        wire = wire[:where] + bytes([wire[where] ^ 0x5A]) + wire[where + 1 :]
    # The client may hang up mid-body; "close" spares the server waiting on that connection.
    headers = {"Content-Type": "application/rss+xml", "Connection": "close"}
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    loopback_server.handlers["/fuzz"] = lambda _r: Reply(200, wire, headers)

    def fetch_and_parse() -> object:
        page = get(feed_client, loopback_server.url("/fuzz"), 2 * MAX_SIZE)
        return parse_feed(page.body, page.url, page.headers, "fuzz")

    bounded(fetch_and_parse, (FetchError, FeedParseError))


@settings(FUZZ, max_examples=3)
@given(bodies=st.lists(documents(), min_size=6, max_size=6))
def test_the_poller_records_every_fuzzed_feed_without_internal_errors(loopback_server, bodies):
    names = [f"fuzz{n}" for n in range(len(bodies))]
    for name, body in zip(names, bodies, strict=True):
        loopback_server.handlers[f"/{name}"] = lambda _r, body=body: Reply(
            200, body, {"Content-Type": "application/rss+xml"}
        )
    feeds = [FeedConfig(name=n, url=loopback_server.url(f"/{n}"), full_text=False) for n in names]
    with tempfile.TemporaryDirectory() as tmp:
        service = ConsoleCapture(make_settings(f"sqlite:///{tmp}/m.db", feeds)).service()
        try:
            started = time.monotonic()
            service.cycle(force=True)
            assert time.monotonic() - started < SECONDS * len(feeds)
            with service.store.session() as session:
                states = session.exec(select(FeedState)).all()
        finally:
            service.close()
    assert sorted(s.name for s in states) == names  # every feed polled and recorded
    for state in states:
        assert not state.last_error.startswith("internal error"), state.last_error
