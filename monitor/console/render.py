"""Templates with autoescaping on, and the two pieces of markup built in code: matched terms
in ``<mark>`` and the hits-per-day chart. Every piece of stored text reaches the page escaped;
the only markup that is not escaped is what these functions build around escaped text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from monitor.util.dates import as_utc


def highlight(sentence: dict) -> Markup:
    """A cited sentence with each matched term inside ``<mark>``; the text itself escaped."""
    text = str(sentence.get("text", ""))
    out, last = [], 0
    for start, end in sorted((int(s), int(e)) for s, e in sentence.get("marks") or []):
        if start < last or end > len(text) or start >= end:
            continue  # overlapping or out of range: never cut the text apart
        out += [escape(text[last:start]), Markup("<mark>"), escape(text[start:end])]
        out.append(Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    why = str(sentence.get("why") or "")
    if why:  # the rule's model fired alone: say so, as every channel does
        out += [Markup(' <small class="why">('), escape(why), Markup(")</small>")]
    return Markup("").join(out)


def web_link(url: str) -> str:
    """The URL if it is http(s), else "": a feed can say ``javascript:`` too."""
    return url if url.lower().startswith(("http://", "https://")) else ""


def when(value: datetime | None) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    y: int
    height: int
    day: str
    count: int


CHART_HEIGHT = 80
BAR_WIDTH = 6


def chart_bars(hits: Sequence[tuple[str, int]]) -> list[Bar]:
    """Bars of a hits-per-day chart, scaled to its tallest day; a day with no hits gets none."""
    top = max((count for _, count in hits), default=0) or 1
    bars = []
    for n, (day, count) in enumerate(hits):
        height = round(count / top * CHART_HEIGHT)
        if count:
            height = max(height, 2)
            bars.append(Bar(n * BAR_WIDTH, CHART_HEIGHT - height, height, day, count))
    return bars


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["highlight"] = highlight
    env.filters["when"] = when
    env.filters["web_link"] = web_link
    env.globals.update(chart_bars=chart_bars, chart_height=CHART_HEIGHT, bar_width=BAR_WIDTH)
    return env
