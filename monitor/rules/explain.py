"""Clauses written back as the short YAML-like text an author recognises."""

from __future__ import annotations

from monitor.rules.model import (
    DEFAULT_FIELDS,
    All,
    Any,
    AtLeast,
    Clause,
    Near,
    NoneOf,
    Regex,
    SameSentence,
    Term,
)


def _scope(fields: frozenset[str]) -> str:
    return "" if fields == DEFAULT_FIELDS else f" in {'/'.join(sorted(fields))}"


def describe_clause(clause: Clause) -> str:
    if isinstance(clause, Term):
        return f"{clause.name}{_scope(clause.fields)}"
    if isinstance(clause, Near):
        return f"near: [{clause.left.name}, {clause.right.name}] within {clause.within}"
    if isinstance(clause, SameSentence):
        return f"same_sentence: [{', '.join(t.name for t in clause.terms)}]"
    if isinstance(clause, Regex):
        return f"regex: {clause.pattern.pattern}"
    if isinstance(clause, AtLeast):
        inner = ", ".join(describe_clause(c) for c in clause.children)
        return f"at_least {clause.count} of: [{inner}]"
    name = {All: "all", Any: "any", NoneOf: "none"}[type(clause)]
    return f"{name}: [{', '.join(describe_clause(c) for c in clause.children)}]"
