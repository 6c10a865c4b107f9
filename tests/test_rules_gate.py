"""Gates: a learned model that must agree before a rule alerts (rules' `gate:`).

The model here is written by hand where the test is about what the service does with one (a
word with a large negative weight vetoes), and trained on the real corpus where the test is
about training (the scorer must give the trainer's probabilities)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path

from monitor.detect.rules import Matcher, load_rules
from monitor.detect.rules.explain import explain
from monitor.detect.rules.gate import load_model, model_json
from monitor.detect.rules.quality import read_corpus
from tests.conftest import ROOT, RULES
from tests.test_rules_cli import RULE, invoke, make_rules

GATED = RULE + "gate:\n  model: models/oil.json\n  threshold: 0.5\n"


def write_model(root: Path, weights: dict[str, float], intercept: float = 0.0) -> Path:
    """A model whose every term has idf 1 and the given weight."""
    terms = sorted(weights)
    text = model_json(
        terms, [1.0] * len(terms), {i: weights[t] for i, t in enumerate(terms)}, intercept, 2, {}
    )
    path = root / "models" / "oil.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_gate_vetoes_what_its_model_rejects_and_explain_says_why(tmp_path):
    root = make_rules(tmp_path / "rules", GATED)
    write_model(root, {"diesel": 4.0, "prices": -6.0, "oil prices": -2.0})
    source = load_rules(root)
    assert not source.problems
    matcher = Matcher(source.rules)
    kept = matcher.match({"title": "", "text": "North Korea bought diesel."})
    vetoed = matcher.match({"title": "", "text": "North Korea oil prices rose."})
    assert [m.rule.id for m in kept] == ["oil"] and vetoed == []
    lines = explain(source.rules[0], {"text": "North Korea oil prices rose."})
    assert lines[0] == "oil does not match"
    assert lines[-1].startswith(
        "  - gate: models/oil.json gives the report 0.00, the cited sentences 0.00: 0.00 < 0.50"
    )
    assert '"prices" -' in lines[-1]
    assert explain(source.rules[0], {"text": "North Korea bought diesel."})[0] == "oil MATCHES"


def test_examples_test_the_clauses_and_leave_the_gate_to_the_corpus(tmp_path):
    """A model that vetoes everything: the examples still pass (they show the clauses), while
    matching and evaluating a corpus apply the gate."""
    root = make_rules(tmp_path / "rules", GATED)
    write_model(root, {"diesel": 1.0}, intercept=-20.0)
    result = invoke("rules", "test", str(root))
    assert result.exit_code == 0 and "2 passed, 0 failed" in result.output
    rule = load_rules(root).rules[0]
    assert Matcher([rule]).match({"text": "North Korea bought diesel."}) == []


def test_backtest_lists_what_each_gate_held_back(tmp_path):
    """An author sees, over stored news, the reports the gate vetoed: the alerts not sent."""
    root = make_rules(tmp_path / "rules", GATED)
    write_model(root, {"diesel": 4.0, "prices": -6.0})
    db = f"sqlite:///{tmp_path / 'b.db'}"
    lines = [
        {"id": "a", "title": "Diesel deal", "text": "North Korea bought diesel.",
         "published": "2024-05-01T10:00:00Z"},
        {"id": "b", "title": "Oil prices", "text": "North Korea oil prices rose sharply.",
         "published": "2024-05-02T10:00:00Z"},
    ]  # fmt: skip
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    assert invoke("replay", str(path), "--db", db, "--rules", str(root)).exit_code == 0
    data = json.loads(
        invoke("rules", "backtest", "--db", db, "--rules", str(root), "--json").stdout
    )
    assert (data["articles"], data["held_back_by_gate"]) == (1, 1)
    text = invoke("rules", "backtest", "--db", db, "--rules", str(root)).output
    assert "held back by its gate: Oil prices" in text and "would alert: Diesel deal" in text


def test_a_retrained_model_is_a_new_rule_version(tmp_path):
    root = make_rules(tmp_path / "rules", GATED)
    write_model(root, {"diesel": 4.0})
    first = load_rules(root).rules[0].version
    write_model(root, {"diesel": 3.0})
    assert load_rules(root).rules[0].version != first


def test_validate_names_a_missing_or_broken_model_and_a_bad_threshold(tmp_path):
    root = make_rules(tmp_path / "rules", GATED)
    missing = invoke("rules", "validate", str(root))
    assert missing.exit_code == 1
    assert "oil.yaml:12:10: gate: no model file 'models/oil.json'" in missing.output
    (root / "models").mkdir()
    (root / "models" / "oil.json").write_text('{"format": 1, "vocabulary": ["a"]}')
    broken = invoke("rules", "validate", str(root))
    assert "gate: model 'models/oil.json': the model file is incomplete" in broken.output
    (root / "models" / "oil.json").write_text("not json")
    assert "the model is not JSON" in invoke("rules", "validate", str(root)).output
    make_rules(root, GATED.replace("threshold: 0.5", "threshold: 1.5"))
    high = invoke("rules", "validate", str(root))
    assert "gate 'threshold' must be a number from 0 to 1, not 1.5" in high.output


def test_training_writes_a_model_the_service_scores_as_the_trainer_does(tmp_path):
    """Trained on the corpus's tune split: the scorer matches scikit-learn, the threshold keeps
    the rule's true alerts out of fold, and the rule file can name the model it wrote."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    ours = rules / "dprk-sanctions-evasion.yaml"
    ours.write_text(_without_gate(ours.read_text()))
    out = tmp_path / "rules" / "models" / "trained.json"
    corpus = ROOT / "tests/corpus/articles.jsonl"

    def train() -> str:
        result = invoke(
            "rules", "train", "dprk-sanctions-evasion", str(corpus), "--split", "tune",
            "--out", str(out), "--rules", str(rules),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return result.output

    output = train()
    assert "the scorer agrees with the trainer to" in output
    assert "gate:\n    model: models/trained.json\n    threshold: 0." in output
    model = load_model(out)
    about = model.about
    assert about["rule"] == "dprk-sanctions-evasion" and about["splits"] == ["tune"]
    tune = read_corpus(corpus, "tune")
    assert about["reports"] == len(tune)
    threshold = float(output.split("threshold: ")[-1])
    ours.write_text(
        ours.read_text() + f"gate:\n  model: models/trained.json\n  threshold: {threshold}\n"
    )
    assert invoke("rules", "validate", str(rules)).exit_code == 0
    assert invoke("rules", "test", str(rules)).exit_code == 0

    # With 'alone:', training also says whether, and at what threshold, the model should fire
    # the rule by itself, out of fold.
    ours.write_text(ours.read_text() + "  alone:\n    threshold: 0.9\n    needs: [dprk]\n")
    # On `tune` the clauses already find 99% of the rule's reports: nothing left to add.
    assert "the model firing alone adds nothing at any threshold: drop 'alone:'" in train()


def test_the_alone_threshold_is_the_best_out_of_fold_and_the_highest_of_ties():
    from monitor.detect.rules.train import _alone_threshold

    # Two reports the clauses missed, scored 0.93 and 0.81; a look-alike at 0.72; one report
    # that names nothing the rule needs, at 0.99.
    wanted = [True, True, True, False, False, True]
    gated = [True, False, False, False, False, False]
    named = [True, True, True, True, True, False]
    whole = [0.9, 0.93, 0.81, 0.72, 0.1, 0.99]
    assert _alone_threshold(wanted, gated, named, whole) == 0.80  # both found, no false alarm
    assert _alone_threshold(wanted, [w for w in wanted], named, whole) is None  # nothing to add


def _without_gate(text: str) -> str:
    """A rule file's text without its ``gate:`` block (the shipped evasion rule has one)."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        skipping = line.startswith("gate:") or (skipping and line.startswith("  "))
        if not skipping:
            out.append(line)
    return "".join(out)


def test_an_unknown_rule_and_an_empty_split_are_refused(tmp_path):
    corpus = str(ROOT / "tests/corpus/articles.jsonl")
    unknown = invoke("rules", "train", "dprk-oil-transfr", corpus, "--rules", str(RULES))
    assert unknown.exit_code != 0 and "did you mean 'dprk-oil-transfer'" in unknown.output
    empty = invoke(
        "rules", "train", "dprk-oil-transfer", corpus, "--split", "nope", "--rules", str(RULES),
        "--out", str(tmp_path / "m.json"),
    )  # fmt: skip
    assert (
        empty.exit_code != 0 and "no reports for dprk-oil-transfer in split(s) nope" in empty.output
    )
    assert not (tmp_path / "m.json").exists()


def test_the_cited_sentences_speak_for_a_report_about_something_else(tmp_path):
    """A report whose breach is one sentence among others (or among page junk) is scored as
    that sentence too: the whole report diluted, the cited sentence still passes."""
    root = make_rules(tmp_path / "rules", GATED)
    write_model(root, {"diesel": 3.0, "football": -1.0}, intercept=-1.0)
    rule = load_rules(root).rules[0]
    junk = " ".join(["The football season opened with a football match."] * 20)
    fields = {"title": "", "text": f"{junk}\nNorth Korea bought diesel."}
    assert [m.rule.id for m in Matcher([rule]).match(fields)] == ["oil"]
    line = explain(rule, fields)[-1]
    assert line.startswith("  + gate: models/oil.json gives the report 0.") and "cited" in line
    score = float(line.split("the cited sentences ")[1].split(":")[0])
    report = float(line.split("gives the report ")[1].split(",")[0])
    assert report < 0.5 <= score


def test_the_shipped_gate_models_are_the_ones_the_readme_describes():
    """Each shipped gate names its own rule's model, trained on every split but the held-out
    one it is measured on (`fresh16`)."""
    for rule in load_rules(RULES).rules:
        model = rule.gate.model
        assert model.about["rule"] == rule.id and model.about["reports"] == 2077
        assert "fresh15" in model.about["splits"] and "fresh16" not in model.about["splits"]


def test_training_without_scikit_learn_says_how_to_get_it(tmp_path, monkeypatch):
    """The service does not carry the training stack; the command says which extra does."""
    for name in ("sklearn", "sklearn.feature_extraction.text", "sklearn.linear_model"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    corpus = str(ROOT / "tests/corpus/articles.jsonl")
    result = invoke(
        "rules", "train", "dprk-oil-transfer", corpus, "--split", "tune", "--rules", str(RULES),
        "--out", str(tmp_path / "m.json"),
    )  # fmt: skip
    assert result.exit_code != 0
    assert "needs scikit-learn: pip install 'sanctions-monitor[train]'" in result.output
    assert not (tmp_path / "m.json").exists()


def test_the_service_counts_and_logs_what_a_gate_held_back(tmp_path, caplog):
    """In the service a veto is no silence: ``monitor_gate_vetoes_total{rule}`` and a log line
    name it, whether the parser process matched the article or the writer did."""
    from monitor.detect.pipeline import Pipeline
    from monitor.detect.prepared import prepare
    from monitor.models import Article
    from monitor.service.metrics import Metrics
    from monitor.store import Store

    root = make_rules(tmp_path / "rules", GATED)
    write_model(root, {"diesel": 4.0, "prices": -6.0})
    matcher = Matcher(load_rules(root).rules)
    metrics = Metrics()
    store = Store(f"sqlite:///{tmp_path / 'gate.db'}")
    pipeline = Pipeline(store, matcher, metrics=metrics)
    texts = [
        "North Korea bought diesel.",
        "North Korea oil prices rose.",
        "North Korea saw oil prices fall.",
    ]
    articles = [
        Article(title="", text=t, source="Wire", external_id=str(n), feed="f")
        for n, t in enumerate(texts)
    ]
    prepare(articles[2], matcher)  # matched where it was parsed; the others by the writer
    assert articles[2].prepared.vetoed == [0]
    caplog.set_level("INFO")
    result = pipeline.ingest(articles)
    store.close()
    assert result.new == 3 and result.matches == 1
    assert metrics.gate_vetoes.labels("oil")._value.get() == 2
    assert metrics.matches.labels("oil")._value.get() == 1
    assert caplog.text.count("rule oil's clauses held, its gate held it back") == 2


ALONE = GATED + "  alone:\n    threshold: 0.9\n    needs: [dprk]\n"


def test_the_model_alone_fires_a_rule_its_clauses_miss_and_says_so(tmp_path):
    """A report the clauses miss (no oil word in the DPRK's sentence) fires the rule when the
    model is sure of it and it names the DPRK; it cites the sentences the model scores highest,
    marks the needed and the weightiest words, and says the model fired it."""
    root = make_rules(tmp_path / "rules", ALONE)
    write_model(root, {"tanker": 6.0, "fuel": 6.0, "prices": -6.0})
    matcher = Matcher(load_rules(root).rules)
    report = {
        "title": "Tankers seen at sea",
        "text": "A tanker carried fuel. North Korea took the fuel from the tanker at night. "
        "Weather was calm.",
    }
    (match,) = matcher.match(report)
    assert match.by_model is not None and match.by_model >= 0.9
    best = match.sentences[0]
    assert best.marked() == "**North Korea** took the **fuel** from the **tanker** at night."
    assert best.why.startswith("the gate's model alone gives the report ")
    assert matcher.match({"title": "", "text": "A tanker carried fuel at sea."}) == []  # no DPRK
    assert matcher.match({"title": "", "text": "North Korea saw fuel prices rise."}) == []
    rule = load_rules(root).rules[0]
    without = dataclasses.replace(rule, gate=dataclasses.replace(rule.gate, alone=None))
    assert Matcher([without]).match(report) == []  # the clauses miss it

    lines = explain(load_rules(root).rules[0], report)
    assert lines[0] == "oil MATCHES on its gate's model alone"
    assert lines[-1].startswith("  + gate alone: models/oil.json gives the report ")
    low = explain(load_rules(root).rules[0], {"text": "North Korea saw fuel prices rise."})
    assert low[0] == "oil does not match" and "< 0.90" in low[-1]

    # The alert says why the sentence is quoted, in every channel's words.
    from monitor.delivery.channels.markup import marked, starred

    stored = {"text": best.text, "marks": [list(m) for m in best.marks], "why": best.why}
    assert marked(stored, str, starred).endswith(f"at night. ({best.why})")
    from monitor.console.render import highlight

    shown = str(highlight(stored | {"why": "<b>model</b>"}))
    assert shown.endswith('at night. <small class="why">(&lt;b&gt;model&lt;/b&gt;)</small>')


def test_validate_names_a_bad_alone_and_training_suggests_its_threshold(tmp_path):
    root = make_rules(tmp_path / "rules", ALONE.replace("needs: [dprk]", "needs: [dprkk]"))
    write_model(root, {"diesel": 4.0})
    result = invoke("rules", "validate", str(root))
    assert result.exit_code == 1 and "unknown term list 'dprkk'" in result.output
    root = make_rules(tmp_path / "rules", ALONE.replace("    threshold: 0.9", "    threshold: 2"))
    result = invoke("rules", "validate", str(root))
    assert "gate alone 'threshold' must be a number from 0 to 1, not 2" in result.output


def test_an_alert_the_model_fired_alone_keeps_why_through_the_parser_process(tmp_path):
    """Matched where it was parsed or by the writer, the citation stores why the model's
    sentences are quoted, and the alert's text shows it."""
    from monitor.alerting.alerts import load_alert
    from monitor.delivery.render import alert_text
    from monitor.detect.pipeline import Pipeline
    from monitor.detect.prepared import prepare
    from monitor.models import Article
    from monitor.store import Store

    root = make_rules(tmp_path / "rules", ALONE)
    write_model(root, {"tanker": 6.0, "fuel": 6.0})
    matcher = Matcher(load_rules(root).rules)
    store = Store(f"sqlite:///{tmp_path / 'alone.db'}")
    pipeline = Pipeline(store, matcher)
    texts = ["North Korea took fuel from a tanker.", "A tanker gave North Korea its fuel at sea."]
    articles = [
        Article(title=f"Report {n}", text=t, source="Wire", external_id=str(n), feed=f"f{n}")
        for n, t in enumerate(texts)
    ]
    prepare(articles[0], matcher)  # matched in a parser process; the other by the writer
    assert articles[0].prepared.found[0][3] is not None  # the model's probability travels
    results = [pipeline.ingest([article]) for article in articles]
    assert [r.matches for r in results] == [1, 1]
    with store.session() as session:
        alerts = [load_alert(session, r.changed_alerts[0]) for r in results]
    store.close()
    citations = {c.title: c for alert in alerts for c in alert.citations}
    assert set(citations) == {"Report 0", "Report 1"}
    for citation in citations.values():
        assert citation.sentences[0]["why"].startswith("the gate's model alone gives the report")
    assert "(the gate's model alone gives the report" in alert_text(alerts[-1])


def test_the_model_alone_never_overrides_its_own_gate(tmp_path):
    """A report the clauses held on met the gate already: with 'alone' set lower than the
    gate's threshold, a vetoed report stays vetoed rather than firing on the model's word."""
    rule = ALONE.replace("threshold: 0.9", "threshold: 0.3")  # the gate's own stays at 0.5
    root = make_rules(tmp_path / "rules", rule)
    write_model(root, {"oil": -0.5})  # one sentence whose only known word gives 0.38
    matcher = Matcher(load_rules(root).rules)
    vetoed: list = []
    assert matcher.match({"title": "", "text": "North Korea bought oil."}, vetoed) == []
    assert [r.id for r in vetoed] == ["oil"]


def test_a_model_trained_on_every_split_names_them(tmp_path):
    """Without --split the model records the splits it learned from, not "all": a split added to
    the corpus later must not read as training data of a model trained before it came."""
    records = [
        {**json.loads(line), "split": "early" if n % 2 else "late"}
        for n, line in enumerate((ROOT / "tests/corpus/articles.jsonl").read_text().splitlines())
        if json.loads(line)["split"] == "fresh9"
    ]
    corpus = tmp_path / "two.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "m.json"
    result = invoke(
        "rules", "train", "dprk-oil-transfer", str(corpus), "--out", str(out), "--rules", str(RULES)
    )
    assert result.exit_code == 0, result.output
    about = load_model(out).about
    assert about["splits"] == ["early", "late"] and about["reports"] == len(records)
