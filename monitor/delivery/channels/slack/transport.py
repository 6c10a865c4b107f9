"""Slack's transport: an incoming webhook or the bot API, follow-ups as thread replies.

A message split into several payloads is sent part by part; the parts already sent are
remembered, so a retry after a failure in the middle sends only the rest. In bot mode the first
message of a story names its thread (``ts``), kept in a :class:`ThreadStore` (the store's
``slack_threads`` table, given by whoever builds the notifier) so replies survive a restart.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import httpx

from monitor.delivery.channels.base import Message, NotifyError
from monitor.delivery.channels.httppost import make_client, post
from monitor.delivery.channels.slack.render import render

log = logging.getLogger("monitor.delivery.channels.slack")

DEFAULT_API = "https://slack.com/api"
# Slack errors in an HTTP 200 answer that mean "try again later", not "fix your config".
RETRYABLE_API_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class ThreadStore(Protocol):
    def get(self, channel: str, story: str) -> str | None: ...

    def remember(self, channel: str, story: str, ts: str) -> None: ...


class MemoryThreads:
    """Threads kept for the life of the process, when no store is given."""

    def __init__(self) -> None:
        self._ts: dict[tuple[str, str], str] = {}

    def get(self, channel: str, story: str) -> str | None:
        return self._ts.get((channel, story))

    def remember(self, channel: str, story: str, ts: str) -> None:
        self._ts.setdefault((channel, story), ts)


class SlackNotifier:
    """Sends to Slack by incoming webhook (``webhook_url``) or bot token (``token`` +
    ``channel``); only bot mode can thread follow-ups, since a webhook gets no ``ts`` back."""

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        token: str | None = None,
        channel: str | None = None,
        api_base: str = DEFAULT_API,
        timeout: float = 10.0,
        threads: ThreadStore | None = None,
        name: str = "slack",
        client: httpx.Client | None = None,
    ) -> None:
        if bool(webhook_url) == bool(token):
            raise ValueError("give exactly one of webhook_url or token")
        if token and not channel:
            raise ValueError("bot token mode needs a channel")
        self.webhook_url = webhook_url
        self.token = token
        self.channel = channel or ""
        self.api_base = api_base.rstrip("/")
        self.name = name
        self.client = client or make_client(timeout)
        # Bot mode threads follow-ups; given the store's table they survive a restart.
        self.threads: ThreadStore = threads or MemoryThreads()
        self._sent: dict[str, list[str]] = {}  # message key -> ts (or "") of the parts sent

    def __repr__(self) -> str:
        mode = f"bot, channel {self.channel!r}" if self.token else "incoming webhook"
        return f"SlackNotifier({self.name!r}, {mode})"

    def send(self, message: Message) -> None:
        payloads = render(message)
        done = self._sent.setdefault(message.key, [])
        root = None
        if self.token and message.kind == "update" and message.thread:
            root = self.threads.get(self.channel, message.thread)
        for n, payload in enumerate(payloads):
            if n < len(done):
                root = root or done[0] or None
                continue
            what = f"slack channel {self.name!r}: message {message.key} part {n + 1}"
            if self.token:
                ts = self._post_api(payload, root, what)
                if root is None:
                    root = ts
                    if message.thread and message.kind != "digest":
                        self.threads.remember(self.channel, message.thread, ts)
            else:
                self._post_webhook(payload, what)
                ts = ""
            done.append(ts)
        self._sent.pop(message.key, None)

    def _post_webhook(self, payload: dict[str, Any], what: str) -> None:
        body = {**payload, "unfurl_links": False, "unfurl_media": False}
        post(
            self.client,
            self.webhook_url or "",
            what=what,
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            secrets=[self.webhook_url],
        )

    def _post_api(self, payload: dict[str, Any], thread_ts: str | None, what: str) -> str:
        body = {**payload, "channel": self.channel, "unfurl_links": False, "unfurl_media": False}
        if thread_ts:
            body["thread_ts"] = thread_ts
        response = post(
            self.client,
            f"{self.api_base}/chat.postMessage",
            what=what,
            content=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.token}",
            },
            secrets=[self.token],
        )
        try:
            data = response.json()
        except ValueError:
            raise NotifyError(f"{what}: Slack answered with no JSON", retryable=True) from None
        if not data.get("ok"):
            error = str(data.get("error") or "unknown error")
            detail = "; ".join(map(str, data.get("response_metadata", {}).get("messages", [])))
            text = f"{what}: Slack error {error}" + (f" ({detail})" if detail else "")
            if error in RETRYABLE_API_ERRORS:
                raise NotifyError(text, retryable=True)
            log.error("%s", text)
            raise NotifyError(text, retryable=False)
        return str(data.get("ts") or "")

    def close(self) -> None:
        self.client.close()
