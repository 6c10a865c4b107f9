"""A rule pack measured on labelled reports: precision, recall and F1 per rule, and each error
with the sentence that fired or the clause that failed, so an author sees why.

The corpus is JSON lines, one report each (``id``, ``title``, ``text``, ``labels``: the rule ids
an analyst would want alerted, and optionally ``url``, ``source``, ``split``, ``story`` and
``judged``: the rules its labels speak for, every rule if absent), as in
``tests/corpus/articles.jsonl``. Measuring on reports the rules were not tuned on is the point:
``split`` keeps the held-out ones apart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from monitor.detect.rules.explain import explain
from monitor.detect.rules.matcher import Matcher
from monitor.detect.rules.model import Rule
from monitor.errors import RuleError


@dataclass(frozen=True, slots=True)
class Labelled:
    id: str
    title: str
    text: str
    labels: frozenset[str]
    split: str = ""
    url: str = ""
    source: str = ""
    story: str = ""  # the event it tells: reports of one story are never split across folds
    # The rules whose labels were decided for this report; None: every rule. An analyst's
    # verdict judges one rule (`monitor feedback export --corpus`) and says nothing of others.
    judged: frozenset[str] | None = None

    def judges(self, rule_id: str) -> bool:
        return self.judged is None or rule_id in self.judged

    @property
    def fields(self) -> dict[str, str]:
        return {"title": self.title, "text": self.text, "source": self.source}


@dataclass(slots=True)
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def precision_interval(self) -> tuple[float, float]:
        return wilson(self.tp, self.tp + self.fp)

    @property
    def recall_interval(self) -> tuple[float, float]:
        return wilson(self.tp, self.tp + self.fn)

    def to_json(self) -> dict[str, object]:
        counts = {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}
        scores = {"precision": self.precision, "recall": self.recall, "f1": self.f1}
        intervals = {
            "precision_interval": [round(x, 4) for x in self.precision_interval],
            "recall_interval": [round(x, 4) for x in self.recall_interval],
        }
        return {**counts, **{k: round(v, 4) for k, v in scores.items()}, **intervals}


Z95 = 1.959964  # the normal quantile of a two-sided 95% interval


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The Wilson score interval (95%) of a proportion: held-out sets are small (5 of 10 oil
    alerts right says little), and unlike the plain normal interval it stays inside 0..1 and
    is not empty at 0 or n successes. No trials: nothing known, (0, 1)."""
    if trials == 0:
        return 0.0, 1.0
    p, z2 = successes / trials, Z95 * Z95
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    spread = Z95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - spread), min(1.0, centre + spread)


@dataclass(slots=True)
class Error:
    """One wrong verdict: ``kind`` is "false positive" (fired, not wanted) or "false negative"."""

    rule: str
    kind: str
    article: Labelled
    sentences: list[str] = field(default_factory=list)  # what fired, terms in **bold**
    clauses: list[str] = field(default_factory=list)  # explain's lines: which clause held/failed

    def to_json(self) -> dict[str, object]:
        where = {"id": self.article.id, "title": self.article.title, "url": self.article.url}
        return {
            "rule": self.rule,
            "kind": self.kind,
            "article": where,
            "sentences": self.sentences,
            "clauses": self.clauses,
        }


@dataclass(slots=True)
class Evaluation:
    articles: int
    scores: dict[str, Confusion]
    errors: list[Error]


def read_corpus(path: Path, split: str = "all") -> list[Labelled]:
    """The labelled reports in ``path``; with ``split`` other than "all", only that half."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RuleError(f"{path}: cannot read the corpus: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            item = Labelled(
                id=str(data["id"]),
                title=str(data.get("title") or ""),
                text=str(data["text"]),
                labels=frozenset(data.get("labels") or ()),
                split=str(data.get("split") or ""),
                url=str(data.get("url") or ""),
                source=str(data.get("source") or ""),
                story=str(data.get("story") or ""),
                judged=None if data.get("judged") is None else frozenset(data["judged"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            why = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise RuleError(f"{path}:{number}: not a labelled report ({why})") from None
        if split == "all" or item.split == split:
            items.append(item)
    return items


def evaluate(rules: Sequence[Rule], articles: Iterable[Labelled]) -> Evaluation:
    """Every rule against every article; errors carry the evidence an author needs."""
    matcher = Matcher(rules)
    by_id = {rule.id: rule for rule in rules}
    scores = {rule.id: Confusion() for rule in rules}
    errors: list[Error] = []
    count = 0
    for article in articles:
        count += 1
        fired = {m.rule.id: m for m in matcher.match(article.fields)}
        for rule_id, score in scores.items():
            if not article.judges(rule_id):
                continue
            wanted, got = rule_id in article.labels, rule_id in fired
            if got and wanted:
                score.tp += 1
            elif got:
                score.fp += 1
                sentences = [s.marked() for s in fired[rule_id].sentences]
                clauses = explain(by_id[rule_id], article.fields)[1:]
                errors.append(Error(rule_id, "false positive", article, sentences, clauses))
            elif wanted:
                score.fn += 1
                clauses = explain(by_id[rule_id], article.fields)[1:]
                errors.append(Error(rule_id, "false negative", article, [], clauses))
            else:
                score.tn += 1
    return Evaluation(count, scores, errors)


def report_lines(evaluation: Evaluation, show_errors: bool = True) -> list[str]:
    """The evaluation as an author reads it: a table, then each error with its evidence."""
    head = f"{'rule':<28} {'tp':>4} {'fp':>4} {'fn':>4} {'tn':>4}  "
    lines = [head + f"{'precision':<19}{'recall':<19}f1"]
    for rule, s in evaluation.scores.items():
        lines.append(
            f"{rule:<28} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.tn:>4}  "
            f"{_with_interval(s.precision, s.precision_interval):<19}"
            f"{_with_interval(s.recall, s.recall_interval):<19}{s.f1:.2f}"
        )
    lines.append("(95% Wilson intervals in brackets: where the true rate may lie, given so few)")
    if not show_errors:
        return lines
    for error in evaluation.errors:
        article = error.article
        lines += ["", f"{error.kind.upper()} {error.rule}: {article.id} {article.title}"]
        if article.url:
            lines.append(f"  {article.url}")
        lines += [f"  fired: {sentence}" for sentence in error.sentences]
        lines += [f"  {clause}" for clause in error.clauses]
    return lines


def _with_interval(value: float, interval: tuple[float, float]) -> str:
    return f"{value:.2f} ({interval[0]:.2f}-{interval[1]:.2f})"
