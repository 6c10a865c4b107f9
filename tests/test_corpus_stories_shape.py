"""tests/corpus/stories.jsonl keeps the shape its README promises: real, sourced records; each
event in one split; multi-outlet events told by different outlets in their own words (not
copies); the sizes issue #13 asks for; and a ``fresh`` split, added after the others and never
tuned on, big enough to measure with. The matcher is measured on it elsewhere."""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict

from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "corpus" / "stories.jsonl"
FIELDS = {"id", "event", "url", "source", "title", "published", "text", "kind", "split", "note"}
SPLITS = ("tune", "test", "fresh")
RECORDS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
EVENTS: dict[str, list[dict]] = defaultdict(list)
for record in RECORDS:
    EVENTS[record["event"]].append(record)


def grams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def test_every_record_is_complete_and_sourced():
    assert [r["id"] for r in RECORDS] == [f"s{n:03d}" for n in range(1, len(RECORDS) + 1)]
    for record in RECORDS:
        assert set(record) == FIELDS, record["id"]
        assert record["url"].startswith(("http://", "https://")), record["id"]
        assert record["kind"] in ("multi", "distinct", "background"), record["id"]
        assert record["split"] in SPLITS, record["id"]
        published = record["published"]
        assert published is None or re.fullmatch(r"\d{4}-\d\d-\d\d", published), record["id"]
    assert len({r["url"] for r in RECORDS}) == len(RECORDS)


def test_events_keep_to_one_split_and_multi_outlet_events_are_not_copies():
    for event, records in EVENTS.items():
        assert len({r["split"] for r in records}) == 1, event
        assert len({r["kind"] for r in records}) == 1, event
        if records[0]["kind"] == "multi":
            assert len({r["source"] for r in records}) >= 2, event
            for a, b in itertools.combinations(records, 2):
                ga, gb = grams(a["text"]), grams(b["text"])
                assert len(ga & gb) / len(ga | gb) < 0.5, (a["id"], b["id"])
        else:
            assert len(records) == 1, event


def test_the_sizes_issue_13_asks_for():
    kinds = [records[0]["kind"] for records in EVENTS.values()]
    assert kinds.count("multi") >= 40
    assert kinds.count("distinct") >= 60


def test_the_fresh_split_comes_last_and_is_big_enough_to_measure():
    """Fresh records were appended after the 208 tune and test records, and hold enough events
    of each kind to be a held-out measure on their own."""
    splits = [r["split"] for r in RECORDS]
    first_fresh = splits.index("fresh")
    assert set(splits[first_fresh:]) == {"fresh"}
    assert first_fresh == 208  # s001-s208: the tune and test records, unchanged
    kinds = [records[0]["kind"] for records in EVENTS.values() if records[0]["split"] == "fresh"]
    assert kinds.count("multi") >= 15
    assert kinds.count("distinct") >= 20
