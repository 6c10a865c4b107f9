"""Every problem in a rule file is reported as file:line:col, and none stops the others."""

from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.detect.rules import load_rules

LEXICON = """\
terms:
  dprk: [North Korea*, DPRK]
"""

BROKEN = """\
id: broken-rule
title: Broken
severity: hihg
uses: [lexicon/dprk.yaml]
terms:
  labor: [worker*]
  empty: []
mtach: oops
match:
  all:
    - dprk
    - labour
    - near: [labor]
    - regex: "oil(tanker"
"""

DUPLICATE = """\
id: broken-rule
title: Same id again
uses: [lexicon/dprk.yaml]
match: dprk
"""


def write_rules(root: Path) -> Path:
    (root / "lexicon").mkdir(parents=True)
    (root / "lexicon" / "dprk.yaml").write_text(LEXICON)
    (root / "a-broken.yaml").write_text(BROKEN)
    (root / "b-duplicate.yaml").write_text(DUPLICATE)
    return root


def test_every_problem_is_reported_with_its_position(tmp_path: Path):
    root = write_rules(tmp_path / "rules")
    problems = load_rules(root).problems
    found = {(Path(p.pos.file).name, p.pos.line, p.pos.col): p.message for p in problems}
    assert found == {
        ("a-broken.yaml", 3, 11): (
            "severity 'hihg' is not one of info, low, medium, high, critical (did you mean 'high'?)"
        ),
        ("a-broken.yaml", 7, 10): "term list 'empty' is empty",
        ("a-broken.yaml", 8, 1): "unknown key 'mtach' (did you mean 'match'?)",
        ("a-broken.yaml", 12, 7): "unknown term list 'labour' (did you mean 'labor'?)",
        ("a-broken.yaml", 13, 13): "'near' needs two term lists, one each side; got 1",
        ("a-broken.yaml", 14, 14): (
            "invalid regex: missing ), unterminated subpattern at character 4 of the pattern"
        ),
        ("b-duplicate.yaml", 1, 1): (
            f"duplicate rule id 'broken-rule' (first at {root / 'a-broken.yaml'}:1:1)"
        ),
    }


def test_clause_errors_after_the_first_are_still_found(tmp_path: Path):
    root = tmp_path / "rules"
    (root / "lexicon").mkdir(parents=True)
    (root / "lexicon" / "dprk.yaml").write_text(LEXICON)
    (root / "near.yaml").write_text(
        "id: near-one-side\ntitle: t\nuses: [lexicon/dprk.yaml]\nmatch:\n  near: [dprk]\n"
    )
    (root / "regex.yaml").write_text('id: bad-regex\ntitle: t\nmatch:\n  regex: "oil(tanker"\n')
    (root / "dup.yaml").write_text("id: bad-regex\ntitle: again\nmatch:\n  regex: oil\n")
    messages = sorted(str(p) for p in load_rules(root).problems)
    assert any(
        m.endswith("near.yaml:5:9: 'near' needs two term lists, one each side; got 1")
        for m in messages
    ), messages
    assert any(
        "regex.yaml:4:10: invalid regex: missing ), unterminated subpattern" in m for m in messages
    ), messages
    assert any(
        m.endswith(
            f"regex.yaml:1:1: duplicate rule id 'bad-regex' (first at {root / 'dup.yaml'}:1:1)"
        )
        for m in messages
    ), messages


def test_yaml_syntax_error_names_the_place(tmp_path: Path):
    root = tmp_path / "rules"
    root.mkdir()
    (root / "bad.yaml").write_text("id: x\ntitle: [unclosed\nmatch: y\n")
    (problem,) = load_rules(root).problems
    assert Path(problem.pos.file).name == "bad.yaml"
    assert problem.pos.line == 3
    assert problem.message.startswith("invalid YAML")


def test_validate_command_lists_all_and_exits_non_zero(tmp_path: Path):
    root = write_rules(tmp_path / "rules")
    result = CliRunner().invoke(cli, ["rules", "validate", str(root)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "yaml:" in line]
    assert len(lines) >= 5
    assert any("a-broken.yaml:8:1: unknown key 'mtach'" in line for line in lines)


def test_validate_passes_on_the_shipped_rules():
    result = CliRunner().invoke(cli, ["rules", "validate", "rules"])
    assert result.exit_code == 0, result.output
    assert "3 rule(s)" in result.output
