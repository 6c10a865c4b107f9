"""The event matcher on real reporting (issue #13): the splits of tests/corpus/stories.jsonl.

Each split is replayed through the real pipeline and store, in date order, as the service would
have taken the reports in. A record without a date takes the time the service would have
fetched it, which for news is when it was news: the earliest dated report of its event, else
the date its event label starts with (a month alone: its 15th), else the date its note gives
(``FETCHED``). The thresholds were first chosen on the ``tune`` split only. The ``test`` split
was looked at while matcher variants were compared, and ``fresh`` (collected after those
choices) had its misses read, so both became tuning data too: the lead's weight
(``events.terms.LEAD_WORDS``) was chosen on ``tune``, ``test`` and ``fresh`` together.
``fresh2`` (collected 2026-12-02, after that choice) was replayed once as the held-out
measure; the veto on days the lead names (``events.days``) was then chosen on all four splits
together. ``fresh3`` (collected 2026-12-03, labelled blind) is the held-out measure of that
choice: replayed once with an anchor that came with it (a lower bar for a report naming the
story's own day), which merged four pairs of events there against two without it, so the anchor
was dropped and the veto alone replayed a second time.

Targets (issue #13), on the held-out split: at least 90% of multi-outlet events kept as one
story, and no story that joins two different events.

``fresh4`` (collected 2026-12-04, labelled blind, 93 records) is the held-out measure of the
index's wider keys (``events.index.KEY_TERMS`` 16 and ``QUERY_TERMS`` 24, chosen on the five
earlier splits, which have all been read): replayed once, 20 of 23 multi-outlet events kept and
three stories that join two events, each a next step told the day after in the words of the
first (87 then 64 fishermen detained; Russia's then North Korea's ratification of a treaty; two
soldiers captured, then offered in exchange).

``fresh5`` (collected 2026-12-04, labelled blind, 98 records, nothing about ships) was replayed
once at stop 27 with the matcher unchanged since ``fresh4``, as a second held-out measure of it:
24 of 24 multi-outlet events kept whole, and three stories that join events, again next steps
within a day: the Kaesong shutdown and the North's expulsion of the South Koreans the next day;
the fisheries official shot and Kim's apology; and the first COVID-19 outbreak with the missiles
fired hours later and the first deaths reported the day after (one story, three events).

``fresh6`` (collected 2026-12-04 after that replay, labelled blind, 79 records about ships, oil,
workers abroad, IT workers, thefts and arms to Russia: the events the service alerts on) was
replayed once with the same matcher: 18 of 21 kept whole and no story joining two events. Over
the three held-out sets, 62 of 68 multi-outlet events kept whole (91%) and six merged stories.

``fresh7`` (collected 2026-12-04 at the end of stop 27, labelled blind, 88 records whose 25
distinct ones are next steps on purpose) was replayed once at stop 28 with the same matcher:
23 of 24 kept whole and two stories that join a next step told the next day (Russia demanding
the Sevastopol's release, then Seoul lifting its departure ban; Shoigu shown Kim's weapons, then
the two at the parade). Over the four held-out sets, 85 of 92 kept whole (92%), eight merged.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from monitor.detect.pipeline import Pipeline
from monitor.detect.rules import Matcher
from monitor.models import Article
from monitor.store import Store
from monitor.store.tables import ArticleRow
from tests.conftest import ROOT

RECORDS = [
    json.loads(line)
    for line in (ROOT / "tests/corpus/stories.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
# Undated records whose event label gives no day: the date their note gives.
FETCHED = {
    "s021": "2024-08-08",
    "s022": "2024-05-16",
    "s071": "2022-04-20",
    "s106": "2024-04-20",
    "s248": "2025-11-04",
    "s272": "2023-04-28",
}


def _noon(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def fetched(record: dict) -> datetime:
    """When the service would have dated this record (see the module docstring)."""
    if record["published"]:
        return _noon(record["published"])
    if record["id"] in FETCHED:
        return _noon(FETCHED[record["id"]])
    dated = [r["published"] for r in RECORDS if r["event"] == record["event"] and r["published"]]
    if dated:
        return _noon(min(dated))
    found = re.match(r"(\d{4}-\d{2})(-\d{2})?", record["event"])
    if found:
        return _noon(found.group(1) + (found.group(2) or "-15"))
    return (
        _noon(record["event"][:4] + "-07-01")
        if record["event"][:4].isdigit()
        else _noon("2020-01-01")
    )


def as_article(record: dict, n: int) -> Article:
    """The ``n``-th record of a replay as the service would take it in (a minute apart, so
    that the order within a day is the replay's)."""
    return Article(
        title=record["title"],
        text=record["text"],
        source=record["source"],
        url=record["url"],
        external_id=record["id"],
        feed="corpus",
        published=fetched(record) + timedelta(minutes=n),
    )


def replay(split: str, tmp_path) -> tuple[dict[str, str], list[dict]]:
    """Each record's story id, replaying ``split`` through a fresh store in date order."""
    records = sorted(
        (r for r in RECORDS if r["split"] == split), key=lambda r: (fetched(r), r["id"])
    )
    store = Store(f"sqlite:///{tmp_path / f'{split}.db'}")
    pipeline = Pipeline(store, Matcher([]), batch=1, story_scope="all")
    for n, record in enumerate(records):
        pipeline.ingest([as_article(record, n)])
    with store.session() as session:
        story_of = dict(session.exec(select(ArticleRow.external_id, ArticleRow.story_id)).all())
    store.close()
    return story_of, records


def figures(split: str, tmp_path) -> tuple[int, int, list[list[str]], list[list[str]]]:
    """(multi-outlet events kept whole, multi-outlet events, events split, stories merged)."""
    story_of, records = replay(split, tmp_path)
    stories_of_event: dict[str, set[str]] = defaultdict(set)
    events_of_story: dict[str, set[str]] = defaultdict(set)
    for record in records:
        stories_of_event[record["event"]].add(story_of[record["id"]])
        events_of_story[story_of[record["id"]]].add(record["event"])
    multi = sorted({r["event"] for r in records if r["kind"] == "multi"})
    split_events = [e for e in multi if len(stories_of_event[e]) > 1]
    merged = [sorted(events) for events in events_of_story.values() if len(events) > 1]
    return len(multi) - len(split_events), len(multi), [[e] for e in split_events], merged


# The floor each split must hold: (least share of multi-outlet events kept whole, most merged).
FLOORS = {
    "tune": (0.90, 0),
    "test": (0.78, 0),
    "fresh": (0.66, 0),
    "fresh2": (0.77, 0),
    "fresh3": (0.86, 2),
    "fresh4": (0.86, 3),
    "fresh5": (1.0, 3),
    "fresh6": (0.85, 0),
    "fresh7": (0.95, 2),
}
# The splits replayed here and by bench/stories.py, in the order they were gathered. The next
# change to the matcher waits for a collection gathered after fresh7 was replayed.
REPLAYED = tuple(FLOORS)


@pytest.mark.parametrize("split", REPLAYED)
def test_the_corpus_replays_to_one_story_per_event(split, tmp_path):
    kept, multi, split_events, merged = figures(split, tmp_path)
    print(f"{split}: {kept}/{multi} multi-outlet events kept whole; merged: {merged}")
    # GAP: the target is >= 90% kept and no merged story on the held-out split. The
    # thresholds were chosen on the tune split (similarity 0.18, rising 0.10 a day after the first,
    # and the field's own words weighed as common from the start: events.rarity's DOMAIN_WORDS). The
    # lead's words counting twice (its first 30 words) was chosen on tune, test and fresh together
    # (65 multi-outlet events): 47 kept and 2 merged before, 50 kept and 1 merged after (tune 19/21,
    # test 17/23 with one pair of launches two days apart merged, fresh 14/21). The held-out fresh2
    # split (89 records, 22 multi-outlet events, replayed once after that choice): 17/22 kept (77%),
    # none merged; the matcher without the lead weight kept 16/22 there. Then the days the lead
    # names (events.days) were added, chosen on all four splits together (fresh2 had been spent): a
    # report whose lead names a day after a story's latest report cannot join it: tune 19/21, test
    # 17/23, fresh 14/21, fresh2 17/22 (67/87), none merged (one merged before). On the held-out
    # fresh3 (92 records, 22 multi-outlet events): 18/22 kept (82%) and two stories that join two
    # events (an inquiry and a summit four days later that discussed it; two launches two days
    # apart), against 17/22 and the same two for the matcher before the veto. The misses are still
    # long reports (UN panel findings) that each outlet summarises from another angle, short reports
    # on the day under 0.18, follow-ups days late that name no day, and two pairs the index never
    # offers (no shared key). Stop 25 widened the index's keys (16 a story, 24 a report), which
    # brought those two pairs together and changed nothing else: tune 19/21, test 18/23, fresh
    # 14/21, fresh2 17/22, fresh3 19/22 (87/109), merges as before. The held-out fresh4 split
    # (93 records, 23 multi-outlet events, replayed once): 20/23 kept (87%) and three merged (see
    # the module docstring). The held-out fresh5 (98 records, 24 multi-outlet events, replayed
    # once with the same matcher): 24/24 kept and three merged; fresh6 (79 records, 21
    # multi-outlet events, replayed once): 18/21 kept, none merged. Over fresh4 and fresh5 the
    # recall target holds (44/47, 94%) and merging is the gap: six stories that each join a next
    # step told within a day or two in the words of the first. fresh7 (88 records, 24
    # multi-outlet events, its distinct records next steps on purpose; replayed once at stop
    # 28): 23/24 kept, two merged, both next steps told the next day. These floors assert what was
    # reached, so that a regression still fails; the lead's note names the gap.
    least_kept, most_merged = FLOORS[split]
    assert kept / multi >= least_kept, split_events
    assert len(merged) <= most_merged, merged


def _alerting_groups(split: str, tmp_path, scope: str) -> list[list[str]]:
    """The stories of ``split``'s reports that match a rule of the shipped pack, replayed with
    the rules and story scope ``scope``, as sorted groups of record ids."""
    from monitor.service.cycle import compile_rules

    matcher = compile_rules(ROOT / "rules")
    records = sorted(
        (r for r in RECORDS if r["split"] == split), key=lambda r: (fetched(r), r["id"])
    )
    store = Store(f"sqlite:///{tmp_path / f'{split}-{scope}.db'}")
    pipeline = Pipeline(store, matcher, batch=1, story_scope=scope)
    matched = set()
    for n, record in enumerate(records):
        if pipeline.ingest([as_article(record, n)]).matches:
            matched.add(record["id"])
    with store.session() as session:
        story_of = dict(session.exec(select(ArticleRow.external_id, ArticleRow.story_id)).all())
    store.close()
    storied = {record_id for record_id, story in story_of.items() if story is not None}
    assert storied == (matched if scope == "matched" else set(story_of))
    groups: dict[str, list[str]] = defaultdict(list)
    for record_id in sorted(matched):
        groups[story_of[record_id]].append(record_id)
    return sorted(groups.values())


def _event_figures(groups: list[list[str]]) -> tuple[int, int, int]:
    """(events told by two or more of the groups' reports, those kept in one group, groups that
    hold two events)."""
    event = {r["id"]: r["event"] for r in RECORDS}
    groups_of: dict[str, set[int]] = defaultdict(set)
    for n, group in enumerate(groups):
        for record_id in group:
            groups_of[event[record_id]].add(n)
    told = Counter(event[record_id] for group in groups for record_id in group)
    several = [e for e, count in told.items() if count > 1]
    kept = sum(1 for e in several if len(groups_of[e]) == 1)
    merged = sum(1 for group in groups if len({event[r] for r in group}) > 1)
    return len(several), kept, merged


# Events the default scope splits among alerting reports where grouping every report keeps them
# whole: in fresh6, the Outlaw Ocean reports, whose non-alerting reports between them carried the
# story's words; in fresh2, the Philippines impounding the Jin Teng: two of its three reports
# alert since the gates were trained on 2,077 reports (stop 28), and they stay one story only
# when the third, which alerts on nothing, is grouped too.
SCOPE_COST = {"fresh6": 1, "fresh2": 1}


@pytest.mark.parametrize("split", REPLAYED)
def test_stories_of_matched_reports_alone_group_the_alerting_reports_alike(split, tmp_path):
    # The default story_scope ("matched") groups only the reports that match a rule; the others
    # count in the words' rarity alone. On the first seven splits that gives the reports that
    # alert exactly the stories they have when every report is grouped (55 of 71 events told by
    # two or more alerting reports kept whole, none merged, either way; the rules of stop 27).
    # On fresh6 it keeps 16 of 19 such events whole against 17, none merged either way; on fresh2,
    # with the gates of stop 28, one such event fewer too (SCOPE_COST).
    matched_only = _alerting_groups(split, tmp_path, "matched")
    assert matched_only and any(len(group) > 1 for group in matched_only)
    several, kept, merged = _event_figures(matched_only)
    several_all, kept_all, merged_all = _event_figures(_alerting_groups(split, tmp_path, "all"))
    assert several == several_all and merged == merged_all == 0
    assert kept == kept_all - SCOPE_COST.get(split, 0)
