"""`monitor rules evaluate`: precision and recall per rule on labelled reports, each error
shown with the sentence that fired or the clause that failed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import RULES

LABOR = "dprk-overseas-labor"
REPORTS = [
    {  # wanted and found
        "id": "p1",
        "title": "Russia lets in North Korean workers",
        "text": "Russia issued 700 new work permits to North Korean workers this year.",
        "labels": [LABOR],
        "split": "test",
    },
    {  # wanted, missed: nothing names the workers
        "id": "p2",
        "title": "Pyongyang's hard currency from Russia",
        "text": "Pyongyang still earns hard currency in Russia, a defector said on Monday.",
        "labels": [LABOR],
        "split": "test",
    },
    {  # not wanted: sanctions imposed, not violated
        "id": "n1",
        "title": "UN orders workers home",
        "text": "The resolution orders states to send North Korean workers home and bans new "
        "work permits for North Korean laborers.",
        "labels": [],
        "split": "tune",
    },
]


def corpus(tmp_path: Path, items: list[dict]) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(item) for item in items) + "\n")
    return path


def run(*args: str):
    return CliRunner().invoke(cli, ["rules", "evaluate", *args, "--rules", str(RULES)])


def test_scores_and_each_error_with_its_evidence(tmp_path):
    result = run(str(corpus(tmp_path, REPORTS)), "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["articles"] == 3
    labor = found["scores"][LABOR]
    assert (labor["tp"], labor["fn"]) == (1, 1)
    kinds = {(e["kind"], e["article"]["id"]) for e in found["errors"] if e["rule"] == LABOR}
    assert ("false negative", "p2") in kinds
    missed = next(e for e in found["errors"] if e["article"]["id"] == "p2")
    assert any(line.lstrip().startswith("-") for line in missed["clauses"])  # what failed
    for error in found["errors"]:
        if error["kind"] == "false positive":
            assert error["sentences"] and "**" in error["sentences"][0]  # the terms that fired


def test_the_text_report_and_a_split(tmp_path):
    path = str(corpus(tmp_path, REPORTS))
    text = run(path, "--split", "test")
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[0].split() == [
        "rule", "tp", "fp", "fn", "tn", "precision", "recall", "f1",
    ]  # fmt: skip
    assert f"FALSE NEGATIVE {LABOR}: p2 Pyongyang's hard currency from Russia" in text.stdout
    assert "n1" not in text.stdout  # the tune half is left out
    assert "2 report(s), split test" in text.stderr
    none = run(path, "--split", "other")
    assert none.exit_code == 1 and "no reports in split 'other'" in none.output


def test_a_broken_corpus_line_is_one_error_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(REPORTS[0]) + "\n" + '{"id": "x", "title": "no text"}\n')
    result = run(str(path))
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {path}:2: not a labelled report (missing 'text')"


def test_precision_from_analysts_verdicts(tmp_path):
    """With --verdicts, each rule's precision as the analysts' verdicts in the store give it."""
    from monitor.store import Store
    from monitor.store.verdicts import Verdict, record_verdict

    db = f"sqlite:///{tmp_path / 'v.db'}"
    store = Store(db)
    with store.session() as session:
        for article, verdict in ((1, "relevant"), (2, "relevant"), (3, "not_relevant")):
            record_verdict(session, Verdict(LABOR, "st-1", article, f"c{article}", verdict, "", ()))
        session.commit()
    store.close()
    path = str(corpus(tmp_path, REPORTS))
    text = run(path, "--verdicts", "--db", db, "--no-errors")
    assert text.exit_code == 0, text.output
    assert f"verdicts {LABOR}: 2 relevant, 1 not relevant: precision 0.67" in text.stdout
    assert "verdicts dprk-oil-transfer: 0 relevant, 0 not relevant: no verdicts yet" in text.stdout
    found = json.loads(run(path, "--verdicts", "--db", db, "--json").stdout)
    assert found["verdicts"][LABOR] == {"relevant": 2, "not_relevant": 1, "precision": 2 / 3}


def test_precision_and_recall_carry_their_95_percent_intervals(tmp_path):
    """Held-out sets are small: 5 of 10 says the true rate lies anywhere from about a quarter to
    three quarters. The Wilson interval's published values for 5/10, 0/10 and 10/10."""
    from monitor.detect.rules.quality import Confusion, wilson

    assert [round(x, 4) for x in wilson(5, 10)] == [0.2366, 0.7634]
    assert [round(x, 4) for x in wilson(0, 10)] == [0.0, 0.2775]
    assert [round(x, 4) for x in wilson(10, 10)] == [0.7225, 1.0]
    assert wilson(0, 0) == (0.0, 1.0)  # no alert at all: nothing known
    assert Confusion(tp=5, fp=5, fn=0).to_json()["precision_interval"] == [0.2366, 0.7634]

    path = str(corpus(tmp_path, REPORTS))
    text = run(path)
    assert text.exit_code == 0, text.output
    row = next(line for line in text.stdout.splitlines() if line.startswith(LABOR))
    assert re.search(r"\d\.\d\d \(\d\.\d\d-\d\.\d\d\)", row), row
    assert "95% Wilson intervals" in text.stdout
    found = json.loads(run(path, "--json").stdout)["scores"][LABOR]
    low, high = found["recall_interval"]
    assert low <= found["recall"] <= high
