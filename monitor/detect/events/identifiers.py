"""Vessels named in a report: IMO numbers, and ship names where the text says they are ships.

Wire templates make two sightings of different tankers read more alike than two outlets' own
reports of one, so a name is the surest sign of which event a report is about. Names are only
taken where the sentence marks them as a vessel ("the tanker Yuk Tung", "M/V Wise Honest",
"the Lighthouse Winmore, a tanker", "the DE YI vessel"), never guessed from capitals alone, and
a name made only of flag, nationality or generic words ("North Korean tanker") is no name. An
IMO number counts only when its check digit holds. Names compare without case, spaces or
hyphens: "DE YI" is "DEYI".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from monitor.util.text import tokenize

MAX_IDS = 12  # a page naming more vessels is a list (a designation), not one event's report

_NOUN = r"(?:oil\s+|cargo\s+|product\s+|chemical\s+|coal\s+)?(?:tanker|vessel|ship|freighter|bulk\s+carrier|carrier)"
_PART = r"(?:[A-Z][A-Za-z0-9'-]*|[0-9]{1,4})"
_NAME = rf"(?P<name>[A-Z][A-Za-z0-9'-]*(?:\s+{_PART}){{0,4}})"
_PATTERNS = [
    re.compile(rf"\b(?:{_NOUN}s?|M/[VT]|MV|MT)\b,?\s+(?:(?:named|called|dubbed)\s+)?(?:the\s+)?{_NAME}"),
    re.compile(rf"{_NAME},?\s+(?:an?|the)\s+(?:[\w-]+\s+){{0,3}}{_NOUN}\b"),
    re.compile(rf"\b[Tt]he\s+(?P<name>[A-Z0-9][A-Z0-9-]+(?:\s+[A-Z0-9-]+){{0,3}}|[A-Z][a-z]+(?:\s+[A-Z][a-z]+){{0,3}}\s+[0-9]{{1,4}})\s+{_NOUN}\b"),
]
_IMO = re.compile(r"\bIMO\s*(?:No\.?|number|#)?\s*:?\s*(\d{7})\b")

# Words that describe a ship rather than name it: flags, nationalities, places, and the words
# that begin a sentence before a noun.
GENERIC = frozenset(
    """the a an this that its their north south korea korean koreas nkorea dprk china chinese
    hong kong panama panamanian russia russian japan japanese sierra leone togo belize dominica
    dominican taiwan taiwanese singapore vietnam vietnamese indonesia mongolia iran iranian
    syria cambodia comoros tanzania liberia marshall islands malta cameroon palau tuvalu kiribati
    flagged registered owned operated seized detained another other similar foreign same
    sanctioned suspected unidentified unnamed smaller larger oil cargo coal vessel vessels ship
    ships tanker tankers freighter carrier navy naval us u s un uk eu u.s pohang yeosu busan
    nampo seoul pyongyang beijing tokyo moscow washington treasury ministry coast guard
    customs when while after before during in on at by for from with as""".split()
)


def _imo_valid(number: str) -> bool:
    digits = [int(c) for c in number]
    return sum(d * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 == digits[6]


def normal(name: str) -> str:
    return "".join(tokenize(name).joined.split())


def vessel_ids(text: str) -> set[str]:
    """The vessels ``text`` names: ``imo:NNNNNNN`` and normalised names; empty for a page that
    names more than ``MAX_IDS`` (a list of designations), which then vetoes nothing."""
    found = {f"imo:{n}" for n in _IMO.findall(text) if _imo_valid(n)}
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            name = _trim(match.group("name"))
            if name:
                found.add(name)
    return found if len(found) <= MAX_IDS else set()


def _trim(name: str) -> str:
    """The name without generic words at its ends; "" when nothing but generic words is left."""
    words = tokenize(name).joined.split()
    while words and words[0] in GENERIC:
        words.pop(0)
    while words and words[-1] in GENERIC:
        words.pop()
    if not words or all(w in GENERIC or w.isdigit() for w in words):
        return ""
    return "".join(words)


def mentions(ids: Iterable[str], words: Collection[str]) -> bool:
    """Whether any of ``ids`` is named among ``words`` (a report's words, joined without
    spaces pairwise so "DE YI" is found as "deyi"), or, for an IMO number, its digits."""
    for vessel in ids:
        key = vessel[4:] if vessel.startswith("imo:") else vessel
        if key in words:
            return True
    return False


def word_keys(text: str) -> set[str]:
    """Every word of ``text``, and every run of two to four words joined: what
    :func:`mentions` looks names up in."""
    words = tokenize(text).joined.split()
    keys = set(words)
    for size in (2, 3, 4):
        keys.update("".join(words[i : i + size]) for i in range(len(words) - size + 1))
    return keys


def vetoed(mine: set[str], my_words: Collection[str], theirs: set[str], their_words) -> bool:
    """Two reports naming vessels, neither naming the other's, are of different events."""
    if not mine or not theirs or mine & theirs:
        return False
    return not mentions(theirs, my_words) and not mentions(mine, their_words)
