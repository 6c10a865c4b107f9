"""Elements whose values no Article reads: only what they do to feedparser's stack matters.

Authors, categories, rights, iTunes and Media RSS details: feedparser stores them under keys
no Article is built from, but each pushes (or does not push) an entry on its element stack,
and some are read as text; that much is mirrored here, in tables merged with
:mod:`.handlers`.
"""

from __future__ import annotations

from monitor.ingest.fastfeed.handlers import End, Start, on
from monitor.ingest.fastfeed.state import Ctx, State


def _kept(name: str, expecting: int, leaf: bool = True) -> tuple[Start, End]:
    def start(s: State, attrs: dict[str, str]) -> bool:
        s.push(name, expecting)
        return leaf

    def end(s: State) -> None:
        s.drop(name)

    return start, end


def _text(name: str) -> tuple[Start, End]:
    def start(s: State, attrs: dict[str, str]) -> bool:
        s.push_content(name, attrs, "text/plain", 1, read=False)
        return True

    def end(s: State) -> None:
        s.drop_content(name)

    return start, end


def _unpushed(leaf: bool) -> Start:
    return lambda s, attrs: leaf


def _start_itunes_image(s: State, attrs: dict[str, str]) -> bool:
    s.push("itunes_image", 0)
    if attrs.get("href") or attrs.get("url"):
        s.context()["image"] = Ctx()
    return True


for _stacked, _expects, _leaf, _keys in (
    ("author", 1, False, ("author", "managingeditor", "dc_author", "dc_creator", "itunes_author")),
    ("contributor", 0, False, ("contributor",)),
    ("name", 0, True, ("name", "itunes_name", "dc_contributor")),
    ("email", 0, True, ("email", "itunes_email")),
    ("href", 1, True, ("url", "homepage", "uri")),
    ("category", 1, True, ("category", "keywords", "dc_subject", "media_category")),
    ("category", 1, True, ("itunes_category",)),
    ("language", 1, True, ("language", "dc_language")),
    ("publisher", 1, True, ("webmaster", "dc_publisher")),
    ("publisher", 0, False, ("itunes_owner",)),
    ("generator", 1, True, ("generator",)),
    ("expired", 1, True, ("expirationdate",)),
    ("width", 0, True, ("width",)),
    ("height", 0, True, ("height",)),
    ("newlocation", 1, True, ("newlocation",)),
    ("rating", 1, True, ("media_rating",)),
    ("credit", 1, True, ("media_credit",)),
    ("restriction", 1, True, ("media_restriction",)),
    ("license", 1, True, ("media_license",)),
    ("url", 1, True, ("media_thumbnail",)),
    ("media_player", 0, True, ("media_player",)),
    ("tags", 1, True, ("tags",)),
    ("validity", 1, True, ("dcterms_valid",)),
    ("geometry", 0, True, ("georss_point",)),  # its parse cannot fail; a line's or box's can
):
    _start_kept, _end_kept = _kept(_stacked, _expects, _leaf)
    on(*_keys, start=_start_kept, end=_end_kept)
for _stacked, _keys in (
    ("subtitle", ("subtitle", "tagline", "itunes_subtitle")),
    ("rights", ("rights", "copyright", "dc_rights")),
    ("info", ("info", "feedburner_browserfriendly")),
):
    _start_text, _end_text = _text(_stacked)
    on(*_keys, start=_start_text, end=_end_text)
# Handled by feedparser at one end only: the other end is its generic one.
on("cloud", "enclosure", start=_unpushed(True))
on("media_content", "media_group", start=_unpushed(False))
on("itunes_image", "itunes_link", start=_start_itunes_image)
for _key in ("media_keywords", "itunes_keywords", "itunes_block", "itunes_explicit"):
    on(_key, end=_kept(_key, 1)[1])
