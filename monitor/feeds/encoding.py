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
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

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
_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.IGNORECASE)
_SAFE_ENTITY = re.compile(r"<!ENTITY\s+([\w.-]+)\s+(\"(?:&#\w+;|[^&%\"<]*)\"|'[^&%'<]*')\s*>")
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
    """The document with a harmless DTD and valid character references; and what changed."""
    notes = []
    head_end = _first_element(text)
    head = text[:head_end]
    doctype = _DOCTYPE.search(head)
    if doctype:
        end = _declaration_end(text, doctype.start())
        declaration = text[doctype.start() : end]
        if "[" in declaration:
            kept = _SAFE_ENTITY.findall(declaration)
            dropped = declaration.count("<!ENTITY") - len(kept)
            outer = declaration[: declaration.index("[")].rstrip()
            # One declaration a line: feedparser's own DOCTYPE pass reads them line by line.
            subset = "".join(f"\n<!ENTITY {name} {value}>" for name, value in kept)
            replacement = f"{outer} [{subset}\n]>" if subset else f"{outer}>"
            text = text[: doctype.start()] + replacement + text[end:]
            if dropped:
                notes.append(f"dropped {dropped} DTD entity declaration(s) that could expand")
    replaced = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal replaced
        kept = _char_ref(match)
        replaced += kept is _REPLACED
        return kept

    if "&#" in text:
        text = _CHAR_REF.sub(fix, text)
    if replaced:
        notes.append(f"replaced {replaced} character reference(s) outside Unicode")
    return text, "; ".join(notes)


def to_utf8_xml(text: str) -> bytes:
    """Text as UTF-8 bytes, its XML declaration saying so."""
    return _XML_DECL_STR.sub('<?xml version="1.0" encoding="utf-8"?>', text, count=1).encode(
        "utf-8", "replace"
    )


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


def _first_element(text: str) -> int:
    """Where the root element starts (after the prolog), or the length of a short document."""
    match = re.search(r"<[A-Za-z_]", text)
    return match.start() if match else len(text)


def _declaration_end(text: str, start: int) -> int:
    """The index just past ``<!DOCTYPE ...>``, skipping quoted strings and the ``[...]`` subset."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif ch == ">" and depth == 0:
            return i + 1
        i += 1
    return len(text)


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
