"""A rule's own examples, checked by ``monitor rules test`` and by the test suite.

Examples test the clauses, the part an author writes: a rule's ``gate:`` is left out. A gate's
model was trained on whole reports, and one sentence written to show a clause is not one (a
model that must agree with a one-line example is bent to examples, not to news); the gate is
measured on a labelled corpus with ``monitor rules evaluate`` instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from monitor.detect.rules.explain import explain
from monitor.detect.rules.matcher import Matcher
from monitor.detect.rules.model import Rule


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


def run_examples(rules: Iterable[Rule]) -> Iterator[ExampleOutcome]:
    for gated in rules:
        rule = dataclasses.replace(gated, gate=None)
        matcher = Matcher([rule])
        cases = [(t, True) for t in rule.examples_match]
        cases += [(t, False) for t in rule.examples_no_match]
        for text, expected in cases:
            matched = bool(matcher.match({"text": text}))
            # Clause by clause, what held and what was found, when the example fails.
            detail = [] if matched == expected else explain(rule, {"text": text})[1:]
            yield ExampleOutcome(rule, text, expected, matched, detail)
