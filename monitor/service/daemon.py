"""The long-running daemon: APScheduler ticks drive cycles until SIGTERM or Ctrl-C.

Each tick polls only the feeds that are due (their own interval and backoff live in the store),
so one tick job serves every feed; ``max_instances=1`` keeps a slow cycle from overlapping the
next, and ``coalesce`` folds missed ticks into one.

Stopping is bounded: a signal stops new work at once (no new feed is fetched, a body being
downloaded is dropped at its next chunk, no further send starts), the cycle stores what it
already has, and the daemon exits 0 within ``replica.shutdown_timeout``. Whatever was still in
flight then is abandoned, never half-written: every store write is a transaction, and an
abandoned feed or send is simply claimed again by the next start or by another replica.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from monitor.console import build_console
from monitor.errors import ConfigError
from monitor.service.cycle import Service
from monitor.service.retention import prune
from monitor.service.web import HealthServer
from monitor.store.claims import release_owners

log = logging.getLogger(__name__)
CLOSE_GRACE = 1.5  # seconds for closing connections after the shutdown timeout
SIGNAL_POLL = 0.1  # seconds: how soon the main thread notices a signal


def _exit_now(timeout: float) -> None:
    """The last resort of a bounded stop: no logging (its locks may be held), exit 0."""
    os.write(
        2, f"stop did not finish {timeout + CLOSE_GRACE:.1f}s after the signal: exiting\n".encode()
    )
    os._exit(0)


class Daemon:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.stopping = service.stopping
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._idle = threading.Event()  # no cycle in flight
        self._idle.set()
        self._received: str | None = None
        self._rules_error = ""  # the first problem of a rejected rule change, until one loads
        settings = service.settings.server
        self.console, self.console_problem = self._console()
        self.server = (
            HealthServer(
                settings.host,
                settings.port,
                service.metrics.registry,
                self.readiness,
                self.console,
            )
            if settings.enabled
            else None
        )

    def _console(self):
        """The analyst console, unless disabled; one bound beyond loopback without credentials
        is not served (the daemon still runs), and the reason is logged at start."""
        settings = self.service.settings
        if not (settings.server.enabled and settings.console.enabled):
            return None, ""
        service = self.service
        try:
            console = build_console(
                settings, service.store, lambda: service.matcher.rules, service.metrics.verdicts
            )
        except ConfigError as exc:
            return None, str(exc)
        return console, ""

    def readiness(self) -> dict[str, str]:
        checks = self.service.readiness()
        if self._rules_error and not checks.get("rules"):
            checks["rules"] = f"change rejected, the last good rules stay live: {self._rules_error}"
        checks["scheduler"] = "" if self.scheduler.running else "not running"
        if self.stopping.is_set():
            checks["scheduler"] = "stopping"
        return checks

    def _tick(self) -> None:
        if self.stopping.is_set():
            return
        self._idle.clear()
        try:
            self.service.cycle()
        except Exception:  # a failed cycle is logged and counted; the next tick tries again
            self.service.metrics.cycle_failures.inc()
            log.exception("cycle failed")
        finally:
            self._idle.set()

    def _check_rules(self) -> None:
        """Reload changed rules; a rejected change is made visible (/readyz, metrics), since
        the daemon goes on alerting on rules its authors believe replaced."""
        watcher = self.service.rule_watcher
        try:
            outcome = watcher.check()
        except Exception as exc:
            log.exception("checking the rule files failed; the current rules stay live")
            outcome, problem = False, f"{type(exc).__name__}: {exc}"
        else:
            problem = watcher.last_error.splitlines()[0] if watcher.last_error else ""
        if outcome is None:
            return
        metrics = self.service.metrics
        if outcome:
            self._rules_error = ""
            metrics.rules_reload_ok.set(1)
        else:
            self._rules_error = problem
            metrics.rules_reload_failures.inc()
            metrics.rules_reload_ok.set(0)

    def _prune(self) -> None:
        keep = self.service.settings.retention.articles
        try:
            report = prune(self.service.store, timedelta(seconds=keep))
            self.service.metrics.pruned.inc(report.articles)
        except Exception:
            log.exception("retention: pruning old articles failed; the next run tries again")

    def run(self) -> None:
        """Poll at once, then every tick, until a signal asks to stop."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        settings = self.service.settings
        self.service.start()
        if self.server is not None:
            try:
                self.server.start()
            except OSError as exc:
                self._close()
                where = f"{settings.server.host}:{settings.server.port}"
                raise SystemExit(
                    f"Error: cannot serve /healthz, /readyz and /metrics on {where}: "
                    f"{exc.strerror or exc}; set server.port (MONITOR_SERVER__PORT; 0 picks a "
                    "free port) or server.enabled: false"
                ) from None
            log.info("serving /healthz, /readyz and /metrics on %s", self.server.url)
            if self.console is not None:
                log.info("analyst console: %s/", self.server.url)
            elif self.console_problem:
                log.error("%s", self.console_problem)
        self._every("tick", self._tick, settings.tick, next_run_time=datetime.now().astimezone())
        self._every("rules", self._check_rules, settings.rules_reload)
        if settings.retention.articles:
            self._every("prune", self._prune, settings.retention.interval)
        self.scheduler.start()
        log.info(
            "daemon started: %d feed(s), tick every %ss, replica %s",
            len(settings.feeds),
            settings.tick,
            self.service.replica,
            extra={"replica": self.service.replica},
        )
        while self._received is None and not self.stopping.wait(SIGNAL_POLL):
            pass
        self.stopping.set()  # tells the cycle in flight, the poller and the sender
        self._stop(settings.replica.shutdown_timeout)

    def _every(self, name: str, job, seconds: float, **options) -> None:
        """A job every ``seconds``: a slow run never overlaps the next, and missed runs fold
        into one."""
        self.scheduler.add_job(
            job, "interval", seconds=seconds, max_instances=1, coalesce=True, id=name, **options
        )

    def _stop(self, timeout: float) -> None:
        log.info("received %s", self._received or "a stop request")
        log.info("stopping: finishing the cycle in flight (at most %.0fs)", timeout)
        # The bound holds even if closing hangs (a store that stopped answering mid-close).
        watchdog = threading.Timer(timeout + CLOSE_GRACE, _exit_now, args=(timeout,))
        watchdog.daemon = True
        watchdog.start()
        self.scheduler.shutdown(wait=False)  # no new job starts; the running one is told
        finished = self._idle.wait(timeout)
        if self.server is not None:
            self.server.stop()
        if not finished:
            # Threads stuck in a read cannot be interrupted: their transactions roll back at
            # exit, and what they hold is given back here, so nothing waits out a lease.
            log.warning("stopped with work still in flight after %.0fs; it will be redone", timeout)
            try:
                release_owners(self.service.store, [self.service.replica])
            except Exception:
                log.exception("could not give back this replica's leases")
            self._close()
            logging.shutdown()
            sys.stdout.flush()
            os._exit(0)
        self._close()
        log.info("stopped")

    def _close(self) -> None:
        try:
            self.service.close()
        except Exception:
            log.exception("closing the service failed")

    def _on_signal(self, signum: int, _frame) -> None:
        # A handler runs between two bytecodes of the main thread, which may be inside a
        # write to stderr, or hold a lock of the logging or threading modules (starting the
        # scheduler's threads, say): logging, setting an event or starting a thread from here
        # can raise or deadlock, and did. It only notes the signal; run() acts on it.
        self._received = signal.Signals(signum).name
