"""A story's vector rebuilt from its members, after an analyst merged or split stories.

The matcher grows a story's centroid one member at a time (:func:`add_to_centroid`, which
keeps the heaviest terms) and its vessels likewise; rebuilding adds the members in the order
they joined (by article id), so a story rebuilt from the members it already had comes out as
the matcher left it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from monitor.detect.events.vectors import add_to_centroid
from monitor.detect.stories import MAX_VESSELS
from monitor.store.story_vectors import ArticleVector, StoryVector


def rebuilt(
    story_id: str, members: Sequence[ArticleVector], dated: Mapping[int, datetime]
) -> StoryVector | None:
    """The story's vector from its members' vectors (``dated``: each member's date); None
    when none of them was read by the matcher (stored before it came)."""
    known = sorted((m for m in members if m.article_id in dated), key=lambda m: m.article_id)
    if not known:
        return None
    centroid: dict[str, float] = {}
    vessels: list[str] = []
    for member in known:
        centroid = add_to_centroid(centroid, member.vector)
        grown = sorted(vessels) + sorted(set(member.vessels) - set(vessels))
        vessels = grown[:MAX_VESSELS] if len(known) > 1 else grown
    days = [dated[m.article_id] for m in known]
    return StoryVector(
        story_id,
        {w: round(x, 5) for w, x in centroid.items()},
        sorted(vessels),
        min(days),
        max(days),
        len(known),
        max(m.article_id for m in known),
    )
