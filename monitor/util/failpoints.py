"""Named places where a test can make the daemon die as a crash would: SIGKILL, no cleanup.

``MONITOR_FAILPOINT=before-notify monitor run --once`` dies after new sources are stored and
before their outbox rows are written; ``before-send`` dies after the outbox rows are committed
and before any channel is called; ``after-send`` dies after a channel accepted a message and
before that is recorded; ``after-claim`` dies holding the leases of the feeds it just claimed.
The crash tests use them to show that a restart delivers everything, that a repeat carries the
same idempotency key, and that leases of a dead replica are taken over. Unset, a failpoint
costs one dict lookup.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    if os.environ.get("MONITOR_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
