"""``monitor feedback export``: analysts' verdicts from the console become rule examples, or
labelled reports to train a rule's gate on."""

from __future__ import annotations

import json

import click

from monitor.cli.context import DB_OPTION, Context, valid_rules_or_exit
from monitor.console.feedback import as_corpus, as_yaml, proposals, write_examples
from monitor.store.verdicts import judged_articles, rule_verdicts


@click.group()
def feedback() -> None:
    """Analysts' verdicts, as rule tests."""


@feedback.command("export")
@click.option("--rule", "rules", multiple=True, help="Only this rule's verdicts (repeatable).")
@click.option(
    "--write",
    is_flag=True,
    help="Add the examples to the rule files, where `monitor rules test` checks them.",
)
@click.option(
    "--corpus",
    "as_corpus_lines",
    is_flag=True,
    help="Print the judged reports as JSON lines for `monitor rules train` and `rules evaluate`.",
)
@DB_OPTION
@click.pass_obj
def feedback_export(
    ctx: Context, rules: tuple[str, ...], write: bool, as_corpus_lines: bool, db: str | None
) -> None:
    """Turn verdicts into rule examples: the cited sentences of a citation judged relevant
    become a 'match:' example of its rule, of one judged not relevant a 'no_match:' example.
    Examples a rule already has are left out. Prints YAML unless --write.

    With --corpus, each verdict becomes a labelled report instead (the whole article, labelled
    for the one rule it judged), to train that rule's gate on beside the corpus.

    \b
    Examples:
        monitor feedback export --rule dprk-oil-transfer
        monitor feedback export --write && monitor rules test
        monitor feedback export --corpus > verdicts.jsonl
    """
    if write and as_corpus_lines:
        raise click.UsageError("--write adds examples to rule files; --corpus prints reports")
    known = {rule.id: rule for rule in valid_rules_or_exit(ctx.settings.rules_dir)}
    unknown = [rule for rule in rules if rule not in known]
    if unknown:
        raise click.BadParameter(f"no rule {', '.join(map(repr, unknown))}", param_hint="--rule")
    if as_corpus_lines:
        with ctx.session(db) as session:
            judged = judged_articles(session, rules)
        records = as_corpus(judged)
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
        pruned = sum(1 for _, article in judged if article is None)
        line = f"{len(records)} judged report(s) from {len(judged)} verdict(s)"
        if pruned:
            line += f"; {pruned} article(s) pruned since, their cited sentences stand in"
        click.echo(line, err=True)
        return
    with ctx.session(db) as session:
        verdicts = rule_verdicts(session, rules)
    found = proposals(known, verdicts)
    if not write:
        click.echo(as_yaml(found.values()), nl=False)
        click.echo(
            f"{sum(len(p.match) + len(p.no_match) for p in found.values())} new "
            f"example(s) from {len(verdicts)} verdict(s)",
            err=True,
        )
        return
    for rule_id, proposal in found.items():
        path = write_examples(known[rule_id], proposal, ctx.settings.rules_dir)
        click.echo(
            f"{path}: {rule_id}: +{len(proposal.match)} match, +{len(proposal.no_match)} no_match"
        )
    if not found:
        click.echo(f"nothing to add from {len(verdicts)} verdict(s)", err=True)
