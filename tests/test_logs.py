"""Log lines as an operator or a collector receives them, and what must never appear in them."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime

import pytest

from monitor.service.logs import MASK, redact, register_secret, setup_logging

FORMATS = ["text", "json"]
# 2026-12-01T17:49:10.250Z
WHEN = datetime(2026, 12, 1, 17, 49, 10, 250000, tzinfo=UTC).timestamp()


def capture(fmt: str, level: str = "debug") -> io.StringIO:
    stream = io.StringIO()
    setup_logging(level, fmt, stream)  # type: ignore[arg-type]
    return stream


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def render(**fields: object) -> str:
    """Format a hand-made record through the installed handler, so its time is fixed."""
    record = logging.makeLogRecord(
        {
            "name": "monitor.ingest.poller",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "fetched %d entries",
            "args": (3,),
            "created": WHEN,
            **fields,
        }
    )
    return logging.getLogger().handlers[-1].format(record)


def test_text_line_has_utc_time_level_logger_message_and_context() -> None:
    capture("text")
    line = render(feed="reuters-world", rule="oil-tankers", alert=42)
    assert line == (
        "2026-12-01T17:49:10Z INFO    monitor.ingest.poller: fetched 3 entries "
        "feed=reuters-world rule=oil-tankers alert=42"
    )


def test_text_context_follows_a_fixed_order_and_quotes_awkward_values() -> None:
    capture("text")
    line = render(channel="ops slack", story=7, feed="f", custom="x")
    assert line.endswith('fetched 3 entries feed=f story=7 channel="ops slack" custom=x')


def test_text_traceback_goes_below_the_line_with_context() -> None:
    stream = capture("text")
    try:
        raise RuntimeError("feed timed out")
    except RuntimeError:
        logging.getLogger("monitor.ingest.poller").exception("poll failed", extra={"feed": "ap"})
    first, *rest = lines(stream)
    assert first.endswith("monitor.ingest.poller: poll failed feed=ap")
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "RuntimeError: feed timed out"


def test_json_line_has_the_documented_fields() -> None:
    capture("json")
    data = json.loads(render(feed="reuters-world", notification=9, replica="a"))
    assert data == {
        "time": "2026-12-01T17:49:10.250Z",
        "level": "INFO",
        "logger": "monitor.ingest.poller",
        "message": "fetched 3 entries",
        "feed": "reuters-world",
        "notification": 9,
        "replica": "a",
    }


def test_json_carries_the_exception_text() -> None:
    stream = capture("json")
    try:
        raise ValueError("bad feed")
    except ValueError:
        logging.getLogger("monitor.ingest.poller").exception("poll failed", extra={"feed": "ap"})
    (line,) = lines(stream)
    data = json.loads(line)
    assert data["message"] == "poll failed" and data["feed"] == "ap"
    assert data["exc_info"].startswith("Traceback (most recent call last):")
    assert data["exc_info"].endswith("ValueError: bad feed")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["time"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_registered_secret_never_appears(fmt: str) -> None:
    secret = f"s3cr3t-{fmt}-hunter2"
    register_secret(secret)
    stream = capture(fmt)
    log = logging.getLogger("monitor.delivery.channels.slack")
    log.info(secret)
    log.info("posting with token %s", secret)
    log.info("posting with %r", {"token": secret})
    try:
        raise PermissionError(f"rejected credential {secret}")
    except PermissionError:
        log.exception("delivery failed")
    log.info("delivered", extra={"channel": secret})

    output = stream.getvalue()
    assert secret not in output
    assert output.count(MASK) >= 5
    assert len(lines(stream)) >= 5
    if fmt == "json":
        for line in lines(stream):
            json.loads(line)  # masking must not break the JSON


def test_a_secret_the_json_encoder_escapes_is_still_masked() -> None:
    secret = 'pa"ss\\wörd-77'
    register_secret(secret)
    stream = capture("json")
    logging.getLogger("monitor").info("password is %s", secret)
    (line,) = lines(stream)
    assert json.loads(line)["message"] == f"password is {MASK}"


def test_short_values_are_not_registered() -> None:
    register_secret("")
    register_secret("abc12")
    stream = capture("text")
    logging.getLogger("monitor").info("abc12 is not a secret")
    assert "abc12 is not a secret" in stream.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
def test_credential_shapes_are_masked_without_registration(fmt: str) -> None:
    stream = capture(fmt)
    log = logging.getLogger("monitor")
    log.info("webhook https://hooks.slack.com/services/T0AAA1111/B0BBB2222/abcDEF123ghiJKL456")
    log.info("bot token xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")
    log.warning("store down: postgresql+psycopg://monitor:Tr0ub4dor&3@db.internal:5432/monitor")

    output = stream.getvalue()
    for leaked in ("T0AAA1111", "abcDEF123ghiJKL456", "AbCdEfGhIjKlMnOpQrStUvWx", "Tr0ub4dor"):
        assert leaked not in output
    assert f"https://hooks.slack.com/services/{MASK}" in output
    assert f"xoxb-{MASK}" in output
    assert "postgresql+psycopg://monitor:***@db.internal:5432/monitor" in output


def test_redact_leaves_ordinary_urls_alone() -> None:
    for text in (
        "https://example.com:8080/feeds/rss.xml",
        "http://host:8080/path@anchor",
        "https://user@example.com/feed",
    ):
        assert redact(text) == text


def test_calling_setup_twice_gives_one_line_per_record() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    setup_logging("info", "json", stream)
    logging.getLogger("monitor").info("once")
    (line,) = lines(stream)
    assert json.loads(line)["message"] == "once"


def test_handlers_installed_by_others_are_kept() -> None:
    """pytest's caplog and an embedding application keep working after setup_logging."""
    theirs = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(theirs)
    setup_logging("info", "text", io.StringIO())
    assert theirs in logging.getLogger().handlers


def test_level_and_noisy_libraries() -> None:
    stream = capture("text", level="WARNING")
    logging.getLogger("monitor").info("hidden")
    logging.getLogger("monitor").warning("shown")
    assert [line.split(": ", 1)[1] for line in lines(stream)] == ["shown"]

    setup_logging("debug", "text", stream)
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING


def test_unknown_level_or_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log level"):
        setup_logging("verbose")
    with pytest.raises(ValueError, match="log format"):
        setup_logging("info", "xml")  # type: ignore[arg-type]


def test_default_stream_is_whatever_stderr_is_now(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("info")
    logging.getLogger("monitor").info("to stderr")
    assert "monitor: to stderr" in capsys.readouterr().err


def test_secrets_loaded_by_the_config_are_masked_from_then_on(tmp_path, monkeypatch):
    """The wiring, not the masking: a channel secret read from the environment or a file, and
    the database password, are registered as the config loads them."""
    from monitor.config import ChannelConfig, load_settings

    monkeypatch.setenv("TEST_WEBHOOK_SECRET", "hook-s3cret-from-env")
    (tmp_path / "token").write_text("xyz-file-token-0042\n")
    from_env = ChannelConfig(
        type="webhook", url="https://x.example/h", secret_env="TEST_WEBHOOK_SECRET"
    )
    from_file = ChannelConfig(type="slack", token_file=tmp_path / "token", channel="C1")
    assert from_env.resolve_secret("secret") == "hook-s3cret-from-env"
    assert from_file.resolve_secret("token") == "xyz-file-token-0042"
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+psycopg://monitor:db-pa55word@h/db")
    load_settings(None)
    line = "env hook-s3cret-from-env, file xyz-file-token-0042, bare password db-pa55word"
    assert redact(line) == f"env {MASK}, file {MASK}, bare password {MASK}"
