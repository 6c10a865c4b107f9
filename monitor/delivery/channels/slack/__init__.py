"""Slack: Block Kit messages by incoming webhook or bot token, follow-ups as thread replies.

``config`` its settings, ``render`` the Block Kit payloads, ``transport`` the posting.
"""

from monitor.delivery.channels.slack.transport import SlackNotifier

__all__ = ["SlackNotifier"]
