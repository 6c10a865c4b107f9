"""The console's transport: a stream, standard output unless one is given."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.delivery.channels.base import Message
from monitor.delivery.channels.console.render import message_text


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: Message) -> None:
        stream = self.stream or sys.stdout
        stream.write(message_text(message) + "\n\n")
        stream.flush()
