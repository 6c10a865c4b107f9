"""The daemon's commands: ``run``, ``status`` and ``healthcheck``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.cli.context import DB_OPTION, Context, open_service
from monitor.detect.rules import Matcher, load_rules
from monitor.errors import ConfigError, FeedError, RuleError
from monitor.service.web import probe
from monitor.store import Store


def startup_rules(path: Path, allow_empty: bool) -> Matcher:
    """The rule set a daemon starts on, or one line saying why it must not start: a pack with
    problems, or no rules at all, would run a monitor that never alerts."""
    source = load_rules(path)
    if source.problems:
        more = f" (and {len(source.problems) - 1} more)" if len(source.problems) > 1 else ""
        raise RuleError(
            f"the rules under {path} have {len(source.problems)} problem(s), not starting: "
            f"{source.problems[0]}{more}; `monitor rules validate` lists them"
        )
    if not source.rules and not allow_empty:
        raise RuleError(
            f"no rules under {path}, not starting: a monitor without rules never alerts "
            "(set rules_dir, or pass --allow-empty-rules)"
        )
    return Matcher(source.rules)


@click.command()
@click.option("--once", is_flag=True, help="Run one full cycle (poll every feed), then exit.")
@click.option(
    "--allow-empty-rules",
    is_flag=True,
    help="Start even with no rules (e.g. to collect articles before the rules are written).",
)
@click.pass_obj
def run(ctx: Context, once: bool, allow_empty_rules: bool) -> None:
    """Run the daemon: poll at start, then on schedule, until SIGTERM or Ctrl-C.

    Exits 1 if any feed was polled and every one failed (with --once), or if the rules have
    problems or there are none (unless --allow-empty-rules).

    \b
    Example:
        monitor run --once
        MONITOR_DATABASE_URL=sqlite:///data/prod.db monitor -c config/monitor.yaml run
    """
    matcher = startup_rules(ctx.settings.rules_dir, allow_empty_rules)
    service = open_service(ctx, matcher=matcher)
    if once:
        try:
            service.start()
            report = service.cycle(force=True)
        finally:
            service.close()
        click.echo(report.summary(), err=True)
        if report.feeds and report.failed_feeds == report.feeds:
            raise FeedError(f"every feed polled ({report.feeds}) failed: see `monitor feeds list`")
        return
    from monitor.service.daemon import Daemon

    Daemon(service).run()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="The status as one JSON object.")
@DB_OPTION
@click.pass_obj
def status(ctx: Context, as_json: bool, db: str | None) -> None:
    """The deployment as the store sees it: daemon lives (running, stopped, gone), the
    leases each holds, feeds failing, and the outbox; and whether the rule files load.

    \b
    Example:
        monitor status --db postgresql+psycopg://monitor@db.internal/monitor
    """
    from monitor.service.replicas import silent_after
    from monitor.service.status import rules_health, status_lines, store_status

    settings = ctx.settings
    store = Store(db or settings.database_url, create=False)
    try:
        found = store_status(store, silent_after(settings.tick))
    finally:
        store.close()
    found.rules = rules_health(settings.rules_dir)
    if as_json:
        click.echo(json.dumps(found.to_json()))
    else:
        click.echo("\n".join(status_lines(found)))


@click.command()
@click.option("--url", help="What to ask [default: /healthz on the config's server port].")
@click.option("--timeout", default=3.0, show_default=True, help="Seconds to wait.")
@click.pass_obj
def healthcheck(ctx: Context, url: str | None, timeout: float) -> None:
    """Exit 0 if the daemon's /healthz answers, else 1: the container's HEALTHCHECK.

    \b
    Example:
        monitor healthcheck --url http://127.0.0.1:8080/readyz
    """
    if url is None:
        port = ctx.settings.server.port
        if port == 0:
            raise ConfigError(
                "server.port is 0 (a free port picked at start), so the daemon's port cannot "
                "be known here: give --url, or set server.port"
            )
        url = f"http://127.0.0.1:{port}/healthz"
    ok, why = probe(url, timeout)
    if not ok:
        click.echo(f"unhealthy: {url}: {why}", err=True)
        sys.exit(1)
