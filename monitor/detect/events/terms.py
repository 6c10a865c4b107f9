"""Content words: what a report is about, without the words every report is made of.

Words are cut as the rules cut them (:func:`monitor.util.text.tokenize`), so "Hwasong-15" is
"hwasong" and "15" and a non-Latin script folds the same way everywhere. Thousands separators are
joined first ("1,500 troops" gives "1500", not "1" and "500"). Function words go; every other
word stays, however common: how much it counts is :mod:`.rarity`'s business.
"""

from __future__ import annotations

import re
from collections import Counter

from monitor.util.text import tokenize

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    said says say told according would could may might must shall also however still yet per via
    mr mrs ms dr last new year
    years month months week weeks day days today yesterday monday tuesday wednesday thursday
    friday saturday sunday time times since ago s t re ve ll d m""".split()
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
TITLE_WEIGHT = 2  # a headline word counts as if said twice: the headline is what the report is
# The lead: the body's first words, where a report says what happened (who, what, where); its
# words count once more, so a recap of older events further down weighs less. Chosen on the
# story corpus's tune, test and fresh splits (tests/test_story_corpus.py).
LEAD_WORDS = 30
# Typographic quotes, dashes, bullets and the like: what makes most English news non-ASCII.
# Each is a separator to the tokenizer (no word character), so a text whose only non-ASCII
# characters are these cuts into the same words with them as spaces, by the tokenizer's
# quick ASCII path. Checked here, so that a character added by mistake is left out.
_SEPARATORS = str.maketrans(
    {
        c: " "
        for c in "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2013\u2014\u2015\u2026\u2022"
        "\u00b7\u00a0\u00ab\u00bb\u00a3\u00b0\u2192\u203a\u2039\u00ad\u2032\u2033\u00a9"
        if not re.match(r"[^\W_]|[\u0300-\u036f]", c)
    }
)


def words_of(text: str) -> list[str]:
    """Every word of the text, in order, figures' thousands separators joined."""
    text = _THOUSANDS.sub("", text)
    if not text.isascii():
        plain = text.translate(_SEPARATORS)
        if plain.isascii():
            text = plain
    return tokenize(text).joined.split()


def content_words(words: list[str]) -> list[str]:
    """The words without stop words and single letters, in order."""
    return [w for w in words if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())]


def term_counts(title: list[str], body: list[str]) -> Counter[str]:
    """How often each content word occurs (given the words of the headline and the body):
    the headline's count ``TITLE_WEIGHT`` times, the lead's twice."""
    counts = Counter(content_words(body))
    counts.update(content_words(body[:LEAD_WORDS]))
    for word in content_words(title):
        counts[word] += TITLE_WEIGHT
    return counts
