"""Fetching a feed's bytes (or an article page's): conditional GET with caps, or a local file.

Politeness and limits live here, in one place for feeds and pages alike: a User-Agent naming the
service, gzip/deflate/brotli, ``If-None-Match``/``If-Modified-Since``, connect and read timeouts
plus a deadline for the whole response (a server dripping one byte a second never trips a read
timeout), a size cap counted on the *decoded* bytes, and the SSRF guard on every request,
redirects included. The body is read raw and decoded here (:mod:`monitor.ingest.decoding`) a
bounded piece at a time, since httpx would decode a whole network chunk at once: a few KB of
brotli can be gigabytes, held in memory before any cap could trip.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from monitor.config import FeedConfig, HttpConfig
from monitor.errors import FeedError
from monitor.ingest.decoding import ACCEPTED, BoundedDecoder, DecodingError
from monitor.ingest.safety import UnsafeURLError, check_url, parse_networks
from monitor.util.retry_after import retry_after_seconds

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


class FetchError(FeedError, RuntimeError):
    """The feed could not be fetched; the message says why, for logs and feed health.

    ``status`` is the HTTP status when there was one; ``retry_after`` the seconds a 429 or 503
    asked us to wait.
    """

    def __init__(self, message: str, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class FetchCancelled(Exception):
    """The daemon is stopping: the response was dropped before it was complete. Not a
    :class:`FetchError`: it says nothing about the feed, and is not recorded as a poll."""


class UnsafeURLFetchError(FetchError):
    """The URL (or a redirect's target) resolves to a non-public address that is not allowed."""


@dataclass(slots=True)
class FetchResult:
    status: int  # 200, or 304 when the server says nothing changed
    url: str  # where the body came from, after redirects (base for relative links)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    moved_to: str = ""  # a permanent redirect's target: the feed's new address


_FILE_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
}


def make_client(http: HttpConfig) -> httpx.Client:
    """One client for the whole poller: its pool keeps connections to each host alive."""
    allowed = parse_networks(http.allow_networks)

    def guard(request: httpx.Request) -> None:
        try:
            check_url(str(request.url), http.allow_private, allowed)
        except UnsafeURLError as exc:
            raise UnsafeURLFetchError(f"refused: {exc}") from None

    return httpx.Client(
        timeout=httpx.Timeout(http.timeout, connect=http.connect_timeout),
        follow_redirects=True,
        max_redirects=8,
        limits=httpx.Limits(max_connections=max(http.concurrency * 2, 10)),
        headers={
            "User-Agent": http.user_agent,
            "Accept-Encoding": ACCEPTED,
            "Accept": FEED_ACCEPT,
        },
        event_hooks={"request": [guard]},
    )


def fetch(
    feed: FeedConfig,
    client: httpx.Client,
    max_bytes: int,
    url: str = "",
    etag: str = "",
    last_modified: str = "",
    deadline: float = 60.0,
    cancel: threading.Event | None = None,
) -> FetchResult:
    """Fetch a feed, raising :class:`FetchError` with a readable reason on any failure."""
    if feed.path is not None:
        return _read_file(feed.path, max_bytes)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return get(client, url or feed.url or "", max_bytes, headers, deadline, cancel)


def get(
    client: httpx.Client,
    url: str,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    deadline: float = 60.0,
    cancel: threading.Event | None = None,
) -> FetchResult:
    """GET ``url`` with the caps above; 304 is a result, any other status >= 400 an error.

    ``cancel`` is looked at between chunks, so a shutdown need not wait out a slow body.
    """
    started = time.monotonic()
    try:
        with client.stream("GET", url, headers=headers or {}) as response:
            moved = _permanent_redirect(response)
            status = response.status_code
            if status == 304:
                return FetchResult(304, str(response.url), b"", dict(response.headers), moved)
            if status >= 400:
                retry_after = None
                if status in (429, 503):
                    retry_after = retry_after_seconds(response.headers.get("Retry-After", ""))
                raise FetchError(f"HTTP {status} {response.reason_phrase}", status, retry_after)
            declared = response.headers.get("Content-Length", "")
            encoded = response.headers.get("Content-Encoding", "identity").lower()
            if declared.isdigit() and int(declared) > max_bytes and encoded == "identity":
                raise FetchError(f"response of {declared} bytes is over the cap of {max_bytes}")
            body = _read_body(response, encoded, max_bytes, started, deadline, cancel)
            return FetchResult(status, str(response.url), body, dict(response.headers), moved)
    except FetchError:
        raise
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out ({type(exc).__name__})") from None
    except httpx.TooManyRedirects:
        raise FetchError("too many redirects") from None
    except httpx.DecodingError as exc:
        raise FetchError(f"undecodable response: {exc}") from None
    except httpx.InvalidURL as exc:  # not an HTTPError: a link such as http://x:99999/
        raise FetchError(f"invalid URL: {exc}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None


def _read_body(
    response: httpx.Response,
    content_encoding: str,
    max_bytes: int,
    started: float,
    deadline: float,
    cancel: threading.Event | None,
) -> bytes:
    """The decoded body, never holding more than ``max_bytes`` plus one small piece of it."""
    try:
        decoder = BoundedDecoder(content_encoding)
    except DecodingError as exc:
        raise FetchError(f"undecodable response: {exc}") from None
    body, size = io.BytesIO(), 0  # getvalue() hands over its buffer: no second copy at the end
    try:
        for raw in response.iter_raw():
            if time.monotonic() - started > deadline:
                raise FetchError(f"response took longer than {deadline:g}s")
            if cancel is not None and cancel.is_set():
                raise FetchCancelled("shutting down: response dropped")
            decoder.feed(raw)
            while True:
                try:
                    piece = decoder.read(max_bytes - size + 1)
                except DecodingError as exc:
                    raise FetchError(f"undecodable response: {exc}") from None
                if not piece:
                    break
                size += len(piece)
                if size > max_bytes:
                    raise FetchError(f"response is over the cap of {max_bytes} bytes")
                body.write(piece)
                if time.monotonic() - started > deadline:  # a bomb can keep the loop busy
                    raise FetchError(f"response took longer than {deadline:g}s")
        return body.getvalue()
    finally:
        # An error's traceback keeps this frame alive as long as the error is kept (a log
        # record holding it, say), and with it up to max_bytes of body and the decompressor's
        # window: both are let go here, not when the last reference to the error goes.
        body.close()
        del decoder


def _permanent_redirect(response: httpx.Response) -> str:
    """The final URL if every hop that led to it was permanent (301/308)."""
    history = response.history
    if history and all(r.status_code in (301, 308) for r in history):
        return str(response.url)
    return ""


def _read_file(path: Path, max_bytes: int) -> FetchResult:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError(f"file of {size} bytes is over the cap of {max_bytes}")
        # A file has no HTTP headers; without a type, feedparser flags valid XML as ill-formed.
        ctype = _FILE_TYPES.get(path.suffix.lower(), "application/xml")
        return FetchResult(200, path.resolve().as_uri(), path.read_bytes(), {"content-type": ctype})
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
