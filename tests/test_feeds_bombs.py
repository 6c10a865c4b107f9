"""Compression bombs over real HTTP: a few KB on the wire, gigabytes decoded.

httpx decodes each network chunk whole, so the size cap used to trip only after a brotli body had
been inflated in memory. These tests serve bombs in every encoding the client may meet (asked
for, stacked, or sent unasked) and measure what the fetch held, with tracemalloc in-process and
with the child's peak RSS for the real ``monitor run --once``.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
import yaml

from monitor.config import HttpConfig
from monitor.ingest.decoding import BoundedDecoder, DecodingError
from monitor.ingest.fetch import FetchError, get
from monitor.ingest.fulltext import fill_full_text
from monitor.ingest.parse import FeedParseError, parse_feed
from monitor.models import Article
from tests.conftest import ROOT, RULES
from tests.httpserver import LocalServer, Reply

MiB = 1024 * 1024
CAP = 1 * MiB
BOMB_SIZE = 64 * MiB  # 64 times the cap: enough to tell "bounded" from "inflated whole"
CLI_BOMB_SIZE = 2 * 1024 * MiB


@functools.cache
def brotli_zeros(size: int) -> bytes:
    """``size`` zero bytes as brotli, compressed a block at a time so the test never holds them.

    Quality 5 with a 16 MiB window is the fast setting that still gives about 800 bytes a GiB.
    """
    block = bytes(16 * MiB)
    compressor = brotli.Compressor(quality=5, lgwin=24)
    out = [compressor.process(block) for _ in range(size // len(block))]
    out.append(compressor.finish())
    return b"".join(out)


@functools.cache
def zlib_zeros(size: int, wbits: int) -> bytes:
    """``size`` zero bytes as gzip (wbits 31), zlib (15) or raw deflate (-15)."""
    block = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    out = [compressor.compress(block) for _ in range(size // len(block))]
    out.append(compressor.flush())
    return b"".join(out)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


BOMBS: dict[str, Callable[[], bytes]] = {
    "gzip": lambda: zlib_zeros(BOMB_SIZE, 31),
    "x-gzip": lambda: zlib_zeros(BOMB_SIZE, 31),
    "deflate": lambda: zlib_zeros(BOMB_SIZE, 15),
    "deflate-raw": lambda: zlib_zeros(BOMB_SIZE, -15),  # sent as "deflate", as some servers do
    "br": lambda: brotli_zeros(BOMB_SIZE),
    "gzip, br": lambda: brotli.compress(zlib_zeros(BOMB_SIZE, 31)),
    "br, gzip": lambda: _gzip(brotli_zeros(BOMB_SIZE)),
    "br, br": lambda: brotli.compress(brotli_zeros(BOMB_SIZE)),
}


# The client hangs up on a bomb mid-body; without "close" the server thread would wait for the
# next request on that connection and print the reset it gets instead.
CLOSE = {"Connection": "close"}


def _serve(server: LocalServer, path: str, body: bytes, encoding: str) -> str:
    headers = {"Content-Type": "application/rss+xml", **CLOSE}
    if encoding:
        headers["Content-Encoding"] = "deflate" if encoding == "deflate-raw" else encoding
    server.handlers[path] = lambda _r: Reply(200, body, headers)
    return server.url(path)


def _peak_of(call: Callable[[], object]) -> tuple[int, BaseException | None]:
    """The tracemalloc peak while ``call`` runs, and what it raised."""
    tracemalloc.start()
    raised = None
    try:
        call()
    except Exception as exc:
        raised = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, raised


@pytest.mark.parametrize("encoding", list(BOMBS))
def test_a_bomb_stops_at_the_cap_without_being_inflated(loopback_server, feed_client, encoding):
    bomb = BOMBS[encoding]()
    assert len(bomb) < BOMB_SIZE // 500  # a few KB to a few hundred KB on the wire
    url = _serve(loopback_server, "/bomb-" + encoding.replace(", ", "-"), bomb, encoding)
    peak, raised = _peak_of(lambda: get(feed_client, url, CAP))
    print(f"{encoding}: {len(bomb)} bytes on the wire, peak {peak / MiB:.1f} MiB traced")
    assert isinstance(raised, FetchError), raised
    assert str(raised) == f"response is over the cap of {CAP} bytes"
    assert peak < 4 * CAP  # the capped body, a copy while it grows, and small pieces


def test_an_encoding_the_server_was_not_asked_for_is_still_bounded(loopback_server, feed_client):
    url = _serve(loopback_server, "/unasked", brotli_zeros(BOMB_SIZE), "br")
    peak, raised = _peak_of(lambda: get(feed_client, url, CAP, {"Accept-Encoding": "identity"}))
    assert isinstance(raised, FetchError) and "over the cap" in str(raised)
    assert peak < 4 * CAP


def test_an_error_that_is_kept_does_not_keep_the_body(loopback_server, feed_client):
    """The poller logs the error object, and a handler that keeps records (pytest's does) keeps
    its traceback and every frame in it: in a 60-poll test that was 15 MB a poll, never freed."""
    url = _serve(loopback_server, "/kept", brotli_zeros(BOMB_SIZE), "br")
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="over the cap") as caught:
            get(feed_client, url, CAP)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.__traceback__ is not None
    assert held < CAP // 4


@pytest.mark.parametrize("encoding", ["zstd", "compress", "gzip, snappy"])
def test_an_encoding_we_cannot_undo_is_a_clear_error(loopback_server, feed_client, encoding):
    url = _serve(loopback_server, "/unknown", b"\x28\xb5\x2f\xfd" + bytes(100), encoding)
    with pytest.raises(FetchError, match="undecodable response: unsupported Content-Encoding"):
        get(feed_client, url, CAP)


def test_a_full_text_page_that_is_a_bomb_keeps_the_summary(loopback_server, feed_client):
    url = _serve(loopback_server, "/story.html", brotli_zeros(BOMB_SIZE), "br")
    article = Article(title="Teaser", text="A teaser.", source="x", url=url, summary_only=True)
    peak, raised = _peak_of(lambda: fill_full_text(article, feed_client, CAP))
    assert raised is None
    assert article.text == "A teaser." and article.summary_only
    assert peak < 4 * CAP


def _text(size: int, seed: int) -> bytes:
    """Feed-like text that compresses about as well as a real feed does (3 to 5 times)."""
    rng = random.Random(seed)
    words = "tanker port sanctions vessel oil coal export ministry report 2019 Nampo".split()
    out = bytearray()
    while len(out) < size:
        out += f"<item><title>{' '.join(rng.choices(words, k=8))}</title>".encode()
        out += rng.randbytes(rng.randrange(1, 40)).hex().encode() + b"</item>\n"
    return bytes(out[:size])


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "": lambda b: b,
    "identity": lambda b: b,
    "gzip": _gzip,
    "deflate": zlib.compress,
    "deflate-raw": lambda b: zlib.compress(b, wbits=-15),
    "br": brotli.compress,
    "gzip, br": lambda b: brotli.compress(_gzip(b)),
    "deflate, gzip": lambda b: _gzip(zlib.compress(b)),
}


@pytest.mark.parametrize("encoding", list(ENCODERS))
def test_compressed_bodies_decode_exactly_even_in_small_pieces(
    loopback_server, feed_client, encoding
):
    plain = _text(3 * CAP // 2, seed=len(encoding))
    wire = ENCODERS[encoding](plain)
    pieces = [wire[i : i + 1000] for i in range(0, len(wire), 1000)]
    headers = {"Content-Type": "application/rss+xml", **CLOSE}
    if encoding:
        headers["Content-Encoding"] = "deflate" if encoding == "deflate-raw" else encoding
    loopback_server.handlers["/pieces"] = lambda _r: Reply(
        200, headers=headers, stream=iter(pieces), length=len(wire)
    )
    assert get(feed_client, loopback_server.url("/pieces"), 2 * CAP).body == plain
    with pytest.raises(FetchError, match="over the cap"):
        get(feed_client, loopback_server.url("/pieces"), CAP)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "gzip, br"])
def test_the_decoder_never_hands_out_more_than_asked(encoding):
    """One byte in at a time, odd sizes out: pieces stay in bounds and add up to the body."""
    plain = _text(200_000, seed=3)
    wire = ENCODERS[encoding](plain)
    decoder = BoundedDecoder(encoding)
    out = bytearray()
    sizes = [1, 7, 4096, 65536, 100_000]
    for n, byte in enumerate(wire):
        decoder.feed(bytes([byte]))
        size = sizes[n % len(sizes)]
        while piece := decoder.read(size):
            assert len(piece) <= size
            out += piece
    assert bytes(out) == plain


def test_corrupt_compressed_bodies_are_decoding_errors(loopback_server, feed_client):
    url = _serve(loopback_server, "/corrupt", b"\x1f\x8b\x08\x00" + b"\xff" * 64, "gzip")
    with pytest.raises(FetchError, match="undecodable response"):
        get(feed_client, url, CAP)
    decoder = BoundedDecoder("br")
    decoder.feed(b"this is not brotli at all")
    with pytest.raises(DecodingError):
        decoder.read()


def _feed_linking_to(page: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Harbour Wire</title><link>https://wire.example/</link><item>"
        f"<title>A report from Nampo</title><link>{page}</link><guid>hw-1</guid>"
        "<description>A teaser that only the page explains.</description>"
        "</item></channel></rss>"
    ).encode()


# Runs ``monitor`` and, on the way out, writes the process's own peak resident memory (VmHWM,
# KiB) to the file named first on its command line.
_PEAK_LAUNCHER = """
import atexit, runpy, sys
peak_path = sys.argv.pop(1)
def _record():
    with open("/proc/self/status") as status, open(peak_path, "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])
atexit.register(_record)
sys.argv[0] = "monitor"
runpy.run_module("monitor", run_name="__main__", alter_sys=True)
"""


def _monitor(config: Path, db: str, *args: str) -> tuple[int, str, str, int]:
    """``monitor -c config ARGS`` as operators run it: exit code, stdout, stderr, peak RSS (KiB).

    The peak is the one the process's own memory reached (``VmHWM``, read as it exits). Neither
    ``os.wait4`` nor ``RUSAGE_CHILDREN`` gives that: Linux counts in a child's ``ru_maxrss``
    the pages it shared with the parent between fork and exec, so the figure grew with the test
    process (251 MiB after a test that trains a model in the same process, against 148 alone).
    """
    env = {**os.environ, "MONITOR_DATABASE_URL": db}
    env.pop("MONITOR_CONFIG", None)
    out_path, err_path = config.with_suffix(".out"), config.with_suffix(".err")
    peak_path = config.with_suffix(".peak")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", _PEAK_LAUNCHER, str(peak_path), "-c", str(config), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
        try:
            process.wait(timeout=120)  # a hang fails the test, not the run
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert peak_path.exists(), f"monitor {' '.join(args)} did not exit by itself"
    peak = int(peak_path.read_text())
    return process.returncode, out_path.read_text(), err_path.read_text(), peak


def test_run_once_over_brotli_bombs_stays_small_and_names_the_error(tmp_path):
    bomb = brotli_zeros(CLI_BOMB_SIZE)
    assert len(bomb) < 4096
    with LocalServer() as srv:
        _serve(srv, "/bomb.rss", bomb, "br")
        srv.handlers["/story.html"] = lambda _r: Reply(
            200, bomb, {"Content-Type": "text/html", "Content-Encoding": "br", **CLOSE}
        )
        feed = _feed_linking_to(srv.url("/story.html"))
        srv.handlers["/wire.rss"] = lambda _r: Reply(200, feed, {"Content-Type": "text/xml"})
        db = f"sqlite:///{tmp_path / 'm.db'}"
        config = tmp_path / "monitor.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "database_url": db,
                    "rules_dir": str(RULES),
                    "feeds": [
                        {"name": "bomb", "url": srv.url("/bomb.rss")},
                        {"name": "wire", "url": srv.url("/wire.rss"), "full_text": True},
                    ],
                    "http": {"allow_networks": ["127.0.0.1/32"]},
                }
            )
        )
        code, out, err, peak_kib = _monitor(config, db, "run", "--once")
        print(
            f"\nmonitor run --once over a {CLI_BOMB_SIZE // MiB} MiB brotli bomb "
            f"({len(bomb)} bytes on the wire): peak RSS {peak_kib / 1024:.0f} MiB"
        )
        assert srv.hits("/bomb.rss") == 1 and srv.hits("/story.html") == 1
    assert code == 0, err
    assert "Traceback" not in out + err
    assert peak_kib < 300 * 1024
    assert "full text of" in err and "over the cap" in err  # the page's bomb, logged

    code, out, err, _ = _monitor(config, db, "feeds", "list", "--json")
    assert code == 0, err
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    limit = HttpConfig().max_bytes
    assert rows["bomb"]["last_error"] == f"response is over the cap of {limit} bytes"
    assert rows["bomb"]["consecutive_failures"] == 1
    assert rows["wire"]["last_error"] == "" and rows["wire"]["items_seen"] == 1


def test_a_document_of_nothing_but_tags_is_refused_before_feedparser_sees_it():
    """feedparser spends about 50 µs a tag: 2 MB of nested elements would take it 20 s."""
    body = b'<?xml version="1.0"?><rss version="2.0">' + b"<b>" * 150_000 + b"</b>" * 150_000
    started = time.monotonic()
    with pytest.raises(FeedParseError, match="300002 tags, more than the 200000"):
        parse_feed(body, "https://x.example/feed", {}, "tags")
    assert time.monotonic() - started < 1
