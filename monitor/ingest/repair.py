"""Second-chance repairs for XML documents that feedparser cannot read at all.

Applied only after a parse found no feed, so a well-formed document is never rewritten. Each
repair is narrow and says what it did, for the feed's problem line.
"""

from __future__ import annotations

import re

_PREFIXED_TAG = re.compile(r"<(/?)([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)")
_DECLARED = re.compile(r"\bxmlns:([A-Za-z_][\w.-]*)\s*=")


def drop_undeclared_prefixes(text: str) -> tuple[str, list[str]]:
    """Element names whose prefix no ``xmlns:`` declares, unprefixed (``<rss:item>`` becomes
    ``<item>``), and the prefixes dropped. A generator that writes ``rss:`` before every RSS
    element without declaring it makes the whole document ill-formed; its items read fine
    once the prefix is gone."""
    declared = set(_DECLARED.findall(text)) | {"xml"}
    dropped: set[str] = set()

    def unprefixed(match: re.Match[str]) -> str:
        slash, prefix, name = match.groups()
        if prefix in declared:
            return match.group(0)
        dropped.add(prefix)
        return f"<{slash}{name}"

    repaired = _PREFIXED_TAG.sub(unprefixed, text)
    return repaired, sorted(dropped)
