"""What the store says about the deployment as a whole: which daemon lives run, which ended
badly, who holds which leases, and how the outbox stands. ``monitor status`` prints it; an
operator with several replicas reads it before reading any one replica's logs. The numbers
come from :mod:`monitor.store.status`; this module says what they mean."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from monitor.detect.rules.parse import load_rules
from monitor.service.replicas import running_now
from monitor.store import Store, schema
from monitor.store.db import shown_url
from monitor.store.status import summary
from monitor.store.tables import ReplicaRow, utcnow
from monitor.util.dates import as_utc

RECENT = timedelta(days=1)  # lives shown: those running, and those that ended this recently


@dataclass(slots=True)
class Life:
    id: str
    version: str
    state: str  # running | stopped (cleanly) | gone (no clean stop: a crash, a kill -9)
    started: str
    last_seen: str
    feeds_held: int = 0
    sends_held: int = 0


@dataclass(slots=True)
class Status:
    store: str
    schema: str
    head: str
    lives: list[Life] = field(default_factory=list)
    feeds: int = 0
    failing_feeds: int = 0
    quarantined: int = 0  # entries skipped after failing too often (monitor feeds list)
    outbox: dict[str, int] = field(default_factory=dict)
    oldest_pending: str = ""
    rules: str = ""  # the rule files as a daemon would load them now; see rules_health

    def to_json(self) -> dict:
        return asdict(self)


def rules_health(path: Path) -> str:
    """What a daemon would make of the rule files now. A daemon that rejects a change keeps
    its last good rules and only logs it; the files are the same for every replica, so
    reading them here shows the operator what each replica's /readyz says, store or not."""
    source = load_rules(path)
    if source.problems:
        more = f" (and {len(source.problems) - 1} more)" if len(source.problems) > 1 else ""
        return (
            f"{len(source.problems)} problem(s) in {path}: daemons keep their last good rules "
            f"and reject these files: {source.problems[0]}{more}"
        )
    if not source.rules:
        return f"no rules in {path}: a daemon will not start on them"
    return f"{len(source.rules)} rule(s) in {path}, OK"


def store_status(store: Store, silent_after: timedelta, now: datetime | None = None) -> Status:
    """``silent_after``: a life not heard from for this long is not counted as running."""
    now = now or utcnow()
    status = Status(
        store=shown_url(store.url), schema=schema.current(store.engine) or "", head=schema.head()
    )
    found = summary(store, now, lives_since=now - RECENT)
    for row in found.lives:
        state = _state(row, silent_after, now)
        if state is None:
            continue
        status.lives.append(
            Life(
                id=row.id,
                version=row.version,
                state=state,
                started=as_utc(row.started).isoformat(timespec="seconds"),
                last_seen=as_utc(row.heartbeat).isoformat(timespec="seconds"),
                feeds_held=found.held[(row.id, "feeds")],
                sends_held=found.held[(row.id, "sends")],
            )
        )
    status.feeds, status.failing_feeds = found.feeds, found.failing_feeds
    status.quarantined, status.outbox = found.quarantined, found.outbox
    oldest = found.oldest_pending
    status.oldest_pending = as_utc(oldest).isoformat(timespec="seconds") if oldest else ""
    return status


def _state(row: ReplicaRow, silent_after: timedelta, now: datetime) -> str | None:
    """What a life is to an operator; None for an old unclean end, no longer news."""
    if row.clean:
        return "stopped"
    if running_now(row, silent_after, now):
        return "running"
    if as_utc(row.heartbeat) < now - RECENT:
        return None
    return "gone"


def status_lines(status: Status) -> list[str]:
    head = "head" if status.schema == status.head else f"head is {status.head}"
    lines = [f"store     {status.store} (schema {status.schema or 'none'}, {head})"]
    if not status.lives:
        lines.append("daemons   none recorded in the last day")
    for n, life in enumerate(status.lives):
        label = "daemons" if n == 0 else ""
        holds = f", holds {life.feeds_held} feed(s) and {life.sends_held} send(s)"
        lines.append(
            f"{label:<9} {life.id}  {life.state:<8} since {life.started}, "
            f"last seen {life.last_seen}{holds if life.state != 'stopped' else ''}"
        )
    quarantined = (
        f", {status.quarantined} entry/entries quarantined (monitor feeds list)"
        if status.quarantined
        else ""
    )
    lines.append(f"feeds     {status.feeds} known, {status.failing_feeds} failing{quarantined}")
    outbox = ", ".join(f"{n} {state}" for state, n in sorted(status.outbox.items())) or "empty"
    oldest = f" (oldest pending since {status.oldest_pending})" if status.oldest_pending else ""
    lines.append(f"outbox    {outbox}{oldest}")
    if status.rules:
        lines.append(f"rules     {status.rules}")
    return lines
