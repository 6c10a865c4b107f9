"""A validated rule document to the :class:`~monitor.detect.rules.model.Rule` the matcher walks.

Nothing here can fail: :mod:`monitor.detect.rules.format` has checked the document, and the
loader compiles a rule only when it and the lexicons it uses had no problem. What is added is
what the matcher needs and the document does not say: a unique key per term list, the fields
each term is searched in, and the rule's version.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any as AnyType

from monitor.detect.rules.format import RuleDoc
from monitor.detect.rules.format_clauses import ClauseMap
from monitor.detect.rules.gate import GateModel
from monitor.detect.rules.model import (
    WHOLE,
    All,
    Any,
    AtLeast,
    Clause,
    Gate,
    Near,
    NoneOf,
    Phrase,
    Ref,
    Regex,
    Rule,
    SameSentence,
    Scope,
    Term,
    TermList,
)
from monitor.util.yamlpos import Pos, pos_at, pos_of

Path = tuple[str | int, ...]  # where a node sits in the rule file, as pydantic's loc


def term_lists(
    terms: dict[str, tuple[Phrase, ...]], raw: AnyType, key_prefix: str, top: Pos
) -> dict[str, TermList]:
    """Named term lists, each keyed by where it was defined (``lexicon/x.yaml#dprk``,
    ``rule:some-rule#labor``) and placed at its name in ``raw`` (the loaded ``terms:``)."""
    return {
        name: TermList(
            f"{key_prefix}#{name}", name, phrases, pos_at(raw, (name,), key=True, fallback=top)
        )
        for name, phrases in terms.items()
    }


def compile_rule(
    doc: RuleDoc,
    raw: AnyType,
    lexicons: dict[str, TermList],
    top: Pos,
    model: GateModel | None = None,
) -> Rule:
    """The rule in ``doc``; ``raw`` is the same document as loaded (with positions),
    ``lexicons`` the term lists of the files it uses, and ``model`` the one its ``gate:`` names."""
    where = pos_of(raw, fallback=top)
    own = term_lists(doc.terms, raw.get("terms"), f"rule:{doc.id}", where)
    builder = _Builder(doc.id, {**lexicons, **own}, raw, where)
    clause = builder.clause(doc.match, ("match",), WHOLE)
    used = _used_lists(clause, builder.lists)
    examples = doc.examples
    gate = None
    if doc.gate and model:
        alone = doc.gate.alone
        needs = [builder.lists[name] for name in alone.needs] if alone else []
        used += [tl for tl in needs if tl not in used]  # searched for, though no clause names it
        gate = Gate(
            model,
            doc.gate.threshold,
            doc.gate.model,
            alone.threshold if alone else None,
            tuple(tl.key for tl in needs),
        )
    return Rule(
        id=doc.id,
        title=doc.title,
        severity=doc.severity,
        match=clause,
        pos=where,
        version=_version(raw, used, gate),
        tags=tuple(str(t) for t in doc.tags),
        description=doc.description.strip(),
        labels={key: str(value) for key, value in doc.labels.items()},
        examples_match=tuple(examples.match) if examples else (),
        examples_no_match=tuple(examples.no_match) if examples else (),
        term_lists=tuple(used),
        enabled=doc.enabled,
        gate=gate,
    )


class _Builder:
    """Walks a clause in the order it was written. That order numbers the in-place phrase
    lists (``phrase-1``, ...), whose keys are part of the rule's version."""

    def __init__(self, rule_id: str, lists: dict[str, TermList], raw: AnyType, top: Pos) -> None:
        self.rule_id = rule_id
        self.lists = lists
        self.raw = raw
        self.top = top
        self.anonymous = 0

    def clause(self, value: AnyType, path: Path, scope: Scope) -> Clause:
        if isinstance(value, str):
            return self.term(value, scope)
        if isinstance(value, list):
            return All(self.each(value, path, scope))
        assert isinstance(value, ClauseMap)
        scope = self.narrowed(scope, value)
        parts = [self.operator(value, key, (*path, key), scope) for key in value.operators()]
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def narrowed(self, scope: Scope, clause: ClauseMap) -> Scope:
        """The scope of a clause: ``in:`` and ``lead:`` replace what it inherits, and the lists
        of ``unless:`` join those inherited."""
        fields, lead, unless = scope.fields, scope.lead, scope.unless
        if clause.in_ is not None:
            fields = frozenset([clause.in_] if isinstance(clause.in_, str) else clause.in_)
        if clause.lead is not None:
            lead = clause.lead
        if clause.unless is not None:
            names = [clause.unless] if isinstance(clause.unless, str) else clause.unless
            refs = (Ref(self.lists[name].key, name) for name in names)
            unless = tuple(dict.fromkeys((*unless, *refs)))
        return Scope(fields, lead, unless)

    def each(self, value: AnyType, path: Path, scope: Scope) -> tuple[Clause, ...]:
        """The clauses under an operator: a list of them, or one on its own."""
        if not isinstance(value, list):
            return (self.clause(value, path, scope),)
        return tuple(self.clause(item, (*path, i), scope) for i, item in enumerate(value))

    def term(self, name: str, scope: Scope) -> Term:
        return Term(self.lists[name].key, name, scope)

    def operator(self, clause: ClauseMap, key: str, path: Path, scope: Scope) -> Clause:
        if key in ("all", "any", "none"):
            kind = {"all": All, "any": Any, "none": NoneOf}[key]
            return kind(self.each(getattr(clause, key), path, scope))
        if key == "at_least":
            return AtLeast(clause.at_least, self.each(clause.of, (*path[:-1], "of"), scope))
        if key == "near":
            left, right = (self.term(name, scope) for name in clause.near)
            return Near(left, right, clause.within)
        if key == "same_sentence":
            return SameSentence(tuple(self.term(name, scope) for name in clause.same_sentence))
        if key == "regex":
            return Regex(re.compile(clause.regex, re.IGNORECASE), scope)
        if key == "term":
            return self.term(clause.term, scope)
        # phrase: an anonymous term list written in place
        self.anonymous += 1
        name = f"phrase-{self.anonymous}"
        where = pos_at(self.raw, path, fallback=self.top)
        self.lists[name] = TermList(f"rule:{self.rule_id}#{name}", name, clause.phrase, where)
        return self.term(name, scope)


def _used_lists(clause: Clause, lists: dict[str, TermList]) -> list[TermList]:
    keys: dict[str, None] = {}

    def walk(node: Clause) -> None:
        if isinstance(node, Term):
            keys[node.list_key] = None
        if isinstance(node, Term | Regex):
            keys.update(dict.fromkeys(ref.list_key for ref in node.scope.unless))
        elif isinstance(node, Near):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, SameSentence):
            for term in node.terms:
                walk(term)
        elif isinstance(node, All | Any | NoneOf | AtLeast):
            for child in node.children:
                walk(child)

    walk(clause)
    by_key = {tl.key: tl for tl in lists.values()}
    return [by_key[k] for k in keys]


def _version(data: dict, used: list[TermList], gate: Gate | None) -> str:
    """A short hash of what decides the rule's behaviour: its own YAML, its term lists and the
    model its gate names (a retrained model is a changed rule)."""
    payload = {
        "rule": {k: v for k, v in data.items() if k != "examples"},
        "terms": {tl.key: [p.text for p in tl.phrases] for tl in used},
    }
    if gate is not None:
        payload["model"] = gate.model.digest
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]
