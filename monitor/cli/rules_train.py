"""``monitor rules train``: fit a rule's gate model on a labelled corpus and write it."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli.context import RULES_OPTION, Context, valid_rules_or_exit
from monitor.cli.rules import rules
from monitor.detect.rules.model import Rule
from monitor.detect.rules.parse import did_you_mean
from monitor.detect.rules.quality import read_corpus
from monitor.detect.rules.train import train_gate
from monitor.errors import RuleError

MODELS = "models"  # where a rules folder keeps its gate models


@rules.command("train")
@click.argument("rule_id")
@click.argument(
    "corpus", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--split",
    "splits",
    multiple=True,
    help="Train on the reports of this split only; repeat for several [default: all]. Keep a "
    "held-out split out of it, to measure the gated rule on.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Model file to write [default: models/RULE_ID.json in the rules folder].",
)
@RULES_OPTION
@click.pass_obj
def rules_train(
    ctx: Context,
    rule_id: str,
    corpus: tuple[Path, ...],
    splits: tuple[str, ...],
    out: Path | None,
    rules_path: Path | None,
) -> None:
    """Train RULE_ID's gate: a model that must agree before the rule alerts.

    CORPUS is one or more files of JSON lines as for `monitor rules evaluate`; a record's
    `story` keeps reports of one event in one fold when the threshold is chosen, and a record
    with `judged` counts only for those rules (analysts' verdicts, from `monitor feedback
    export --corpus`). Needs scikit-learn (the `train` extra). Prints the threshold
    cross-validation suggests and the `gate:` lines for the rule file.

    \b
    Examples:
        monitor rules train dprk-sanctions-evasion tests/corpus/articles.jsonl \\
            --split tune --split test
        monitor feedback export --corpus > verdicts.jsonl
        monitor rules train dprk-oil-transfer tests/corpus/articles.jsonl verdicts.jsonl
    """
    folder = rules_path if rules_path is not None else ctx.settings.rules_dir
    found = {rule.id: rule for rule in valid_rules_or_exit(folder)}
    if rule_id not in found:
        raise click.ClickException(f"no rule '{rule_id}'{did_you_mean(rule_id, list(found))}")
    items = [i for path in corpus for i in read_corpus(path) if not splits or i.split in splits]
    items = [i for i in items if i.judges(rule_id)]
    named = ", ".join(map(str, corpus))
    if not items:
        raise RuleError(f"{named}: no reports for {rule_id} in split(s) {', '.join(splits)}")
    root = folder if folder.is_dir() else folder.parent
    target = out if out is not None else root / MODELS / f"{rule_id}.json"
    click.echo(f"training {rule_id} on {len(items)} report(s) of {named}", err=True)
    # The splits it learned from, named even when none was asked for: a later split appended to
    # the corpus must not look like training data of a model trained before it came.
    learned = sorted(splits) or sorted({i.split for i in items if i.split}) or ["all"]
    about = {"corpus": named, "splits": learned}
    trained = train_gate(found[rule_id], items, about)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(trained.text, encoding="utf-8")
    (p0, r0), (p1, r1) = trained.before, trained.after
    try:
        ref = target.resolve().relative_to(root.resolve())
    except ValueError:
        ref = target
    click.echo(
        f"wrote {target} ({trained.reports} reports, {trained.positives} for the rule; the scorer "
        f"agrees with the trainer to {trained.drift:.1e})\n"
        f"out of fold, without the gate: precision {p0:.2f}, recall {r0:.2f}; with threshold "
        f"{trained.threshold:.2f}: precision {p1:.2f}, recall {r1:.2f}\n"
        f"add to the rule:\n  gate:\n    model: {ref}\n    threshold: {trained.threshold:.2f}"
    )
    gate = found[rule_id].gate
    if gate is None or gate.alone is None:
        return
    if trained.alone is None or trained.with_alone is None:
        click.echo(
            "  # out of fold, the model firing alone adds nothing at any threshold: drop 'alone:'"
        )
        return
    p2, r2 = trained.with_alone
    needs = ", ".join(name for name in _list_names(found[rule_id], gate.needs))
    click.echo(
        f"    alone:  # out of fold with it: precision {p2:.2f}, recall {r2:.2f}\n"
        f"      threshold: {trained.alone:.2f}\n      needs: [{needs}]"
    )


def _list_names(rule: Rule, keys: tuple[str, ...]) -> list[str]:
    names = {tl.key: tl.name for tl in rule.term_lists}
    return [names.get(key, key) for key in keys]
