"""Slack against a real HTTP server on 127.0.0.1 that checks what Slack documents.

The stand-in rejects a payload outside Block Kit's limits with 400 ``invalid_blocks``, as
Slack does, and records every message that got through, so each test can say what arrived,
once and in order.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.delivery.channels.base import Message, NotifyError
from monitor.delivery.channels.slack import SlackNotifier
from monitor.delivery.channels.slack.render import escape, escape_code, render
from monitor.models import AlertView, CitationView
from monitor.store import Store
from monitor.store.slack_threads import SlackThreads
from tests.httpserver import LocalServer, Reply, Request

HOSTILE = "Ping <!channel> and <@U123>, see <https://evil|click> <script>alert(1)</script> & more"
WHEN = datetime(2019, 8, 2, 9, 40, tzinfo=UTC)

# Slack's documented limits (Block Kit reference: blocks, header, section, context).
BLOCK_TYPES = {"header", "section", "context", "divider"}


def citation(n: int, text: str = "", *, title: str = "", url: str = "", marks=None) -> CitationView:
    text = text or f"Russia issued {n} new work permits to North Korean workers."
    if marks is None:
        start = text.find("work permits")
        marks = [[start, start + len("work permits")]] if start >= 0 else []
    return CitationView(
        id=f"c{n}",
        source=f"Outlet {n}",
        title=title or f"Report number {n}",
        url=url or f"https://news.example/{n}",
        published=WHEN,
        fetched=WHEN,
        sentences=[{"field": "text", "text": text, "marks": marks}],
    )


def alert(
    citations: list[CitationView],
    *,
    rule: str = "dprk-overseas-labor",
    title: str = "New North Korean workers or work permits abroad",
    story: str = "st-1",
    severity: str = "high",
    headline: str = "Russia lets in thousands of North Korean workers",
) -> AlertView:
    return AlertView(
        id=f"al-{rule}-{story}",
        rule=rule,
        title=title,
        severity=severity,
        tags=["dprk"],
        story=story,
        headline=headline,
        rule_version="v1",
        revision=len(citations),
        created=WHEN,
        updated=WHEN,
        citations=citations,
    )


def message(alerts: list[AlertView], kind: str = "new", key: str = "k1", **kw) -> Message:
    return Message(
        key=key,
        channel=kw.pop("channel", "analysts"),
        kind=kind,
        story=kw.pop("story", alerts[0].story if kind != "digest" else ""),
        headline=alerts[0].headline,
        alerts=alerts,
        **kw,
    )


def problems(payload: dict) -> list[str]:
    """Everything in ``payload`` that Slack's documented message shape and limits forbid."""
    found = []
    blocks = payload.get("blocks")
    if not isinstance(payload.get("text"), str) or not payload["text"]:
        found.append("no top-level text (the notification fallback)")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return found + [f"blocks must be a list of 1..50, got {len(blocks or [])}"]
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            found.append(f"block {i}: unexpected type {kind!r}")
        if kind == "header":
            text = block["text"]
            if text["type"] != "plain_text" or not 1 <= len(text["text"]) <= 150:
                found.append(f"block {i}: header must be plain_text of 1..150 chars")
        if kind == "section":
            text = block["text"]
            if text["type"] not in ("mrkdwn", "plain_text") or not 1 <= len(text["text"]) <= 3000:
                found.append(f"block {i}: section text must be 1..3000 chars")
        if kind == "context":
            elements = block["elements"]
            if not 1 <= len(elements) <= 10:
                found.append(f"block {i}: context needs 1..10 elements")
            for element in elements:
                if len(element.get("text", "")) > 3000:
                    found.append(f"block {i}: context element over 3000 chars")
    return found


class FakeSlack:
    """Webhook and chat.postMessage endpoints with Slack's checks and scripted failures."""

    TOKEN = "xoxb-test-token"

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.arrived: list[dict] = []  # payloads accepted, in order
        self.rejected: list[list[str]] = []
        self.failures: list[Reply] = []  # answered, one per request, before accepting
        self.api_errors: list[str] = []  # bot mode: {"ok": false, "error": ...} answers
        server.handlers["/services/T000/B000/XXXX"] = self.webhook
        server.handlers["/api/chat.postMessage"] = self.post_message

    @property
    def webhook_url(self) -> str:
        return self.server.url("/services/T000/B000/XXXX")

    @property
    def api_base(self) -> str:
        return self.server.url("/api")

    def _check(self, request: Request) -> tuple[dict | None, Reply | None]:
        if self.failures:
            return None, self.failures.pop(0)
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return None, Reply(400, b"invalid_payload")
        payload = json.loads(request.body)
        found = problems(payload)
        if found:
            self.rejected.append(found)
            return None, Reply(400, b"invalid_blocks")
        return payload, None

    def webhook(self, request: Request) -> Reply:
        payload, reply = self._check(request)
        if reply:
            return reply
        self.arrived.append(payload)
        return Reply(200, b"ok", {"Content-Type": "text/plain"})

    def post_message(self, request: Request) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return _json({"ok": False, "error": "invalid_auth"})
        payload, reply = self._check(request)
        if reply:
            return reply
        if self.api_errors:
            return _json({"ok": False, "error": self.api_errors.pop(0)})
        self.arrived.append(payload)
        ts = f"1564738800.{len(self.arrived):06d}"
        return _json({"ok": True, "channel": "C0123", "ts": ts, "message": {"ts": ts}})


def _json(data: dict) -> Reply:
    return Reply(200, json.dumps(data).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with LocalServer() as server:
        yield FakeSlack(server)


def webhook_notifier(slack: FakeSlack) -> SlackNotifier:
    return SlackNotifier(webhook_url=slack.webhook_url, timeout=5)


def texts(payload: dict) -> list[str]:
    """Every text Slack would render from a payload."""
    out = [payload["text"]]
    for block in payload["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [e["text"] for e in block.get("elements", [])]
    return out


def test_new_message_layout_arrives_once(slack: FakeSlack) -> None:
    msg = message([alert([citation(1), citation(2)])])
    webhook_notifier(slack).send(msg)
    assert slack.rejected == []
    assert len(slack.arrived) == 1
    blocks = slack.arrived[0]["blocks"]
    assert blocks[0]["type"] == "header"
    assert "HIGH" in blocks[0]["text"]["text"]
    assert "New North Korean workers or work permits abroad" in blocks[0]["text"]["text"]
    assert "*Russia lets in thousands of North Korean workers*" in blocks[1]["text"]["text"]
    source = blocks[2]["text"]["text"]
    assert source.startswith("*Outlet 1* · <https://news.example/1|Report number 1> · 2019-08-02")
    assert "> Russia issued 1 new *work permits* to North Korean workers." in source
    assert blocks[-1]["type"] == "context"
    footer = blocks[-1]["elements"][0]["text"]
    assert "`dprk-overseas-labor`" in footer and "`st-1`" in footer
    assert slack.arrived[0]["text"].startswith("[HIGH] dprk-overseas-labor: Russia lets in")


def test_update_shows_only_fresh_sources(slack: FakeSlack) -> None:
    a = alert([citation(1), citation(2), citation(3)])
    msg = message([a], kind="update", new_sources={a.id: ["c3"]})
    webhook_notifier(slack).send(msg)
    body = "\n".join(texts(slack.arrived[0]))
    assert "Outlet 3" in body and "Outlet 1" not in body and "Outlet 2" not in body
    assert "Update" in slack.arrived[0]["blocks"][0]["text"]["text"]
    assert "1 new source" in body


def test_digest_lists_every_story(slack: FakeSlack) -> None:
    alerts = [
        alert([citation(1)], story="st-a", headline="First story"),
        alert([citation(2)], story="st-b", headline="Second story", severity="medium"),
    ]
    webhook_notifier(slack).send(message(alerts, kind="digest"))
    body = "\n".join(texts(slack.arrived[0]))
    assert "*First story*" in body and "*Second story*" in body
    assert "Digest: 2 stories" in slack.arrived[0]["blocks"][0]["text"]["text"]
    assert "`st-a`, `st-b`" in body


def test_hostile_article_text_arrives_as_literal_text(slack: FakeSlack) -> None:
    hostile = citation(
        1,
        HOSTILE + " @channel @here",
        title="<!here> <@U999|boss> title",
        url="javascript:alert(1)",
        marks=[],
    )
    a = alert([hostile], headline="<!channel> headline <https://evil|click>")
    webhook_notifier(slack).send(message([a]))
    for text in texts(slack.arrived[0]):
        for needle in ("<!channel", "<!here", "<@U", "<https://evil", "<script", "javascript:"):
            assert needle not in text
        assert "@channel" not in text and "@here" not in text
    body = "\n".join(texts(slack.arrived[0]))
    assert "&lt;!channel&gt;" in body
    assert "&lt;@U123&gt;" in body
    assert "&lt;https://evil|click&gt;" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in body
    assert "&lt;!here&gt; &lt;@U999|boss&gt; title" in body  # unlinked: the URL was not http(s)


def test_escape_rules() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("@channel hi @Here") == "@\u2060channel hi @\u2060Here"
    assert escape("mail@channels.example") == "mail@channels.example"


def test_article_text_cannot_restyle_the_message_and_ids_stay_copyable() -> None:
    hostile = "*URGENT* _read_ ~this~ `now`"
    msg = message(
        [alert([citation(1, f"{hostile}: workers sent.", title=hostile)], headline=hostile)]
    )
    payload = render(msg)[0]
    body = "\n".join(texts(payload))
    for mark in "*_~`":
        assert f"\u2060{mark}\u2060" in body  # every mark of the article's own is inert
    assert "*URGENT*" not in body and "_read_" not in body and "`now`" not in body
    assert "`dprk-overseas-labor`" in body  # our own code spans: the id exactly, nothing hidden
    assert escape("a*b") == "a\u2060*\u2060b" and escape_code("a_b") == "a_b"
    assert problems(payload) == []


def test_matched_terms_are_bold_and_adjacent_terms_merge() -> None:
    text = "Over 10,000 new North Korean workers registered in Russia."
    marks = [[12, 15], [16, 21], [22, 28], [29, 36], [51, 57]]
    msg = message([alert([citation(1, text, marks=marks)])])
    section = render(msg)[0]["blocks"][2]["text"]["text"]
    assert "> Over 10,000 *new North Korean workers* registered in *Russia*." in section


def test_long_message_is_split_within_limits_and_sent_in_order(slack: FakeSlack) -> None:
    long = "North Korean workers were issued new work permits in Russia, the paper said. " * 30
    cites = [citation(n, f"{n}: " + long.strip()) for n in range(1, 80)]
    msg = message([alert(cites, headline="H" * 400)])
    payloads = render(msg)
    assert len(payloads) > 1
    for payload in payloads:
        assert problems(payload) == []
    webhook_notifier(slack).send(msg)
    assert slack.rejected == []
    assert len(slack.arrived) == len(payloads)
    seen = [t for p in slack.arrived for t in texts(p) if t.startswith("*Outlet ")]
    numbers = [int(t.split()[1].rstrip("*")) for t in seen]
    assert numbers == list(range(1, 80))  # every source once, in order
    assert slack.arrived[1]["text"].endswith(f"(part 2 of {len(payloads)})")


def test_a_long_sentence_is_split_across_sections() -> None:
    sentences = [
        {"field": "text", "text": f"{i} " + "word " * 150 + "work permits.", "marks": []}
        for i in range(10)
    ]
    c = citation(1)
    c.sentences = sentences
    for payload in render(message([alert([c])])):
        assert problems(payload) == []


def test_header_stays_within_150_characters() -> None:
    alerts = [alert([citation(1)], rule=f"rule-{i}", title=f"{i}" * 60) for i in range(4)]
    header = render(message(alerts))[0]["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")


def test_429_is_retryable_with_retry_after(slack: FakeSlack) -> None:
    slack.failures.append(Reply(429, b"rate_limited", {"Retry-After": "7"}))
    notifier = webhook_notifier(slack)
    msg = message([alert([citation(1)])])
    with pytest.raises(NotifyError) as caught:
        notifier.send(msg)
    assert caught.value.retryable and caught.value.retry_after == 7
    assert slack.arrived == []
    notifier.send(msg)  # the outbox retries later
    assert len(slack.arrived) == 1


def test_500_is_retryable(slack: FakeSlack) -> None:
    slack.failures.append(Reply(500, b"oops"))
    with pytest.raises(NotifyError) as caught:
        webhook_notifier(slack).send(message([alert([citation(1)])]))
    assert caught.value.retryable and "500" in str(caught.value)


def test_400_is_permanent_with_slacks_own_words(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.failures.append(Reply(400, b"invalid_blocks"))
    with caplog.at_level(logging.ERROR), pytest.raises(NotifyError) as caught:
        webhook_notifier(slack).send(message([alert([citation(1)])]))
    assert not caught.value.retryable
    assert "invalid_blocks" in str(caught.value) and "invalid_blocks" in caplog.text
    assert "XXXX" not in str(caught.value) and "XXXX" not in caplog.text  # the URL is a secret


def test_network_error_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    notifier = SlackNotifier(webhook_url=f"http://127.0.0.1:{port}/hook", timeout=2)
    with pytest.raises(NotifyError) as caught:
        notifier.send(message([alert([citation(1)])]))
    assert caught.value.retryable


def test_failure_mid_split_resends_only_the_rest(slack: FakeSlack) -> None:
    long = "North Korean workers were issued new work permits in Russia. " * 40
    msg = message([alert([citation(n, long.strip()) for n in range(60)])])
    parts = render(msg)
    assert len(parts) >= 3
    slack.server.handlers["/services/T000/B000/XXXX"] = _fail_second(slack)
    notifier = webhook_notifier(slack)
    with pytest.raises(NotifyError):
        notifier.send(msg)
    assert len(slack.arrived) == 1
    notifier.send(msg)
    assert [p["text"] for p in slack.arrived] == [p["text"] for p in parts]


def _fail_second(slack: FakeSlack):
    calls = {"n": 0}

    def handler(request: Request) -> Reply:
        calls["n"] += 1
        if calls["n"] == 2:
            return Reply(503, b"try later")
        return slack.webhook(request)

    return handler


def bot(slack: FakeSlack, store: Store | None = None, **kw) -> SlackNotifier:
    return SlackNotifier(
        token=kw.pop("token", FakeSlack.TOKEN),
        channel="#sanctions",
        api_base=slack.api_base,
        timeout=5,
        threads=SlackThreads(store) if store else None,
        **kw,
    )


def test_bot_mode_threads_follow_ups_across_restarts(slack: FakeSlack, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'slack.db'}")
    a = alert([citation(1)])
    bot(slack, store).send(message([a], key="new"))
    a2 = alert([citation(1), citation(2)])
    bot(slack, store).send(message([a2], kind="update", key="upd", new_sources={a2.id: ["c2"]}))
    first, reply = slack.arrived
    assert "thread_ts" not in first and first["channel"] == "#sanctions"
    assert reply["thread_ts"] == "1564738800.000001"
    assert first["unfurl_links"] is False
    store.close()


def test_bot_mode_split_parts_go_in_the_thread(slack: FakeSlack) -> None:
    long = "North Korean workers were issued new work permits in Russia. " * 40
    msg = message([alert([citation(n, long.strip()) for n in range(60)])])
    bot(slack).send(msg)
    assert len(slack.arrived) > 1
    assert "thread_ts" not in slack.arrived[0]
    assert {p["thread_ts"] for p in slack.arrived[1:]} == {"1564738800.000001"}


def test_bot_mode_errors(slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    msg = message([alert([citation(1)])])
    slack.api_errors.append("ratelimited")
    with pytest.raises(NotifyError) as caught:
        bot(slack).send(msg)
    assert caught.value.retryable
    slack.api_errors.append("channel_not_found")
    with caplog.at_level(logging.ERROR), pytest.raises(NotifyError) as caught:
        bot(slack).send(msg)
    assert not caught.value.retryable and "channel_not_found" in caplog.text
    with pytest.raises(NotifyError) as caught:
        bot(slack, token="xoxb-wrong").send(msg)
    assert not caught.value.retryable and "invalid_auth" in str(caught.value)
    assert "xoxb-wrong" not in str(caught.value)
    assert slack.arrived == []


def test_two_rules_citing_two_reports_count_two_sources(slack: FakeSlack) -> None:
    """A story two rules matched lists each report under each rule, but it has two sources."""
    labor = alert([citation(1), citation(2)])
    oil = alert([citation(1), citation(2)], rule="dprk-oil-transfer", title="Oil transfer")
    webhook_notifier(slack).send(message([labor, oil]))
    body = "\n".join(texts(slack.arrived[0]))
    assert "2 sources" in body and "4 sources" not in body
    same_outlet = dataclasses.replace(citation(3), source="Outlet 1")
    webhook_notifier(slack).send(message([alert([citation(1), same_outlet])], key="k2"))
    assert "2 sources from 1 outlet" in "\n".join(texts(slack.arrived[1]))
