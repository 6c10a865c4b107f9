"""The XML guard: what a document's DTD may declare before feedparser reads it.

An internal DTD subset keeps only entities that cannot expand (the rest would let a few hundred
bytes expand to gigabytes: "billion laughs"); an entity built from entities already kept is
written out, each within a bound. What the DTD declares is decided by expat reading the prolog,
not by a pattern: a comment, a processing instruction or a quoted string can hide a declaration
from a regular expression (a ``<!-- <a -->`` before the DOCTYPE once did), never from the parser
that would expand it. The prolog is then written anew from what expat reported, so feedparser's
own pattern-based DOCTYPE pass finds nothing but the root element and the entities kept here.
"""

from __future__ import annotations

import pyexpat
import re
from dataclasses import dataclass, field

from monitor.errors import FeedError

XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*?\?>")  # the declaration, as text
# Only a document with one of these anywhere can declare an entity, to expat or to feedparser.
_ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)
_ENTITY_REF = re.compile(r"&([A-Za-z_:][\w.:-]*);")
# What a kept entity's value (of more than one character) may hold: written back inside "..."
# on a line of its own, it must read the same to expat and to feedparser's pattern.
_PLAIN_VALUE = re.compile(r"[^&%\"<>\n]*")
_MIN_EXPANSION_BUDGET = 1 << 20  # characters entity references may add to a small document
_MAX_ENTITY_VALUE = 4096  # characters one entity may hold once the entities it names are in


class UnsafeXMLError(FeedError, ValueError):
    """The document declares entities in a way that cannot be checked; it is not parsed."""


@dataclass(slots=True)
class _Prolog:
    """What expat reported before the root element."""

    root: int = -1  # character offset of the root element's "<"; -1 if never reached
    error: str = ""
    doctype: tuple[str, str | None, str | None] | None = None  # name, system id, public id
    subset: bool = False  # the DOCTYPE has an internal subset
    entities: dict[str, str] = field(default_factory=dict)  # kept so far: name to value
    dropped: int = 0


class _RootReached(Exception):
    pass


def _read_prolog(text: str) -> _Prolog:
    """The DOCTYPE and entity declarations as expat sees them, up to the root element.

    Parameter entities are never expanded (expat's default), so a DTD cannot grow while it is
    read, and expat skips the declarations after a parameter entity reference, as it would when
    feedparser parses the document.
    """
    raw = text.encode("utf-8", "replace")
    parser = pyexpat.ParserCreate(encoding="utf-8")  # overrides the declaration: text is decoded
    prolog = _Prolog()

    def doctype(name: str, system: str | None, public: str | None, subset: int) -> None:
        prolog.doctype, prolog.subset = (name, system, public), bool(subset)

    def entity(
        name: str,
        is_parameter: int,
        value: str | None,
        base: str | None,
        system: str | None,
        public: str | None,
        notation: str | None,
    ) -> None:
        # Kept: an internal general entity whose text expands to nothing but itself, once the
        # references it makes to entities already kept are written out (each bounded, so a
        # chain of entities ten times the last cannot grow). One character cannot spell a
        # reference, whatever it is (``&#38;``, ``&#60;``).
        if value is not None and not is_parameter and len(value) > 1:
            value = _resolved(value, prolog.entities)
        plain = value is not None and (len(value) == 1 or _PLAIN_VALUE.fullmatch(value))
        if is_parameter or not plain:
            prolog.dropped += 1
        else:
            prolog.entities.setdefault(name, value)  # the first declaration is the one used

    def start(name: str, attributes: object) -> None:
        prolog.root = len(raw[: parser.CurrentByteIndex].decode("utf-8", "replace"))
        raise _RootReached

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.StartElementHandler = start
    try:
        parser.Parse(raw, True)
    except _RootReached:
        pass
    except pyexpat.ExpatError as exc:
        prolog.error = str(exc)
    if prolog.root < 0 and not prolog.error:
        prolog.error = "no root element"
    return prolog


def rewrite_prolog(text: str) -> tuple[str, str]:
    """The document with its prolog written anew from what expat read in it; and what changed.

    Kept entities must not add more to the document, all references counted, than its own size
    (at least 1 MiB): a short value referenced a million times is a "quadratic blowup".
    """
    prolog = _read_prolog(text)
    if prolog.error:
        if _ENTITY_DECL.search(text):
            raise UnsafeXMLError(
                f"entity declarations in a prolog that is not well-formed ({prolog.error}); "
                "refusing to parse"
            )
        return text, ""  # nothing can be declared; feedparser reports the error itself
    if prolog.doctype is None or not (prolog.subset or prolog.entities or prolog.dropped):
        return text, ""  # no internal subset: nothing to expand, leave the document as it is
    notes = []
    if prolog.dropped:
        notes.append(f"dropped {prolog.dropped} DTD entity declaration(s) that could expand")
    body = text[prolog.root :]
    if prolog.entities:
        values = prolog.entities
        added = sum(
            len(values[m.group(1)]) for m in _ENTITY_REF.finditer(body) if m.group(1) in values
        )
        if added > max(len(text), _MIN_EXPANSION_BUDGET):
            notes.append(
                f"dropped {len(values)} DTD entity declaration(s) whose references would add "
                f"{added} characters to a document of {len(text)}"
            )
            prolog.entities = {}
    name, system, public = prolog.doctype
    outer = f"<!DOCTYPE {name}{_external_id(system, public)}"
    # One declaration a line: feedparser's own DOCTYPE pass reads them line by line.
    subset = "".join(f'\n<!ENTITY {n} "{_entity_value(v)}">' for n, v in prolog.entities.items())
    declaration = f"{outer} [{subset}\n]>" if subset else f"{outer}>"
    head = XML_DECLARATION.match(text)
    prefix = head.group(0) + "\n" if head else ""
    return f"{prefix}{declaration}\n{body}", "; ".join(notes)


def _external_id(system: str | None, public: str | None) -> str:
    """`` PUBLIC "..." "..."`` or `` SYSTEM "..."`` as declared (feedparser looks for Netscape's
    RSS 0.91 public id), or nothing if an id holds a character that would break the line."""
    ids = [i for i in (public, system) if i is not None]
    if not ids or any(not _PLAIN_VALUE.fullmatch(i) for i in ids):
        return ""
    quoted = " ".join(f'"{i}"' for i in ids)
    return f" PUBLIC {quoted}" if public is not None else f" SYSTEM {quoted}"


def _resolved(value: str, kept: dict[str, str]) -> str | None:
    """``value`` with its references to kept entities written out; None if it refers to any
    other entity or would grow past :data:`_MAX_ENTITY_VALUE` characters."""
    if "&" not in value:
        return value
    size = len(value)
    for match in _ENTITY_REF.finditer(value):
        known = kept.get(match.group(1))
        if known is None:
            return None
        size += len(known)
        if size > _MAX_ENTITY_VALUE:
            return None
    return _ENTITY_REF.sub(lambda m: kept[m.group(1)], value)


def _entity_value(value: str) -> str:
    """A one-character value as a character reference (so ``&#160;`` stays ``&#160;``)."""
    return f"&#{ord(value)};" if len(value) == 1 else value
