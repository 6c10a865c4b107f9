"""Training a rule's gate model on a labelled corpus (``monitor rules train``).

Why these choices: words and word pairs with sublinear counts and inverse document frequency,
then L2-regularised logistic regression, is the strong plain baseline for short-text topic
decisions, and it is plain data once trained (:mod:`monitor.detect.rules.gate` scores it without
a library). scikit-learn does the fitting; it is only needed here, as the optional ``train``
extra, so the service itself does not carry it.

The threshold is not picked on the reports the model was fitted to: each report gets the
probability of a model fitted without its story (folds grouped by ``story`` when the corpus has
one, so another outlet's wording of the same event cannot vouch for it), scored as the service
scores it (the higher of the whole report and the cited sentences), and the suggested
threshold is the highest that still keeps ``keep`` of the reports the rule rightly fires on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.detect.rules.gate import cited_fields, features, model_json, parse_model
from monitor.detect.rules.matcher import Matcher
from monitor.detect.rules.model import Rule
from monitor.detect.rules.quality import Confusion, Labelled
from monitor.detect.rules.results import Document
from monitor.errors import RuleError

TITLE_REPEAT = 2
FOLDS = 5
KEEP = 0.97  # of the rule's true alerts, the share the suggested threshold must keep
C = 10.0  # inverse regularisation: chosen on the dev splits by grouped cross-validation
MIN_DF = 3  # a term in fewer reports says little about others, and bloats the model file


@dataclass(frozen=True)
class _Cited:
    """The sentences a rule cited, shaped as a report for the vectorizer."""

    title: str
    text: str


@dataclass(frozen=True)
class Trained:
    """A model file's text and what cross-validation measured of it."""

    text: str
    threshold: float
    before: tuple[float, float]  # the rule's precision and recall without the gate
    after: tuple[float, float]  # with the gate at the threshold, out of fold
    positives: int
    reports: int
    drift: float  # largest difference between the trainer's and the scorer's probabilities
    # For a rule whose gate may fire alone: the threshold that does best out of fold (None:
    # firing alone adds nothing there) and the precision and recall with it.
    alone: float | None = None
    with_alone: tuple[float, float] | None = None


def _sklearn():  # noqa: ANN202 - the modules, imported where training needs them
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GroupKFold
    except ImportError:
        raise RuleError(
            "training a gate model needs scikit-learn: pip install 'sanctions-monitor[train]'"
        ) from None
    return TfidfVectorizer, LogisticRegression, GroupKFold


def _fit(items: Sequence[Labelled], wanted: Sequence[bool]):  # noqa: ANN202
    vectorizer_type, regression_type, _ = _sklearn()
    vectorizer = vectorizer_type(
        analyzer=lambda item: list(features(item.title, item.text, TITLE_REPEAT).elements()),
        sublinear_tf=True,
        min_df=MIN_DF,
    )
    matrix = vectorizer.fit_transform(items)
    model = regression_type(C=C, max_iter=5000, class_weight="balanced")
    model.fit(matrix, list(wanted))
    return vectorizer, model


def _rates(wanted: Sequence[bool], fired: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall, as ``monitor rules evaluate`` counts them."""
    score = Confusion()
    for w, f in zip(wanted, fired, strict=True):
        score.tp += w and f
        score.fp += f and not w
        score.fn += w and not f
    return round(score.precision, 3), round(score.recall, 3)


def train_gate(rule: Rule, items: Sequence[Labelled], about: dict[str, object]) -> Trained:
    """Fit ``rule``'s gate on ``items`` and suggest its threshold (see the module docstring)."""
    _, _, folds_type = _sklearn()
    items = [item for item in items if item.judges(rule.id)]
    wanted = [rule.id in item.labels for item in items]
    if sum(wanted) < FOLDS or len(items) - sum(wanted) < FOLDS:
        raise RuleError(
            f"too few reports to train on: {sum(wanted)} for {rule.id}, of {len(items)}"
        )
    bare = Matcher([dataclasses.replace(rule, gate=None)])
    matches = [bare.match(item.fields) for item in items]
    fired = [bool(found) for found in matches]
    # What the gate scores besides the whole report: the sentences the clauses cited.
    cited = [
        _Cited(*cited_fields((s.field, s.text) for s in (found[0].sentences if found else ())))
        for found in matches
    ]
    groups = [item.story or item.id for item in items]
    out_of_fold = [0.0] * len(items)
    whole_out_of_fold = [0.0] * len(items)
    for train, held in folds_type(n_splits=FOLDS).split(items, wanted, groups):
        vectorizer, model = _fit([items[i] for i in train], [wanted[i] for i in train])
        whole = model.predict_proba(vectorizer.transform([items[i] for i in held]))[:, 1]
        parts = model.predict_proba(vectorizer.transform([cited[i] for i in held]))[:, 1]
        for i, a, b in zip(held, whole, parts, strict=True):
            out_of_fold[i] = max(float(a), float(b))  # as GateScore.value
            whole_out_of_fold[i] = float(a)
    true_alerts = sum(w and f for w, f in zip(wanted, fired, strict=True))
    threshold = 0.0
    for step in range(1, 100):
        candidate = step / 100
        gated = [f and p >= candidate for f, p in zip(fired, out_of_fold, strict=True)]
        if sum(w and g for w, g in zip(wanted, gated, strict=True)) < KEEP * true_alerts:
            break
        threshold = candidate
    vectorizer, model = _fit(items, wanted)
    terms = list(vectorizer.get_feature_names_out())
    weights = {i: float(w) for i, w in enumerate(model.coef_[0]) if abs(w) >= 1e-6}
    text = model_json(
        terms,
        [float(v) for v in vectorizer.idf_],
        weights,
        float(model.intercept_[0]),
        TITLE_REPEAT,
        about | {"rule": rule.id, "reports": len(items), "positives": sum(wanted)},
    )
    # The plain scorer must give the trainer's own probabilities, or the gate in service is
    # not the model that was measured.
    scorer = parse_model(text.encode(), "(trained)")
    theirs = model.predict_proba(vectorizer.transform(items))[:, 1]
    drift = max(
        abs(scorer.probability(i.title, i.text) - t) for i, t in zip(items, theirs, strict=True)
    )
    if drift > 1e-4:
        raise RuleError(f"the scorer disagrees with the trainer by {drift:.6f}: not written")
    gated = [f and p >= threshold for f, p in zip(fired, out_of_fold, strict=True)]
    alone = None
    if rule.gate is not None and rule.gate.alone is not None:
        needs = set(rule.gate.needs)
        named = [not needs.isdisjoint(bare.hits(Document(item.fields))) for item in items]
        alone = _alone_threshold(wanted, gated, named, whole_out_of_fold)
    with_alone = None
    if alone is not None:
        fires = _alone_fires(gated, named, whole_out_of_fold, alone)
        with_alone = _rates(wanted, fires)
    return Trained(
        text,
        threshold,
        _rates(wanted, fired),
        _rates(wanted, gated),
        sum(wanted),
        len(items),
        drift,
        alone,
        with_alone,
    )


def _alone_fires(
    gated: Sequence[bool], named: Sequence[bool], whole: Sequence[float], at: float
) -> list[bool]:
    return [g or (n and p >= at) for g, n, p in zip(gated, named, whole, strict=True)]


def _alone_threshold(
    wanted: Sequence[bool], gated: Sequence[bool], named: Sequence[bool], whole: Sequence[float]
) -> float | None:
    """The threshold at which the model firing alone gives the best F1 out of fold, if any
    beats the gated clauses alone (ties go to the higher threshold: fewer alerts on the
    model's word)."""

    def f1(fires: Sequence[bool]) -> float:
        tp = sum(w and f for w, f in zip(wanted, fires, strict=True))
        wrong = sum(w != f for w, f in zip(wanted, fires, strict=True))
        return 2 * tp / (2 * tp + wrong) if tp else 0.0

    best, chosen = f1(gated), None
    for step in range(98, 49, -2):
        at = step / 100
        score = f1(_alone_fires(gated, named, whole, at))
        if score > best + 1e-9:
            best, chosen = score, at
    return chosen
