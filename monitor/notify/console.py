"""The console channel: alerts printed for a person watching the daemon."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.models import AlertView
from monitor.notify.render import alert_text


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def notify(self, alert: AlertView, kind: str, key: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(alert_text(alert, kind) + "\n\n")
        stream.flush()
