"""The days a report says things happened: those its headline and lead name.

News says when its event happened in its first sentence or two ("fired two missiles on
Friday", "on July 25", "said today"). Those days tell apart what the words cannot: the
template of a launch reads the same every time, but a report whose lead names a day after a
story's latest report is news of something since, a later event. (That a lead naming the
story's own day is about that story does not follow: next-day news of a related event names
the day before too, see monitor.detect.events.join.) Only the headline and the lead
(``LEAD_WORDS``) are read: further down a report recaps older events, with their days. The days
are read from the words alone (:data:`DayName`, done where the report is parsed) and found on
the calendar (:func:`resolve`) by the date the report carries, which the writer knows.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

LEAD_WORDS = 60  # words of the body read after the headline: about two sentences
MAX_DAYS = 8  # days read of a lead at most, so that no text makes the list long
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# A weekday names the day of that name at most this many days before the report's date, or
# the day after it: a launch on a Korean Thursday morning is a Wednesday-night story in the
# US, and a report published after midnight still says "on Wednesday".
BEFORE, AFTER = 5, 1

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DAY = re.compile(
    r"\b(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
    r"|[Tt]oday|[Tt]onight|[Yy]esterday)\b"
    rf"|\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?![\d:])"
    rf"|\b(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month2>{_MONTH})\b"
)

# What a report names, before it is found on the calendar: (WEEKDAY, 0..6, 0), (AGO, days
# before the report's date, 0) or (MONTH_DAY, month, day).
DayName = tuple[int, int, int]
WEEKDAY, AGO, MONTH_DAY = 0, 1, 2


def days_named(title: str, body: str) -> tuple[DayName, ...]:
    """The days the headline and the first ``LEAD_WORDS`` words of ``body`` name, in order."""
    lead = " ".join(title.split()) + "\n" + " ".join(body.split(maxsplit=LEAD_WORDS)[:LEAD_WORDS])
    found: list[DayName] = []
    for match in _DAY.finditer(lead):
        weekday = match.group("weekday")
        if weekday:
            word = weekday.lower()
            if word in ("today", "tonight"):
                found.append((AGO, 0, 0))
            elif word == "yesterday":
                found.append((AGO, 1, 0))
            else:
                found.append((WEEKDAY, WEEKDAYS.index(word), 0))
        else:
            month = MONTHS.index((match.group("month") or match.group("month2"))[:3].lower())
            day = int(match.group("day") or match.group("day2"))
            if 1 <= day <= 31:
                found.append((MONTH_DAY, month + 1, day))
        if len(found) == MAX_DAYS:
            break
    return tuple(found)


def resolve(name: DayName, dated: datetime) -> date | None:
    """The calendar day ``name`` means in a report dated ``dated``: a weekday the nearest of
    that name in the days around the date, a month's day the last one not after the day after
    the date (a report of January 3 naming December 28 means last year's); None for a day no
    calendar has (February 30)."""
    try:
        return _on_calendar(name, dated.date())
    except OverflowError:  # a date at the calendar's end (year 1 or 9999): no day around it
        return None


def _on_calendar(name: DayName, today: date) -> date | None:
    kind, a, b = name
    if kind == AGO:
        return today - timedelta(days=a)
    if kind == WEEKDAY:
        for back in range(-AFTER, BEFORE + 1):
            day = today - timedelta(days=back)
            if day.weekday() == a:
                return day
        return None
    latest = today + timedelta(days=AFTER)
    for year in (latest.year, latest.year - 1):
        try:
            day = date(year, a, b)
        except ValueError:  # February 30, or year 0
            continue
        if day <= latest:
            return day
    return None


def on_calendar(names: tuple[DayName, ...], dated: datetime) -> tuple[date, ...]:
    """The days ``names`` mean in a report dated ``dated``, in the order the lead names them,
    leaving out those no calendar has."""
    return tuple(day for day in (resolve(name, dated) for name in names) if day is not None)
