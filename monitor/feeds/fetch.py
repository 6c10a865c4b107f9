"""Fetching a feed's bytes: conditional GET with a size cap over HTTP, or a local file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from monitor.config import FeedConfig, HttpConfig


class FetchError(RuntimeError):
    """The feed could not be fetched; the message says why, for logs and feed health."""


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
    timeout = httpx.Timeout(http.timeout, connect=http.connect_timeout)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": http.user_agent, "Accept-Encoding": "gzip, deflate"},
    )


def fetch(
    feed: FeedConfig,
    client: httpx.Client,
    max_bytes: int,
    url: str = "",
    etag: str = "",
    last_modified: str = "",
) -> FetchResult:
    """Fetch a feed, raising :class:`FetchError` with a readable reason on any failure."""
    if feed.path is not None:
        return _read_file(feed.path, max_bytes)
    target = url or feed.url or ""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", target, headers=headers) as response:
            moved = _permanent_redirect(response)
            if response.status_code == 304:
                return FetchResult(304, str(response.url), moved_to=moved)
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"response of {declared} bytes is over the cap of {max_bytes}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"response is over the cap of {max_bytes} bytes")
                chunks.append(chunk)
            return FetchResult(
                response.status_code,
                str(response.url),
                b"".join(chunks),
                dict(response.headers),
                moved,
            )
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None


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
