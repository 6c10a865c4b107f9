"""What every channel implements, so that retry and the outbox need not know Slack from SMTP."""

from __future__ import annotations

from typing import Protocol

from monitor.models import AlertView


class NotifyError(RuntimeError):
    """A send that failed; ``retryable`` says whether trying again later can help."""

    def __init__(self, message: str, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Notifier(Protocol):
    def notify(self, alert: AlertView, kind: str, key: str) -> None:
        """Send one alert; ``kind`` is "new" or "update"; ``key`` is the idempotency key."""
