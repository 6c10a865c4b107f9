"""Deciding a candidate rule on one article, and quoting the sentences that show why.

The matcher hands over every term hit it found; most candidate rules fail, so evidence (and the
sentences quoted in an alert) is only gathered for the rules that hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from monitor.detect.rules.gate import GateScore
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
    Scope,
    Term,
)
from monitor.detect.rules.results import MAX_SENTENCES, Document, Hit, Match, MatchedSentence


def evaluate_rule(
    rule: Rule, evaluator: Evaluator, vetoed: list[Rule] | None = None
) -> Match | None:
    """The rule's match, or None; a rule whose clauses held but whose gate did not agree is
    also added to ``vetoed``, so the service can count what its gates hold back."""
    doc = evaluator.doc
    if not evaluator.holds(rule.match):
        return None
    parts = _citation_parts(rule.match, evaluator)
    groups = [[doc.resolve(h) for h in evaluator.evidence(p)] for p in parts]
    hits = _unique(doc.resolve(h) for h in evaluator.evidence(rule.match))
    sentences = _citation_sentences(doc, groups)
    if not gate_passes(rule, doc.fields, sentences):
        if vetoed is not None:
            vetoed.append(rule)
        return None
    return Match(rule, sentences, tuple(hits))


def gate_passes(
    rule: Rule, fields: Mapping[str, str], sentences: Iterable[MatchedSentence]
) -> bool:
    """Whether the rule's gate (if any) lets through a report whose clauses held and cited
    ``sentences``: the one test matching and ``rules backtest`` apply."""
    if rule.gate is None:
        return True
    return rule.gate.model.passes(*_gate_input(fields, sentences), rule.gate.threshold)


def gate_score(rule: Rule, doc: Document, sentences: Iterable[MatchedSentence]) -> GateScore:
    """What the rule's gate model gives the report and the sentences its clauses cited (1.0 for
    a rule with none), both, as ``explain`` shows them; matching asks only whether the higher
    reaches the threshold (:func:`gate_passes`), of reports whose clauses held."""
    if rule.gate is None:
        return GateScore(1.0, 1.0)
    return rule.gate.model.score(*_gate_input(doc.fields, sentences))


def _gate_input(
    fields: Mapping[str, str], sentences: Iterable[MatchedSentence]
) -> tuple[str, str, list[tuple[str, str]]]:
    """A report's headline, text and cited sentences, as a gate model scores them."""
    cited = [(s.field, s.text) for s in sentences]
    return fields.get("title", ""), fields.get("text", ""), cited


def _citation_parts(clause: Clause, evaluator: Evaluator) -> tuple[Clause, ...]:
    """The clauses whose evidence should meet in a quoted sentence: the parts of an ``all``,
    or of the first alternative that held in an ``any``."""
    if isinstance(clause, All):
        return clause.children
    if isinstance(clause, Any | AtLeast):
        for child in clause.children:
            if evaluator.holds(child):
                return _citation_parts(child, evaluator)
    return (clause,)


class Evaluator:
    """Decides whether clauses hold (short-circuiting) and, for rules that hold, gathers the
    hits that show why. Most candidate rules fail, so evidence is only built on demand."""

    def __init__(self, doc: Document, found: dict[str, list[Hit]]) -> None:
        self.doc = doc
        self.found = found
        self._holds: dict[int, bool] = {}
        self._pairs: dict[int, list[Hit]] = {}
        # Keyed by the id of a rule's Scope, which the rule keeps alive: hashing the scope
        # itself on every look-up costs more than the look-up saves.
        self._scoped: dict[tuple[str, int], list[Hit]] = {}
        self._skipped: dict[int, set[tuple[str, int]]] = {}
        self._sentence: dict[tuple[str, int, int], tuple[str, int]] = {}

    def term_hits(self, term: Term) -> list[Hit]:
        """The hits of a term that lie where its scope looks."""
        hits = self.found.get(term.list_key)
        if not hits:
            return []
        key = (term.list_key, id(term.scope))
        scoped = self._scoped.get(key)
        if scoped is None:
            scoped = self._scoped[key] = self.in_scope(term.scope, hits)
        return scoped

    def in_scope(self, scope: Scope, hits: list[Hit]) -> list[Hit]:
        """Those of ``hits`` in the scope's fields, lead, and sentences ``unless`` leaves."""
        hits = [h for h in hits if h.field in scope.fields]
        if scope.lead is None and not scope.unless:
            return hits  # the common case: no sentence needs to be found
        lead = scope.lead
        skipped = self.skipped(scope)
        if lead is None and not skipped:
            return hits  # no unless term in this report: nothing to skip
        places = ((h, self.sentence_of(h)) for h in hits)
        return [h for h, at in places if (lead is None or at[1] < lead) and at not in skipped]

    def skipped(self, scope: Scope) -> set[tuple[str, int]]:
        """The sentences (field, index) of the scope's fields that hold a term of its
        ``unless`` lists (a sentence of another field can rule out no hit of the scope)."""
        key = id(scope)
        if key not in self._skipped:
            fields = scope.fields
            self._skipped[key] = {
                self.sentence_of(h)
                for ref in scope.unless
                for h in self.found.get(ref.list_key, ())
                if h.field in fields
            }
        return self._skipped[key]

    def unless_hits(self, scope: Scope) -> list[Hit]:
        """The hits of the ``unless`` lists in the scope's fields: why sentences were skipped."""
        keys = [ref.list_key for ref in scope.unless]
        return [h for k in keys for h in self.found.get(k, ()) if h.field in scope.fields]

    def sentence_of(self, hit: Hit) -> tuple[str, int]:
        """The sentence (field, index) a hit lies in; asked many times for the same hits.

        Only where the hit starts matters, so a term hit's first token is placed in the text
        directly, without resolving the whole hit (most hits asked about are ``unless``
        terms, whose spans are never quoted)."""
        key = (hit.field, hit.at, hit.start)  # a regex hit has no token place (at is -1)
        place = self._sentence.get(key)
        if place is None:
            if hit.start >= 0:
                start = hit.start
            else:
                start = self.doc.stream(hit.field).char_span(hit.at, hit.at + 1)[0]
            place = self._sentence[key] = (hit.field, self.doc.sentences(hit.field).index_of(start))
        return place

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
        if not self.found.get(node.left.list_key):
            return evidence  # as below, without scoping the right term's hits first
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
        # A term found nowhere settles it before any other term's hits are scoped (placing
        # hits in sentences, for ``unless`` or ``lead``, is most of what a rule costs).
        if not all(self.found.get(t.list_key) for t in node.terms):
            return []
        per_term = []
        for term in node.terms:
            hits = self.term_hits(term)
            if not hits:
                return []
            per_term.append(hits)
        per_sentence: dict[tuple[str, int], list[list[Hit]]] = defaultdict(
            lambda: [[] for _ in node.terms]
        )
        for i, hits in enumerate(per_term):
            for hit in hits:
                per_sentence[self.sentence_of(hit)][i].append(hit)
        return [h for groups in per_sentence.values() if all(groups) for g in groups for h in g]

    def regex_hits(self, node: Regex) -> list[Hit]:
        """Every match of the pattern in the scope's fields, before lead and unless."""
        evidence = []
        for name in sorted(node.scope.fields):
            text = self.doc.fields.get(name, "")
            for m in node.pattern.finditer(text):
                if m.end() > m.start():
                    evidence.append(Hit("regex", m.group(), name, -1, -1, m.start(), m.end()))
        return evidence

    def _regex(self, node: Regex) -> list[Hit]:
        return self.in_scope(node.scope, self.regex_hits(node))


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
        marks = merge_spans((h.start - start, h.end - start) for h in hits_in[(name, index)])
        out.append(MatchedSentence(name, sentences.sentence(index), start, end, marks))
    return tuple(out)


def merge_spans(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return tuple(merged)
