"""The console's transport: a stream, standard output unless one is given.

Under ``log_format: json`` (or ``--log-format json``) a message is one JSON object on one line,
the webhook's body, so a log collector reading the daemon's output gets alerts it can parse
rather than blocks of text between its JSON log lines.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from monitor.delivery.channels.base import Message
from monitor.delivery.channels.console.render import message_text
from monitor.delivery.render import message_json
from monitor.service.logs import current_format


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None, fmt: str | None = None) -> None:
        self.stream = stream
        self.fmt = fmt  # "text" | "json"; None follows the logging format

    def send(self, message: Message) -> None:
        stream = self.stream or sys.stdout
        if (self.fmt or current_format()) == "json":
            line = {"type": "alert", "channel": message.channel, **message_json(message)}
            stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        else:
            stream.write(message_text(message) + "\n\n")
        stream.flush()
