"""Content-Encoding undone a bounded piece at a time, so a compression bomb stops at the cap.

httpx decodes each network chunk whole: a 3 KB brotli body can become gigabytes in one call,
long before a size cap counted on the decoded bytes gets a say. Here every stage hands out at most
the number of bytes asked for and keeps the rest of its input (zlib's ``unconsumed_tail``,
brotli's own buffer) for the next call, so the caller never holds more decoded data than it is
willing to accept, whatever the ratio and however the encodings are stacked ("gzip, br").

An encoding we did not ask for and cannot undo is an error, not a body passed on as if it were
text: the parser would only report garbage.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli

from monitor.errors import FeedError

# The most output any stage produces in one step. brotli may overshoot the limit it is given
# (by up to about twice, at least 32 KiB), so this also bounds what a stage keeps between reads.
STEP = 64 * 1024


class DecodingError(FeedError, ValueError):
    """The body is not valid under its Content-Encoding, or the encoding is not one we read."""


class _Stage(Protocol):
    def feed(self, data: bytes) -> None: ...

    def read(self, size: int) -> bytes:
        """Up to ``size`` (>= 1) bytes of output; b"" when the stage needs more input."""
        ...


class _Identity:
    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> None:
        self._pending += data

    def read(self, size: int) -> bytes:
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


class _Zlib:
    """gzip, or deflate: zlib-wrapped as the RFC says, or raw as some servers send it anyway.

    Data after the end of the compressed stream is ignored, as httpx ignores it.
    """

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._decompressor: zlib._Decompress | None = None
        self._pending = b""

    def feed(self, data: bytes) -> None:
        if self._decompressor is None or not self._decompressor.eof:
            self._pending += data

    def read(self, size: int) -> bytes:
        if self._decompressor is None:
            if len(self._pending) < 2:
                return b""
            self._decompressor = zlib.decompressobj(self._wbits(self._pending[:2]))
        if self._decompressor.eof:
            return b""
        # Called with no new input too: zlib may hold output back (the rest of a long match).
        try:
            out = self._decompressor.decompress(self._pending, max(size, 1))
        except zlib.error as exc:
            raise DecodingError(str(exc)) from None
        self._pending = b"" if self._decompressor.eof else self._decompressor.unconsumed_tail
        return out

    def _wbits(self, head: bytes) -> int:
        if self._gzip:
            return 16 + zlib.MAX_WBITS
        # A zlib header: compression method 8 in the low nibble, the 16 bits a multiple of 31.
        wrapped = head[0] & 0x0F == 8 and int.from_bytes(head, "big") % 31 == 0
        return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS


class _Brotli:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()
        self._pending = b""  # input not yet given to the decompressor
        self._out = b""  # output past the size the last read asked for

    def feed(self, data: bytes) -> None:
        if not self._decompressor.is_finished():
            self._pending += data

    def read(self, size: int) -> bytes:
        if not self._out and not self._decompressor.is_finished():
            # New input only when the decompressor says it may take some; until then empty
            # calls drain what it holds. Output can be pending even when it may take more.
            data = b""
            if self._pending and self._decompressor.can_accept_more_data():
                data, self._pending = self._pending, b""
            try:
                self._out = self._decompressor.process(data, output_buffer_limit=min(size, STEP))
            except brotli.error as exc:
                raise DecodingError(str(exc)) from None
        out, self._out = self._out[:size], self._out[size:]
        return out


_STAGES = {
    "gzip": lambda: _Zlib(gzip=True),
    "x-gzip": lambda: _Zlib(gzip=True),
    "deflate": lambda: _Zlib(gzip=False),
    "br": _Brotli,
    "identity": _Identity,
}

ACCEPTED = "gzip, deflate, br"  # what the client asks for: the codings above it can undo


class BoundedDecoder:
    """Raw body bytes in (:meth:`feed`), decoded bytes out in pieces of a bounded size."""

    def __init__(self, content_encoding: str) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        unknown = [n for n in names if n not in _STAGES]
        if unknown:
            raise DecodingError(f"unsupported Content-Encoding {', '.join(unknown)!r}")
        # Listed in the order they were applied: the last one applied is undone first.
        self._stages: list[_Stage] = [_STAGES[n]() for n in reversed(names)] or [_Identity()]

    def feed(self, raw: bytes) -> None:
        self._stages[0].feed(raw)

    def read(self, size: int = STEP) -> bytes:
        """Up to ``size`` decoded bytes; b"" once everything fed so far is decoded."""
        return self._read(len(self._stages) - 1, max(min(size, STEP), 1))

    def _read(self, index: int, size: int) -> bytes:
        stage = self._stages[index]
        while True:
            out = stage.read(size)
            if out or index == 0:
                return out
            upstream = self._read(index - 1, STEP)
            if not upstream:
                return b""
            stage.feed(upstream)
