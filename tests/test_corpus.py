"""The rule pack against real reports: precision and recall per rule on tests/corpus/.

The corpus holds excerpts of public news reports (each with its source address) labelled by
what an analyst would want alerted, hard negatives included. The floors below are what the
pack reaches today; a rule change that drops under them fails here before it reaches analysts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from monitor.detect.rules import Matcher, load_rules
from tests.conftest import ROOT, RULES

CORPUS = ROOT / "tests" / "corpus" / "articles.jsonl"
FLOORS = {  # rule: (precision, recall)
    "dprk-overseas-labor": (0.95, 0.85),
    "dprk-oil-transfer": (0.90, 0.85),
    "dprk-sanctions-evasion": (0.85, 0.90),
}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score_corpus() -> dict[str, Score]:
    matcher = Matcher(load_rules(RULES).rules)
    scores = {rule: Score() for rule in FLOORS}
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        fields = {"title": item["title"], "text": item["text"], "source": item["source"]}
        got = {m.rule.id for m in matcher.match(fields)}
        for rule, score in scores.items():
            wanted = rule in item["labels"]
            score.tp += rule in got and wanted
            score.fp += rule in got and not wanted
            score.fn += wanted and rule not in got
    return scores


SCORES = score_corpus()


def test_corpus_is_labelled_and_sourced():
    items = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    assert len(items) >= 60
    for item in items:
        assert item["url"].startswith(("http://", "https://")), item["id"]
        assert set(item["labels"]) <= set(FLOORS), item["id"]
    negatives = sum(1 for item in items if not item["labels"])
    assert negatives >= 25
    for rule in FLOORS:
        assert sum(rule in item["labels"] for item in items) >= 12, rule


@pytest.mark.parametrize("rule", sorted(FLOORS))
def test_precision_and_recall_floors(rule):
    score = SCORES[rule]
    precision_floor, recall_floor = FLOORS[rule]
    summary = f"{rule}: P={score.precision:.2f} R={score.recall:.2f} ({score})"
    print(summary)
    assert score.precision >= precision_floor, summary
    assert score.recall >= recall_floor, summary
