"""``monitor feeds``: see every feed's health; add, remove, import and export feeds.

Feeds added here are stored in the database beside the config file's feeds, and the daemon polls
both; the config file stays the place for feeds that belong in version control.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from monitor.cli.context import DB_OPTION
from monitor.cli.feed_input import check_safe, feed_or_fail, iso
from monitor.cli.feeds_check import feeds_check
from monitor.config import Settings
from monitor.ingest.opml import OPMLError, Subscription, export_opml, parse_opml
from monitor.ingest.registry import FeedExistsError, add_feed, all_feeds, remove_feed
from monitor.ingest.urls import redact_url
from monitor.service.logs import redact
from monitor.store import Store
from monitor.store.failures import failures_by_feed
from monitor.store.failures import release as release_failures
from monitor.store.feeds import all_states
from monitor.store.tables import FeedState


def _settings(obj: Any) -> Settings:
    """The settings of the ``monitor`` context object (``monitor.cli.app.Context``)."""
    return obj.settings


def _store(obj: Any, db: str | None, create: bool = False) -> Store:
    """Commands that change stored feeds refuse a store that does not exist (``create``)."""
    return Store(db or _settings(obj).database_url, create=create)


@click.group()
def feeds() -> None:
    """Feeds: their health, and feeds added beside the config file's."""


def feed_rows(settings: Settings, store: Store, reveal: bool = False) -> list[dict[str, Any]]:
    """One dict per feed (config and stored), with its health, for ``list``.

    URLs are shown without their credentials unless ``reveal`` (``export``, a backup to be
    imported again, needs them whole)."""
    show = (lambda url: url) if reveal else redact_url
    with store.session() as session:
        states = {s.name: s for s in all_states(session)}
        failures = failures_by_feed(session)
    config_names = {f.name for f in settings.feeds}
    rows = []
    for feed in all_feeds(settings, store):
        state = states.get(feed.name) or FeedState(name=feed.name)
        rows.append(
            {
                "name": feed.name,
                "url": show(state.url or feed.location),
                "origin": "config" if feed.name in config_names else state.origin,
                "title": state.title,
                "last_success": iso(state.last_success),
                "last_polled": iso(state.last_polled),
                "next_poll": iso(state.next_poll),
                "last_error": redact(state.last_error),
                "consecutive_failures": state.consecutive_failures,
                "items_seen": state.items_seen,
                "missed_item_polls": state.overflows,
                "interval": state.interval or feed.interval or settings.poll_interval,
                "health_alert": state.health_alert,
                "failed_entries": [
                    {
                        "title": f.title,
                        "url": show(f.url),
                        "attempts": f.attempts,
                        "quarantined": f.quarantined,
                        "error": redact(f.error),
                        "last_failed": iso(f.last_failed),
                    }
                    for f in failures.get(feed.name, [])
                ],
            }
        )
    return rows


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per feed and line.")
@DB_OPTION
@click.pass_obj
def feeds_list(obj: Any, as_json: bool, db: str | None) -> None:
    """Every feed with its health: last success, failures in a row, items seen, last error.

    \b
    Example:
        monitor feeds list
        monitor feeds list --json | jq 'select(.consecutive_failures > 0) | .name'
    """
    store = _store(obj, db, create=True)  # the config's feeds are listed before a first run
    try:
        rows = feed_rows(_settings(obj), store)
    finally:
        store.close()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo("no feeds: add one with `monitor feeds add URL` or in the config file")
        return
    width = min(max(len(r["name"]) for r in rows), 40)
    click.echo(f"{'NAME':<{width}}  {'STATUS':<8}  {'LAST SUCCESS':<16}  FAILS  ITEMS  URL")
    for row in rows:
        status = "failing" if row["consecutive_failures"] else "ok"
        if not row["last_polled"]:
            status = "new"
        last = (row["last_success"] or "never")[:16].replace("T", " ")
        click.echo(
            f"{row['name'][:width]:<{width}}  {status:<8}  {last:<16}  "
            f"{row['consecutive_failures']:>5}  {row['items_seen']:>5}  {row['url']}"
        )
        if row["last_error"]:
            click.echo(f"{'':<{width}}  └ {row['last_error'][:200]}")
        for entry in row["failed_entries"]:
            what = "quarantined" if entry["quarantined"] else f"failed {entry['attempts']}x"
            label = entry["title"][:60] or entry["url"]
            click.echo(f"{'':<{width}}  └ entry {what}: {label}: {entry['error'][:160]}")


@feeds.command("add")
@click.argument("url")
@click.option("--name", default="", help="A short name [default: the URL].")
@click.option("--source", default="", help="The outlet's name in citations [default: its title].")
@click.option("--no-full-text", is_flag=True, help="Never fetch linked pages for this feed.")
@DB_OPTION
@click.pass_obj
def feeds_add(
    obj: Any, url: str, name: str, source: str, no_full_text: bool, db: str | None
) -> None:
    """Add a feed; the daemon polls it from its next tick.

    \b
    Example:
        monitor feeds add https://example.org/news.rss --name example-news
    """
    settings = _settings(obj)
    feed = feed_or_fail(url, name, source, not no_full_text)
    check_safe(settings, url)
    store = _store(obj, db, create=True)
    try:
        add_feed(settings, store, feed)
    except FeedExistsError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"added feed {feed.name}: {url}", err=True)


@feeds.command("remove")
@click.argument("name")
@DB_OPTION
@click.pass_obj
def feeds_remove(obj: Any, name: str, db: str | None) -> None:
    """Stop polling a feed added with ``add`` or ``import`` (its articles and alerts stay)."""
    if any(f.name == name for f in _settings(obj).feeds):
        raise click.ClickException(f"{name!r} is in the config file; remove it there")
    store = _store(obj, db)
    try:
        removed = remove_feed(store, name)
    finally:
        store.close()
    if not removed:
        raise click.ClickException(f"no stored feed named {name!r}")
    click.echo(f"removed feed {name}", err=True)


@feeds.command("retry")
@click.argument("name")
@DB_OPTION
@click.pass_obj
def feeds_retry(obj: Any, name: str, db: str | None) -> None:
    """Try a feed's failed and quarantined entries again, at its next poll (due at once).

    \b
    Example:
        monitor feeds list            # "entry quarantined: …" under the feed
        monitor feeds retry daily-ledger
    """
    store = _store(obj, db)
    try:
        if not any(f.name == name for f in all_feeds(_settings(obj), store)):
            raise click.ClickException(f"no feed named {name!r}: see `monitor feeds list`")
        released = release_failures(store, name)
    finally:
        store.close()
    click.echo(f"feed {name}: {released} failed entry/entries will be tried at the next poll")


@feeds.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DB_OPTION
@click.pass_obj
def feeds_import(obj: Any, path: Path, db: str | None) -> None:
    """Add every feed of an OPML file (as feed readers export them); known feeds are skipped.

    \b
    Example:
        monitor feeds import subscriptions.opml
    """
    settings = _settings(obj)
    try:
        subscriptions = parse_opml(path.read_bytes())
    except OPMLError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    store = _store(obj, db, create=True)
    added = skipped = 0
    try:
        for sub in subscriptions:
            try:
                _add_subscription(settings, store, sub)
                added += 1
            except (click.ClickException, FeedExistsError) as exc:
                message = exc.message if isinstance(exc, click.ClickException) else str(exc)
                click.echo(f"skipped {sub.url}: {message}", err=True)
                skipped += 1
    finally:
        store.close()
    click.echo(f"imported {added} feed(s) from {path}; skipped {skipped}", err=True)


@feeds.command("export")
@DB_OPTION
@click.pass_obj
def feeds_export(obj: Any, db: str | None) -> None:
    """Print every web feed (config and stored) as OPML 2.0, for another reader or a backup.

    \b
    Example:
        monitor feeds export > feeds.opml
    """
    store = _store(obj, db, create=True)
    try:
        rows = feed_rows(_settings(obj), store, reveal=True)
    finally:
        store.close()
    subscriptions = [
        Subscription(url=r["url"], title=r["name"])
        for r in rows
        if r["url"].startswith(("http://", "https://"))
    ]
    sys.stdout.write(export_opml(subscriptions) + "\n")


def _add_subscription(settings: Settings, store: Store, sub: Subscription) -> None:
    """Add under the outline's title; if another feed has that name, under the URL."""
    feed = feed_or_fail(sub.url, sub.title, "", True)
    check_safe(settings, sub.url)
    try:
        add_feed(settings, store, feed, origin="opml")
    except FeedExistsError:
        if feed.name == sub.url:
            raise
        add_feed(settings, store, feed_or_fail(sub.url, "", "", True), origin="opml")


feeds.add_command(feeds_check)
