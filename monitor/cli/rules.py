"""``monitor rules``: validate, test, explain and backtest rule files; print their schema."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from monitor.cli.context import DB_OPTION, RULES_OPTION, Context, valid_rules_or_exit
from monitor.detect.rules import Matcher, load_rules
from monitor.detect.rules.backtest import backtest, stored_span, story_headlines
from monitor.detect.rules.examples import run_examples
from monitor.detect.rules.explain import explain
from monitor.detect.rules.parse import did_you_mean
from monitor.detect.rules.quality import evaluate, read_corpus, report_lines
from monitor.detect.rules.schema import rule_schema
from monitor.errors import RuleError
from monitor.service.replay import ReplayError, read_articles
from monitor.store import Store
from monitor.store.tables import utcnow
from monitor.store.verdicts import NOT_RELEVANT, RELEVANT, precision, verdict_counts
from monitor.util.durations import parse_duration


@click.group()
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
    rules_by_id = {r.id: r for r in valid_rules_or_exit(_rules_paths(ctx, rules_path))}
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
    default="all",
    show_default=True,
    help="Only articles dated this recently (published, else first seen), e.g. 30d, 12h, 2w.",
)
@DB_OPTION
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
    matcher = Matcher(valid_rules_or_exit(_rules_paths(ctx, rules_path)))
    store = Store(db or ctx.settings.database_url, create=False)
    try:
        result = backtest(store, matcher, cutoff)
        scanned, volumes = result.scanned, result.volumes
        headlines = story_headlines(store, [s for v in volumes for s in v.stories])
        stored, newest = stored_span(store)
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
                        "held_back_by_gate": len(volume.held_back),
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
        for title in volume.held_back:
            click.echo(f"  held back by its gate: {title}")
    window = "all stored articles" if cutoff is None else f"articles since {since} ago"
    fired = [v.rule for v in volumes if v.articles]
    silent = [v.rule for v in volumes if not v.articles]
    line = f"scanned {scanned} {window}; {len(fired)} rule(s) fired"
    if silent:
        line += f", {len(silent)} fired nothing: {', '.join(silent)}"
    click.echo(line, err=True)
    for article_id, title, error in result.failed:
        click.echo(f"article {article_id} ({title!r}) raised while matching: {error}", err=True)
    if scanned < stored and newest is not None:
        click.echo(
            f"{stored - scanned} more stored article(s) are older (the newest stored is dated "
            f"{newest:%Y-%m-%d}): --since all scans them",
            err=True,
        )
    if result.failed:
        click.echo(
            f"{len(result.failed)} article(s) could not be matched and are left out of the "
            "figures above",
            err=True,
        )
        sys.exit(1)


@rules.command("evaluate")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--split",
    default="all",
    show_default=True,
    help="Only the reports of this half (e.g. test, the held-out one), or all.",
)
@RULES_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object: scores and errors.")
@click.option("--no-errors", is_flag=True, help="The table only, not each error's evidence.")
@click.option(
    "--verdicts",
    "with_verdicts",
    is_flag=True,
    help="Also each rule's precision as analysts' verdicts in the store measure it.",
)
@DB_OPTION
@click.pass_obj
def rules_evaluate(
    ctx: Context,
    corpus: Path,
    split: str,
    rules_path: Path | None,
    as_json: bool,
    no_errors: bool,
    with_verdicts: bool,
    db: str | None,
) -> None:
    """Measure the rules on labelled reports: precision, recall and F1 per rule, and for each
    error the sentence that fired or the clause that failed.

    CORPUS is JSON lines: id, title, text, labels (the rule ids an analyst wants alerted),
    and optionally url, source and split (tests/corpus/articles.jsonl is one).

    \b
    Example:
        monitor rules evaluate tests/corpus/articles.jsonl --split test
    """
    rules = valid_rules_or_exit(_rules_paths(ctx, rules_path))  # a bad config shows first
    articles = read_corpus(corpus, split)
    if not articles:
        raise RuleError(f"{corpus}: no reports in split {split!r}")
    result = evaluate(rules, articles)
    judged = _verdicts(ctx, db, [r.id for r in rules]) if with_verdicts else {}
    if as_json:
        scores = {rule: score.to_json() for rule, score in result.scores.items()}
        errors = [] if no_errors else [e.to_json() for e in result.errors]
        out = {"articles": result.articles, "scores": scores, "errors": errors}
        click.echo(json.dumps(out | ({"verdicts": judged} if with_verdicts else {})))
        return
    click.echo("\n".join(report_lines(result, show_errors=not no_errors)))
    for rule, counts in judged.items():
        measured = (
            "no verdicts yet"
            if counts["precision"] is None
            else (f"precision {counts['precision']:.2f}")
        )
        click.echo(
            f"verdicts {rule}: {counts['relevant']} relevant, "
            f"{counts['not_relevant']} not relevant: {measured}"
        )
    click.echo(f"{result.articles} report(s), split {split}", err=True)


def _verdicts(
    ctx: Context, db: str | None, rules: list[str]
) -> dict[str, dict[str, float | int | None]]:
    """Per rule, the analysts' verdicts on its citations and the precision they give."""
    with ctx.session(db) as session:
        counts = verdict_counts(session, rules)
    judged: dict[str, dict[str, float | int | None]] = {}
    for rule in rules:
        found = counts.get(rule, Counter())
        judged[rule] = {
            "relevant": found[RELEVANT],
            "not_relevant": found[NOT_RELEVANT],
            "precision": precision(found),
        }
    return judged


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of a rule file (for editors: yaml-language-server)."""
    click.echo(json.dumps(rule_schema(), indent=2))
