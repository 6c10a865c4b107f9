"""The clause language of the rule format: what ``match:`` may hold, and how it may nest.

A clause is a term list name, a mapping of operators (:class:`ClauseMap`), or a list of
clauses that must all hold. Besides what the JSON Schema says, the models check what it
cannot: that a regex compiles and that ``at_least`` is not larger than its list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, WrapValidator, model_validator
from typing_extensions import TypeAliasType

from monitor.detect.rules.format_terms import Phrases, TermName, named, one_or_many
from monitor.detect.rules.model import FIELDS
from monitor.detect.rules.wording import FormatModel, did_you_mean, expect, fail_at, problem

OPERATORS = ("all", "any", "none", "at_least", "near", "same_sentence", "regex", "term", "phrase")
DEFAULT_NEAR = 10


def _shape(value: Any) -> str:
    return "(name)" if isinstance(value, str) else "(map)" if isinstance(value, dict) else "(list)"


def _clauses(op: str, description: str) -> Any:
    """What ``op`` holds: one clause, or a non-empty list of them."""
    return Annotated[
        Annotated[TermName, Tag("(name)")]
        | Annotated["ClauseMap", Tag("(map)")]
        | Annotated[
            list["Clause"],
            Field(min_length=1),
            expect(f"'{op}' needs a non-empty list of clauses"),
            Tag("(list)"),
        ],
        Discriminator(_shape),
        Field(description=description),
    ]


def _a_clause(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, str | list | dict):
        raise problem(f"expected a term list name or a clause mapping, got {value!r}")
    return handler(value)


# A term list name, a clause mapping, or a list of clauses that must all hold.
Clause = TypeAliasType(
    "Clause",
    Annotated[
        _clauses("all", "A term list name, a clause, or a list of clauses that all hold."),
        WrapValidator(_a_clause),
    ],
)


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        at = f" at character {exc.pos + 1} of the pattern" if exc.pos is not None else ""
        raise problem(f"invalid regex: {exc.msg}{at}") from None
    return pattern


def _near_words(value: Any) -> str:
    got = len(value) if isinstance(value, list) else "one"
    return f"'near' needs two term lists, one each side; got {got}"


def _field_words(value: Any) -> str:
    return f"unknown field '{value}'{did_you_mean(value, FIELDS)}; fields are {', '.join(FIELDS)}"


FieldName = Annotated[Literal[FIELDS], expect(_field_words, at_key=True)]


def _number(least: int, description: str, words: Callable[[Any], str], at_key: bool = False) -> Any:
    """A whole number of at least ``least``, with the sentence for any other value."""
    return Annotated[int, Field(ge=least, description=description), expect(words, at_key=at_key)]


def _one_or_many(item: Any, description: str, words: str, at_key: bool = False) -> Any:
    """One value, or a non-empty list of them."""
    return Annotated[
        Annotated[item, Tag("(one)")] | Annotated[list[item], Field(min_length=1), Tag("(many)")],
        Discriminator(one_or_many),
        expect(words, at_key=at_key),
        Field(description=description),
    ]


class ClauseMap(FormatModel):
    """A clause written as a mapping: every operator in it must hold, looking where ``in:``,
    ``lead:`` and ``unless:`` say (inherited by the clauses under it)."""

    unknown_key = "unknown clause '{key}'"

    # An absent key stays None; null is a value no key accepts, as the schema says.
    all: _clauses("all", "Every clause holds.") = None
    any: _clauses("any", "At least one clause holds.") = None
    none: _clauses("none", "No clause holds.") = None
    at_least: _number(
        1,
        "At least this many of the clauses under of: hold.",
        lambda v: f"'at_least' takes a whole number of at least 1, got {v!r}",
    ) = None
    near: Annotated[
        list[TermName],
        Field(min_length=2, max_length=2, description="Two term lists near each other."),
        expect(_near_words),
    ] = None
    same_sentence: Annotated[
        list[TermName],
        Field(min_length=2, description="Term lists found in one sentence."),
        expect("'same_sentence' needs two or more term lists"),
    ] = None
    regex: Annotated[
        str,
        Field(min_length=1, description="Escape hatch: a Python regex, case-insensitive."),
        AfterValidator(_compiles),
        expect("'regex' takes one pattern as text"),
    ] = None
    term: TermName = None
    phrase: Annotated[Phrases, named("phrase"), Field(description="Phrases written in place.")] = (
        None
    )
    within: _number(
        0,
        "With near: at most this many words between.",
        lambda v: f"'within' takes a number of words, got {v!r}",
        at_key=True,
    ) = DEFAULT_NEAR
    of: _clauses("of", "With at_least: the clauses to count.") = None
    in_: _one_or_many(
        FieldName,
        "Where to look: title, text or source (default: title and text).",
        f"'in' takes a field or a list of fields: {', '.join(FIELDS)}",
        at_key=True,
    ) = Field(default=None, alias="in")
    lead: _number(
        1,
        "Look only in the first this many sentences of each field.",
        lambda v: f"'lead' takes a number of sentences, at least 1, got {v!r}",
    ) = None
    unless: _one_or_many(
        TermName,
        "Skip every sentence that holds a term of these lists: terms found there do not "
        "count, for this clause and the clauses under it.",
        "'unless' takes a term list name or a list of them",
    ) = None

    model_config = FormatModel.model_config | {
        "json_schema_extra": {
            "anyOf": [{"required": [op]} for op in OPERATORS],
            "dependentRequired": {"within": ["near"], "of": ["at_least"], "at_least": ["of"]},
        }
    }

    def operators(self) -> list[str]:
        """The operators given, in the order written."""
        return [key for key in self._written if key in OPERATORS]

    @model_validator(mode="after")
    def _fits_together(self) -> ClauseMap:
        given = self.model_fields_set
        if "within" in given and "near" not in given:
            raise fail_at(("within",), self.within, "'within' goes with 'near'", at_key=True)
        if "of" in given and "at_least" not in given:
            raise fail_at(("of",), self.of, "'of' goes with 'at_least'", at_key=True)
        if "at_least" in given:
            if "of" not in given:
                message = "'at_least' needs 'of:' with the list of clauses to count"
                raise fail_at(("at_least",), self.at_least, message)
            count = len(self.of) if isinstance(self.of, list) else 1
            if self.at_least > count:
                message = f"'at_least: {self.at_least}' can never hold with {count} clauses"
                raise fail_at(("at_least",), self.at_least, message)
        if not given & set(OPERATORS):
            raise problem(f"a clause needs one of: {', '.join(OPERATORS)}")
        return self


ClauseMap.model_rebuild()
