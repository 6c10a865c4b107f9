"""Why a rule did or did not match a text: each clause, whether it held, and what it found."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.detect.rules.evaluate import Evaluator
from monitor.detect.rules.matcher import Matcher
from monitor.detect.rules.model import (
    DEFAULT_FIELDS,
    All,
    Any,
    AtLeast,
    Clause,
    Near,
    NoneOf,
    Regex,
    Rule,
    SameSentence,
    Term,
)
from monitor.detect.rules.results import Document, Hit


def _scope(fields: frozenset[str]) -> str:
    return "" if fields == DEFAULT_FIELDS else f" in {'/'.join(sorted(fields))}"


def describe_clause(clause: Clause) -> str:
    """A clause written back as the short YAML-like text an author recognises."""
    if isinstance(clause, Term):
        return f"{clause.name}{_scope(clause.fields)}"
    if isinstance(clause, Near):
        return f"near: [{clause.left.name}, {clause.right.name}] within {clause.within}"
    if isinstance(clause, SameSentence):
        return f"same_sentence: [{', '.join(t.name for t in clause.terms)}]"
    if isinstance(clause, Regex):
        return f"regex: {clause.pattern.pattern}{_scope(clause.fields)}"
    if isinstance(clause, AtLeast):
        return f"at_least {clause.count} of"
    return {All: "all", Any: "any", NoneOf: "none"}[type(clause)]


def _children(clause: Clause) -> tuple[Clause, ...]:
    if isinstance(clause, All | Any | NoneOf | AtLeast):
        return clause.children
    if isinstance(clause, Near):
        return (clause.left, clause.right)
    if isinstance(clause, SameSentence):
        return clause.terms
    return ()


def _found(hits: list[Hit], doc: Document, limit: int = 6) -> str:
    seen: dict[tuple[str, int, int], None] = {}
    for hit in sorted((doc.resolve(h) for h in hits), key=lambda h: (h.field, h.start)):
        seen.setdefault((hit.field, hit.start, hit.end), None)
    shown = [f'"{doc.fields[f][s:e]}" ({f} {s}-{e})' for f, s, e in list(seen)[:limit]]
    more = f" and {len(seen) - limit} more" if len(seen) > limit else ""
    return ", ".join(shown) + more


def explain(rule: Rule, fields: Mapping[str, str]) -> list[str]:
    """Lines that show, clause by clause, why ``rule`` matched the fields or did not."""
    doc = Document(fields)
    evaluator = Evaluator(doc, Matcher([rule]).hits(doc))
    verdict = "MATCHES" if evaluator.holds(rule.match) else "does not match"
    lines = [f"{rule.id} {verdict}"]

    def walk(clause: Clause, depth: int) -> None:
        held = evaluator.holds(clause)
        mark = "+" if held else "-"
        line = f"{'  ' * depth}{mark} {describe_clause(clause)}"
        if isinstance(clause, Term):
            hits = evaluator.term_hits(clause)
            line += f": {_found(hits, doc)}" if hits else ": nothing found"
        elif held and isinstance(clause, Near | SameSentence | Regex):
            line += f": {_found(evaluator.evidence(clause), doc)}"
        lines.append(line)
        for child in _children(clause):
            walk(child, depth + 1)

    walk(rule.match, 1)
    return lines
