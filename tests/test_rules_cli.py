"""`monitor rules test | explain | backtest | schema` and hot reload, as an author uses them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.detect.rules import Matcher, load_rules
from monitor.detect.rules.schema import rule_schema
from monitor.detect.rules.watch import RuleWatcher
from monitor.util.durations import parse_duration
from tests.conftest import ROOT, RULES, SEED_FILES

RULE = """\
id: oil
title: Oil to North Korea
uses: [lexicon/lex.yaml]
terms:
  oil: [oil, diesel]
match:
  same_sentence: [dprk, oil]
examples:
  match: ["North Korea bought diesel."]
  no_match: ["Oil prices rose."]
"""


def make_rules(root: Path, rule: str = RULE) -> Path:
    (root / "lexicon").mkdir(parents=True, exist_ok=True)
    (root / "lexicon" / "lex.yaml").write_text("terms:\n  dprk: [North Korea*, DPRK]\n")
    (root / "oil.yaml").write_text(rule)
    return root


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_rules_test_passes_and_reports_a_failing_example(tmp_path):
    root = make_rules(tmp_path / "rules")
    ok = invoke("rules", "test", str(root))
    assert ok.exit_code == 0 and "2 passed, 0 failed" in ok.output
    make_rules(root, RULE.replace('"Oil prices rose."', '"North Korea oil prices rose."'))
    bad = invoke("rules", "test", str(root))
    assert bad.exit_code == 1
    assert "FAIL oil" in bad.output and "example should not match" in bad.output
    assert '+ same_sentence: [dprk, oil]: "North Korea" (text 0-11), "oil" (text 12-15)' in (
        bad.output
    )
    assert "1 passed, 1 failed" in bad.output


def test_shipped_rules_pass_their_examples():
    result = invoke("rules", "test", str(RULES))
    assert result.exit_code == 0, result.output
    rules = load_rules(RULES).rules
    total = sum(len(r.examples_match) + len(r.examples_no_match) for r in rules)
    assert total >= 48
    assert f"{total} passed, 0 failed" in result.output


def test_explain_shows_each_clause_and_its_spans(tmp_path):
    root = make_rules(tmp_path / "rules")
    result = invoke(
        "rules", "explain", "oil", "Oil prices rose. North Korea said so.", "--rules", str(root)
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "oil does not match",
        "  - same_sentence: [dprk, oil]",
        '    + dprk: "North Korea" (text 17-28)',
        '    + oil: "Oil" (text 0-3)',
    ]


def test_explain_a_file_and_an_unknown_rule(tmp_path):
    result = invoke("rules", "explain", "dprk-oil-transfer", str(SEED_FILES[1]))
    assert result.exit_code == 0, result.output
    assert "dprk-oil-transfer MATCHES" in result.output
    assert '"illegal transfers" (text' in result.output
    missing = invoke("rules", "explain", "dprk-oil-transfr", "text")
    assert missing.exit_code != 0
    assert "no rule with id 'dprk-oil-transfr' (did you mean 'dprk-oil-transfer'?)" in (
        missing.output
    )


def test_backtest_counts_per_day_and_per_story(tmp_path):
    db = f"sqlite:///{tmp_path / 'b.db'}"
    lines = [
        {"id": "a", "text": SEED_FILES[0].read_text(), "published": "2019-08-01T22:00:00Z"},
        {"id": "b", "text": SEED_FILES[1].read_text(), "published": "2019-08-02T09:40:00Z"},
        {"id": "c", "text": "Weather: rain in Oslo.", "published": "2019-08-02T10:00:00Z"},
    ]
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    assert invoke("replay", str(path), "--db", db).exit_code == 0
    result = invoke("rules", "backtest", "--db", db, "--json")  # all stored articles
    assert result.exit_code == 0, result.output
    volumes = {v["rule"]: v for v in map(json.loads, result.stdout.splitlines())}
    assert volumes["dprk-overseas-labor"]["per_day"] == {"2019-08-01": 1, "2019-08-02": 1}
    assert volumes["dprk-overseas-labor"]["alerts"] == 1
    assert volumes["dprk-oil-transfer"]["articles"] == 1
    assert volumes["dprk-sanctions-evasion"]["articles"] == 0  # listed: it fired nothing
    assert "scanned 3 all stored articles; 2 rule(s) fired, 1 fired nothing: " in result.output
    recent = invoke("rules", "backtest", "--since", "30d", "--db", db)
    assert recent.exit_code == 0 and "scanned 0 articles since 30d ago" in recent.output
    assert "3 more stored article(s) are older (the newest stored is dated 2019-08-02)" in (
        recent.output
    )
    text = invoke("rules", "backtest", "--db", db).output
    assert "dprk-sanctions-evasion: 0 article(s), 0 alert(s)" in text
    wrong = invoke("rules", "backtest", "--since", "soon", "--db", db)
    assert wrong.exit_code == 2 and "not a duration: 'soon'" in wrong.output


def test_backtest_goes_on_past_an_article_that_raises(tmp_path, monkeypatch):
    """A gate or matcher bug that one stored report trips is named with that report; the other
    reports are still counted, and the exit status says the figures are short of one."""
    import monitor.detect.rules.evaluate as evaluate_module

    db = f"sqlite:///{tmp_path / 'b.db'}"
    lines = [
        {"id": "a", "text": SEED_FILES[0].read_text(), "published": "2019-08-01T22:00:00Z"},
        {"id": "b", "text": SEED_FILES[1].read_text() + " STRANGE", "published": "2019-08-02"},
    ]
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    assert invoke("replay", str(path), "--db", db).exit_code == 0
    real = evaluate_module.gate_passes

    def gate_passes(rule, fields, sentences):
        if "STRANGE" in fields["text"]:
            raise ValueError("scorer bug")
        return real(rule, fields, sentences)

    monkeypatch.setattr(evaluate_module, "gate_passes", gate_passes)
    result = invoke("rules", "backtest", "--db", db, "--json")
    assert result.exit_code == 1
    volumes = {v["rule"]: v for v in map(json.loads, result.stdout.splitlines())}
    assert volumes["dprk-overseas-labor"]["per_day"] == {"2019-08-01": 1}
    assert "raised while matching: ValueError('scorer bug')" in result.stderr
    assert "1 article(s) could not be matched and are left out of the figures above" in (
        result.stderr
    )


def test_schema_command_matches_the_committed_file():
    result = invoke("rules", "schema")
    assert json.loads(result.output) == rule_schema()
    committed = json.loads((ROOT / "docs" / "rule.schema.json").read_text())
    assert committed == rule_schema(), "run: monitor rules schema > docs/rule.schema.json"
    for path in RULES.glob("*.yaml"):
        assert path.read_text().startswith(
            "# yaml-language-server: $schema=../docs/rule.schema.json"
        ), path


def test_schema_accepts_the_shipped_rules_and_rejects_a_typo():
    validator = jsonschema.Draft202012Validator(rule_schema())
    for path in RULES.glob("*.yaml"):
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text()))), path
    bad = yaml.safe_load(RULE.replace("match:\n", "mtach:\n"))
    assert list(validator.iter_errors(bad))


def test_hot_reload_valid_then_invalid_change(tmp_path, caplog):
    root = make_rules(tmp_path / "rules")
    live: list[Matcher] = []
    watcher = RuleWatcher(root, live.append)
    assert watcher.check() is None  # nothing changed yet

    (root / "oil.yaml").write_text(RULE.replace("[oil, diesel]", "[oil, diesel, petrol]"))
    assert watcher.check() is True
    assert live[-1].match({"text": "North Korea bought petrol."})

    caplog.set_level(logging.ERROR)
    (root / "oil.yaml").write_text(RULE.replace("same_sentence", "same_sentance"))
    assert watcher.check() is False
    assert len(live) == 1  # the last good rules stay live
    assert "rule change rejected" in caplog.text
    assert "oil.yaml:7:3: unknown clause 'same_sentance' (did you mean 'same_sentence'?)" in (
        caplog.text
    )

    (root / "oil.yaml").write_text(RULE)
    assert watcher.check() is True and len(live) == 2


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1h30m", 5400)],
)
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


def test_bad_duration():
    with pytest.raises(ValueError, match="examples: 90s"):
        parse_duration("7 days")
