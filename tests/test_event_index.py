"""The event index: what it forgets (by arrival, not by date), and what a lookup looks at.

A story stays indexed until no report has joined it for the index's horizon, on the clock of
the reports' arrival; a lookup scores only the stories its report's date can join, and skips a
key too many stories share (issue #13: a join costs the same at 1k and 1M articles of history).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.detect.events import index as events_index
from monitor.detect.events.index import EventIndex, StoryEntry, query_keys

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WINDOW = timedelta(days=14)
HORIZON = WINDOW * 2 + timedelta(days=1)
VECTOR = {"chon": 0.6, "ma": 0.5, "san": 0.5, "nampo": 0.4}


def story(key: str, dated: datetime, seen: datetime | None, vector=None) -> StoryEntry:
    return StoryEntry(key, dict(vector or VECTOR), frozenset(), dated, dated, 1, seen=seen)


def found(index: EventIndex, dated: datetime | None = None, vector=None) -> list[str]:
    keys = query_keys(vector or VECTOR, [])
    return [e.id for e in index.candidates(keys, dated, None if dated is None else WINDOW)]


def test_a_story_is_forgotten_once_no_report_arrived_for_the_horizon():
    index = EventIndex(HORIZON)
    index.put(story("st-old", NOW, seen=NOW))
    index.put(story("st-new", NOW, seen=NOW + HORIZON - timedelta(hours=1)))
    assert sorted(index.entries) == ["st-new", "st-old"]
    index.put(story("st-later", NOW, seen=NOW + HORIZON + timedelta(hours=1)))
    assert sorted(index.entries) == ["st-later", "st-new"]
    assert sorted(found(index)) == ["st-later", "st-new"]  # its postings went with it


def test_reports_dated_years_apart_that_arrive_together_forget_nothing():
    """Dates do not move the clock: a backfill of old news arriving with this week's keeps
    both their stories (by date, either would have pushed the other out)."""
    index = EventIndex(HORIZON)
    index.put(story("st-2019", datetime(2019, 8, 1, tzinfo=UTC), seen=NOW))
    index.put(story("st-2031", datetime(2031, 1, 1, tzinfo=UTC), seen=NOW + timedelta(minutes=1)))
    index.put(story("st-now", NOW, seen=NOW + timedelta(minutes=2)))
    assert sorted(index.entries) == ["st-2019", "st-2031", "st-now"]
    assert "st-2019" in found(index, datetime(2019, 8, 2, tzinfo=UTC))


def test_a_lookup_scores_only_the_stories_its_date_can_join():
    index = EventIndex(HORIZON)
    index.put(story("st-month-ago", NOW - timedelta(days=30), seen=NOW - timedelta(days=20)))
    index.put(story("st-week-ago", NOW - timedelta(days=7), seen=NOW - timedelta(days=6)))
    index.put(story("st-ahead", NOW + timedelta(days=40), seen=NOW))  # dated after it arrived
    # Each shares every key with the report; the one whose latest report is more than the
    # window before the report's date cannot be joined, so it is not even a candidate.
    assert sorted(found(index, NOW)) == ["st-ahead", "st-week-ago"]
    assert sorted(found(index)) == ["st-ahead", "st-month-ago", "st-week-ago"]  # no date given
    # A report of its own days still finds the old story.
    assert "st-month-ago" in found(index, NOW - timedelta(days=25))


def test_a_story_whose_arrival_is_unknown_counts_as_arrived_when_it_was_learnt_of():
    index = EventIndex(HORIZON)
    index.put(story("st-loaded", NOW - timedelta(days=3), seen=None))  # at start: by its date
    assert index.entries["st-loaded"].seen == NOW - timedelta(days=3)
    index.put(story("st-clock", NOW, seen=NOW))
    # Another replica's stories, synced: an old report backfilled there, one dated ahead.
    index.put(story("st-synced", NOW - timedelta(days=400), seen=None))
    index.put(story("st-future", NOW + timedelta(days=900), seen=None))
    assert index.entries["st-synced"].seen == index.entries["st-future"].seen == NOW
    assert index._clock == NOW  # neither moved the clock
    index.put(story("st-next", NOW, seen=NOW + HORIZON - timedelta(days=1)))
    assert sorted(index.entries) == ["st-clock", "st-future", "st-next", "st-synced"]
    index.put(story("st-late", NOW, seen=NOW + HORIZON + timedelta(days=1)))
    assert sorted(index.entries) == ["st-late", "st-next"]


def test_a_key_shared_by_too_many_stories_is_skipped(monkeypatch):
    monkeypatch.setattr(events_index, "MAX_POSTINGS", 5)
    index = EventIndex(HORIZON)
    for n in range(6):  # "korea" in every story of the season
        index.put(story(f"st-{n}", NOW, seen=NOW, vector={"korea": 1.0, f"name{n}": 0.5}))
    assert found(index, NOW, vector={"korea": 1.0}) == []
    assert found(index, NOW, vector={"korea": 1.0, "name3": 0.2}) == ["st-3"]
    index.put(story("st-5", NOW, seen=NOW, vector={"other": 1.0}))  # one fewer shares it
    assert len(found(index, NOW, vector={"korea": 1.0})) == 5


def test_rescoring_takes_the_best_candidates_in_a_fixed_order(monkeypatch):
    monkeypatch.setattr(events_index, "RESCORE", 3)
    index = EventIndex(HORIZON)
    weights = [0.1, 0.9, 0.5, 0.9, 0.3]
    for n in range(len(weights)):
        index.put(story(f"st-{n}", NOW, seen=NOW, vector={"a": 1.0, f"w{n}": 1.0}))
    report = {"a": 0.1} | {f"w{n}": w for n, w in enumerate(weights)}
    # Best shared weight first; a tie (st-1, st-3) by story id, as before the index changed.
    assert found(index, NOW, vector=report) == ["st-3", "st-1", "st-2"]


def test_a_rollback_puts_back_the_clock_and_what_was_forgotten():
    index = EventIndex(HORIZON)
    index.put(story("st-1", NOW, seen=NOW))
    index.begin()
    index.put(story("st-2", NOW, seen=NOW + HORIZON * 2))
    assert sorted(index.entries) == ["st-2"]
    index.rollback()
    assert sorted(index.entries) == ["st-1"] and found(index, NOW) == ["st-1"]
    index.put(story("st-3", NOW, seen=NOW + timedelta(hours=1)))  # the clock went back too
    assert sorted(index.entries) == ["st-1", "st-3"]


def test_a_shelf_with_one_story_too_old_still_leaves_that_one_out():
    """Stories that arrived together share a shelf; the lookup counts a shelf whole only when
    its oldest story is in the window, and otherwise compares each story's date, so one old
    story among recent ones is left out and the recent ones are not."""
    index = EventIndex(HORIZON)
    index.put(story("st-backfill", NOW - timedelta(days=60), seen=NOW))
    index.put(story("st-today", NOW, seen=NOW + timedelta(minutes=1)))
    index.put(story("st-yesterday", NOW - timedelta(days=1), seen=NOW + timedelta(minutes=2)))
    assert sorted(found(index, NOW)) == ["st-today", "st-yesterday"]
    # The old story grows with a report of today: now every story of the shelf can be joined.
    index.put(story("st-backfill", NOW, seen=NOW + timedelta(minutes=3)))
    assert sorted(found(index, NOW)) == ["st-backfill", "st-today", "st-yesterday"]
