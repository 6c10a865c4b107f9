"""Articles from files, for ``monitor replay``: JSON lines or plain text, no network."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.errors import FeedError
from monitor.ingest.urls import canonical_url
from monitor.models import Article
from monitor.util.dates import parse_date
from monitor.util.text import Sentences

REPLAY_FEED = "replay"


class ReplayError(FeedError, ValueError):
    """A replay input that cannot be read; names the file and line."""


def guess_title(text: str) -> tuple[str, str]:
    """A plain text file's headline and body.

    Scraped pages often start with a section label and then the headline; a headline is a
    short line of a few words with no final full stop. Without one, the first sentence serves.
    """
    lines = [line.strip() for line in text.splitlines()]
    nonempty = [(i, line) for i, line in enumerate(lines) if line][:3]
    for i, line in nonempty:
        words = len(line.split())
        if 4 <= words <= 25 and not line.endswith((".", "\u201d", '"')):
            body = "\n".join(lines[i + 1 :]).strip()
            return line, body
    sentences = Sentences.of(text)
    title = sentences.sentence(0) if sentences.spans else ""
    if len(title) > 120:
        title = title[:120].rsplit(" ", 1)[0] + "…"
    return title, text.strip()


def read_articles(path: Path) -> list[Article]:
    if path.suffix == ".jsonl":
        return _read_jsonl(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from None
    title, body = guess_title(text)
    return [
        Article(title=title, text=body, source=path.stem, external_id=path.name, feed=REPLAY_FEED)
    ]


def _read_jsonl(path: Path) -> list[Article]:
    articles = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("each line must be a JSON object")
            if not isinstance(data.get("text"), str):
                raise ValueError("'text' is required and must be a string")
            url = str(data.get("url") or "")
            articles.append(
                Article(
                    title=str(data.get("title") or ""),
                    text=data["text"],
                    source=str(data.get("source") or _host(url) or path.stem),
                    url=url,
                    canonical_url=canonical_url(url),
                    external_id=str(data.get("id") or ""),
                    published=parse_date(data.get("published")),
                    feed=REPLAY_FEED,
                )
            )
        except ValueError as exc:
            raise ReplayError(f"{path}:{number}: {exc}") from None
    return articles


def _host(url: str) -> str:
    return url.split("/")[2] if url.count("/") >= 2 else ""
