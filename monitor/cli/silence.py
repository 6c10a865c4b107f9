"""``monitor silence``: keep channels quiet about a rule, a story or a phrase for a while."""

from __future__ import annotations

import click

from monitor.alerting.health import RULE_ID as HEALTH_RULE
from monitor.alerting.silences import active_silences, add_silence
from monitor.cli.context import DB_OPTION, Context
from monitor.detect.rules.parse import RulesError, did_you_mean, valid_rules
from monitor.store.silences import expire_silence
from monitor.util.durations import parse_duration


@click.group()
def silence() -> None:
    """Keep channels quiet about a rule, a story or a phrase for a while."""


@silence.command("add")
@click.option("--rule", default="", help="Silence this rule's alerts.")
@click.option("--story", default="", help="Silence this story's alerts.")
@click.option("--match", "text", default="", help="Silence alerts whose sources mention this.")
@click.option("--for", "duration", default="7d", show_default=True, help="e.g. 12h, 7d, 2w")
@click.option("--reason", required=True, help="Why, for the next analyst who wonders.")
@DB_OPTION
@click.pass_obj
def silence_add(
    ctx: Context, rule: str, story: str, text: str, duration: str, reason: str, db: str | None
) -> None:
    """Add a silence; matching alerts are still stored and listed, but not sent.

    \b
    Example:
        monitor silence add --rule dprk-oil-transfer --for 3d --reason "known, tracked in #desk"
    """
    try:
        span = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from None
    if rule:
        _check_rule_known(ctx, rule)
    with ctx.session(db, create=True) as session:
        try:
            row = add_silence(session, span, reason, rule=rule, story=story, match=text)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        session.commit()
        click.echo(f"silence {row.id} until {row.ends.isoformat()}")


def _check_rule_known(ctx: Context, rule: str) -> None:
    """A silence for a rule that does not exist would never match anything: most likely a
    typo, which the analyst should hear about now rather than when the alert arrives."""
    try:
        known = {r.id for r in valid_rules(ctx.settings.rules_dir)} | {HEALTH_RULE}
    except RulesError:
        return  # a broken rule pack is `rules validate`'s business; the silence may be ahead
    if rule not in known:
        hint = did_you_mean(rule, sorted(known)) or f" (known: {', '.join(sorted(known))})"
        raise click.BadParameter(f"no rule {rule!r}{hint}", param_hint="--rule")


@silence.command("list")
@DB_OPTION
@click.pass_obj
def silence_list(ctx: Context, db: str | None) -> None:
    """The silences in force."""
    with ctx.session(db) as session:
        for row in active_silences(session):
            what = ", ".join(
                f"{k}={v!r}"
                for k, v in (("rule", row.rule), ("story", row.story), ("match", row.match))
                if v
            )
            click.echo(f"{row.id}\tuntil {row.ends.isoformat()}\t{what}\t{row.reason}")


@silence.command("expire")
@click.argument("silence_id", type=int)
@DB_OPTION
@click.pass_obj
def silence_expire(ctx: Context, silence_id: int, db: str | None) -> None:
    """End a silence now."""
    with ctx.session(db) as session:
        if not expire_silence(session, silence_id):
            raise click.ClickException(f"no silence with id {silence_id}")
        session.commit()
        click.echo(f"silence {silence_id} expired")
