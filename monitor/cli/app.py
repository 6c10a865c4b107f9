"""The ``monitor`` command line."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from monitor import __version__
from monitor.alerting.alerts import list_alert_ids, load_alert
from monitor.alerting.silences import active_silences, add_silence
from monitor.cli.channels import channels
from monitor.cli.db import db as db_group
from monitor.cli.db import quiet_migrations
from monitor.cli.feeds import feeds
from monitor.config import (
    DEFAULT_CONFIG,
    Settings,
    config_path,
    load_settings,
    sqlite_relative_to,
)
from monitor.delivery.outbox import deliveries
from monitor.delivery.render import alert_text
from monitor.detect.rules import Matcher, Rule, load_rules
from monitor.detect.rules.backtest import backtest, story_headlines
from monitor.detect.rules.examples import run_examples
from monitor.detect.rules.explain import explain
from monitor.detect.rules.model import SEVERITIES
from monitor.detect.rules.parse import RulesError, did_you_mean, valid_rules
from monitor.detect.rules.schema import rule_schema
from monitor.errors import ConfigError, FeedError, MonitorError, RuleError, StoreError
from monitor.ingest.health import RULE_ID as HEALTH_RULE
from monitor.models import AlertView
from monitor.service.cycle import Service
from monitor.service.logs import setup_logging
from monitor.service.replay import ReplayError, read_articles
from monitor.service.web import probe
from monitor.store import Store
from monitor.store.db import shown_url, store_problem
from monitor.store.tables import SilenceRow, utcnow
from monitor.util.durations import parse_duration

RULES_OPTION = click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, path_type=Path),
    help="Rules folder or file [default: the config's rules_dir].",
)


log = logging.getLogger("monitor")


class Context:
    def __init__(self, config: Path | None, log_level: str, log_format: str | None) -> None:
        self.config_path = config
        self.log_level = log_level
        self.log_format = log_format  # given on the command line: it wins over the config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            found = config_path(self.config_path)
            self._settings = load_settings(found)  # a ConfigError is shown by MonitorGroup
            if self.log_format is None and self._settings.log_format == "json":
                setup_logging(self.log_level, "json")
            if found is None:
                self._no_config_file(self._settings)
        return self._settings

    @staticmethod
    def _no_config_file(settings: Settings) -> None:
        """Say which defaults a command runs on: without this, a command run from the wrong
        folder looks like an empty store or a missing rule pack."""
        store = sqlite_relative_to(settings.database_url, Path.cwd())
        log.warning(
            "no config file (no --config, $MONITOR_CONFIG unset, no %s here): using the "
            "built-in defaults: store %s, rules %s",
            DEFAULT_CONFIG,
            shown_url(store),
            settings.rules_dir,
        )


class MonitorGroup(click.Group):
    """The root command: the one place a user's error becomes one line and an exit code.

    Every :class:`~monitor.errors.MonitorError` (a bad config, a rule pack with problems, a
    store that cannot be opened, ...) and any database error a command meets is printed as
    ``Error: <message>``; ``--log-level debug`` logs the traceback as well.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except MonitorError as exc:
            raise _user_error(exc) from None
        except SQLAlchemyError as exc:
            raise _user_error(StoreError(f"store: {store_problem(exc)}")) from None


def _user_error(exc: MonitorError) -> click.ClickException:
    log.debug("%s error", exc.label, exc_info=exc)
    error = click.ClickException(str(exc))
    error.exit_code = exc.exit_code
    return error


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="monitor")
@click.option(
    "--config",
    "-c",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file [default: $MONITOR_CONFIG, else config/monitor.yaml if present].",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="Log lines as readable text or one JSON object each [default: the config's "
    "log_format, else text].",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None, log_level: str, log_format: str | None) -> None:
    """Watch news feeds for reports of sanctions violations; one alert per story."""
    # Text until the settings say otherwise (log_format, MONITOR_LOG_FORMAT): see Context.
    setup_logging(log_level, "json" if log_format == "json" else "text")
    ctx.obj = Context(config, log_level, log_format)


def _service(ctx: Context, **kwargs) -> Service:
    try:
        return Service(ctx.settings, **kwargs)
    except StoreError as exc:
        log.error("%s", exc)  # the daemon's log is where an operator looks first
        raise
    except SQLAlchemyError as exc:
        url = shown_url(ctx.settings.database_url)
        first = store_problem(exc)
        log.error("cannot open the store at %s: %s", url, first)
        raise StoreError(f"cannot open the store at {url}: {first}") from None


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


@cli.command()
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
    service = _service(ctx, matcher=matcher)
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


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The status as one JSON object.")
@click.option("--db", help="Store URL [default: the config's database_url].")
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


@cli.command()
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


def _print_alerts(alerts: list[AlertView], as_json: bool) -> None:
    for alert in alerts:
        if as_json:
            click.echo(json.dumps(alert.to_json(), ensure_ascii=False))
        else:
            click.echo(alert_text(alert) + "\n")


@cli.command()
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON alert per line.")
@click.option("--db", help="Store URL to replay into [default: a throwaway store].")
@RULES_OPTION
@click.pass_obj
def replay(
    ctx: Context, paths: tuple[Path, ...], as_json: bool, db: str | None, rules_path: Path | None
) -> None:
    """Feed articles from files through the pipeline, with no network.

    PATH is a .jsonl file (one article a line: id, url, source, title, text, published; all
    but text optional) or a plain text file (one article). Prints the alerts this run created
    or changed, in their final state. Nothing is sent to channels.

    \b
    Example:
        monitor replay seeds/000_242d7a5f3177ae72.txt seeds/001_88587132881443e9.txt
        monitor replay --json --db sqlite:///data/replay.db articles.jsonl
    """
    try:
        articles = [a for path in paths for a in read_articles(path)]
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from None
    matcher = Matcher(_valid_rules(rules_path or ctx.settings.rules_dir))
    with tempfile.TemporaryDirectory(prefix="monitor-replay-") as tmp:
        with quiet_migrations():
            store = Store(db or f"sqlite:///{tmp}/replay.db")
        try:
            service = Service(ctx.settings, store=store, notifiers={}, matcher=matcher)
            result = service.pipeline.ingest(articles)
            with store.session() as session:
                alerts = [load_alert(session, a) for a in result.changed_alerts]
            _print_alerts([a for a in alerts if a is not None], as_json)
            click.echo(
                f"replayed {len(articles)} article(s): {result.new} new, "
                f"{result.duplicates} seen before, {len(result.changed_alerts)} alert(s) changed",
                err=True,
            )
        finally:
            store.close()


def _valid_rules(path: Path) -> list[Rule]:
    """The rules under ``path``, or a clean exit listing every problem as file:line:col."""
    try:
        return valid_rules(path)
    except RulesError as exc:
        raise click.ClickException(str(exc)) from None


@cli.group()
def alerts() -> None:
    """Stored alerts."""


def _delivery_line(d: dict) -> str:
    tries = f"{d['attempts']} attempt(s)"
    error = f", last error: {d['last_error']}" if d["last_error"] else ""
    retry = f", next try {d['next_attempt']}" if d["next_attempt"] else ""
    return f"  Delivery: {d['channel']} {d['kind']} {d['state']} ({tries}{retry}{error})"


def _show_alerts(db: str, alert_ids: list[str] | None, as_json: bool, **filters: Any) -> int:
    store = Store(db, create=False)
    try:
        with store.session() as session:
            ids = list_alert_ids(session, **filters) if alert_ids is None else alert_ids
            shown = 0
            for alert_id in ids:
                view = load_alert(session, alert_id)
                if view is None:
                    continue
                shown += 1
                sent = deliveries(session, view)
                if as_json:
                    click.echo(
                        json.dumps({**view.to_json(), "deliveries": sent}, ensure_ascii=False)
                    )
                else:
                    click.echo("\n".join([alert_text(view), *map(_delivery_line, sent)]) + "\n")
    finally:
        store.close()
    return shown


@alerts.command("list")
@click.option("--rule", "rules", multiple=True, help="Only this rule's alerts (repeatable).")
@click.option(
    "--severity",
    type=click.Choice(SEVERITIES),
    help="Only alerts of this severity or higher.",
)
@click.option("--since", help="Only alerts created or updated this recently, e.g. 12h, 7d.")
@click.option("--story", "stories", multiple=True, help="Only this story's alerts (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N alerts.")
@click.option("--json", "as_json", is_flag=True, help="One JSON alert per line.")
@click.option("--db", help="Store URL [default: the config's database_url].")
@click.pass_obj
def alerts_list(
    ctx: Context,
    rules: tuple[str, ...],
    severity: str | None,
    since: str | None,
    stories: tuple[str, ...],
    limit: int | None,
    as_json: bool,
    db: str | None,
) -> None:
    """List stored alerts, oldest first, with their citations and deliveries (a failed
    delivery shows its last error).

    \b
    Example:
        monitor alerts list --severity high --since 24h
        monitor alerts list --rule dprk-oil-transfer --limit 5 --json
    """
    cutoff = None
    if since is not None:
        try:
            cutoff = utcnow() - parse_duration(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    severities = SEVERITIES[SEVERITIES.index(severity) :] if severity else ()
    _show_alerts(
        db or ctx.settings.database_url,
        None,
        as_json,
        rules=rules,
        severities=severities,
        stories=stories,
        since=cutoff,
        limit=limit,
    )


@alerts.command("show")
@click.argument("alert_id")
@click.option("--json", "as_json", is_flag=True, help="The alert as one JSON object.")
@click.option("--db", help="Store URL [default: the config's database_url].")
@click.pass_obj
def alerts_show(ctx: Context, alert_id: str, as_json: bool, db: str | None) -> None:
    """One alert: its citations with the rule version that matched, and every delivery with
    its attempts.

    \b
    Example:
        monitor alerts show al-1eb063c135
    """
    if not _show_alerts(db or ctx.settings.database_url, [alert_id], as_json):
        raise click.ClickException(f"no alert with id '{alert_id}'")


@cli.group()
def silence() -> None:
    """Keep channels quiet about a rule, a story or a phrase for a while."""


@silence.command("add")
@click.option("--rule", default="", help="Silence this rule's alerts.")
@click.option("--story", default="", help="Silence this story's alerts.")
@click.option("--match", "text", default="", help="Silence alerts whose sources mention this.")
@click.option("--for", "duration", default="7d", show_default=True, help="e.g. 12h, 7d, 2w")
@click.option("--reason", required=True, help="Why, for the next analyst who wonders.")
@click.option("--db", help="Store URL [default: the config's database_url].")
@click.pass_obj
def silence_add(
    ctx: Context, rule: str, story: str, text: str, duration: str, reason: str, db: str | None
) -> None:
    """Add a silence; matching alerts are still stored and listed, but not sent.

    \b
    Example:
        monitor silence add --rule dprk-oil-transfer --for 3d --reason "known, tracked in #desk"
    """
    try:
        span = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from None
    if rule:
        _check_rule_known(ctx, rule)
    store = Store(db or ctx.settings.database_url)
    try:
        with store.session() as session:
            try:
                row = add_silence(session, span, reason, rule=rule, story=story, match=text)
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
            session.commit()
            click.echo(f"silence {row.id} until {row.ends.isoformat()}")
    finally:
        store.close()


def _check_rule_known(ctx: Context, rule: str) -> None:
    """A silence for a rule that does not exist would never match anything: most likely a
    typo, which the analyst should hear about now rather than when the alert arrives."""
    try:
        known = {r.id for r in valid_rules(ctx.settings.rules_dir)} | {HEALTH_RULE}
    except RulesError:
        return  # a broken rule pack is `rules validate`'s business; the silence may be ahead
    if rule not in known:
        hint = did_you_mean(rule, sorted(known)) or f" (known: {', '.join(sorted(known))})"
        raise click.BadParameter(f"no rule {rule!r}{hint}", param_hint="--rule")


@silence.command("list")
@click.option("--db", help="Store URL [default: the config's database_url].")
@click.pass_obj
def silence_list(ctx: Context, db: str | None) -> None:
    """The silences in force."""
    store = Store(db or ctx.settings.database_url, create=False)
    try:
        with store.session() as session:
            for row in active_silences(session):
                what = ", ".join(
                    f"{k}={v!r}"
                    for k, v in (("rule", row.rule), ("story", row.story), ("match", row.match))
                    if v
                )
                click.echo(f"{row.id}\tuntil {row.ends.isoformat()}\t{what}\t{row.reason}")
    finally:
        store.close()


@silence.command("expire")
@click.argument("silence_id", type=int)
@click.option("--db", help="Store URL [default: the config's database_url].")
@click.pass_obj
def silence_expire(ctx: Context, silence_id: int, db: str | None) -> None:
    """End a silence now."""
    store = Store(db or ctx.settings.database_url, create=False)
    try:
        with store.session() as session:
            row = session.get(SilenceRow, silence_id)
            if row is None:
                raise click.ClickException(f"no silence with id {silence_id}")
            row.expired = True
            session.add(row)
            session.commit()
            click.echo(f"silence {silence_id} expired")
    finally:
        store.close()


@cli.group()
def rules() -> None:
    """Check and test rule files."""


def _rules_paths(ctx: Context, path: Path | None) -> Path:
    return path if path is not None else ctx.settings.rules_dir


@rules.command("validate")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.pass_obj
def rules_validate(ctx: Context, path: Path | None) -> None:
    """Report every problem in every rule file as file:line:col: message."""
    where = _rules_paths(ctx, path)
    source = load_rules(where)
    for problem in source.problems:
        click.echo(str(problem))
    if source.problems:
        click.echo(f"{len(source.problems)} problem(s) in {len(source.files)} file(s)", err=True)
        sys.exit(1)
    if not source.rules:
        raise RuleError(f"no rules in {where} ({len(source.files)} file(s)): nothing would alert")
    click.echo(f"{len(source.rules)} rule(s) in {len(source.files)} file(s): OK", err=True)


@rules.command("test")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.pass_obj
def rules_test(ctx: Context, path: Path | None) -> None:
    """Check every rule's examples: each 'match' must match, each 'no_match' must not."""
    source = load_rules(_rules_paths(ctx, path))
    if source.problems:
        for problem in source.problems:
            click.echo(str(problem))
        sys.exit(1)
    failures = 0
    total = 0
    for outcome in run_examples(source.rules):
        total += 1
        if not outcome.passed:
            failures += 1
            click.echo(outcome.describe())
    click.echo(f"{total - failures} passed, {failures} failed", err=failures > 0)
    if failures:
        sys.exit(1)


@rules.command("explain")
@click.argument("rule_id")
@click.argument("file_or_text")
@RULES_OPTION
@click.pass_obj
def rules_explain(ctx: Context, rule_id: str, file_or_text: str, rules_path: Path | None) -> None:
    """Show, clause by clause, why RULE_ID matches a text or does not.

    FILE_OR_TEXT is a file (plain text, or .jsonl: every line is explained) or the text itself.
    A + marks a clause that held, a - one that did not, each with what it found.

    \b
    Example:
        monitor rules explain dprk-oil-transfer seeds/001_88587132881443e9.txt
        monitor rules explain dprk-overseas-labor "Russia issued new work permits to North Koreans."
    """
    rules_by_id = {r.id: r for r in _valid_rules(_rules_paths(ctx, rules_path))}
    if rule_id not in rules_by_id:
        hint = did_you_mean(rule_id, rules_by_id)
        raise click.ClickException(f"no rule with id '{rule_id}'{hint}")
    path = Path(file_or_text)
    if len(file_or_text) < 4096 and path.is_file():
        try:
            articles = read_articles(path)
        except ReplayError as exc:
            raise click.ClickException(str(exc)) from None
        documents = [(a.title, a.text) for a in articles]
    else:
        documents = [("", file_or_text)]
    for title, text in documents:
        if title:
            click.echo(f"# {title}")
        for line in explain(rules_by_id[rule_id], {"title": title, "text": text}):
            click.echo(line)


@rules.command("backtest")
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="How far back to look, e.g. 7d, 12h, 2w; 'all' for every stored article.",
)
@click.option("--db", help="Store URL [default: the config's database_url].")
@RULES_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per rule.")
@click.pass_obj
def rules_backtest(
    ctx: Context, since: str, db: str | None, rules_path: Path | None, as_json: bool
) -> None:
    """Run the rules over stored articles and show what would have alerted, per day.

    \b
    Example:
        monitor rules backtest --since 90d --rules rules/dprk-oil-transfer.yaml
    """
    cutoff = None
    if since != "all":
        try:
            cutoff = utcnow() - parse_duration(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    matcher = Matcher(_valid_rules(_rules_paths(ctx, rules_path)))
    store = Store(db or ctx.settings.database_url, create=False)
    try:
        scanned, volumes = backtest(store, matcher, cutoff)
        headlines = story_headlines(store, [s for v in volumes for s in v.stories])
    finally:
        store.close()
    for volume in volumes:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "rule": volume.rule,
                        "articles": volume.articles,
                        "alerts": len(volume.stories),
                        "per_day": {d.isoformat(): n for d, n in sorted(volume.per_day.items())},
                        "stories": [
                            {"story": s, "headline": headlines.get(s, ""), "articles": len(t)}
                            for s, t in volume.stories.items()
                        ],
                    }
                )
            )
            continue
        click.echo(
            f"{volume.rule}: {volume.articles} article(s), "
            f"{len(volume.stories)} alert(s) (one per story)"
        )
        for day, count in sorted(volume.per_day.items()):
            click.echo(f"  {day.isoformat()}  {count:4d}  {'#' * min(count, 60)}")
        for story, titles in volume.stories.items():
            click.echo(
                f"  would alert: {headlines.get(story, titles[0])} "
                f"[{story}, {len(titles)} source(s)]"
            )
    window = "all stored articles" if cutoff is None else f"articles since {since} ago"
    click.echo(f"scanned {scanned} {window}; {len(volumes)} rule(s) fired", err=True)


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of a rule file (for editors: yaml-language-server)."""
    click.echo(json.dumps(rule_schema(), indent=2))


cli.add_command(feeds)
cli.add_command(db_group)
cli.add_command(channels)


@cli.group("config")
def config_group() -> None:
    """The effective configuration."""


@config_group.command("show")
@click.pass_obj
def config_show(ctx: Context) -> None:
    """Print the effective config (defaults < file < environment) as YAML, secrets redacted.

    Secrets are printed as "**********"; the names of the variables and files they come
    from are shown, since those are not secret.
    """
    data = ctx.settings.model_dump(mode="json", by_alias=True)
    # A database URL may carry a password: user:***@host.
    data["database_url"] = make_url(data["database_url"]).render_as_string(hide_password=True)
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)


def main() -> None:
    cli(prog_name="monitor")
