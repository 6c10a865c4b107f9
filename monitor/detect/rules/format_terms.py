"""The words of the rule format: phrases, term lists, and the names clauses refer to them by.

A validated phrase list holds :class:`~monitor.detect.rules.model.Phrase` objects already, so
how a phrase is cut into words is decided in one place. A term list name is checked against the
names in scope, which the caller passes as validation context (:func:`scope`): they depend on
the lexicon files a rule ``uses:``, which no model can read. Without a context, names are not
checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    WrapValidator,
)

from monitor.detect.rules.model import Phrase
from monitor.detect.rules.wording import OURS, did_you_mean, expect, problem, reraise, reworded
from monitor.util.text import phrase_tokens

_SCOPE = "term_lists"


def scope(names: Iterable[str]) -> dict[str, Any]:
    """The validation context that puts these term list names in scope, in this order."""
    return {_SCOPE: dict.fromkeys(names)}


def one_or_many(value: Any) -> str:
    """The union member for a value that may be written alone or as a list of them."""
    return "(one)" if isinstance(value, str) else "(many)"


def _phrase(value: str | int | float) -> Phrase:
    text = str(value).strip()
    prefix = text.endswith("*")
    core = text[:-1] if prefix else text
    if "*" in core:
        raise problem(f"phrase '{text}': a wildcard '*' may only end a phrase")
    tokens = tuple(phrase_tokens(core))
    if not tokens:
        raise problem(f"phrase '{text}' has no letters or digits")
    return Phrase(text=text, tokens=tokens, prefix=prefix)


def _list_words(value: Any) -> str:
    if value == []:
        return "term list '{list}' is empty"
    return "term list '{list}' must be a list of phrases"


# A phrase is text; a number is accepted too, as YAML reads `- 2397` as one.
PhraseText = Annotated[
    str | int | float,
    AfterValidator(_phrase),
    expect(lambda v: f"a phrase in '{{list}}' must be text, not {v!r}"),
]
Phrases = Annotated[
    Annotated[str, AfterValidator(lambda text: (_phrase(text),)), Tag("(one)")]
    | Annotated[list[PhraseText], Field(min_length=1), AfterValidator(tuple), Tag("(many)")],
    Discriminator(one_or_many),
    expect(_list_words),
    Field(description="Phrases, matched case-insensitively on whole words; a final * is a prefix."),
]


def named(name: str | None) -> WrapValidator:
    """Sentences about a phrase list name it (``{list}`` in their text): by its key under
    ``terms:``, or by the name given."""

    def fill(error: dict[str, Any]) -> Any:
        if error["type"] not in OURS:
            return None
        label = name if name is not None else str(error["loc"][0]) if error["loc"] else ""
        return reworded(error, error["ctx"]["message"].replace("{list}", label))

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            raise reraise(exc, fill) from None

    return WrapValidator(check)


TermLists = Annotated[
    dict[str, Phrases],
    named(None),
    expect("'terms' must be a mapping of name: [phrases]"),
    Field(description="Term lists, by name: the words a clause refers to."),
]


def _in_scope(name: str, info: ValidationInfo) -> str:
    names = (info.context or {}).get(_SCOPE)
    if names is None or name in names:
        return name
    if names:
        hint = did_you_mean(name, names)
    else:
        hint = " (no term lists are defined: add 'terms:' or 'uses:')"
    raise problem(f"unknown term list '{name}'{hint}")


TermName = Annotated[
    str,
    AfterValidator(_in_scope),
    expect(lambda v: f"expected the name of a term list, got {v!r}"),
    Field(description="The name of a term list (from terms: or uses:)."),
]
