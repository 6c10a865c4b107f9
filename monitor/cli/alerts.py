"""``monitor alerts``: stored alerts, as text or JSON, with where each was delivered."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlmodel import Session

from monitor.alerting.alerts import load_alert
from monitor.alerting.regroup import alert_fate
from monitor.cli.context import DB_OPTION, Context
from monitor.cli.regroup_text import fate_line
from monitor.delivery.render import alert_text
from monitor.detect.rules.model import SEVERITIES
from monitor.store import Store
from monitor.store.alerts import list_alert_ids
from monitor.store.notifications import deliveries
from monitor.store.tables import utcnow
from monitor.util.durations import parse_duration


@click.group()
def alerts() -> None:
    """Stored alerts."""


def _delivery_line(d: dict) -> str:
    tries = f"{d['attempts']} attempt(s)"
    error = f", last error: {d['last_error']}" if d["last_error"] else ""
    retry = f", next try {d['next_attempt']}" if d["next_attempt"] else ""
    return f"  Delivery: {d['channel']} {d['kind']} {d['state']} ({tries}{retry}{error})"


def _list_alerts(db: str, as_json: bool, **filters: Any) -> int:
    store = Store(db, create=False)
    try:
        with store.session() as session:
            return _print_alerts(session, list_alert_ids(session, **filters), as_json)
    finally:
        store.close()


def _print_alerts(session: Session, alert_ids: list[str], as_json: bool) -> int:
    """Print each alert found, with its deliveries; how many were found."""
    shown = 0
    for alert_id in alert_ids:
        view = load_alert(session, alert_id)
        if view is None:
            continue
        shown += 1
        sent = deliveries(session, view)
        if as_json:
            click.echo(json.dumps({**view.to_json(), "deliveries": sent}, ensure_ascii=False))
        else:
            click.echo("\n".join([alert_text(view), *map(_delivery_line, sent)]) + "\n")
    return shown


@alerts.command("list")
@click.option("--rule", "rules", multiple=True, help="Only this rule's alerts (repeatable).")
@click.option(
    "--severity",
    type=click.Choice(SEVERITIES),
    help="Only alerts of this severity or higher.",
)
@click.option("--since", help="Only alerts created or updated this recently, e.g. 12h, 7d.")
@click.option("--story", "stories", multiple=True, help="Only this story's alerts (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N alerts.")
@click.option("--json", "as_json", is_flag=True, help="One JSON alert per line.")
@DB_OPTION
@click.pass_obj
def alerts_list(
    ctx: Context,
    rules: tuple[str, ...],
    severity: str | None,
    since: str | None,
    stories: tuple[str, ...],
    limit: int | None,
    as_json: bool,
    db: str | None,
) -> None:
    """List stored alerts, oldest first, with their citations and deliveries (a failed
    delivery shows its last error).

    \b
    Example:
        monitor alerts list --severity high --since 24h
        monitor alerts list --rule dprk-oil-transfer --limit 5 --json
    """
    cutoff = None
    if since is not None:
        try:
            cutoff = utcnow() - parse_duration(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    severities = SEVERITIES[SEVERITIES.index(severity) :] if severity else ()
    _list_alerts(
        db or ctx.settings.database_url,
        as_json,
        rules=rules,
        severities=severities,
        stories=stories,
        since=cutoff,
        limit=limit,
    )


@alerts.command("show")
@click.argument("alert_id")
@click.option("--json", "as_json", is_flag=True, help="The alert as one JSON object.")
@DB_OPTION
@click.pass_obj
def alerts_show(ctx: Context, alert_id: str, as_json: bool, db: str | None) -> None:
    """One alert: its citations with the rule version that matched, and every delivery with
    its attempts.

    \b
    An alert that an analyst's merge or split of stories moved is followed to the alert that
    cites its sources now, which is shown, with a line on stderr saying how it got there.

    \b
    Example:
        monitor alerts show al-1eb063c135
    """
    store = Store(db or ctx.settings.database_url, create=False)
    try:
        with store.session() as session:
            if _print_alerts(session, [alert_id], as_json):
                return
            fate = alert_fate(session, alert_id)
            if fate is None:
                raise click.ClickException(f"no alert with id '{alert_id}'")
            for edit, move in fate.hops:
                click.echo(fate_line(move["from"], edit, move), err=True)
            if not fate.alert or not _print_alerts(session, [fate.alert], as_json):
                raise click.ClickException(
                    f"alert '{alert_id}' is no more, and no alert holds its sources now (pruned)"
                )
    finally:
        store.close()
