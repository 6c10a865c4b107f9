"""A rule fired by its gate's model alone, on a report whose clauses did not hold.

Why: clauses are written from the wording seen so far, and new reporting keeps finding words
they lack, while the model weighs every word of a report. Where the model is sure of a report
(``gate: alone: threshold``) that names what the rule is about (a term of ``alone: needs``, so
that the model is not asked about every article), the rule alerts on the model's word. Measured
on three held-out sets (tests/corpus/README.md), this won other evasion four true alerts for one
false alarm; the threshold comes out of fold from ``monitor rules train``.

An alert needs sentences to cite. Those the model alone can show are the report's sentences
that hold a term of ``needs`` and that the model scores highest by themselves, with the needed
terms and the model's weightiest words in them marked; each says why it is there, so an
analyst can tell a clause's evidence from the model's.
"""

from __future__ import annotations

import re

from monitor.detect.rules.evaluate import Evaluator, merge_spans
from monitor.detect.rules.model import Rule
from monitor.detect.rules.results import Hit, Match, MatchedSentence

CITED = 2  # sentences cited for a model's alert: enough to judge it, short enough to read
MARKED = 8  # the model's weightiest words marked in them, at most


def alone_match(rule: Rule, evaluator: Evaluator) -> Match | None:
    """The rule's match on the model's word, or None (see the module docstring)."""
    gate = rule.gate
    if gate is None or gate.alone is None:
        return None
    needed = [h for key in gate.needs for h in evaluator.found.get(key, ())]
    if not needed:
        return None
    doc = evaluator.doc
    title, text = doc.fields.get("title", ""), doc.fields.get("text", "")
    probability = gate.model.probability(title, text)
    if probability < gate.alone:
        return None
    hits = sorted({doc.resolve(h) for h in needed}, key=lambda h: (h.field, h.start))
    by_sentence: dict[tuple[str, int], list[Hit]] = {}
    for hit in hits:
        where = (hit.field, doc.sentences(hit.field).index_of(hit.start))
        by_sentence.setdefault(where, []).append(hit)
    scored = []
    for (field, index), found in by_sentence.items():
        sentence = doc.sentences(field).sentence(index)
        scored.append((gate.model.probability("", sentence), field, index, found))
    scored.sort(key=lambda s: (-s[0], s[1] != "title", s[2]))
    words = [term for term, weight in gate.model.telling(title, text, 40) if weight > 0]
    why = f"the gate's model alone gives the report {probability:.2f} (at least {gate.alone:.2f})"
    cited = []
    for _, field, index, found in sorted(scored[:CITED], key=lambda s: (s[1] != "title", s[2])):
        start, end = doc.sentences(field).spans[index]
        sentence = doc.sentences(field).sentence(index)
        spans = [(h.start - start, h.end - start) for h in found]
        spans += _word_spans(sentence, [w for w in words if " " not in w and len(w) > 2][:MARKED])
        cited.append(MatchedSentence(field, sentence, start, end, merge_spans(spans), why))
    return Match(rule, tuple(cited), tuple(hits), by_model=probability)


def _word_spans(sentence: str, words: list[str]) -> list[tuple[int, int]]:
    if not words:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
    return [m.span() for m in pattern.finditer(sentence)]
