"""A rule set with a bug that one strange entry trips, as a matcher or parser bug would: the
kind of fault the service must keep with that entry."""

from __future__ import annotations

from monitor.detect.rules import Matcher
from monitor.service.cycle import compile_rules
from tests.conftest import RULES

POISON = "POISON-ENTRY"


class PoisonMatcher(Matcher):
    """The real rules; raises on any text holding :data:`POISON`."""

    def __init__(self) -> None:
        super().__init__(compile_rules(RULES).rules)

    def match(self, fields, vetoed=None):  # type: ignore[override]
        if POISON in fields.get("text", ""):
            raise ValueError("cannot match this entry")
        return super().match(fields, vetoed)
