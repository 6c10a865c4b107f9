"""How ``monitor stories`` words analysts' edits: a merge's or split's report, and a story's
history of them in ``stories show``."""

from __future__ import annotations

import json

import click

from monitor.alerting.regroup import AlertMove
from monitor.service.regroup import EditReport
from monitor.store.story_edits import StoryEdit


def _who(edit: StoryEdit) -> str:
    note = f" ({edit.note})" if edit.note else ""
    return f"by {edit.analyst or 'an analyst'} on {edit.created:%Y-%m-%d %H:%M}{note}"


def fate_line(alert_id: str, edit: StoryEdit, move: dict) -> str:
    """How an edit ended an alert an analyst asked for (``alerts show``)."""
    target = move.get("to") or ""
    if edit.action == "merge":
        return (
            f"alert {alert_id} went into {target} when story {edit.other_story} was merged "
            f"into {edit.story_id} {_who(edit)} (edit {edit.seq})"
        )
    return (
        f"alert {alert_id} ended when story {edit.story_id} was split {_who(edit)} "
        f"(edit {edit.seq}): its only source is cited by {target} now"
    )


def edit_line(story_id: str, edit: StoryEdit) -> str:
    """One line of a story's history of analysts' edits, from the story's side."""
    if edit.action == "merge":
        return f"merged from {edit.other_story} {_who(edit)}"
    if edit.story_id == story_id:
        return f"article {edit.article_id} split off into {edit.other_story} {_who(edit)}"
    return f"split from {edit.story_id} (article {edit.article_id}) {_who(edit)}"


def came_with(story_id: str, edits: list[StoryEdit]) -> dict[int, str]:
    """The members a merge brought, each with the story it came from."""
    found: dict[int, str] = {}
    for edit in edits:
        if edit.action == "merge" and edit.story_id == story_id:
            for article_id in edit.detail.get("articles", []):
                found[article_id] = f"came with {edit.other_story} (merged {_who(edit)})"
    return found


def show_merged_away(story_id: str, edit: StoryEdit, as_json: bool) -> None:
    """A story merged into another is not an error to ask about: say where it went."""
    if as_json:
        click.echo(json.dumps({"story": story_id, "merged_into": edit.story_id} | _meta(edit)))
        return
    click.echo(f"{story_id}: merged into {edit.story_id} {_who(edit)}")
    click.echo(f"  see `monitor stories show {edit.story_id}`")


def _meta(edit: StoryEdit) -> dict:
    return {"analyst": edit.analyst, "at": edit.created.isoformat(), "note": edit.note}


def print_report(report: EditReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json()))
        return
    was = "would be" if report.dry_run else "was"
    moved = ", ".join(map(str, report.articles))
    if report.action == "merge":
        click.echo(
            f"{report.other} {was} merged into {report.story}: "
            f"{len(report.articles)} report(s) moved ({moved})"
        )
    else:
        click.echo(f"article {moved} {was} split from {report.story} into {report.other}")
    for story, headline in report.headlines.items():
        click.echo(f"  {story}: {headline}")
    for move in report.alerts:
        click.echo(f"  {move.rule}: {_alert_line(move)}")
    for line in _messages(report):
        click.echo(f"  {line}")
    if report.action == "split":
        click.echo(f"  {report.notices} first notice(s) for {report.other} in the outbox")
    if report.skipped:
        click.echo(f"  {len(report.skipped)} unsent notification(s) skipped: {report.skipped}")
    if report.silences:
        ids = ", ".join(map(str, report.silences))
        click.echo(
            f"warning: silence(s) {ids} on story {report.other} match nothing now; "
            f"{report.story} is not silenced (`monitor silence add --story {report.story}` "
            "to silence it)",
            err=True,
        )
    if report.dry_run:
        click.echo("nothing was changed (--dry-run)")


def _alert_line(move: AlertMove) -> str:
    if move.how == "joined":
        return f"{move.citations} source(s) of {move.source} joined {move.target}"
    if move.how == "rekeyed":
        return f"{move.source} is now {move.target} ({move.citations} source(s))"
    if move.how == "emptied":
        return f"{move.source} had only this source: it is gone; {move.target} opened"
    return f"the source left {move.source}; {move.target} opened"


KINDS = {"new": "a first notice", "update": "a follow-up", "digest": "a digest line"}


def _messages(report: EditReport) -> list[str]:
    """The merge's messages, one line a channel and kind: the writing chain folds the alerts
    of one story, channel and kind into one message."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    waits: dict[tuple[str, str, str], float] = {}
    for f in report.followups:
        key = (f.channel, f.kind, f.state)
        grouped.setdefault(key, []).append(f.alert)
        waits[key] = f.wait
    lines = []
    for (channel, kind, state), alerts in grouped.items():
        wait = f", due in {waits[channel, kind, state]:.0f}s" if state == "pending" else ""
        what = KINDS.get(kind, kind)
        lines.append(f"{channel}: {what} ({kind}) on {', '.join(alerts)}: {state}{wait}")
    return lines
