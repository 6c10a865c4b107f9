"""Durations as people write them in commands and config (90s, 15m, 12h, 7d, 2w), and the
one backoff that feeds and sends both wait by."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``"7d"`` -> 7 days; ``"1h30m"`` works too. Raises ValueError with an example."""
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(f"{n}{u}" for n, u in parts) != cleaned.replace(" ", ""):
        raise ValueError(f"not a duration: {text!r} (examples: 90s, 15m, 12h, 7d, 2w)")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: float(number)})
    return total


def backoff(base: timedelta, doublings: int, cap: timedelta) -> timedelta:
    """``base`` doubled ``doublings`` times, never past ``cap``.

    Computed in float seconds with the exponent bounded: ``base * 2**n`` as a timedelta
    overflows at about 37 doublings (a week of one dead feed), and that error once escaped
    the cycle before any alert was sent.
    """
    doublings = min(max(doublings, 0), 64)
    return timedelta(seconds=min(base.total_seconds() * 2.0**doublings, cap.total_seconds()))
