"""What a report's words say before rarity weighs them: the part of matching that needs no state.

Stripping boilerplate, cutting words, counting content words, finding vessel names and the
days the lead names depend on the report alone, and cost more than everything the matcher does
afterwards. So they are done where the report is parsed (a parser process, or the polling
thread), carried to the single writer as plain data (:class:`Reading`), and the writer only
weighs the counts by the current word rarity and looks the report up (:mod:`.join`). A report
read nowhere else is read by the writer, with the same functions, so where it was read never
changes the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.detect.events.boilerplate import strip_boilerplate
from monitor.detect.events.days import DayName, days_named
from monitor.detect.events.identifiers import Spelled, principal, vessel_ids
from monitor.detect.events.terms import content_words, term_counts, words_of


@dataclass(slots=True)
class Reading:
    """A report's content words with their counts, the vessels it names (and those it names
    most), its words spelled out, where another story's vessel is looked up, and the days its
    lead names (:mod:`.days`)."""

    counts: dict[str, int]
    vessels: frozenset[str]
    main: frozenset[str]
    words: Spelled
    days: tuple[DayName, ...] = ()


def read_words(title: str, text: str) -> Reading:
    """Read a report's headline and text (see the module docstring)."""
    body = strip_boilerplate(title, text)
    title_words, body_words = words_of(title), words_of(body)
    counts = dict(term_counts(title_words, body_words))
    vessels = frozenset(vessel_ids(f"{title}\n{body}"))
    words = Spelled(title_words + body_words)
    days = days_named(title, body)
    return Reading(counts, vessels, principal(vessels, words), words, days)


def content_terms(title: str, text: str) -> list[str]:
    """The distinct content words :func:`read_words` would count, and no more: all that the
    rarity table takes of a report that joins no story (a third of the cost of reading it)."""
    body = strip_boilerplate(title, text)
    return list({*content_words(words_of(title)), *content_words(words_of(body))})
