"""The rule file format, written once: these models validate rule and lexicon files, and the
JSON Schema editors use (``monitor rules schema``) is generated from them.

Three modules hold it: this one the files (:class:`RuleDoc`, :class:`LexiconDoc`),
:mod:`~monitor.detect.rules.format_clauses` the clause language, and
:mod:`~monitor.detect.rules.format_terms` phrases and term list names. Each type carries the
sentence an author reads when a value does not fit (see :mod:`monitor.detect.rules.wording`).
What a schema cannot say is checked while the models validate too, so that one run reports
every problem in a file; only what needs other files is left to the loader
(:mod:`monitor.detect.rules.parse`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from monitor.detect.rules.format_clauses import Clause
from monitor.detect.rules.format_terms import TermLists, TermName, one_or_many
from monitor.detect.rules.model import SEVERITIES
from monitor.detect.rules.wording import FormatModel, did_you_mean, expect

RULE_ID = r"^[a-z0-9][a-z0-9._-]*$"


def _or_null(value: Any) -> str:
    return "(null)" if value is None else "(value)"


def _severity_words(value: Any) -> str:
    choices = ", ".join(SEVERITIES)
    return f"severity '{value}' is not one of {choices}{did_you_mean(value, SEVERITIES)}"


def _list_of(what: str, key: str) -> Callable[[Any], str]:
    return lambda v: f"'{key}' must be a list" + (f" of {what}" if isinstance(v, list) else "")


class Examples(FormatModel):
    """Texts the rule must match and must not: `monitor rules test` checks them."""

    unknown_key = "unknown key '{key}' in examples"
    not_a_mapping = "'examples' must have 'match:' and/or 'no_match:'"

    match: Annotated[
        list[str], expect("examples 'match' must be a list of texts", at_key=True)
    ] = []
    no_match: Annotated[
        list[str], expect("examples 'no_match' must be a list of texts", at_key=True)
    ] = []


class AloneDoc(FormatModel):
    """When the gate's model fires the rule by itself, on a report whose clauses did not hold."""

    unknown_key = "unknown key '{key}' in gate alone"
    missing_key = "gate alone has no '{key}:'"
    not_a_mapping = (
        "gate 'alone' must have 'threshold:' (0 to 1) and 'needs:' (term lists, one to be found)"
    )

    threshold: Annotated[
        float,
        Field(ge=0.0, le=1.0),
        expect(
            lambda v: f"gate alone 'threshold' must be a number from 0 to 1, not {v!r}",
            at_key=True,
        ),
        Field(description="The least probability the model alone must give the whole report."),
    ]
    needs: Annotated[
        list[TermName],
        Field(min_length=1),
        expect("gate alone 'needs' must be a list of term list names", at_key=True),
        Field(description="Term lists of which one must be found in the report."),
    ]


class GateDoc(FormatModel):
    """A learned model that must agree before the rule alerts (``monitor rules train``)."""

    unknown_key = "unknown key '{key}' in gate"
    missing_key = "gate has no '{key}:'"
    not_a_mapping = "'gate' must have 'model:' (a model file) and 'threshold:' (0 to 1)"

    model: Annotated[
        str,
        expect("gate 'model' must be the path of a model file", at_key=True),
        Field(
            description="Model file written by monitor rules train, relative to the rules folder."
        ),
    ]
    threshold: Annotated[
        float,
        Field(ge=0.0, le=1.0),
        expect(lambda v: f"gate 'threshold' must be a number from 0 to 1, not {v!r}", at_key=True),
        Field(
            description="The least probability the model must give a report for the rule to alert."
        ),
    ]
    alone: AloneDoc | None = None


class RuleDoc(FormatModel):
    """One rule: the terms it looks for, the clause that must hold, and how it alerts."""

    not_a_mapping = "a rule file must be a mapping with 'id:' and 'match:'"

    id: Annotated[
        str,
        Field(pattern=RULE_ID),
        expect(lambda v: f"rule id '{v}' must be lower-case letters, digits, '.', '_' or '-'"),
    ]
    title: Annotated[str, expect("'title' must be text")]
    severity: Annotated[Literal[SEVERITIES], expect(_severity_words)] = "medium"
    tags: Annotated[list[str | int | float], expect(_list_of("texts", "tags"))] = []
    description: Annotated[str, expect("'description' must be text")] = ""
    uses: Annotated[
        Annotated[str, Tag("(one)")] | Annotated[list[str], Tag("(many)")],
        Discriminator(one_or_many),
        expect("'uses' must be a list of lexicon files"),
        Field(description="Lexicon files, relative to the rules folder."),
    ] = []
    terms: TermLists = {}
    match: Clause
    examples: Annotated[
        Annotated[None, Tag("(null)")] | Annotated[Examples, Tag("(value)")],
        Discriminator(_or_null),
    ] = None
    labels: Annotated[
        dict[str, str | int | float],
        expect("'labels' must be a mapping"),
        Field(description="Labels that routes can select on."),
    ] = {}
    enabled: Annotated[bool, expect("'enabled' must be true or false")] = True
    references: Annotated[list[str], expect(_list_of("texts", "references"))] = []
    gate: Annotated[
        Annotated[None, Tag("(null)")] | Annotated[GateDoc, Tag("(value)")],
        Discriminator(_or_null),
    ] = None


class LexiconDoc(FormatModel):
    """A file of term lists that rules share through ``uses:``."""

    unknown_key = "unknown key '{key}' in lexicon"
    missing_key = "lexicon file has no '{key}:'"
    not_a_mapping = "a lexicon file must be a mapping with 'terms:'"

    terms: TermLists
    description: Annotated[str, expect("'description' must be text")] = ""
    references: Annotated[list[str], expect(_list_of("texts", "references"))] = []
