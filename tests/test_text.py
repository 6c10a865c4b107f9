import random
import re

from monitor.util.text import Sentences, phrase_tokens, tokenize


def test_tokens_fold_case_accents_and_punctuation():
    stream = tokenize("Ship-to-Ship transfers near Café “Nampo”")
    assert stream.joined == " ship to ship transfers near cafe nampo "
    at = stream.joined.index("cafe")
    start, end = stream.char_span(at, at + 4)
    assert stream.text[start:end] == "Café"


def test_hyphen_and_space_variants_tokenize_alike():
    assert phrase_tokens("ship-to-ship") == phrase_tokens("ship to ship")
    assert phrase_tokens("Ship\u2011to\u2011ship") == ["ship", "to", "ship"]


def test_cjk_is_one_token_per_character():
    stream = tokenize("朝鲜的工人")
    assert stream.joined == " 朝 鲜 的 工 人 "
    assert tokenize("북한의").joined == " 북 한 의 "


def test_cyrillic_folds_case():
    assert tokenize("КНДР и Северная Корея").joined == " кндр и северная корея "


def test_sentences_keep_abbreviations_together():
    text = (
        "U.S. officials said the U.N. sanctions were violated. Mr. Kim left. "
        "“It is clear,” he said.\nNew paragraph"
    )
    found = [Sentences.of(text).sentence(i) for i in range(len(Sentences.of(text).spans))]
    assert found == [
        "U.S. officials said the U.N. sanctions were violated.",
        "Mr. Kim left.",
        "“It is clear,” he said.",
        "New paragraph",
    ]


def test_sentence_index_of_offset():
    text = "First one. Second one here."
    sentences = Sentences.of(text)
    assert sentences.index_of(text.index("Second")) == 1
    assert sentences.index_of(0) == 0


def test_ascii_spans_map_back_exactly():
    """The ASCII fast path maps every token back to its span in the original text."""
    rng = random.Random(7)
    pieces = ["word", "Ab1", "x", "  ", ", ", ". ", "\n\n", "-", "’", "(", "'s", "--"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        text = text.encode("ascii", "ignore").decode()
        stream = tokenize(text)
        expected = [m.span() for m in re.finditer(r"[A-Za-z0-9]+", text)]
        got, pos = [], 1
        for token in stream.tokens:
            got.append(stream.char_span(pos, pos + len(token)))
            pos += len(token) + 1
        assert got == expected, text
