"""What the rules' gates cost: the shipped pack over the real labelled corpus, gated and not.

The baseline is the same pack with every ``gate:`` left out, run in the same process on the same
reports (tests/corpus/articles.jsonl, every real report, titles and texts as stored). A gate is
scored only for a report whose clauses held, so the cost lands on the reports that alert. Prints
microseconds a report for both, their ratio, the reports the gates vetoed, and the model's own
cost on a report whose clauses held.

    .venv/bin/python bench/gate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.detect.rules import Matcher, load_rules  # noqa: E402


def timed(matcher: Matcher, reports: list[dict[str, str]], repeat: int) -> tuple[float, int]:
    """Best microseconds a report over ``repeat`` passes, and the matches of one pass."""
    best, found = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = sum(len(matcher.match(report)) for report in reports)
        best = min(best, (time.perf_counter() - started) / len(reports) * 1e6)
    return best, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rules = load_rules(ROOT / "rules").rules
    corpus = (ROOT / "tests/corpus/articles.jsonl").read_text(encoding="utf-8").splitlines()
    reports = [
        {"title": r["title"], "text": r["text"], "source": r["source"]}
        for r in map(json.loads, corpus)
    ]
    gated = Matcher(rules)
    bare = Matcher([dataclasses.replace(rule, gate=None) for rule in rules])
    bare_us, bare_found = timed(bare, reports, args.repeat)
    gated_us, gated_found = timed(gated, reports, args.repeat)
    with_gate = [rule for rule in rules if rule.gate is not None]
    model = with_gate[0].gate.model if with_gate else None
    model_us = 0.0
    if model is not None:
        started = time.perf_counter()
        for report in reports:
            model.probability(report["title"], report["text"])
        model_us = (time.perf_counter() - started) / len(reports) * 1e6
    print(f"{len(reports)} real reports, {len(rules)} rules, {len(with_gate)} gated")
    print(f"without gates: {bare_us:.0f} us a report, {bare_found} matches")
    print(f"with gates:    {gated_us:.0f} us a report, {gated_found} matches")
    print(f"ratio: {gated_us / bare_us:.2f}x; the gates vetoed {bare_found - gated_found} matches")
    print(f"one model on a whole report: {model_us:.0f} us")


if __name__ == "__main__":
    main()
