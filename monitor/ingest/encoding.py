"""Feed bytes to UTF-8 before feedparser sees them: the charset decided here, not by trust.

feedparser believes the HTTP charset over the document's own declaration (RFC 3023), and a
``text/xml`` response without a charset is US-ASCII by that rule, so a windows-1251 feed served
as plain ``text/xml`` comes out as mojibake or not at all. Real servers get this wrong often, so
the order here is what works in practice: a byte-order mark; valid UTF-8 (a strong signal: text
in a legacy charset is almost never valid UTF-8); the HTTP charset, then the XML declaration, if
the bytes decode under it; a statistical guess; UTF-8 with replacement characters.

The same pass defuses the document: an internal DTD subset keeps only entities that cannot
expand (the rest would let a few hundred bytes expand to gigabytes: "billion laughs"), and
character references outside Unicode, which make feedparser raise, become U+FFFD.

What the DTD declares is decided by expat reading the prolog, not by a pattern: a comment, a
processing instruction or a quoted string can hide a declaration from a regular expression (a
``<!-- <a -->`` before the DOCTYPE once did), never from the parser that would expand it. The
prolog is then written anew from what expat reported, so feedparser's own pattern-based DOCTYPE
pass finds nothing but the root element and the entities kept here.
"""

from __future__ import annotations

import codecs
import pyexpat
import re
from dataclasses import dataclass, field

from monitor.errors import FeedError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_XML_DECL_STR = re.compile(r"^\s*<\?xml[^>]*?\?>")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_UTF8_DECL = '<?xml version="1.0" encoding="utf-8"?>'
# Only a document with one of these anywhere can declare an entity, to expat or to feedparser.
_DTD_MARKUP = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)
_ENTITY_REF = re.compile(r"&([A-Za-z_:][\w.:-]*);")
# What a kept entity's value (of more than one character) may hold: written back inside "..."
# on a line of its own, it must read the same to expat and to feedparser's pattern.
_PLAIN_VALUE = re.compile(r"[^&%\"<>\n]*")
_MIN_EXPANSION_BUDGET = 1 << 20  # characters entity references may add to a small document
_MAX_ENTITY_VALUE = 4096  # characters one entity may hold once the entities it names are in
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")


@dataclass(slots=True)
class Decoded:
    text: str
    encoding: str  # the charset used, for logs and tests
    note: str = ""  # what was wrong with the declarations, if anything


def http_charset(content_type: str) -> str:
    match = _CHARSET.search(content_type or "")
    return match.group(1).lower() if match else ""


def decode(body: bytes, content_type: str = "") -> Decoded:
    """The document as text, with the charset chosen as the module docstring says."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(name, "replace"), name)
    header = _known(http_charset(content_type))
    match = _XML_DECL.match(body[:512])
    declared = _known(match.group(1).decode("ascii").lower()) if match else ""
    if header.startswith(("utf-16", "utf-32")) and (text := _try(body, header)) is not None:
        return Decoded(text, header)
    if (text := _try(body, "utf-8")) is not None:
        wrong = [n for n in (header, declared) if n and not _is_utf8(n) and not body.isascii()]
        note = f"declared {wrong[0]} but the bytes are UTF-8" if wrong else ""
        return Decoded(text, "utf-8", note)
    if header and not _is_utf8(header) and (text := _try(body, header)) is not None:
        return Decoded(text, header)
    if declared and not _is_utf8(declared) and (text := _try(body, declared)) is not None:
        wrong = header and header != declared
        return Decoded(text, declared, f"HTTP header said {header}" if wrong else "")
    guess = _guess(body)
    if guess and (text := _try(body, guess)) is not None:
        return Decoded(text, guess, f"charset undeclared or wrong; guessed {guess}")
    return Decoded(body.decode("utf-8", "replace"), "utf-8", "undecodable bytes replaced")


class UnsafeXMLError(FeedError, ValueError):
    """The document declares entities in a way that cannot be checked; it is not parsed."""


def defuse(text: str) -> tuple[str, str]:
    """The document with a harmless DTD and valid character references; and what changed.

    Raises :class:`UnsafeXMLError` for entity declarations in a prolog expat cannot read.
    """
    notes = []
    replaced = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal replaced
        kept = _char_ref(match)
        replaced += kept is _REPLACED
        return kept

    if "&#" in text:
        text = _CHAR_REF.sub(fix, text)
    text = _XML_DECL_STR.sub(_UTF8_DECL, text, count=1)
    if _DTD_MARKUP.search(text):
        text, note = _rewrite_prolog(text)
        if note:
            notes.append(note)
    if replaced:
        notes.append(f"replaced {replaced} character reference(s) outside Unicode")
    return text, "; ".join(notes)


def to_utf8_xml(text: str) -> bytes:
    """Text as UTF-8 bytes, its XML declaration saying so."""
    return _XML_DECL_STR.sub(_UTF8_DECL, text, count=1).encode("utf-8", "replace")


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


def _rewrite_prolog(text: str) -> tuple[str, str]:
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
    head = _XML_DECL_STR.match(text)
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


def _known(name: str) -> str:
    try:
        return codecs.lookup(name).name if name else ""
    except LookupError:
        return ""


def _is_utf8(name: str) -> bool:
    return name in ("utf-8", "ascii", "us-ascii")


def _try(body: bytes, name: str) -> str | None:
    try:
        return body.decode(name)
    except (UnicodeDecodeError, LookupError):
        return None


def _guess(body: bytes) -> str:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with the package
        return ""
    best = from_bytes(body[:65536]).best()
    return _known(best.encoding) if best is not None else ""


_REPLACED = "&#xFFFD;"


def _char_ref(match: re.Match[str]) -> str:
    hex_digits, decimal = match.groups()
    try:
        code = int(hex_digits, 16) if hex_digits else int(decimal)
    except ValueError:
        return _REPLACED
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or code == 0:
        return _REPLACED
    return match.group(0)
