"""Politeness per host: at most ``http.per_host`` requests at once to one host, whatever the
number of polling threads, feeds and linked pages waiting for it."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from urllib.parse import urlsplit


class HostLimits:
    """One semaphore a host, made on first use and shared by every thread of a poller."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._hosts: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def slot(self, url: str) -> AbstractContextManager[object]:
        """Held while fetching ``url``; a no-op for a file, which has no host to spare."""
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            return nullcontext()
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = threading.Semaphore(self.per_host)
            return self._hosts[host]
