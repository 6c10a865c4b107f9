"""A learned gate on a rule: a linear text model that must agree before the rule alerts.

Keyword clauses say why a report fired and quote the sentences, but measured on reporting they
were never tuned on they keep firing on look-alikes (a measure being implemented, a patrol that
found nothing, a report that recalls an old case in passing): every tuning pass raised the
figures on the reports it read and not on new ones (tests/corpus/README.md). A model trained on
the whole labelled corpus weighs every word of a report at once, and on held-out reporting it
tells those look-alikes apart better than more phrases do. So a rule may name one under
``gate:``; the rule's clauses still decide what is cited, and the model can only veto.

A report is scored twice: whole, and as the sentences the clauses cited; the higher counts. The
whole report carries the context that tells a look-alike (a headline on a measure being
implemented), and the cited sentences carry the breach when the rest of the report is about
something else (a labour report with two oil paragraphs) or padded with page junk, which would
otherwise dilute it. Only a report that looks unlike the rule's reports both ways is vetoed.

The model is plain data (JSON, written by ``monitor rules train``): TF-IDF over words and word
pairs, then logistic regression. Scoring it needs no library, so the service does not carry the
training stack; :mod:`monitor.detect.rules.train` checks that this scorer gives the trainer's
own probabilities.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import RuleError
from monitor.util.text import tokenize

FORMAT = 1
# Words that carry no topic; the same list trains and scores, so it is part of the model's format.
STOP_WORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i in is it its of on
    or our she that the their them they this to was we were which who will with would""".split()
)


def features(title: str, text: str, title_repeat: int) -> Counter[str]:
    """The words and word pairs of a report, the headline's counted ``title_repeat`` times (a
    headline says what the report is about). Pairs skip stop words, as the trainer's do."""
    counts: Counter[str] = Counter()
    for part, times in ((title, title_repeat), (text, 1)):
        words = [w for w in tokenize(part).joined.split() if w not in STOP_WORDS]
        grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        for gram in grams:
            counts[gram] += times
    return counts


@dataclass(frozen=True, slots=True)
class GateScore:
    """The model's probability for the whole report and for the sentences the clauses cited."""

    report: float
    cited: float

    @property
    def value(self) -> float:
        return max(self.report, self.cited)


def cited_fields(sentences: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """The cited sentences, given as (field, sentence), as a headline and a text to score."""
    sentences = list(sentences)
    title = " ".join(text for field, text in sentences if field == "title")
    return title, " ".join(text for field, text in sentences if field != "title")


@dataclass(frozen=True, slots=True)
class GateModel:
    """A trained model as the scorer needs it: index of each term, its inverse document
    frequency, and the weights of the terms that count."""

    path: str
    terms: tuple[str, ...]  # by index, as the model file lists them
    vocabulary: dict[str, int]  # each term's index
    idf: tuple[float, ...]
    weights: dict[int, float]
    intercept: float
    title_repeat: int
    digest: str  # of the file: part of the rule's version, so a retrained model is a new rule
    about: dict[str, object]  # how it was trained and what it measured, for people

    def vector(self, title: str, text: str) -> dict[int, float]:
        """The report as the trainer saw reports: sublinear term frequency times idf, scaled
        to unit length (terms the model never saw are left out)."""
        raw = {}
        for term, count in features(title, text, self.title_repeat).items():
            index = self.vocabulary.get(term)
            if index is not None:
                raw[index] = (1.0 + math.log(count)) * self.idf[index]
        norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
        return {i: v / norm for i, v in raw.items()}

    def probability(self, title: str, text: str) -> float:
        """How likely the model finds the report to be one the rule is for, 0 to 1."""
        vector = self.vector(title, text)
        score = self.intercept + sum(v * self.weights.get(i, 0.0) for i, v in vector.items())
        return 1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, score))))

    def score(self, title: str, text: str, cited: Iterable[tuple[str, str]]) -> GateScore:
        """The report scored whole and as its cited sentences (see the module docstring)."""
        return GateScore(self.probability(title, text), self.probability(*cited_fields(cited)))

    def passes(self, title: str, text: str, cited: Iterable[tuple[str, str]], at: float) -> bool:
        """Whether :meth:`score` reaches ``at``, scoring the short cited sentences first and
        the whole report only when they fall short (most alerts never need the second)."""
        return self.probability(*cited_fields(cited)) >= at or self.probability(title, text) >= at

    def telling(self, title: str, text: str, count: int = 6) -> list[tuple[str, float]]:
        """The report's terms that moved the model most, either way: why it agreed or not."""
        parts = [
            (self.terms[i], v * self.weights.get(i, 0.0))
            for i, v in self.vector(title, text).items()
        ]
        parts = [p for p in parts if p[1]]
        return sorted(parts, key=lambda p: -abs(p[1]))[:count]


def load_model(path: Path) -> GateModel:
    """Read a model file; :class:`RuleError` says what is wrong with one that cannot serve."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RuleError(f"cannot read the model: {exc.strerror or exc}") from None
    return parse_model(raw, str(path))


def parse_model(raw: bytes, path: str) -> GateModel:
    """A model from a model file's bytes (``path`` names it in messages and in the model)."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise RuleError(f"the model is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RuleError(f"not a gate model of format {FORMAT} (write one with monitor rules train)")
    try:
        terms = tuple(str(t) for t in data["vocabulary"])
        idf = tuple(float(v) for v in data["idf"])
        weights = {int(i): float(w) for i, w in data["weights"].items()}
        model = GateModel(
            path=path,
            terms=terms,
            vocabulary={t: i for i, t in enumerate(terms)},
            idf=idf,
            weights=weights,
            intercept=float(data["intercept"]),
            title_repeat=int(data["title_repeat"]),
            digest=hashlib.sha256(raw).hexdigest()[:16],
            about=dict(data.get("about") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleError(f"the model file is incomplete or malformed ({exc!r})") from None
    if len(idf) != len(terms) or any(not 0 <= i < len(terms) for i in weights):
        raise RuleError("the model's vocabulary, idf and weights do not line up")
    return model


def model_json(
    terms: list[str],
    idf: list[float],
    weights: dict[int, float],
    intercept: float,
    title_repeat: int,
    about: dict[str, object],
) -> str:
    """A model file's text, as :func:`load_model` reads it."""
    data = {
        "format": FORMAT,
        "title_repeat": title_repeat,
        "intercept": intercept,
        "about": about,
        "vocabulary": terms,
        "idf": [round(v, 6) for v in idf],
        "weights": {str(i): round(w, 6) for i, w in sorted(weights.items())},
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
