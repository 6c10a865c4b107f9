"""The ``feeds`` table: one row a feed, for its place in the registry, its health and its lease.

Every query about feeds is here, named for what it answers; the ingest stage decides what to
write (:mod:`monitor.ingest.record`, :mod:`monitor.ingest.registry`) and this module writes it.
A config feed's row has ``origin`` "config"; feeds added with ``monitor feeds add`` or imported
from OPML have "added" or "opml".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Update, and_, bindparam, or_, update
from sqlmodel import Session, col, select

from monitor.config import FeedConfig
from monitor.errors import FeedError
from monitor.store.claims import Claim, claim_rows, free, release_rows
from monitor.store.db import Store
from monitor.store.tables import FeedState, utcnow


class FeedExistsError(FeedError, ValueError):
    """A feed with that name or address is already configured or stored."""


# -- reading ---------------------------------------------------------------------------------


def all_states(session: Session) -> list[FeedState]:
    """Every feed's row, for work that reads and writes them in one transaction."""
    return list(session.exec(select(FeedState)).all())


def states_by_name(store: Store) -> dict[str, FeedState]:
    """Every feed's row by name (detached: read after the session has closed)."""
    with store.session() as session:
        return {state.name: state for state in all_states(session)}


def added_rows(store: Store) -> list[FeedState]:
    """The rows of feeds added outside the config file, oldest first."""
    with store.session() as session:
        return list(
            session.exec(
                select(FeedState).where(FeedState.origin != "config").order_by(FeedState.id)
            ).all()
        )


# -- the registry ----------------------------------------------------------------------------


def add_row(store: Store, feed: FeedConfig, origin: str) -> FeedState:
    """Store a feed added outside the config; :class:`FeedExistsError` if a stored feed has its
    name or address. A config feed's row whose feed left the config is taken over (with its
    health history, if it is the same address)."""
    with store.session() as session:
        same = session.exec(
            select(FeedState).where((FeedState.name == feed.name) | (FeedState.url == feed.url))
        ).first()
        if same is not None and same.origin != "config":
            raise FeedExistsError(f"a feed named {same.name!r} already has {same.url}")
        state = same or FeedState(name=feed.name)
        if state.url != (feed.url or ""):
            state.etag = state.last_modified = state.body_hash = ""
        state.name, state.url, state.source = feed.name, feed.url or "", feed.source
        state.full_text, state.origin, state.added = feed.full_text, origin, utcnow()
        session.add(state)
        session.commit()
        return state


def remove_added_row(store: Store, name: str) -> bool:
    """Forget a feed added outside the config; False if there was none."""
    with store.session() as session:
        state = session.exec(
            select(FeedState).where(FeedState.name == name, FeedState.origin != "config")
        ).first()
        if state is None:
            return False
        session.delete(state)
        session.commit()
        return True


# -- after a poll ----------------------------------------------------------------------------


# One feed's poll to write: its name, its location (for a row not there yet), and what to change.
PollChange = tuple[str, str, Callable[[FeedState], None]]


def write_polls(
    store: Store, changes: Sequence[PollChange], owner: str | None = None
) -> list[bool]:
    """Read each feed's row (a new one if it has none), let its change set what the poll
    taught, and write it with the lease let go: all in one transaction, one read for all.

    With ``owner`` each write is fenced: it happens only while that replica still holds the
    feed's lease; the feed's entry is False if another replica took it over meanwhile.
    """
    with store.session() as session:
        kept = write_polls_in(session, changes, owner)
        session.commit()
    return kept


def write_polls_in(
    session: Session, changes: Sequence[PollChange], owner: str | None = None
) -> list[bool]:
    """:func:`write_polls` in the caller's transaction, which the caller commits: a poll is
    recorded in the transaction that stores its articles, so the two are never apart."""
    names = [name for name, _location, _change in changes]
    found = session.exec(select(FeedState).where(col(FeedState.name).in_(names))).all()
    rows = {state.name: state for state in found}
    return [
        _write_one(session, rows.get(name), name, location, change, owner)
        for name, location, change in changes
    ]


def _write_one(
    session: Session,
    state: FeedState | None,
    name: str,
    location: str,
    change: Callable[[FeedState], None],
    owner: str | None,
) -> bool:
    columns = [c.name for c in FeedState.__table__.columns]
    before: dict[str, object] = {}
    if state is None:
        state = FeedState(name=name, url=location)
    else:
        session.expunge(state)  # changed below, written by the fenced update
        before = {column: getattr(state, column) for column in columns}
    change(state)
    state.lease_owner, state.lease_until = "", None  # the poll is done: let go
    if state.id is None:
        session.add(state)
        session.flush()
        return True
    # Only what changed: a 30-column update costs more to build than to run.
    values = {
        column: getattr(state, column)
        for column in columns
        if getattr(state, column) != before[column]
    }
    values.setdefault("lease_owner", "")  # never empty: the fenced row is written
    params = {f"v_{column}": value for column, value in values.items()}
    params["row_id"] = state.id
    if owner is not None:
        params["owner"] = owner
    statement = _fenced_update(tuple(values), owner is not None)
    return session.connection().execute(statement, params).rowcount == 1


@lru_cache(maxsize=256)
def _fenced_update(columns: tuple[str, ...], fenced: bool) -> Update:
    """The update of ``columns`` of one feed's row (by id, and while ``owner`` holds its lease
    if ``fenced``), built once for each set of columns a poll changes: building the statement
    anew for every feed, and running it through the ORM's session, cost most of recording a
    warm pass (0.35 ms a feed on PostgreSQL). The table, not the class: the ORM's update
    would also look for loaded copies of the row to change in the session (there are none:
    it was expunged)."""
    table = FeedState.__table__
    statement = update(table).where(table.c.id == bindparam("row_id"))
    if fenced:
        statement = statement.where(table.c.lease_owner == bindparam("owner"))
    return statement.values({column: bindparam(f"v_{column}") for column in columns})


def defer_poll(store: Store, name: str, error: str, now: datetime, next_poll: datetime) -> None:
    """Count a failed poll and set the next one, in one plain update that reads nothing."""
    with store.session() as session:
        session.execute(
            update(FeedState)
            .where(col(FeedState.name) == name)
            .values(
                consecutive_failures=FeedState.consecutive_failures + 1,
                last_error=error[:1000],
                last_polled=now,
                next_poll=next_poll,
                lease_owner="",
                lease_until=None,
            )
        )
        session.commit()


# -- leases ----------------------------------------------------------------------------------


def ensure_feed_rows(store: Store, feeds: Sequence[tuple[str, str]]) -> None:
    """A row for every (name, location), so a feed never polled yet can be claimed too."""
    if not feeds:
        return
    with store.session() as session:
        known = set(
            session.exec(
                select(FeedState.name).where(col(FeedState.name).in_([n for n, _ in feeds]))
            ).all()
        )
        missing = [(n, loc) for n, loc in feeds if n not in known]
        if not missing:
            return
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        rows = [{"name": n, "url": loc, "origin": "config"} for n, loc in missing]
        # Many rows at once, the columns' defaults filled in; a replica that inserted the
        # same feed a moment ago wins, and this one carries on.
        session.execute(insert(FeedState).on_conflict_do_nothing(), rows)
        session.commit()


def claim_feeds(
    store: Store,
    names: Sequence[str],
    owner: str,
    now: datetime,
    lease: timedelta,
    force: bool = False,
    limit: int | None = None,
) -> Claim:
    """Claim those of ``names`` that are due (unless ``force``) and not held by another; at
    most ``limit``, so that replicas ticking a moment later get their share."""
    if not names:
        return Claim([])
    conditions = [col(FeedState.name).in_(list(names)), free(FeedState, owner, now)]
    if not force:
        conditions.append(or_(FeedState.next_poll.is_(None), FeedState.next_poll <= now))
    claim = claim_rows(FeedState.name, store, and_(*conditions), owner, now + lease, limit)
    claim.names.sort(key=list(names).index)
    return claim


def release_feeds(store: Store, names: Sequence[str], owner: str) -> None:
    """Give feeds back without recording a poll (polls cut short by shutdown)."""
    release_rows(store, FeedState.name, names, owner)


def renew_feeds(store: Store, names: Sequence[str], owner: str, until: datetime) -> list[str]:
    """Extend this replica's leases on feeds it is still polling; returns those it no longer
    holds (another replica took them over while this one was slow)."""
    if not names:
        return []
    with store.session() as session:
        renewed = set(
            session.execute(
                update(FeedState)
                .where(col(FeedState.name).in_(list(names)), FeedState.lease_owner == owner)
                .values(lease_until=until)
                .returning(FeedState.name)
            ).scalars()
        )
        session.commit()
    return [name for name in names if name not in renewed]


def mark_health(session: Session, state: FeedState, alert_id: str) -> None:
    """Note the feed-health alert open for this feed ("" once it recovered)."""
    state.health_alert = alert_id
    session.add(state)
