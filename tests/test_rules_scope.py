"""Where a clause looks: ``unless:`` skips sentences, ``lead:`` keeps the first ones.

These are the boundaries of issue #14 put in the language: a sentence that says a measure was
adopted is not a report of its breach, and a report's lead says what it is about.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.detect.rules import Matcher, load_rules
from monitor.detect.rules.explain import explain

LEXICON = "terms:\n  dprk: [North Korea*]\n  imposing: [adopted, will ban, calls on]\n"
OIL = "  oil: [oil]\n  sold: [sold, delivered]\n"


def rules_in(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "rules"
    (root / "lexicon").mkdir(parents=True, exist_ok=True)
    (root / "lexicon" / "lex.yaml").write_text(LEXICON)
    (root / "r.yaml").write_text(f"id: r\ntitle: T\nuses: [lexicon/lex.yaml]\nterms:\n{OIL}{body}")
    return root


def matcher(tmp_path: Path, body: str) -> Matcher:
    source = load_rules(rules_in(tmp_path, body))
    assert not source.problems, [str(p) for p in source.problems]
    return Matcher(source.rules)


def test_unless_skips_the_sentences_that_describe_a_measure(tmp_path):
    m = matcher(tmp_path, "match:\n  same_sentence: [dprk, oil]\n  unless: imposing\n")
    assert m.match({"text": "North Korea got oil from a tanker."})
    assert not m.match({"text": "The council adopted a cap on oil sold to North Korea."})
    assert not m.match({"text": "The council will ban oil for North Korea."})
    # One sentence about the measure, another about the breach: the breach still counts.
    (match,) = m.match({"text": "The council adopted a cap on oil. North Korea got oil anyway."})
    assert [s.text for s in match.sentences] == ["North Korea got oil anyway."]


def test_unless_is_inherited_and_adds_to_what_is_inherited(tmp_path):
    body = (
        "  treaty: [treaty]\n"
        "match:\n  all:\n    - dprk\n    - near: [oil, sold]\n      unless: treaty\n"
        "  unless: imposing\n"
    )
    m = matcher(tmp_path, body)
    assert m.match({"text": "North Korea. Oil was sold."})
    assert not m.match({"text": "North Korea. Oil was sold under the treaty."})
    assert not m.match({"text": "North Korea. The council adopted it: oil was sold."})
    assert not m.match({"text": "The council calls on North Korea. Oil was sold."})


def test_none_with_unless_looks_only_where_unless_leaves(tmp_path):
    m = matcher(tmp_path, "match:\n  - dprk\n  - none: oil\n    unless: imposing\n")
    assert m.match({"text": "North Korea. The council adopted a cap on oil."})
    assert not m.match({"text": "North Korea got oil."})


def test_lead_keeps_the_first_sentences_of_each_field(tmp_path):
    m = matcher(tmp_path, "match:\n  - term: dprk\n    lead: 2\n  - oil\n")
    assert m.match({"text": "Ships met. North Korea got oil."})
    assert not m.match({"text": "Ships met. Oil moved. It was North Korea."})
    assert m.match({"title": "North Korea", "text": "Ships met. Oil moved. Then more."})


def test_lead_and_unless_scope_a_regex(tmp_path):
    m = matcher(tmp_path, "match:\n  regex: 'IMO \\d{7}'\n  lead: 1\n  unless: imposing\n")
    assert m.match({"text": "IMO 8914934 was seen. Later."})
    assert not m.match({"text": "Later. IMO 8914934 was seen."})
    assert not m.match({"text": "The council adopted a ban on IMO 8914934."})


def test_explain_shows_the_scope_and_what_it_left_out(tmp_path):
    (rule,) = load_rules(rules_in(tmp_path, "match:\n  term: oil\n  unless: imposing\n")).rules
    lines = explain(rule, {"text": "The council adopted a cap on oil."})
    assert lines == [
        "r does not match",
        '  - oil unless imposing: nothing found; left out: "oil" (text 29-32)'
        ' (unless: "adopted" (text 12-19))',
    ]
    (rule,) = load_rules(rules_in(tmp_path, "match:\n  term: oil\n  lead: 1\n")).rules
    lines = explain(rule, {"text": "Oil rose. Oil fell."})
    assert lines[1] == '  + oil lead 1: "Oil" (text 0-3); left out: "Oil" (text 10-13)'


def test_explain_command_on_a_scoped_rule(tmp_path):
    root = rules_in(tmp_path, "match:\n  same_sentence: [dprk, oil]\n  unless: imposing\n")
    text = "North Korea will ban oil imports. North Korea got oil."
    result = CliRunner().invoke(cli, ["rules", "explain", "--rules", str(root), "r", text])
    assert result.exit_code == 0, result.output
    assert "r MATCHES" in result.output
    assert "same_sentence: [dprk, oil] unless imposing" in result.output
    assert '(unless: "will ban" (text 12-20))' in result.output
