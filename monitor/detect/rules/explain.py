"""Why a rule did or did not match a text: each clause, whether it held, and what it found."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from monitor.detect.rules.alone import alone_match
from monitor.detect.rules.evaluate import Evaluator, evaluate_rule, gate_score
from monitor.detect.rules.matcher import Matcher
from monitor.detect.rules.model import (
    WHOLE,
    All,
    Any,
    AtLeast,
    Clause,
    Near,
    NoneOf,
    Regex,
    Rule,
    SameSentence,
    Scope,
    Term,
)
from monitor.detect.rules.results import Document, Hit, Match


def _scope(scope: Scope) -> str:
    parts = []
    if scope.fields != WHOLE.fields:
        parts.append(f" in {'/'.join(sorted(scope.fields))}")
    if scope.lead is not None:
        parts.append(f" lead {scope.lead}")
    if scope.unless:
        parts.append(f" unless {', '.join(ref.name for ref in scope.unless)}")
    return "".join(parts)


def describe_clause(clause: Clause) -> str:
    """A clause written back as the short YAML-like text an author recognises."""
    if isinstance(clause, Term):
        return f"{clause.name}{_scope(clause.scope)}"
    if isinstance(clause, Near):
        where = _scope(clause.left.scope)
        return f"near: [{clause.left.name}, {clause.right.name}] within {clause.within}{where}"
    if isinstance(clause, SameSentence):
        names = ", ".join(t.name for t in clause.terms)
        return f"same_sentence: [{names}]{_scope(clause.terms[0].scope)}"
    if isinstance(clause, Regex):
        return f"regex: {clause.pattern.pattern}{_scope(clause.scope)}"
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


def _left_out(scope: Scope, evaluator: Evaluator, every: list[Hit], kept: list[Hit]) -> str:
    """What ``lead:`` or ``unless:`` kept a term from seeing, and the terms that made
    ``unless:`` skip a sentence: the evidence an author needs when a scope decided."""
    if scope.lead is None and not scope.unless:
        return ""
    counted = set(kept)
    out = [h for h in every if h.field in scope.fields and h not in counted]
    if not out:
        return ""
    text = f"; left out: {_found(out, evaluator.doc)}"
    skipped = evaluator.skipped(scope)
    why = [h for h in evaluator.unless_hits(scope) if evaluator.sentence_of(h) in skipped]
    why = [h for h in why if any(evaluator.sentence_of(o) == evaluator.sentence_of(h) for o in out)]
    return text + (f" (unless: {_found(why, evaluator.doc)})" if why else "")


def explain(rule: Rule, fields: Mapping[str, str]) -> list[str]:
    """Lines that show, clause by clause, why ``rule`` matched the fields or did not."""
    doc = Document(fields)
    evaluator = Evaluator(doc, Matcher([rule]).hits(doc))
    held = evaluator.holds(rule.match)
    gate = _gate_line(rule, doc, evaluator) if held else None
    alone = alone_match(rule, evaluator) if not held else None
    verdict = "MATCHES" if held and (gate is None or gate[0]) else "does not match"
    if alone is not None:
        verdict = "MATCHES on its gate's model alone"
    lines = [f"{rule.id} {verdict}"]

    def walk(clause: Clause, depth: int) -> None:
        held = evaluator.holds(clause)
        mark = "+" if held else "-"
        line = f"{'  ' * depth}{mark} {describe_clause(clause)}"
        if isinstance(clause, Term):
            hits = evaluator.term_hits(clause)
            line += f": {_found(hits, doc)}" if hits else ": nothing found"
            every = evaluator.found.get(clause.list_key, [])
            line += _left_out(clause.scope, evaluator, every, hits)
        elif held and isinstance(clause, Near | SameSentence | Regex):
            line += f": {_found(evaluator.evidence(clause), doc)}"
        if isinstance(clause, Regex):
            every = evaluator.regex_hits(clause)
            line += _left_out(clause.scope, evaluator, every, evaluator.evidence(clause))
        lines.append(line)
        for child in _children(clause):
            walk(child, depth + 1)

    walk(rule.match, 1)
    if gate is not None:
        lines.append(gate[1])
    elif not held and rule.gate is not None and rule.gate.alone is not None:
        lines.append(_alone_line(rule, doc, alone))
    return lines


def _alone_line(rule: Rule, doc: Document, alone: Match | None) -> str:
    """Why the model alone fired the rule, or did not, on a report whose clauses failed."""
    assert rule.gate is not None and rule.gate.alone is not None
    title, text = doc.fields.get("title", ""), doc.fields.get("text", "")
    if alone is not None:
        cited = "; ".join(s.marked() for s in alone.sentences)
        return (
            f"  + gate alone: {rule.gate.ref} gives the report {alone.by_model:.2f} >= "
            f"{rule.gate.alone:.2f}, and it names what the rule needs; cited: {cited}"
        )
    probability = rule.gate.model.probability(title, text)
    sign = ">=" if probability >= rule.gate.alone else "<"
    return (
        f"  - gate alone: {rule.gate.ref} gives the report {probability:.2f} {sign} "
        f"{rule.gate.alone:.2f}" + ("" if sign == "<" else ", but it names nothing the rule needs")
    )


def _gate_line(rule: Rule, doc: Document, evaluator: Evaluator) -> tuple[bool, str] | None:
    """Whether the rule's gate lets a report whose clauses held through, and the line that
    says so: the model's probability for the report and for the cited sentences against the
    threshold, and the report's terms that moved it most."""
    if rule.gate is None:
        return None
    match = evaluate_rule(dataclasses.replace(rule, gate=None), evaluator)
    score = gate_score(rule, doc, match.sentences if match else ())
    passed = score.value >= rule.gate.threshold
    sign = ">=" if passed else "<"
    telling = rule.gate.model.telling(doc.fields.get("title", ""), doc.fields.get("text", ""))
    terms = ", ".join(f'"{term}" {weight:+.2f}' for term, weight in telling)
    line = (
        f"  {'+' if passed else '-'} gate: {rule.gate.ref} gives the report {score.report:.2f}, "
        f"the cited sentences {score.cited:.2f}: {score.value:.2f} {sign} "
        f"{rule.gate.threshold:.2f}" + (f"; terms that weigh most: {terms}" if terms else "")
    )
    return passed, line
