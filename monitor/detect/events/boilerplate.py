"""What a page says that is not the report: bylines, captions, repeated headlines, site chrome.

Two reports of different events from one site share its chrome ("Sign up for our newsletter",
"Photo: Yonhap"), and would look alike for it; a line repeated within a page (a headline printed
twice, a caption under every photo) would weigh as much as the rest of the page. Only whole
lines are dropped, and only by their form, so a sentence of the report is never cut in half;
a long line that repeats a few words over and over is not prose, and goes too.
"""

from __future__ import annotations

import re

_CHROME = re.compile(
    r"""^\W*(?:
        [Bb]y\s+[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,3}
        (?:\s*(?:,|and|&)\s*[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,3})*\W*$
      | (?i:(?:reporting|writing|editing|additional\s+reporting|compiled)\s+by\b.*
      | (?:photo|image|picture|file\s+photo|video|caption|credit|source|graphic)s?
        \s*(?::|/|by\b|credit\b).*
      | .*\b(?:getty\s+images|ap\s+photo|afp\s+via|reuters/|yonhap\s+news)\W*$
      | (?:read|see|also\s+read|read\s+also|related|more|watch|listen|recommended)\b
        (?:\s+(?:more|also|next|these\s+next|stories|articles))?\s*(?::|$).*
      | (?:sign\s+up|subscribe|follow\s+us|share\s+(?:this|on)|click\s+here|advertisement
          |sponsored|newsletter|cookies?\b|all\s+rights\s+reserved|copyright|\(c\)|©).*
      | \(?end\)?\W*$)
    )""",
    re.VERBOSE,
)
_WORD = re.compile(r"\w+")
SHORT = 4  # words: a line this short without a sentence's end is a menu item or a label
REPETITIVE = 0.3  # distinct words per word under which a long line is a string, not prose


def strip_boilerplate(title: str, text: str) -> str:
    """The report's own lines: chrome, bylines, captions, the headline again and any line seen
    before in the page are left out."""
    seen = {_key(title)} if title.strip() else set()
    kept = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        key = _key(stripped)
        if not key or key in seen:
            continue
        seen.add(key)
        if _CHROME.match(stripped):
            continue
        words = key.split()
        if len(words) <= SHORT and not stripped.endswith((".", "!", "?", '"', "\u201d")):
            continue
        if len(words) > 20 and len(set(words)) < REPETITIVE * len(words):
            continue  # the same few words over and over: a hostile or broken string
        kept.append(stripped)
    return "\n".join(kept)


def _key(line: str) -> str:
    return " ".join(_WORD.findall(line.lower()))
