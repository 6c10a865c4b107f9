"""One family for the mistakes and outages a user can do something about.

Everything a command can fail on that is not a bug in monitor (a config file that does not
parse, a rule with a typo, a feed that is not a feed, a store that cannot be reached, a channel
that refuses) raises a :class:`MonitorError`. The command line turns each family into one line
and an exit code in one place (``monitor.cli``), so no new command has to remember to catch
them, and anything else that escapes is a bug worth its traceback.

The families keep the older standard bases (``ValueError``, ``RuntimeError``) so code that
caught those before still does.
"""

from __future__ import annotations


class MonitorError(Exception):
    """A problem the user can fix or wait out; the message is shown as it is.

    Every family exits 1, as click's own errors about a command's use exit 2: a script needs
    to tell "it failed" from "it was called wrong", and the message says the rest.
    """

    label = "error"
    exit_code = 1


class ConfigError(MonitorError, ValueError):
    """The config file or environment does not hold valid settings."""

    label = "config"


class RuleError(MonitorError, ValueError):
    """A rule pack is empty or has problems; the message lists them as file:line:col."""

    label = "rules"


class FeedError(MonitorError):
    """A feed could not be fetched, parsed or added."""

    label = "feed"


class StoreError(MonitorError, RuntimeError):
    """The store cannot be opened, reached or written."""

    label = "store"


class DeliveryError(MonitorError, RuntimeError):
    """A channel could not be built or refused a message.

    ``retryable`` says whether trying again later can help (a 5xx, a timeout, a missing secret
    an operator can set) or not (a 4xx that will fail the same way); ``retry_after`` (seconds)
    is the channel's own word on when, such as Slack's ``Retry-After``. The retry stage reads
    only these two, so it needs no knowledge of any channel.
    """

    label = "delivery"

    def __init__(
        self, message: str, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
