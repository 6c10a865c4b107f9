"""The whole rule set compiled into one Aho-Corasick automaton.

Every phrase of every term list goes into a single automaton over the folded token stream
(:mod:`monitor.util.text`), so one pass over an article finds every term hit of every rule; only the
rules that a hit (or a hit-free clause such as ``regex``) concerns are then evaluated. The cost of
an article grows with its length, barely with the number of rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick

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
from monitor.util.text import Sentences, TokenStream, tokenize

MAX_SENTENCES = 8


class Hit(NamedTuple):
    """A term found in one field.

    ``at``/``stop`` place it in the field's joined token stream; ``start``/``end`` in the
    original text are worked out only for the hits of rules that match (see
    :meth:`Document.resolve`), since most hits belong to rules that do not. A named tuple
    rather than a dataclass: an article can yield thousands of hits.
    """

    list_key: str
    phrase: str
    field: str
    at: int
    stop: int
    start: int = -1
    end: int = -1


@dataclass(frozen=True, slots=True)
class MatchedSentence:
    field: str
    text: str
    start: int
    end: int
    marks: tuple[tuple[int, int], ...]  # spans of matched terms, relative to the sentence

    def marked(self, before: str = "**", after: str = "**") -> str:
        """The sentence with every matched term wrapped, e.g. for bold in a message."""
        out, last = [], 0
        for s, e in self.marks:
            out += [self.text[last:s], before, self.text[s:e], after]
            last = e
        out.append(self.text[last:])
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Match:
    rule: Rule
    sentences: tuple[MatchedSentence, ...]
    hits: tuple[Hit, ...]

    @property
    def terms(self) -> list[str]:
        return sorted({h.phrase for h in self.hits})


class Document:
    """The fields of one article, tokenized and sentence-split on demand and only once."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = {k: v for k, v in fields.items() if v}
        self._streams: dict[str, TokenStream] = {}
        self._spans: dict[tuple[str, int, int], tuple[int, int]] = {}
        self._sentences: dict[str, Sentences] = {}

    def stream(self, name: str) -> TokenStream:
        if name not in self._streams:
            self._streams[name] = tokenize(self.fields.get(name, ""))
        return self._streams[name]

    def resolve(self, hit: Hit) -> Hit:
        """The hit with its character span in the original field text."""
        if hit.start >= 0:
            return hit
        key = (hit.field, hit.at, hit.stop)
        span = self._spans.get(key)
        if span is None:
            span = self._spans[key] = self.stream(hit.field).char_span(hit.at, hit.stop)
        return hit._replace(start=span[0], end=span[1])

    def sentences(self, name: str) -> Sentences:
        if name not in self._sentences:
            self._sentences[name] = Sentences.of(self.fields.get(name, ""))
        return self._sentences[name]


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

    def match(self, fields: Mapping[str, str]) -> list[Match]:
        doc = Document(fields)
        found = self.hits(doc)
        candidates = set(self._always)
        for list_key in found:
            candidates.update(self._rules_by_list.get(list_key, ()))
        evaluator = _Evaluator(doc, found)
        matches = []
        for index in sorted(candidates):
            if not all(not needs.isdisjoint(found) for needs in self._requirements[index]):
                continue  # a term list the rule cannot do without was not found
            match = evaluate_rule(self.rules[index], evaluator)
            if match is not None:
                matches.append(match)
        return matches


def evaluate_rule(rule: Rule, evaluator: _Evaluator) -> Match | None:
    doc = evaluator.doc
    if not evaluator.holds(rule.match):
        return None
    parts = _citation_parts(rule.match, evaluator)
    groups = [[doc.resolve(h) for h in evaluator.evidence(p)] for p in parts]
    hits = _unique(doc.resolve(h) for h in evaluator.evidence(rule.match))
    return Match(rule, _citation_sentences(doc, groups), tuple(hits))


def _citation_parts(clause: Clause, evaluator: _Evaluator) -> tuple[Clause, ...]:
    """The clauses whose evidence should meet in a quoted sentence: the parts of an ``all``,
    or of the first alternative that held in an ``any``."""
    if isinstance(clause, All):
        return clause.children
    if isinstance(clause, Any | AtLeast):
        for child in clause.children:
            if evaluator.holds(child):
                return _citation_parts(child, evaluator)
    return (clause,)


class _Evaluator:
    """Decides whether clauses hold (short-circuiting) and, for rules that hold, gathers the
    hits that show why. Most candidate rules fail, so evidence is only built on demand."""

    def __init__(self, doc: Document, found: dict[str, list[Hit]]) -> None:
        self.doc = doc
        self.found = found
        self._holds: dict[int, bool] = {}
        self._pairs: dict[int, list[Hit]] = {}
        self._scoped: dict[tuple[str, frozenset[str]], list[Hit]] = {}

    def term_hits(self, term: Term) -> list[Hit]:
        hits = self.found.get(term.list_key)
        if not hits:
            return []
        key = (term.list_key, term.fields)
        scoped = self._scoped.get(key)
        if scoped is None:
            scoped = self._scoped[key] = [h for h in hits if h.field in term.fields]
        return scoped

    def holds(self, node: Clause) -> bool:
        key = id(node)
        cached = self._holds.get(key)
        if cached is None:
            cached = self._holds[key] = self._decide(node)
        return cached

    def _decide(self, node: Clause) -> bool:
        if isinstance(node, Term):
            return bool(self.term_hits(node))
        if isinstance(node, All):
            return all(self.holds(c) for c in node.children)
        if isinstance(node, Any):
            return any(self.holds(c) for c in node.children)
        if isinstance(node, NoneOf):
            return not any(self.holds(c) for c in node.children)
        if isinstance(node, AtLeast):
            count = 0
            for child in node.children:
                count += self.holds(child)
                if count >= node.count:
                    return True
            return False
        return bool(self._paired(node))

    def evidence(self, node: Clause) -> list[Hit]:
        """The hits that make a holding clause hold (empty for a clause that does not)."""
        if not self.holds(node) or isinstance(node, NoneOf):
            return []
        if isinstance(node, Term):
            return self.term_hits(node)
        if isinstance(node, All | Any | AtLeast):
            return [h for c in node.children for h in self.evidence(c)]
        return self._paired(node)

    def _paired(self, node: Near | SameSentence | Regex) -> list[Hit]:
        key = id(node)
        if key not in self._pairs:
            if isinstance(node, Near):
                self._pairs[key] = self._near(node)
            elif isinstance(node, SameSentence):
                self._pairs[key] = self._same_sentence(node)
            else:
                self._pairs[key] = self._regex(node)
        return self._pairs[key]

    def _words(self, hit: Hit) -> tuple[int, int]:
        stream = self.doc.stream(hit.field)
        return stream.token_at(hit.at), stream.token_at(hit.stop - 1)

    def _near(self, node: Near) -> list[Hit]:
        evidence: list[Hit] = []
        rights = [(h, self._words(h)) for h in self.term_hits(node.right)]
        if not rights:
            return evidence
        for a in self.term_hits(node.left):
            a_first, a_last = self._words(a)
            for b, (b_first, b_last) in rights:
                if a.field != b.field:
                    continue
                gap = max(b_first - a_last, a_first - b_last) - 1
                if gap <= node.within:
                    evidence += (a, b)
        return evidence

    def _same_sentence(self, node: SameSentence) -> list[Hit]:
        per_term = [self.term_hits(t) for t in node.terms]
        if not all(per_term):
            return []
        per_sentence: dict[tuple[str, int], list[list[Hit]]] = defaultdict(
            lambda: [[] for _ in node.terms]
        )
        for i, hits in enumerate(per_term):
            for hit in hits:
                index = self.doc.sentences(hit.field).index_of(self.doc.resolve(hit).start)
                per_sentence[(hit.field, index)][i].append(hit)
        return [h for groups in per_sentence.values() if all(groups) for g in groups for h in g]

    def _regex(self, node: Regex) -> list[Hit]:
        evidence = []
        for name in node.fields:
            text = self.doc.fields.get(name, "")
            for m in node.pattern.finditer(text):
                if m.end() > m.start():
                    evidence.append(Hit("regex", m.group(), name, -1, -1, m.start(), m.end()))
        return evidence


def _unique(hits: Iterable[Hit]) -> list[Hit]:
    return sorted(set(hits), key=lambda h: (h.field, h.start, h.end, h.list_key))


def _citation_sentences(doc: Document, groups: list[list[Hit]]) -> tuple[MatchedSentence, ...]:
    """The sentences that carry the most of the rule's clauses at once.

    A rule like "North Korea + new workers" has evidence for its first clause in nearly every
    sentence; the sentences worth quoting are those where the clauses meet.
    """
    coverage: dict[tuple[str, int], set[int]] = defaultdict(set)
    hits_in: dict[tuple[str, int], list[Hit]] = defaultdict(list)
    for g, hits in enumerate(groups):
        for hit in hits:
            where = (hit.field, doc.sentences(hit.field).index_of(hit.start))
            coverage[where].add(g)
            hits_in[where].append(hit)
    if not coverage:
        return ()
    best = max(len(v) for v in coverage.values())
    order = {"title": 0, "text": 1, "source": 2}
    chosen = sorted(
        (w for w, v in coverage.items() if len(v) == best), key=lambda w: (order.get(w[0], 3), w[1])
    )[:MAX_SENTENCES]
    out = []
    for name, index in chosen:
        sentences = doc.sentences(name)
        start, end = sentences.spans[index]
        marks = _merge((h.start - start, h.end - start) for h in hits_in[(name, index)])
        out.append(MatchedSentence(name, sentences.sentence(index), start, end, marks))
    return tuple(out)


def _merge(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return tuple(merged)
