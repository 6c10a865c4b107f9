"""Verdicts become rule tests: `monitor feedback export` on a real store and a copy of the rule
pack, and `monitor rules test` on what it wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.console.actions import save_verdict
from monitor.console.inputs import verdict_input
from monitor.detect.rules.parse import valid_rules
from monitor.store import Store
from tests.conftest import RULES
from tests.test_console_pages import fill


def judged_store(tmp_path: Path) -> str:
    """The seeds and the hostile report replayed; one citation judged relevant, one not."""
    db = f"sqlite:///{tmp_path / 'f.db'}"
    fill(db, tmp_path)
    store = Store(db)
    with store.session() as session:
        from monitor.store.console import StoryFilter, story_ids, story_summaries

        summaries = story_summaries(session, story_ids(session, StoryFilter(), 0, 10))
    seed = next(s for s in summaries if len(s.alerts) == 2)
    hostile = next(s for s in summaries if len(s.alerts) == 1)
    save_verdict(store, verdict_input(
        {"story": seed.id, "rule": "dprk-oil-transfer", "article": "seed-b",
         "verdict": "not_relevant", "note": "background, not news"}))  # fmt: skip
    save_verdict(store, verdict_input(
        {"story": hostile.id, "rule": "dprk-overseas-labor", "article": "hostile",
         "verdict": "relevant"}))  # fmt: skip
    store.close()
    return db


def test_export_prints_yaml_and_write_adds_examples_rules_test_checks(tmp_path: Path) -> None:
    db = judged_store(tmp_path)
    rules = shutil.copytree(RULES, tmp_path / "rules")
    config = tmp_path / "monitor.yaml"
    config.write_text(yaml.safe_dump({"rules_dir": str(rules), "database_url": db}))
    runner = CliRunner()

    printed = runner.invoke(cli, ["-c", str(config), "feedback", "export"])
    assert printed.exit_code == 0, printed.output
    proposed = yaml.safe_load(printed.stdout)
    oil = proposed["dprk-oil-transfer"]["examples"]["no_match"]
    assert len(oil) == 1 and "Washington brought its allegations" in oil[0]
    labor = proposed["dprk-overseas-labor"]["examples"]["match"]
    assert labor == ["Russia issued 700 new work permits to North Koreans this year, "
                     "<b>officials</b> said."]  # fmt: skip
    only = runner.invoke(cli, ["-c", str(config), "feedback", "export", "--rule", "nope"])
    assert only.exit_code == 2

    before = (rules / "dprk-oil-transfer.yaml").read_text()
    written = runner.invoke(cli, ["-c", str(config), "feedback", "export", "--write"])
    assert written.exit_code == 0, written.output
    after = (rules / "dprk-oil-transfer.yaml").read_text()
    assert after.startswith(before.split("  no_match:")[0])  # comments and layout kept
    loaded = {r.id: r for r in valid_rules(rules)}
    assert oil[0] in loaded["dprk-oil-transfer"].examples_no_match
    assert labor[0] in loaded["dprk-overseas-labor"].examples_match

    # The rule matched what the analyst judged not relevant: the new test fails, naming it.
    tested = runner.invoke(cli, ["-c", str(config), "rules", "test"])
    assert tested.exit_code == 1
    assert "FAIL dprk-oil-transfer" in tested.output and "Washington brought" in tested.output
    assert "FAIL dprk-overseas-labor" not in tested.output

    again = runner.invoke(cli, ["-c", str(config), "feedback", "export", "--write"])
    assert again.exit_code == 0 and "nothing to add" in again.output


def test_write_adds_an_examples_block_to_a_rule_without_one(tmp_path: Path) -> None:
    from monitor.console.feedback import Proposal, write_examples

    rules = tmp_path / "rules"
    rules.mkdir()
    path = rules / "r.yaml"
    path.write_text("# a rule\nid: r\ntitle: R\nterms:\n  ship: [tanker]\nmatch:\n  all: [ship]\n")
    rule = valid_rules(rules)[0]
    write_examples(rule, Proposal("r", match=['A "tanker" here.'], no_match=["none"]), rules)
    reloaded = valid_rules(rules)[0]
    assert reloaded.examples_match == ('A "tanker" here.',)
    assert reloaded.examples_no_match == ("none",)
    assert path.read_text().startswith("# a rule\nid: r\n")


def test_export_as_corpus_trains_and_measures_the_judged_rule_only(tmp_path: Path) -> None:
    """Verdicts become labelled reports: each speaks for the one rule it judged, so evaluating
    them scores that rule alone, and training a gate on the corpus plus them takes them in."""
    import json

    from monitor.console.feedback import as_corpus
    from monitor.store.verdicts import VerdictRow

    db = judged_store(tmp_path)
    config = tmp_path / "monitor.yaml"
    config.write_text(yaml.safe_dump({"rules_dir": str(RULES), "database_url": db}))
    runner = CliRunner()
    printed = runner.invoke(cli, ["-c", str(config), "feedback", "export", "--corpus"])
    assert printed.exit_code == 0, printed.output
    records = [json.loads(line) for line in printed.stdout.splitlines()]
    oil, labour = records
    assert oil["labels"] == [] and oil["judged"] == ["dprk-oil-transfer"]
    assert oil["note"] == "background, not news" and oil["split"] == "verdicts"
    assert "Washington brought its allegations" in oil["text"] and len(oil["text"]) > 1000
    assert labour["labels"] == labour["judged"] == ["dprk-overseas-labor"]
    assert "2 judged report(s) from 2 verdict(s)" in printed.stderr
    both = runner.invoke(cli, ["-c", str(config), "feedback", "export", "--corpus", "--write"])
    assert both.exit_code == 2

    path = tmp_path / "verdicts.jsonl"
    path.write_text(printed.stdout)
    evaluated = runner.invoke(cli, ["-c", str(config), "rules", "evaluate", str(path), "--json"])
    scores = json.loads(evaluated.stdout)["scores"]
    assert scores["dprk-oil-transfer"]["fp"] == 1  # the rule fired where the analyst said no
    assert scores["dprk-overseas-labor"]["tp"] == 1
    assert sum(scores["dprk-sanctions-evasion"][k] for k in ("tp", "fp", "fn", "tn")) == 0

    corpus = str(RULES.parent / "tests/corpus/articles.jsonl")
    model = tmp_path / "oil.json"
    trained = runner.invoke(cli, [
        "-c", str(config), "rules", "train", "dprk-oil-transfer", corpus, str(path),
        "--split", "fresh9", "--split", "verdicts", "--out", str(model)])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "on 115 report(s) of " in trained.output  # fresh9's 114 and the oil verdict
    assert json.loads(model.read_text())["about"]["reports"] == 115

    # A pruned article: the sentences the verdict kept stand in for it.
    row = VerdictRow(id=7, rule_id="r", story_id="s", article_id=9, verdict="not_relevant",
                     sentences=["North Korea bought diesel.", "Oil was moved."])  # fmt: skip
    assert as_corpus([(row, None)])[0]["text"] == "North Korea bought diesel. Oil was moved."
