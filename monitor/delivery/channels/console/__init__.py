"""Console: messages printed for a person watching the daemon; no settings.

``render`` the text, ``transport`` the writing.
"""

from monitor.delivery.channels.console.transport import ConsoleNotifier

__all__ = ["ConsoleNotifier"]
