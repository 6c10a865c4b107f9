"""Process-wide logging: one line per record, text for people or JSON for collectors.

The daemon handles webhook URLs, bot tokens and database passwords, and a log line is the easiest
place for one of them to leak (an exception message quoting a URL, an ``extra=`` carrying a
channel target). So redaction is applied to the *rendered* line, after message, %-args, extras
and traceback have all been merged, rather than to pieces of the record that a later formatting
step could reassemble around it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

__all__ = [
    "current_format",
    "CONTEXT_FIELDS",
    "MASK",
    "redact",
    "register_secret",
    "setup_logging",
]

# The identifiers the pipeline passes via ``extra=``; the text format shows them first, in this
# order, so lines about the same feed or alert line up when grepped.
CONTEXT_FIELDS: tuple[str, ...] = (
    "feed",
    "rule",
    "alert",
    "story",
    "channel",
    "notification",
    "replica",
    "article",
)

MASK = "**********"

# Shorter values would mask ordinary words and numbers all over the log, and are too weak to
# be real credentials anyway.
_MIN_SECRET_LENGTH = 6

# Libraries that log every request at INFO would drown the daemon's own lines.
# alembic.runtime.plugins says "setup plugin …" at info whenever Alembic is imported.
_QUIET_LOGGERS = ("httpx", "apscheduler", "alembic.runtime.plugins")

# Credential shapes that are masked even if nobody registered them, because config can reach
# a log line (a URL in an error message) before the code that loaded it registered the value.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(hooks\.slack\.com/services/)[^\s\"'<>]+"), r"\g<1>" + MASK),
    (re.compile(r"\b(xox[abpr]-)[A-Za-z0-9-]+"), r"\g<1>" + MASK),
    # userinfo cannot contain '/', '?', '#' or '@' unescaped (RFC 3986), which keeps
    # "http://host:8080/path@x" from being mistaken for a password.
    (re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@]*:)[^\s/?#@]+@"), r"\g<1>***@"),
    # Credentials in a URL's query (private feeds): ?token=..., &api_key=..., &sig=...
    (
        re.compile(
            r"([?&](?:[A-Za-z0-9]*_)?(?:token|api_?key|key|secret|password|passwd|pass|pwd|"
            r"auth|sig|signature|session|sessionid|sid|code|credentials)=)[^\s&#\"'<>]+",
            re.IGNORECASE,
        ),
        r"\g<1>" + MASK,
    ),
)


class _SecretRegistry:
    """Registered secret values, matched as one alternation so each line is scanned once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if not value or len(value) < _MIN_SECRET_LENGTH:
            return
        # A value can reach the line escaped: by the JSON encoder (quotes, backslashes,
        # non-ASCII) or by %r in a message. Each spelling must be masked.
        forms = {
            value,
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            repr(value)[1:-1],
        }
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            # Longest first, so a secret containing another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def redact(self, text: str) -> str:
        pattern = self._pattern  # read once: add() may swap it from another thread
        return pattern.sub(MASK, text) if pattern is not None else text


_secrets = _SecretRegistry()


def register_secret(value: str) -> None:
    """Mask this value in every log line from now on.

    Call it where a credential is loaded (config, env), before anything can log it. Values
    shorter than six characters are ignored: masking them would garble unrelated text.
    """
    _secrets.add(value)


def redact(text: str) -> str:
    """Mask registered secrets and credential-shaped substrings.

    Public so that text leaving the process by other routes (error strings stored with a
    notification, CLI output) can get the same treatment as log lines.
    """
    # Shapes first: a registered value that is part of a token (a test's short secret, say)
    # must not break the token's shape before its pattern can mask it whole.
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _secrets.redact(text)


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def _extras(record: logging.LogRecord) -> list[tuple[str, Any]]:
    known = [(k, record.__dict__[k]) for k in CONTEXT_FIELDS if k in record.__dict__]
    other = sorted(
        (k, v)
        for k, v in record.__dict__.items()
        if k not in _RECORD_ATTRS and k not in CONTEXT_FIELDS and not k.startswith("_")
    )
    return known + other


_NEEDS_QUOTES = re.compile(r"[\s\"=]")


def _kv(key: str, value: Any) -> str:
    text = str(value)
    # Quote only when needed, so the common case (ids, names) stays easy to read and grep.
    if not text or _NEEDS_QUOTES.search(text):
        text = json.dumps(text, ensure_ascii=False)
    return f"{key}={text}"


class TextFormatter(logging.Formatter):
    """``2026-12-01T17:49:10Z INFO    monitor.ingest.poller: message feed=x``.

    UTC so lines from replicas in different zones sort and compare; context fields are
    appended as key=value so a line is self-describing without a JSON parser.
    """

    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__(
            fmt="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%SZ",
        )

    def formatMessage(self, record: logging.LogRecord) -> str:
        # Hooked here rather than in format() so the context lands on the message line and a
        # traceback (added by format() afterwards) stays below it.
        line = super().formatMessage(record)
        pairs = [_kv(k, v) for k, v in _extras(record)]
        return " ".join([line, *pairs]) if pairs else line


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line with stable key names (time, level, logger, message).

    Milliseconds are kept here (unlike the text format) because collectors order events by
    this field and several lines routinely share a second.
    """

    def __init__(self) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RedactingFormatter(logging.Formatter):
    """Masks secrets in whatever another formatter produced.

    Wrapping the finished string, instead of editing record.msg/args/exc_text in a Filter,
    means nothing the inner formatter adds (tracebacks, extras, JSON escaping) can slip past.
    """

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time, not at setup time.

    Test runners and click's CliRunner swap sys.stderr for a buffer and close it afterwards; a
    handler holding the old object would then fail on every later record.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # StreamHandler assigns it; the property above is the source of truth


# Marks handlers installed here so a second setup_logging() replaces them and only them.
_OWNED = "_monitor_logs_owned"
_format: list[str] = ["text"]  # the format of the last setup_logging(), for the console channel


def current_format() -> str:
    """ "text" or "json", as logging was last set up: what reads this process's output (a
    person, or a log collector expecting one JSON object a line) reads the console channel too.
    """
    return _format[0]


def setup_logging(
    level: str,
    fmt: Literal["text", "json"] = "text",
    stream: TextIO | None = None,
) -> None:
    """Route all logging through one redacting handler on the root logger.

    Idempotent: handlers from an earlier call are removed first, so re-running it (tests, a
    CLI that configures twice) never doubles lines. Handlers installed by others (pytest's
    log capture, an embedding application) are left alone.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    if fmt == "text":
        inner: logging.Formatter = TextFormatter()
    elif fmt == "json":
        inner = JsonLineFormatter()
    else:
        raise ValueError(f"unknown log format {fmt!r} (expected 'text' or 'json')")

    handler = _CurrentStderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(inner))
    setattr(handler, _OWNED, True)

    _format[0] = fmt
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OWNED, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
