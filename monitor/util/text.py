"""Tokens, sentences and folding shared by the matcher, the story clusterer and the citations.

Matching works on a *token stream* rather than on raw characters: the text is cut into word
tokens, each folded (case, accents, compatibility forms), and the tokens are joined by single
spaces. That one step makes "Ship-to-Ship", "ship to ship" and "ship\u2011to\u2011ship" the same
three tokens, makes typographic quotes and dashes mere separators, and gives word boundaries for
free. Every token keeps its character span in the original text, so a hit maps back to exact
offsets for citations. Scripts written without spaces (Chinese, Japanese, Korean) are cut into one
token per character, so a name such as 朝鲜 matches inside a longer run of text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from itertools import accumulate

# Scripts without word separators: one token per character.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|(?:[^\W_{_CJK}]|[\u0300-\u036f])+")
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+")
_ASCII_SEPARATORS = re.compile(r"[^A-Za-z0-9]{2,}")
_ASCII_TABLE = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256))


def fold(token: str) -> str:
    """Case- and accent-insensitive form of one token (é -> e, Ǆ -> dž, ß -> ss)."""
    if token.isascii():
        return token.lower()
    decomposed = unicodedata.normalize("NFKD", token)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # A few compatibility forms expand to several words; a token must stay one word.
    return unicodedata.normalize("NFC", stripped.casefold()).replace(" ", "")


class TokenStream:
    """A text cut into folded tokens, joined as ``" tok tok tok "`` for phrase search.

    ``joined`` starts and ends with a space so that every token, the first and last included, is
    delimited the same way. The character spans of the tokens in the original text are only
    worked out when first asked for: most texts and most tokens never need them.
    """

    __slots__ = ("text", "joined", "_spans", "_offsets", "_shifts")

    def __init__(self, text: str, joined: str, spans: list[tuple[int, int]] | None) -> None:
        self.text = text
        self.joined = joined
        self._spans = spans  # None for ASCII text, mapped through separator shifts instead
        self._offsets: list[int] | None = None
        self._shifts: tuple[list[int], list[int]] | None = None

    @property
    def tokens(self) -> list[str]:
        return self.joined.split()

    def token_at(self, joined_pos: int) -> int:
        """Index of the token that covers a position of ``joined``."""
        if self._offsets is None:
            ends = accumulate(map(len, self.joined.split()), initial=0)
            self._offsets = [1 + i + end for i, end in enumerate(ends)]
        return bisect.bisect_right(self._offsets, joined_pos) - 1

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's span for ``joined[start:end]`` (whole tokens)."""
        if self._spans is not None:
            return self._spans[self.token_at(start)][0], self._spans[self.token_at(end - 1)][1]
        return self._ascii_pos(start), self._ascii_pos(end - 1) + 1

    def _ascii_pos(self, joined_pos: int) -> int:
        # ASCII lower-casing keeps lengths, so inside a token the two texts run in step; they
        # drift only where a run of separators (", ", ". ") became one space. Those runs are
        # few, so only they are recorded: (joined position, shift from there on).
        if self._shifts is None:
            first = _ASCII_TOKEN.search(self.text)
            if first is None:  # no tokens, so no position to map
                return joined_pos
            runs = [m.span() for m in _ASCII_SEPARATORS.finditer(self.text, first.end())]
            lead = first.start() - 1
            shifts = list(accumulate((e - s - 1 for s, e in runs), initial=lead))
            starts = [0] + [e - shift for (_, e), shift in zip(runs, shifts[1:], strict=True)]
            self._shifts = (starts, shifts)
        starts, shifts = self._shifts
        return joined_pos + shifts[bisect.bisect_right(starts, joined_pos) - 1]

    def __len__(self) -> int:
        return len(self.tokens)


def tokenize(text: str) -> TokenStream:
    if text.isascii():
        # Bytes translate + split run in C, three times faster than a regex over the text.
        words = text.lower().encode("ascii").translate(_ASCII_TABLE).split()
        return TokenStream(text, f" {b' '.join(words).decode('ascii')} " if words else " ", None)
    spans = []
    tokens = []
    for m in _TOKEN.finditer(text):
        spans.append(m.span())
        tokens.append(fold(m.group()))
    return TokenStream(text, " " + " ".join(tokens) + " " if tokens else " ", spans)


def phrase_tokens(phrase: str) -> list[str]:
    """The folded tokens of a rule phrase, cut exactly as article text is cut."""
    return [fold(m.group()) for m in _TOKEN.finditer(phrase)]


# --- sentences -------------------------------------------------------------------------------

# A terminator, then closing quotes or brackets. Written with a character class first, which
# Python's regex engine scans for five times faster than an alternation.
_BOUNDARY = re.compile(r"[.!?\u2026\u3002\uff01\uff1f\n][.!?\u2026\"'\u201d\u2019\u00bb)\]]*")
_LATIN_STOPS = ".!?\u2026"
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr gen lt col sgt st jr sr vs no inc co corp ltd jan feb mar apr jun jul aug sep"
    " sept oct nov dec rep sen gov prof adm capt cmdr maj pres dept est approx fig".split()
)
_INITIALS = re.compile(r"(?:[A-Za-z]\.)*[A-Za-z]$")


def _is_abbreviation(text: str, dot: int) -> bool:
    start = max(text.rfind(" ", 0, dot), text.rfind("\n", 0, dot)) + 1
    if dot - start > 8:  # longer than any abbreviation or run of initials we know
        return False
    word = text[start:dot].lstrip("(\"'\u201c\u2018")
    return bool(_INITIALS.fullmatch(word)) or word.lower() in _ABBREVIATIONS


@dataclass(slots=True)
class Sentences:
    """Sentence spans of a text, found once and looked up by character offset."""

    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> Sentences:
        size = len(text)
        ends = []
        for m in _BOUNDARY.finditer(text):
            end = m.end()
            first = text[m.start()]
            if first in _LATIN_STOPS:
                if end < size and not text[end].isspace():
                    continue  # "3.5", "U.N.-led", "Yahoo!News"
                if first == "." and (
                    _is_abbreviation(text, m.start()) or text[end : end + 3].lstrip()[:1].islower()
                ):
                    continue
            ends.append(end)
        ends.append(size)
        # Each piece between two boundaries, without its surrounding white space.
        spans = [
            (start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip()))
            for start, end in zip([0, *ends], ends, strict=False)
            if (piece := text[start:end]) and not piece.isspace()
        ]
        return cls(text=text, spans=spans, _starts=[s for s, _ in spans])

    def index_of(self, offset: int) -> int:
        return max(bisect.bisect_right(self._starts, offset) - 1, 0)

    def sentence(self, index: int) -> str:
        start, end = self.spans[index]
        return self.text[start:end]


def shingles(text: str, size: int = 3) -> set[int]:
    """Hashed word n-grams of a text, the unit of near-duplicate comparison between stories."""
    words = tokenize(text).joined.split()
    grams = [" ".join(words[i : i + size]) for i in range(max(len(words) - size + 1, 1))]
    return {zlib.crc32(g.encode()) for g in grams if g}
