"""The long-running daemon: APScheduler ticks drive cycles until SIGTERM or Ctrl-C.

Each tick polls only the feeds that are due (their own interval and backoff live in the store),
so one tick job serves every feed; ``max_instances=1`` keeps a slow cycle from overlapping the
next, and ``coalesce`` folds missed ticks into one.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from monitor.service import Service

log = logging.getLogger(__name__)


class Daemon:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(timezone="UTC")

    def _tick(self) -> None:
        if self.stopping.is_set():
            return
        try:
            self.service.cycle()
        except Exception:  # a failed cycle is logged; the next tick tries again
            log.exception("cycle failed")

    def _check_rules(self) -> None:
        try:
            self.service.rule_watcher.check()
        except Exception:
            log.exception("checking the rule files failed; the current rules stay live")

    def run(self) -> None:
        """Poll at once, then every tick, until a signal asks to stop."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.service.settings.tick,
            next_run_time=datetime.now().astimezone(),
            max_instances=1,
            coalesce=True,
            id="tick",
        )
        self.scheduler.add_job(
            self._check_rules,
            "interval",
            seconds=self.service.settings.rules_reload,
            max_instances=1,
            coalesce=True,
            id="rules",
        )
        self.scheduler.start()
        log.info(
            "daemon started: %d feed(s), tick every %ss",
            len(self.service.settings.feeds),
            self.service.settings.tick,
        )
        self.stopping.wait()
        log.info("stopping: finishing the cycle in flight")
        self.scheduler.shutdown(wait=True)
        self.service.close()
        log.info("stopped")

    def _on_signal(self, signum: int, _frame) -> None:
        log.info("received %s", signal.Signals(signum).name)
        self.stopping.set()
