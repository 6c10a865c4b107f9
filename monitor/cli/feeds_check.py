"""``monitor feeds check``: one feed fetched and parsed as the poller would, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import click

from monitor.cli.feed_input import check_safe, feed_for, iso
from monitor.ingest.urls import redact_url


@click.command("check")
@click.argument("location")
@click.option("--json", "as_json", is_flag=True, help="The feed and its entries as one object.")
@click.pass_obj
def feeds_check(obj: Any, location: str, as_json: bool) -> None:
    """Fetch and parse one feed as the poller would, and show what it would store.

    LOCATION is a feed URL or a file. Nothing is stored, no rule runs and no linked page is
    fetched: this is for trying a feed before adding it, or seeing why one fails. Exits 1 if
    the feed cannot be fetched or is not a feed; problems a poll would survive (an ill-formed
    document, entries without text or date) are listed, and the exit is 0.

    \b
    Example:
        monitor feeds check https://example.org/news.rss
        monitor feeds check seeds/feeds/daily-ledger.rss
    """
    from monitor.ingest.fetch import fetch, make_client
    from monitor.ingest.parse import parse_feed

    settings = obj.settings
    feed = feed_for(location)
    if feed.url is not None:
        check_safe(settings, feed.url)
    with make_client(settings.http) as client:
        result = fetch(feed, client, settings.http.max_bytes, deadline=settings.http.deadline)
    parsed = parse_feed(result.body, result.url, result.headers, feed.name, feed.source)
    problems = [parsed.problem] if parsed.problem else []
    if parsed.entries > len(parsed.articles):
        skipped = parsed.entries - len(parsed.articles)
        problems.append(f"{skipped} entry/entries without a title or text, skipped")
    undated = sum(1 for a in parsed.articles if a.published is None)
    if undated:
        problems.append(f"{undated} entry/entries without a date: dated when first seen")
    if not parsed.articles:
        problems.append("no entries")
    if as_json:
        entries = [
            {
                "title": a.title,
                "published": iso(a.published),
                "url": a.url,
                "text_length": len(a.text),
                "summary_only": a.summary_only,
            }
            for a in parsed.articles
        ]
        out = {"title": parsed.title, "format": parsed.format, "url": redact_url(result.url)}
        click.echo(json.dumps({**out, "entries": entries, "problems": problems}))
        return
    click.echo(f"{parsed.title or '(untitled)'}  [{parsed.format or 'unknown format'}]")
    click.echo(f"  from {redact_url(result.url)}, {len(result.body)} bytes")
    for article in parsed.articles:
        date = iso(article.published) or "no date"
        full = ", summary only (the poller fetches the page)" if article.summary_only else ""
        click.echo(f"  - {article.title[:100]}")
        click.echo(f"    {date} · {len(article.text)} chars of text{full}")
        if article.url:
            click.echo(f"    {redact_url(article.url)}")
    click.echo(f"{len(parsed.articles)} entry/entries", err=True)
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
