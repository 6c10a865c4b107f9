"""``monitor feedback export``: analysts' verdicts from the console become rule examples."""

from __future__ import annotations

import click

from monitor.cli.context import DB_OPTION, Context, valid_rules_or_exit
from monitor.console.feedback import as_yaml, proposals, write_examples
from monitor.store.verdicts import rule_verdicts


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
@DB_OPTION
@click.pass_obj
def feedback_export(ctx: Context, rules: tuple[str, ...], write: bool, db: str | None) -> None:
    """Turn verdicts into rule examples: the cited sentences of a citation judged relevant
    become a 'match:' example of its rule, of one judged not relevant a 'no_match:' example.
    Examples a rule already has are left out. Prints YAML unless --write.

    \b
    Example:
        monitor feedback export --rule dprk-oil-transfer
        monitor feedback export --write && monitor rules test
    """
    known = {rule.id: rule for rule in valid_rules_or_exit(ctx.settings.rules_dir)}
    unknown = [rule for rule in rules if rule not in known]
    if unknown:
        raise click.BadParameter(f"no rule {', '.join(map(repr, unknown))}", param_hint="--rule")
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
