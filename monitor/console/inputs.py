"""What analysts send, checked once for the pages and the API alike: the list's filters and a
verdict. A bad value is a :class:`InputError` with the sentence to show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.detect.rules.model import SEVERITIES
from monitor.errors import MonitorError
from monitor.store.console import StoryFilter
from monitor.store.tables import utcnow
from monitor.store.verdicts import VERDICTS
from monitor.util.durations import parse_duration

PERIODS = ("24h", "7d", "30d", "90d")
VERDICT_FILTERS = (("relevant", "judged relevant"), ("not_relevant", "judged not relevant"))
VERDICT_FILTERS += (("none", "no verdict yet"),)
MAX_NOTE = 1000


class InputError(MonitorError):
    """A filter or a verdict that cannot be used as given."""


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The list's filters as given (shown back in the form), and as the store takes them."""

    rule: str = ""
    severity: str = ""
    since: str = ""
    verdict: str = ""
    q: str = ""
    page: int = 1

    def story_filter(self) -> StoryFilter:
        severities = SEVERITIES[SEVERITIES.index(self.severity) :] if self.severity else ()
        since = utcnow() - parse_duration(self.since) if self.since else None
        rules = (self.rule,) if self.rule else ()
        return StoryFilter(rules, tuple(severities), since, self.verdict, self.q)

    def params(self, page: int) -> dict[str, str]:
        given = {"rule": self.rule, "severity": self.severity, "since": self.since}
        given |= {"verdict": self.verdict, "q": self.q, "page": str(page)}
        return {name: value for name, value in given.items() if value and value != "1"}


def list_query(get: Any) -> ListQuery:
    """The filters from the query string (``get(name)`` gives one parameter, "" if absent)."""
    severity, since, verdict = get("severity"), get("since"), get("verdict")
    if severity and severity not in SEVERITIES:
        raise InputError(f"severity must be one of {', '.join(SEVERITIES)}")
    if since:
        try:
            parse_duration(since)
        except ValueError as exc:
            raise InputError(f"since: {exc}") from None
    if verdict and verdict not in {v for v, _ in VERDICT_FILTERS}:
        raise InputError("verdict must be relevant, not_relevant or none")
    page = get("page") or "1"
    if not page.isdigit() or int(page) < 1:
        raise InputError("page must be a number from 1")
    return ListQuery(get("rule"), severity, since, verdict, get("q")[:200], int(page))


@dataclass(frozen=True, slots=True)
class VerdictInput:
    story: str
    rule: str
    article: str
    verdict: str
    note: str


def verdict_input(data: Mapping[str, Any]) -> VerdictInput:
    """A verdict from a form or the API's JSON object."""
    values = {}
    for name in ("story", "rule", "article", "verdict"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"'{name}' is required (text)")
        values[name] = value.strip()
    if values["verdict"] not in VERDICTS:
        raise InputError("'verdict' must be 'relevant' or 'not_relevant'")
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise InputError(f"'note' must be text of at most {MAX_NOTE} characters")
    return VerdictInput(**values, note=note.strip())
