"""What the console changes: a verdict on a citation, and a silence on a story. Pages and the
API call the same functions, so a verdict means the same whichever way it came."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import Counter

from monitor.alerting.silences import add_silence
from monitor.console.data import cited_sentences
from monitor.console.inputs import InputError, VerdictInput
from monitor.store.db import Store
from monitor.store.verdicts import Verdict, record_verdict
from monitor.util.durations import parse_duration

SILENCE_PERIODS = ("1d", "3d", "7d", "30d")


def save_verdict(store: Store, given: VerdictInput, counter: Counter | None = None) -> Verdict:
    """Store the verdict on the citation the input names; an input naming a citation that the
    rule's alert on the story does not have is refused, not stored."""
    with store.session() as session:
        found = cited_sentences(session, given.story, given.rule, given.article)
        if found is None:
            raise InputError(
                f"the alert of rule '{given.rule}' on story '{given.story}' does not cite "
                f"article '{given.article}'"
            )
        article_id, sentences = found
        verdict = Verdict(
            given.rule,
            given.story,
            article_id,
            given.article,
            given.verdict,
            given.note,
            sentences,
        )
        record_verdict(session, verdict)
        session.commit()
    if counter is not None:
        counter.labels(rule=given.rule, verdict=given.verdict).inc()
    return verdict


def silence_story(store: Store, story: str, period: str, reason: str) -> timedelta:
    """Keep channels quiet about the story for a while, as ``monitor silence add --story``."""
    if period not in SILENCE_PERIODS:
        raise InputError(f"silence for one of {', '.join(SILENCE_PERIODS)}")
    if not reason.strip():
        raise InputError("a silence needs a reason")
    span = parse_duration(period)
    with store.session() as session:
        add_silence(session, span, reason.strip()[:500], story=story)
        session.commit()
    return span
