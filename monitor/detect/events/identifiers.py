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

_NOUN = (
    r"(?:oil\s+|cargo\s+|product\s+|chemical\s+|coal\s+)?"
    r"(?:tanker|vessel|ship|freighter|bulk\s+carrier|carrier)"
)
_Q = "[\"\u201c\u201d\u2018\u2019']?"  # a name may stand in quotes
# Bounded word lengths: an unbounded run would make a hostile 100,000-letter word cost
# quadratic time to scan.
_PART = r"(?:\b[A-Z][A-Za-z0-9'-]{0,24}\b|No\.?|[0-9]{1,4})"
_S = r"[^\S\n]+"  # spaces within a line: a name never runs on past a headline or paragraph
_NAME = rf"{_Q}(?P<name>\b[A-Z][A-Za-z0-9'-]{{0,24}}\b(?:{_S}{_PART}){{0,4}}){_Q}"
_PATTERNS = [
    # the tanker Yuk Tung; M/V Wise Honest; a vessel, the Lighthouse Winmore; the 5,100-ton KOTI
    re.compile(
        rf"(?:\b(?:{_NOUN}s?|M/[VT]|MV|MT)\b,?|\d-ton(?:ne)?){_S}"
        rf"(?:(?:named|called|dubbed)\s+)?(?:the\s+)?{_NAME}"
    ),
    # a tanker ... identified as the Yu Jong 2; a cargo ship known as the Wise Honest
    re.compile(rf"\b{_NOUN}\b[^.]{{0,60}}?\b(?:identified|named|known)\s+as\s+(?:the\s+)?{_NAME}"),
    # the Lighthouse Winmore, a tanker; the "Wise Honest," North Korea's second largest ship
    re.compile(
        rf"{_NAME}(?:,{_Q}|{_Q},)\s+(?:an?|the|(?:[A-Z][\w-]*\s+)?[A-Z][\w-]*['\u2019]s)\s+(?:[\w-]+\s+){{0,3}}{_NOUN}\b"
    ),
    # the DE YI vessel; the Rye Song Gang 1 ship
    re.compile(
        rf"\b[Tt]he\s+(?P<name>[A-Z0-9][A-Z0-9-]{{1,24}}(?:\s+[A-Z0-9-]{{1,24}}){{0,3}}"
        rf"|[A-Z][a-z]{{1,24}}(?:\s+[A-Z][a-z]{{1,24}}){{0,3}}\s+[0-9]{{1,4}})\s+{_NOUN}\b"
    ),
]
_IMO = re.compile(r"\bIMO\s*(?:No\.?|number|#)?\s*:?\s*(\d{7})\b")
# Each pattern above needs one of these in the text (case as written): a text with none of
# them names no vessel, and one quick search spares it the four slow scans.
_HINT = re.compile(r"tanker|vessel|ship|freighter|carrier|M/[VT]|MV|MT|\d-ton")

# Words that describe a ship rather than name it: flags, nationalities, places, and the words
# that begin a sentence before a noun; and the words of the offices that report on ships, so
# that "the Ministry of Foreign Affairs, a South Korean ship ..." names no vessel "Affairs".
GENERIC = frozenset(
    """the a an this that its their north south korea korean koreas nkorea dprk china chinese
    hong kong panama panamanian russia russian japan japanese sierra leone togo belize dominica
    dominican taiwan taiwanese singapore vietnam vietnamese indonesia mongolia iran iranian
    syria cambodia comoros tanzania liberia marshall islands malta cameroon palau tuvalu kiribati
    flagged registered owned operated seized detained another other similar foreign same
    sanctioned suspected unidentified unnamed smaller larger oil cargo coal vessel vessels ship
    ships tanker tankers freighter carrier navy naval us u s un uk eu u.s pohang yeosu busan
    nampo seoul pyongyang beijing tokyo moscow washington treasury ministry coast guard
    customs security council committee no when while after before during in on at by for from
    with as mv mt affairs foreign defense defence department office agency government police
    administration authorities prosecutors court""".split()
)


def _imo_valid(number: str) -> bool:
    digits = [int(c) for c in number]
    return sum(d * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 == digits[6]


def vessel_ids(text: str) -> set[str]:
    """The vessels ``text`` names: ``imo NNNNNNN`` and names, as lower-case words; empty for a
    page that names more than ``MAX_IDS`` (a list of designations), which then vetoes nothing."""
    found = {f"imo {n}" for n in _IMO.findall(text) if _imo_valid(n)}
    for pattern in _PATTERNS if _HINT.search(text) else ():
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
    words = [w for w in words if w != "no"]  # Rye Song Gang No. 1 is Rye Song Gang 1
    if not words or all(w in GENERIC or w.isdigit() for w in words):
        return ""
    return " ".join(words) if len("".join(words)) > 2 else ""


class Spelled:
    """A text's words (:func:`.terms.words_of`) as one string, spaced and squeezed, where a
    vessel's name is looked up: "DE YI" and "DEYI" are found alike."""

    def __init__(self, words: list[str]) -> None:
        self.spaced = " " + " ".join(words) + " "
        self.squeezed = self.spaced.replace(" ", "")

    def count(self, name: str) -> int:
        return max(self.spaced.count(f" {name} "), self.squeezed.count(name.replace(" ", "")))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.count(name) > 0


def principal(vessels: Iterable[str], spelled: Spelled) -> frozenset[str]:
    """The vessels a text names most often: what the report is about, when it also recaps
    another ship (the KOTI reports all recap the Lighthouse Winmore)."""
    counts = {v: spelled.count(v) for v in vessels}
    most = max(counts.values(), default=0)
    return frozenset(v for v, n in counts.items() if n == most and n > 0)


def vetoed(
    mine: Iterable[str],
    main: Iterable[str],
    my_words: Spelled,
    theirs: Iterable[str],
    their_terms: Collection[str],
) -> bool:
    """Whether a report and a story are of different events by the vessels they name.

    Both name vessels, and either they name none in common and neither mentions the other's
    (the issue's rule), or the vessels the report names most (``main``) are ones the story
    never mentions: a report about a second ship that recaps the first one's seizure is the
    second ship's event. ``my_words`` is the report's text; ``their_terms`` the
    words of the story's centroid, where a name counts as mentioned when all its words are."""
    b = {name.replace(" ", "") for name in theirs}
    if not b:
        return False

    def mentioned(name: str) -> bool:
        return name.replace(" ", "") in b or all(w in their_terms for w in name.split())

    main = list(main)
    if main and not any(mentioned(name) for name in main):
        return True
    a = {name.replace(" ", "") for name in mine}
    if not a or a & b or any(name in my_words for name in theirs):
        return False
    return not any(mentioned(name) for name in mine)
