"""A rule's own examples, checked by ``monitor rules test`` and by the test suite."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from monitor.rules.explain import describe_clause
from monitor.rules.matcher import Document, Matcher, _Evaluator
from monitor.rules.model import All, Clause, Rule


@dataclass(frozen=True, slots=True)
class ExampleOutcome:
    rule: Rule
    text: str
    expected: bool
    matched: bool
    detail: list[str]

    @property
    def passed(self) -> bool:
        return self.expected == self.matched

    def describe(self) -> str:
        want = "should match" if self.expected else "should not match"
        lines = [f"FAIL {self.rule.id} ({self.rule.pos}): example {want}:", f"  {self.text!r}"]
        lines += [f"  {line}" for line in self.detail]
        return "\n".join(lines)


def _parts(clause: Clause) -> tuple[Clause, ...]:
    return clause.children if isinstance(clause, All) else (clause,)


def check(rule: Rule, matcher: Matcher, text: str, expected: bool) -> ExampleOutcome:
    doc = Document({"text": text})
    found = matcher.hits(doc)
    evaluator = _Evaluator(doc, found)
    matched = evaluator.holds(rule.match)
    detail = []
    if matched != expected:
        for part in _parts(rule.match):
            held = evaluator.holds(part)
            state = "held" if held else "did not hold"
            terms = sorted({h.phrase for h in evaluator.evidence(part)})
            found_terms = f"; found: {', '.join(terms)}" if terms else ""
            detail.append(f"{describe_clause(part)}: {state}{found_terms}")
    return ExampleOutcome(rule, text, expected, matched, detail)


def run_examples(rules: Iterable[Rule]) -> Iterator[ExampleOutcome]:
    for rule in rules:
        matcher = Matcher([rule])
        for text in rule.examples_match:
            yield check(rule, matcher, text, True)
        for text in rule.examples_no_match:
            yield check(rule, matcher, text, False)
