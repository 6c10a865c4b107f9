"""The whole rule set compiled into one Aho-Corasick automaton.

Every phrase of every term list goes into a single automaton over the folded token stream
(:mod:`monitor.util.text`), so one pass over an article finds every term hit of every rule; only the
rules that a hit (or a hit-free clause such as ``regex``) concerns are then evaluated. The cost of
an article grows with its length, barely with the number of rules.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping

import ahocorasick

from monitor.detect.rules.alone import alone_match
from monitor.detect.rules.evaluate import Evaluator, evaluate_rule
from monitor.detect.rules.model import (
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
from monitor.detect.rules.results import Document, Hit, Match, MatchedSentence


def _needs_no_terms(clause: Clause) -> bool:
    """Whether a clause could hold for a text in which no term of the rule was found."""
    if isinstance(clause, Regex | NoneOf):
        return True
    if isinstance(clause, All):
        return all(_needs_no_terms(c) for c in clause.children)
    if isinstance(clause, Any):
        return any(_needs_no_terms(c) for c in clause.children)
    if isinstance(clause, AtLeast):
        return sum(_needs_no_terms(c) for c in clause.children) >= clause.count
    return False


def _requirements(clause: Clause) -> list[frozenset[str]]:
    """Term lists the clause needs: from each set, at least one must have been found.

    A cheap necessary condition checked before evaluating a rule: most rules that one of their
    terms makes a candidate still lack another they cannot do without.
    """
    if isinstance(clause, Term):
        return [frozenset({clause.list_key})]
    if isinstance(clause, Near):
        return [frozenset({clause.left.list_key}), frozenset({clause.right.list_key})]
    if isinstance(clause, SameSentence):
        return [frozenset({t.list_key}) for t in clause.terms]
    if isinstance(clause, All):
        return [needs for child in clause.children for needs in _requirements(child)]
    if isinstance(clause, Any | AtLeast):
        alternatives = [_requirements(child) for child in clause.children]
        if any(not needs for needs in alternatives):
            return []
        return [frozenset().union(*(needs[0] for needs in alternatives))]
    return []  # none, regex: nothing is required


class Matcher:
    """Compiled once per rule set; :meth:`match` is then safe to call from any thread."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = [r for r in rules if r.enabled]
        # Names this compiled rule set: matches made beforehand (in a parser process) are
        # taken by the writer only when made with the rule set it holds now.
        self.token = uuid.uuid4().hex
        self.place = {id(rule): n for n, rule in enumerate(self.rules)}  # a rule's index
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self._rules_by_list: dict[str, list[int]] = defaultdict(list)
        self._always: list[int] = []
        seen_lists: set[str] = set()
        sizes: dict[str, int] = {}
        for rule in self.rules:
            for term_list in rule.term_lists:
                sizes[term_list.key] = len(term_list.phrases)
                if term_list.key in seen_lists:
                    continue
                seen_lists.add(term_list.key)
                for phrase in term_list.phrases:
                    bucket = entries[phrase.key]
                    if all(entry[0] != term_list.key for entry in bucket):
                        bucket.append((term_list.key, phrase.text))
        self._requirements = [_requirements(rule.match) for rule in self.rules]
        for index, rule in enumerate(self.rules):
            needs = self._requirements[index]
            if not needs or _needs_no_terms(rule.match):
                self._always.append(index)
                continue
            # A rule is looked at only when its most specific requirement (the one with the
            # fewest phrases) was found: one of its lists must be, or the rule cannot hold.
            anchor = min(needs, key=lambda keys: sum(sizes.get(k, 0) for k in keys))
            for key in anchor:
                self._rules_by_list[key].append(index)
        for index, rule in enumerate(self.rules):
            # A rule its gate's model may fire alone is looked at whenever what it needs is found.
            if rule.gate is not None and rule.gate.alone is not None:
                for key in rule.gate.needs:
                    if index not in self._rules_by_list[key]:
                        self._rules_by_list[key].append(index)
        for key, values in entries.items():
            self._automaton.add_word(key, (len(key), not key.endswith(" "), tuple(values)))
        self._empty = not entries
        if not self._empty:
            self._automaton.make_automaton()

    def hits(self, doc: Document) -> dict[str, list[Hit]]:
        """Every term hit in every field, grouped by term list."""
        found: dict[str, list[Hit]] = defaultdict(list)
        if self._empty:
            return found
        for name in doc.fields:
            stream = doc.stream(name)
            joined = stream.joined
            for end, (length, prefix, values) in self._automaton.iter(joined):
                start = end - length + 2  # first character of the first token
                stop = joined.find(" ", end) if prefix else end  # a prefix runs to the word end
                for list_key, phrase in values:
                    found[list_key].append(Hit(list_key, phrase, name, start, stop))
        return found

    def match(self, fields: Mapping[str, str], vetoed: list[Rule] | None = None) -> list[Match]:
        """The rules the fields match; with ``vetoed``, the rules whose clauses held but whose
        gate held the report back are added to it."""
        doc = Document(fields)
        found = self.hits(doc)
        candidates = set(self._always)
        for list_key in found:
            candidates.update(self._rules_by_list.get(list_key, ()))
        evaluator = Evaluator(doc, found)
        matches = []
        for index in sorted(candidates):
            rule = self.rules[index]
            # Without a term list the rule cannot do without, its clauses cannot hold. The
            # model may fire alone only where they did not: a report they held on has met the
            # gate already (evaluate_rule), and is not scored again.
            held = all(
                not needs.isdisjoint(found) for needs in self._requirements[index]
            ) and evaluator.holds(rule.match)
            match = evaluate_rule(rule, evaluator, vetoed) if held else alone_match(rule, evaluator)
            if match is not None:
                matches.append(match)
        return matches


__all__ = ["Document", "Hit", "Match", "MatchedSentence", "Matcher", "evaluate_rule"]
