"""``monitor replay``: articles from files through the pipeline, with no network."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from monitor.alerting.alerts import load_alert
from monitor.cli.context import RULES_OPTION, Context, valid_rules_or_exit
from monitor.cli.db import quiet_migrations
from monitor.delivery.render import alert_text
from monitor.detect.rules import Matcher
from monitor.models import AlertView
from monitor.service.cycle import Service
from monitor.service.replay import ReplayError, read_articles
from monitor.store import Store


def _print_alerts(alerts: list[AlertView], as_json: bool) -> None:
    for alert in alerts:
        if as_json:
            click.echo(json.dumps(alert.to_json(), ensure_ascii=False))
        else:
            click.echo(alert_text(alert) + "\n")


@click.command()
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON alert per line.")
@click.option("--db", help="Store URL to replay into [default: a throwaway store].")
@RULES_OPTION
@click.pass_obj
def replay(
    ctx: Context, paths: tuple[Path, ...], as_json: bool, db: str | None, rules_path: Path | None
) -> None:
    """Feed articles from files through the pipeline, with no network.

    PATH is a .jsonl file (one article a line: id, url, source, title, text, published; all
    but text optional) or a plain text file (one article). Prints the alerts this run created
    or changed, in their final state. Nothing is sent to channels.

    \b
    Example:
        monitor replay seeds/000_242d7a5f3177ae72.txt seeds/001_88587132881443e9.txt
        monitor replay --json --db sqlite:///data/replay.db articles.jsonl
    """
    try:
        articles = [a for path in paths for a in read_articles(path)]
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from None
    matcher = Matcher(valid_rules_or_exit(rules_path or ctx.settings.rules_dir))
    with tempfile.TemporaryDirectory(prefix="monitor-replay-") as tmp:
        with quiet_migrations():
            store = Store(db or f"sqlite:///{tmp}/replay.db")
        try:
            service = Service(ctx.settings, store=store, notifiers={}, matcher=matcher)
            result = service.pipeline.ingest(articles)
            with store.session() as session:
                alerts = [load_alert(session, a) for a in result.changed_alerts]
            _print_alerts([a for a in alerts if a is not None], as_json)
            click.echo(
                f"replayed {len(articles)} article(s): {result.new} new, "
                f"{result.duplicates} seen before, {len(result.changed_alerts)} alert(s) changed",
                err=True,
            )
        finally:
            store.close()
