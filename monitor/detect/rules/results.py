"""What matching finds in one article: term hits, matched sentences, and the article itself.

Plain results shared by the matcher (which finds hits), the evaluator (which decides rules and
gathers evidence) and ``explain``; kept apart so none of them imports another for its types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from monitor.detect.rules.model import (
    Rule,
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
    why: str = ""  # set when no clause cited it: why it is quoted (monitor.detect.rules.alone)

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
    by_model: float | None = None  # the gate's model alone fired the rule, at this probability

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
