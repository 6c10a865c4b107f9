"""One source of truth for the rule format: the models that load rule files also generate the
JSON Schema, so the loader and an editor give the same verdict on a document, and authors keep
their ``file:line:col`` messages."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.detect.rules import load_rules
from monitor.detect.rules.schema import rule_schema
from tests.conftest import RULES

LEXICON = "terms:\n  dprk: [North Korea*, DPRK]\n  oil: [oil, crude]\n"
HEAD = "id: r\ntitle: T\nuses: [lexicon/lex.yaml]\n"

# Documents both must accept: the short forms the format allows.
ACCEPTED = {
    "a name": HEAD + "match: dprk\n",
    "uses as one file": "id: r\ntitle: T\nuses: lexicon/lex.yaml\nmatch: dprk\n",
    "a list of clauses": HEAD + "match: [dprk, oil]\n",
    "one clause under all": HEAD + "match:\n  all: dprk\n",
    "several operators": HEAD + "match:\n  near: [dprk, oil]\n  within: 3\n  regex: x\n",
    "at_least": HEAD + "match:\n  at_least: 1\n  of: [dprk, {phrase: ship-to-ship}]\n",
    "in one field": HEAD + "match:\n  term: dprk\n  in: title\n",
    "in two fields": HEAD + "match:\n  same_sentence: [dprk, oil]\n  in: [title, source]\n",
    "unless one list": HEAD + "match:\n  same_sentence: [dprk, oil]\n  unless: oil\n",
    "unless two lists": HEAD + "match:\n  any: [dprk, oil]\n  unless: [dprk, oil]\n",
    "lead": HEAD + "match:\n  term: dprk\n  lead: 2\n  in: text\n",
    "lead on a regex": HEAD + "match:\n  regex: x\n  lead: 1\n",
    "numbers as phrases": HEAD + "terms:\n  res: [2397, 1718]\n  one: coal\nmatch: [res, one]\n",
    "empty examples": HEAD + "match: dprk\nexamples:\n",
    "everything": HEAD
    + "severity: critical\ntags: [dprk, 2019]\ndescription: d\nlabels: {team: x, n: 1}\n"
    "enabled: false\nreferences: [https://example.org]\nmatch: dprk\n"
    "examples:\n  match: [North Korea]\n  no_match: [Oslo]\n",
}

# Documents both must reject: what a schema can say about the shape of a rule.
REJECTED = {
    "not a mapping": "- dprk\n",
    "no match": "id: r\ntitle: T\n",
    "no id": "title: T\nmatch: dprk\n",
    "misspelt key": HEAD + "mtach: dprk\nmatch: dprk\n",
    "id with capitals": "id: Bad Id\ntitle: T\nmatch: dprk\n",
    "id a number": "id: 12\ntitle: T\nmatch: dprk\n",
    "title a list": "id: r\ntitle: [T]\nmatch: dprk\n",
    "unknown severity": HEAD + "severity: urgent\nmatch: dprk\n",
    "severity in capitals": HEAD + "severity: High\nmatch: dprk\n",
    "tags not a list": HEAD + "tags: dprk\nmatch: dprk\n",
    "uses a mapping": "id: r\ntitle: T\nuses: {a: b}\nterms: {x: [x]}\nmatch: x\n",
    "terms a list": HEAD + "terms: [x]\nmatch: dprk\n",
    "empty term list": HEAD + "terms:\n  x: []\nmatch: dprk\n",
    "phrase a mapping": HEAD + "terms:\n  x: [{a: b}]\nmatch: dprk\n",
    "labels a list": HEAD + "labels: [a]\nmatch: dprk\n",
    "enabled as text": HEAD + "enabled: 'no'\nmatch: dprk\n",
    "examples a list": HEAD + "match: dprk\nexamples: [a]\n",
    "misspelt examples key": HEAD + "match: dprk\nexamples:\n  macth: [a]\n",
    "match a number": HEAD + "match: 5\n",
    "match an empty list": HEAD + "match: []\n",
    "all empty": HEAD + "match:\n  all: []\n",
    "all null": HEAD + "match:\n  all:\n",
    "misspelt clause": HEAD + "match:\n  same_sentance: [dprk, oil]\n",
    "empty clause": HEAD + "match: {}\n",
    "only in": HEAD + "match: {in: title}\n",
    "within without near": HEAD + "match:\n  within: 3\n  term: dprk\n",
    "of without at_least": HEAD + "match:\n  of: [dprk]\n",
    "at_least without of": HEAD + "match:\n  at_least: 1\n",
    "at_least zero": HEAD + "match:\n  at_least: 0\n  of: [dprk]\n",
    "at_least true": HEAD + "match:\n  at_least: true\n  of: [dprk]\n",
    "near one side": HEAD + "match:\n  near: [dprk]\n",
    "near three": HEAD + "match:\n  near: [dprk, oil, dprk]\n",
    "near a number": HEAD + "match:\n  near: [dprk, 5]\n",
    "within negative": HEAD + "match:\n  near: [dprk, oil]\n  within: -1\n",
    "same_sentence one": HEAD + "match:\n  same_sentence: [dprk]\n",
    "regex empty": HEAD + "match:\n  regex: ''\n",
    "regex a list": HEAD + "match:\n  regex: [a]\n",
    "term a number": HEAD + "match:\n  term: 5\n",
    "unknown field": HEAD + "match:\n  term: dprk\n  in: body\n",
    "no fields": HEAD + "match:\n  term: dprk\n  in: []\n",
    "empty phrase": HEAD + "match:\n  phrase: []\n",
    "only unless": HEAD + "match: {unless: dprk}\n",
    "only lead": HEAD + "match: {lead: 2}\n",
    "unless empty": HEAD + "match:\n  term: dprk\n  unless: []\n",
    "unless a number": HEAD + "match:\n  term: dprk\n  unless: 5\n",
    "unless a clause": HEAD + "match:\n  term: dprk\n  unless: {term: oil}\n",
    "lead zero": HEAD + "match:\n  term: dprk\n  lead: 0\n",
    "lead as text": HEAD + "match:\n  term: dprk\n  lead: two\n",
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = rule_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def loader_problems(tmp_path: Path, text: str) -> list[str]:
    root = tmp_path / "rules"
    (root / "lexicon").mkdir(parents=True)
    (root / "lexicon" / "lex.yaml").write_text(LEXICON)
    (root / "r.yaml").write_text(text)
    return [str(p) for p in load_rules(root).problems]


def test_every_shipped_rule_validates_against_the_generated_schema(validator):
    paths = sorted(RULES.glob("*.yaml"))
    assert len(paths) == 3
    for path in paths:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert not errors, (path, errors)


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_loader_and_schema_both_accept(tmp_path, validator, text):
    assert loader_problems(tmp_path, text) == []
    assert not list(validator.iter_errors(yaml.safe_load(text)))


@pytest.mark.parametrize("text", REJECTED.values(), ids=REJECTED.keys())
def test_loader_and_schema_both_reject(tmp_path, validator, text):
    assert loader_problems(tmp_path, text)
    assert list(validator.iter_errors(yaml.safe_load(text)))


def test_the_schema_command_prints_the_generated_schema():
    result = CliRunner().invoke(cli, ["rules", "schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == rule_schema()


# Each mistake keeps the sentence and the place authors had before the models.
MESSAGES = {
    HEAD + "match:\n  within: 3\n  term: dprk\n": ["5:3: 'within' goes with 'near'"],
    HEAD + "match:\n  of: [dprk]\n": ["5:3: 'of' goes with 'at_least'"],
    HEAD + "match:\n  at_least: 3\n  of: [dprk, oil]\n": [
        "5:13: 'at_least: 3' can never hold with 2 clauses"
    ],
    HEAD + "match:\n  at_least: 1\n": [
        "5:13: 'at_least' needs 'of:' with the list of clauses to count"
    ],
    HEAD + "match:\n  at_least: true\n  of: [dprk]\n": [
        "5:13: 'at_least' takes a whole number of at least 1, got True"
    ],
    HEAD + "match:\n  term: dprk\n  in: [title, txt]\n": [
        "6:3: unknown field 'txt' (did you mean 'text'?); fields are title, text, source"
    ],
    HEAD + "match:\n  term: dprk\n  in: []\n": [
        "6:3: 'in' takes a field or a list of fields: title, text, source"
    ],
    HEAD + "match:\n  near: dprk\n": ["5:9: 'near' needs two term lists, one each side; got one"],
    HEAD + "match:\n  near: [dprk, 5]\n": ["5:16: expected the name of a term list, got 5"],
    HEAD + "match:\n  near: [dprk, oil]\n  within: -1\n": [
        "6:3: 'within' takes a number of words, got -1"
    ],
    HEAD + "match:\n  same_sentence: [dprk]\n": [
        "5:18: 'same_sentence' needs two or more term lists"
    ],
    HEAD + "match:\n  regex: [a]\n": ["5:10: 'regex' takes one pattern as text"],
    HEAD + "match:\n  all: [dprk, 5]\n": [
        "5:15: expected a term list name or a clause mapping, got 5"
    ],
    HEAD + "match: {}\n": [
        "4:8: a clause needs one of: all, any, none, at_least, near, same_sentence, regex, "
        "term, phrase"
    ],
    HEAD + "match: dprk\nexamples:\n  macth: [a]\n  no_match: a\n": [
        "6:3: unknown key 'macth' in examples (did you mean 'match'?)",
        "7:3: examples 'no_match' must be a list of texts",
    ],
    HEAD + "match: dprk\nexamples: [a]\n": [
        "5:11: 'examples' must have 'match:' and/or 'no_match:'"
    ],
    "severity: low\n": [
        "1:1: missing required key 'id'",
        "1:1: missing required key 'title'",
        "1:1: missing required key 'match'",
    ],
    "- a\n": ["1:1: a rule file must be a mapping with 'id:' and 'match:'"],
    "id: r\ntitle: T\ntitle: U\nuses: lexicon/lex.yaml\nmatch: dprk\n": [
        "3:1: key 'title' appears twice"
    ],
    "id: r\ntitle: T\nuses: {a: b}\nmatch: dprk\n": [
        "3:7: 'uses' must be a list of lexicon files",
        "4:8: unknown term list 'dprk' (no term lists are defined: add 'terms:' or 'uses:')",
    ],
    HEAD + "terms: [x]\nmatch: dprk\n": ["4:8: 'terms' must be a mapping of name: [phrases]"],
    HEAD + "terms:\n  x: [a*b, '!!', {k: v}, ok]\n  y: 5\nmatch: [dprk, x, y]\n": [
        "5:7: phrase 'a*b': a wildcard '*' may only end a phrase",
        "5:12: phrase '!!' has no letters or digits",
        "5:18: a phrase in 'x' must be text, not {'k': 'v'}",
        "6:6: term list 'y' must be a list of phrases",
    ],
    HEAD + "match: [dprk, oli]\n": ["4:15: unknown term list 'oli' (did you mean 'oil'?)"],
    HEAD + "match:\n  term: dprk\n  unless: [oil, dprc]\n": [
        "6:17: unknown term list 'dprc' (did you mean 'dprk'?)"
    ],
    HEAD + "match:\n  term: dprk\n  unless: 5\n": [
        "6:11: 'unless' takes a term list name or a list of them"
    ],
    HEAD + "match:\n  term: dprk\n  lead: 0\n": [
        "6:9: 'lead' takes a number of sentences, at least 1, got 0"
    ],
    "id: r\ntitle: T\nuses: [lexicon/nope.yaml]\nterms: {x: [x]}\nmatch: x\n": [
        "3:8: 'uses': no lexicon file 'lexicon/nope.yaml' under {root}"
    ],
}


@pytest.mark.parametrize("text", MESSAGES, ids=range(len(MESSAGES)))
def test_messages_keep_their_words_and_places(tmp_path, text):
    root = tmp_path / "rules"
    where = f"{root / 'r.yaml'}:"
    expected = [where + m.replace("{root}", str(root)) for m in MESSAGES[text]]
    assert loader_problems(tmp_path, text) == expected
