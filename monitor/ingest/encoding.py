"""Feed bytes to UTF-8 before feedparser sees them: the charset decided here, not by trust.

feedparser believes the HTTP charset over the document's own declaration (RFC 3023), and a
``text/xml`` response without a charset is US-ASCII by that rule, so a windows-1251 feed served
as plain ``text/xml`` comes out as mojibake or not at all. Real servers get this wrong often, so
the order here is what works in practice: a byte-order mark; valid UTF-8 (a strong signal: text
in a legacy charset is almost never valid UTF-8); the HTTP charset, then the XML declaration, if
the bytes decode under it; a statistical guess; UTF-8 with replacement characters.

The same pass defuses the document: its DTD goes through the XML guard
(:mod:`monitor.ingest.xmlguard`), and character references outside Unicode, which make
feedparser raise, become U+FFFD.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from monitor.ingest.xmlguard import XML_DECLARATION, UnsafeXMLError, rewrite_prolog

__all__ = ["Decoded", "UnsafeXMLError", "decode", "defuse", "http_charset", "to_utf8_xml"]

_DTD_MARKUP = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_UTF8_DECL = '<?xml version="1.0" encoding="utf-8"?>'
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
    text = XML_DECLARATION.sub(_UTF8_DECL, text, count=1)
    if _DTD_MARKUP.search(text):
        text, note = rewrite_prolog(text)
        if note:
            notes.append(note)
    if replaced:
        notes.append(f"replaced {replaced} character reference(s) outside Unicode")
    return text, "; ".join(notes)


def to_utf8_xml(text: str) -> bytes:
    """Text as UTF-8 bytes, its XML declaration saying so."""
    return XML_DECLARATION.sub(_UTF8_DECL, text, count=1).encode("utf-8", "replace")


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
