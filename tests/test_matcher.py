"""The compiled matcher: each clause type, spans, sentences, and the shipped rules' examples."""

from pathlib import Path

import pytest

from monitor.detect.rules import Matcher, load_rules
from monitor.detect.rules.examples import run_examples
from tests.conftest import RULES


def compile_rule(tmp_path: Path, body: str, lexicon: str = "") -> Matcher:
    root = tmp_path / "rules"
    (root / "lexicon").mkdir(parents=True, exist_ok=True)
    (root / "lexicon" / "lex.yaml").write_text(lexicon or "terms:\n  dprk: [North Korea*]\n")
    (root / "r.yaml").write_text("id: r\ntitle: T\nuses: [lexicon/lex.yaml]\n" + body)
    source = load_rules(root)
    assert not source.problems, [str(p) for p in source.problems]
    return Matcher(source.rules)


def matched(matcher: Matcher, text: str, title: str = "") -> bool:
    return bool(matcher.match({"title": title, "text": text}))


def test_wildcard_and_word_boundaries(tmp_path):
    m = compile_rule(tmp_path, "terms:\n  s: [sanction*, oil]\nmatch: s\n")
    assert matched(m, "New sanctions were announced.")
    assert matched(m, "Crude OIL prices.")
    assert not matched(m, "The soil was dry; boiling point.")


def test_near_counts_words_between(tmp_path):
    m = compile_rule(
        tmp_path,
        "terms:\n  a: [workers]\n  b: [new]\nmatch:\n  near: [a, b]\n  within: 2\n",
    )
    assert matched(m, "new North Korean workers")  # two words between
    assert not matched(m, "new and very many North Korean workers")


def test_same_sentence_does_not_cross_a_full_stop(tmp_path):
    m = compile_rule(tmp_path, "terms:\n  oil: [oil]\nmatch:\n  same_sentence: [dprk, oil]\n")
    assert matched(m, "North Korea imported oil.")
    assert not matched(m, "North Korea said so. Oil prices rose.")


def test_none_and_at_least(tmp_path):
    m = compile_rule(
        tmp_path,
        "terms:\n  coal: [coal]\n  iron: [iron]\n  fish: [seafood]\n  satire: [satire]\n"
        "match:\n  at_least: 2\n  of: [coal, iron, fish]\n  none: [satire]\n",
    )
    assert matched(m, "Coal and iron left the port.")
    assert not matched(m, "Coal left the port.")
    assert not matched(m, "Coal and iron, a satire.")


def test_field_scope(tmp_path):
    m = compile_rule(tmp_path, "match:\n  term: dprk\n  in: title\n")
    assert matched(m, "Body text", title="North Korea news")
    assert not matched(m, "North Korea in body only", title="Other news")


def test_regex_escape_hatch(tmp_path):
    m = compile_rule(tmp_path, "match:\n  all: [dprk, {regex: 'IMO \\d{7}'}]\n")
    assert matched(m, "North Korea's tanker IMO 8914934 was seen.")
    assert not matched(m, "North Korea's tanker was seen.")


def test_hyphen_space_and_typographic_variants(tmp_path):
    m = compile_rule(tmp_path, "terms:\n  sts: [ship-to-ship, Workers' Party]\nmatch: sts\n")
    assert matched(m, "a ship to ship transfer")
    assert matched(m, "a Ship\u2011to\u2011Ship transfer")
    assert matched(m, "the Workers\u2019 Party of Korea")


def test_other_scripts(tmp_path):
    lexicon = "terms:\n  dprk: [КНДР, Северная Корея, 북한, 朝鲜]\n"
    m = compile_rule(tmp_path, "match: dprk\n", lexicon)
    assert matched(m, "Рабочие из КНДР прибыли в Россию.")
    assert matched(m, "СЕВЕРНАЯ КОРЕЯ заявила")
    assert matched(m, "북한의 노동자들이 러시아에")
    assert matched(m, "朝鲜工人抵达俄罗斯")


def test_spans_and_sentences_point_at_the_original_text(tmp_path):
    m = compile_rule(
        tmp_path,
        "terms:\n  labor: [work permit*]\nmatch:\n  all: [dprk, labor]\n",
    )
    text = "Weather was fine. Russia issued “new” work permits to North Koreans. End."
    (match,) = m.match({"text": text})
    (sentence,) = match.sentences
    assert sentence.text == "Russia issued “new” work permits to North Koreans."
    assert [text[h.start : h.end] for h in match.hits] == ["work permits", "North Koreans"]
    assert sentence.marked() == "Russia issued “new” **work permits** to **North Koreans**."


SHIPPED = load_rules(RULES)


def test_shipped_rules_are_valid():
    assert not SHIPPED.problems
    assert {r.id for r in SHIPPED.rules} == {
        "dprk-overseas-labor",
        "dprk-oil-transfer",
        "dprk-sanctions-evasion",
    }


@pytest.mark.parametrize(
    "outcome",
    list(run_examples(SHIPPED.rules)),
    ids=lambda o: f"{o.rule.id}:{'match' if o.expected else 'no_match'}:{o.text[:40]}",
)
def test_shipped_rule_examples(outcome):
    assert outcome.passed, outcome.describe()


def test_rule_examples_per_rule():
    for rule in SHIPPED.rules:
        assert len(rule.examples_match) >= 8, rule.id
        assert len(rule.examples_no_match) >= 8, rule.id


@pytest.mark.parametrize(
    "text",
    [
        "Рабочие из КНДР прибыли во Владивосток.",
        "Северная Корея отправила рабочих.",
        "북한 노동자들이 러시아에 도착했다.",
        "조선민주주의인민공화국 외무성 대변인",
        "朝鲜工人抵达俄罗斯。",
        "北朝鮮の労働者",
    ],
)
def test_shipped_lexicon_knows_north_koreas_names_in_other_scripts(text):
    from monitor.detect.rules.matcher import Document

    matcher = Matcher(SHIPPED.rules)
    found = matcher.hits(Document({"text": text}))
    assert found.get("lexicon/dprk.yaml#dprk"), text
