"""An analyst's merge or split of stories, in one transaction under the ingest lock.

Under the lock no report is being joined to a story meanwhile, here or on another replica, and
the edit's number (:mod:`monitor.store.story_edits`) orders it among other edits, which is how
every story index learns of it (:mod:`monitor.detect.story_index`). A merge moves the reports,
their vectors and verdicts, rebuilds the story's centroid from all its members, moves the
alerts (:mod:`monitor.alerting.regroup`) and writes the follow-ups; a split moves one report to
a story of its own, rebuilds the old story's centroid from the members left, and writes the new
story's first notice. A dry run does all of it and rolls it back, so what it reports is exactly
what a real run would do at that moment.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session

from monitor.alerting.notify import enqueue
from monitor.alerting.regroup import (
    EMPTIED,
    AlertMove,
    Followup,
    merge_alerts,
    merged_followups,
    split_alerts,
)
from monitor.alerting.silences import active_silences
from monitor.config import DeliveryConfig, RouteConfig
from monitor.detect.regroup import rebuilt
from monitor.errors import MonitorError
from monitor.store import Store
from monitor.store.alerts import story_alerts
from monitor.store.claims import serialized
from monitor.store.outbox_edits import rework_rows, told_channels
from monitor.store.regroup import (
    Member,
    article_story,
    carry_slack_threads,
    delete_story,
    move_reports,
    reshape_story,
    story_reports,
    story_row,
)
from monitor.store.story_edits import MERGE, SPLIT, finish_edit, merged_into, start_edit
from monitor.store.story_vectors import (
    delete_story_vectors,
    move_article_vectors,
    story_members,
    write_story_vectors,
)
from monitor.store.tables import utcnow

log = logging.getLogger(__name__)


class StoryEditError(MonitorError, ValueError):
    """A merge or split that cannot be done as asked: an unknown story or article, a story
    merged into itself, a split of a story's only report."""

    label = "stories"


@dataclass(frozen=True, slots=True)
class Editor:
    """Who asks for the edit, and why: kept with it."""

    analyst: str
    note: str = ""
    routes: list[RouteConfig] = field(default_factory=list)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)


@dataclass(slots=True)
class EditReport:
    """What an edit did (or, in a dry run, would do)."""

    action: str
    story: str  # merge: the story merged into; split: the story split
    other: str  # merge: the story merged in (gone now); split: the new story
    articles: list[int]  # the reports that moved
    headlines: dict[str, str]  # the stories' headlines afterwards
    alerts: list[AlertMove]
    followups: list[Followup]  # merge: the follow-ups the chain decided
    notices: int = 0  # split: outbox rows written for the new story's alerts
    skipped: list[str] = field(default_factory=list)  # unsent rows with nothing left to say
    # merge: silences in force on the merged story, which match nothing now (not carried:
    # silencing the story merged into is the analyst's call)
    silences: list[int] = field(default_factory=list)
    seq: int = 0
    analyst: str = ""
    dry_run: bool = False

    def to_json(self) -> dict:
        return {
            "action": self.action,
            "story": self.story,
            "other_story": self.other,
            "articles": self.articles,
            "headlines": self.headlines,
            "alerts": [m.to_json() for m in self.alerts],
            "followups": [f.to_json() for f in self.followups],
            "notices": self.notices,
            "skipped": self.skipped,
            "silences_left": self.silences,
            "edit": None if self.dry_run else self.seq,
            "analyst": self.analyst,
            "dry_run": self.dry_run,
        }


def _known_story(session: Session, story_id: str) -> list[Member]:
    """The story's reports; a story that is not there (or was merged away) is an error."""
    if story_row(session, story_id) is None:
        merged = merged_into(session, story_id)
        if merged is not None:
            raise StoryEditError(
                f"story {story_id!r} was merged into {merged.story_id} by "
                f"{merged.analyst or 'an analyst'} on {merged.created:%Y-%m-%d %H:%M}"
            )
        raise StoryEditError(
            f"no story {story_id!r} in the store (`monitor alerts list` shows them)"
        )
    reports = story_reports(session, story_id)
    if not reports:
        raise StoryEditError(
            f"story {story_id!r} has no reports (a feed's health, or pruned): nothing to move"
        )
    return reports


def _rebuild(session: Session, story_id: str, members: list[Member]) -> None:
    """Write the story's centroid afresh from its members' vectors (none: no vector)."""
    vector = rebuilt(story_id, story_members(session, story_id), {m.id: m.dated for m in members})
    delete_story_vectors(session, [story_id])
    if vector is not None:
        write_story_vectors(session, [vector])


def merge(session: Session, into: str, gone: str, editor: Editor) -> EditReport:
    """Merge story ``gone`` into story ``into`` in the open transaction (see the module)."""
    if into == gone:
        raise StoryEditError(f"cannot merge story {into!r} into itself")
    kept, moving = _known_story(session, into), _known_story(session, gone)
    now = utcnow()
    edit = start_edit(session, MERGE, into, editor.analyst, editor.note, now)
    gone_alerts = [alert.id for alert in story_alerts(session, gone)]
    told = told_channels(session, gone, gone_alerts)
    reason = f"story {gone} was merged into {into}: its news goes in the follow-up"
    skipped = rework_rows(session, gone, dict.fromkeys(gone_alerts), reason, now)
    gone_row = story_row(session, gone)
    gone_headline = gone_row.headline if gone_row is not None else ""
    moved = [m.id for m in moving]
    move_reports(session, moved, into)
    move_article_vectors(session, moved, into)
    _rebuild(session, into, kept + moving)
    delete_story_vectors(session, [gone])
    headline = reshape_story(session, into, kept + moving, now).headline
    delete_story(session, gone)
    moves = merge_alerts(session, into, gone, now)
    carry_slack_threads(session, gone, into)
    followups = merged_followups(session, moves, told, editor.routes, editor.delivery)
    report = EditReport(
        MERGE, into, gone, moved, {into: headline}, moves, followups, skipped=skipped
    )
    report.analyst = editor.analyst
    report.silences = [s.id for s in active_silences(session, now) if s.story == gone and s.id]
    detail = _detail(report) | {"other_headline": gone_headline}
    report.seq = finish_edit(session, edit, gone, None, detail).seq
    return report


def split(session: Session, story: str, article_id: int, editor: Editor) -> EditReport:
    """Move report ``article_id`` out of ``story`` into a story of its own (see the module)."""
    reports = _known_story(session, story)
    where = article_story(session, article_id)
    if where is None:
        raise StoryEditError(f"no article {article_id} in the store")
    if where != story:
        raise StoryEditError(
            f"article {article_id} is not in story {story!r} (it is in {where or 'no story'})"
        )
    if len(reports) == 1:
        raise StoryEditError(
            f"article {article_id} is the only report of story {story!r}: nothing to split"
        )
    now = utcnow()
    edit = start_edit(session, SPLIT, story, editor.analyst, editor.note, now)
    seed = f"split\n{story}\n{article_id}\n{edit.id}"
    new_story = "st-" + hashlib.sha1(seed.encode()).hexdigest()[:10]
    left = [m for m in reports if m.id != article_id]
    moving = [m for m in reports if m.id == article_id]
    move_reports(session, [article_id], new_story)
    move_article_vectors(session, [article_id], new_story, started=True)
    _rebuild(session, story, left)
    _rebuild(session, new_story, moving)
    headlines = {
        story: reshape_story(session, story, left, now).headline,
        new_story: reshape_story(session, new_story, moving, now).headline,
    }
    moves = split_alerts(session, story, article_id, new_story, now)
    changes = {m.source: None if m.how == EMPTIED else list(m.places) for m in moves}
    reason = f"article {article_id} was split from story {story} into {new_story}"
    skipped = rework_rows(session, story, changes, reason, now)
    notices = enqueue(session, [m.target for m in moves], editor.routes, editor.delivery)
    report = EditReport(
        SPLIT, story, new_story, [article_id], headlines, moves, [], notices, skipped
    )
    report.analyst = editor.analyst
    report.seq = finish_edit(session, edit, new_story, article_id, _detail(report)).seq
    return report


def _detail(report: EditReport) -> dict:
    """What the edit row keeps of what moved, for ``stories show`` and for the record."""
    return {
        "articles": report.articles,
        "alerts": [m.to_json() for m in report.alerts],
        "followups": [f.to_json() for f in report.followups],
        "notices": report.notices,
        "skipped": report.skipped,
    }


def merge_stories(
    store: Store, into: str, gone: str, editor: Editor, dry_run: bool = False
) -> EditReport:
    """Merge story ``gone`` into ``into`` in a transaction of its own (rolled back for a
    dry run)."""
    return _run(store, lambda session: merge(session, into, gone, editor), dry_run)


def split_story(
    store: Store, story: str, article_id: int, editor: Editor, dry_run: bool = False
) -> EditReport:
    """Split report ``article_id`` from ``story`` in a transaction of its own (rolled back
    for a dry run)."""
    return _run(store, lambda session: split(session, story, article_id, editor), dry_run)


def _run(store: Store, edit: Callable[[Session], EditReport], dry_run: bool) -> EditReport:
    """Under the ingest lock: commit the edit, or roll it back for a dry run or when it
    raises (a half-made edit is never left behind)."""
    with store.session() as session:
        try:
            serialized(session)
            report = edit(session)
        except Exception:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
            report.dry_run = True
        else:
            session.commit()
    if not dry_run:
        _log(report)
    return report


def _log(report: EditReport) -> None:
    sent = sum(1 for f in report.followups if f.state == "pending")
    if report.action == MERGE:
        log.info(
            "story %s merged into %s by %s: %d report(s), %d alert(s) moved, %d follow-up(s)",
            report.other,
            report.story,
            report.analyst,
            len(report.articles),
            len(report.alerts),
            sent,
            extra={"story": report.story},
        )
    else:
        log.info(
            "article %d split from story %s into %s by %s: %d alert(s), %d notice(s)",
            report.articles[0],
            report.story,
            report.other,
            report.analyst,
            len(report.alerts),
            report.notices,
            extra={"story": report.story},
        )
