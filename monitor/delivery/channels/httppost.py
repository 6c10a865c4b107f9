"""One HTTP POST to a channel, with the answer sorted into sent, retry later, or give up.

Slack and generic webhooks fail the same ways, so they share the policy: 429 is retryable and
honours ``Retry-After``; 5xx, timeouts and network errors are retryable; any other 4xx is a
permanent error whose text is the server's own (an operator must fix the config). The URL is
never put in an error, since an incoming-webhook URL is itself a secret.
"""

from __future__ import annotations

import json
import logging

import httpx

from monitor.delivery.channels.base import NotifyError
from monitor.delivery.channels.markup import redact, truncate
from monitor.ingest.html import html_to_text
from monitor.util.retry_after import retry_after_seconds

log = logging.getLogger(__name__)


def make_client(timeout: float) -> httpx.Client:
    """A client that follows no redirects: a webhook that moved is a config error to see."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=False,
        headers={"User-Agent": "sanctions-monitor notifier"},
    )


def error_text(response: httpx.Response) -> str:
    """The server's own word on what went wrong: JSON ``error``/``message``, else the body."""
    body = response.text.strip()
    if body.startswith("<") or "html" in response.headers.get("content-type", "").lower():
        # An error page (a proxy's, a framework's) is markup around a sentence or two: its
        # text, on one line, is what a log line or `alerts list` can show.
        body = " ".join(html_to_text(body).split())
    try:
        data = json.loads(body)
    except ValueError:
        return truncate(body, 300) or response.reason_phrase
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            if data.get(key):
                detail = str(data[key])
                meta = data.get("response_metadata", {}).get("messages")
                return f"{detail} ({'; '.join(map(str, meta))})" if meta else detail
    return truncate(body, 300)


def post(
    client: httpx.Client,
    url: str,
    *,
    what: str,
    content: bytes,
    headers: dict[str, str],
    secrets: list[str | None],
) -> httpx.Response:
    """POST ``content``; return a 2xx response or raise :class:`NotifyError`."""
    try:
        response = client.post(url, content=content, headers=headers)
    except httpx.TimeoutException as exc:
        raise NotifyError(f"{what}: timed out ({type(exc).__name__})", retryable=True) from None
    except httpx.HTTPError as exc:
        text = redact(str(exc), [*secrets, url]) or type(exc).__name__
        raise NotifyError(f"{what}: network error: {text}", retryable=True) from None
    status = response.status_code
    if status < 300:
        return response
    detail = redact(error_text(response), [*secrets, url])
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise NotifyError(
            f"{what}: rate limited (429), retry after {wait if wait is not None else '?'} s",
            retryable=True,
            retry_after=wait,
        )
    if status >= 500:
        raise NotifyError(f"{what}: server error {status}: {detail}", retryable=True)
    log.error("%s: rejected with %s: %s", what, status, detail)
    raise NotifyError(f"{what}: rejected with {status}: {detail}", retryable=False)
