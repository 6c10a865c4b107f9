"""The compiled form of a rule: plain, frozen data that the matcher walks.

Loading (``parse.py``) validates rule files against the format (``format.py``) and reports
every problem with its position; only a rule with none is compiled (``compile.py``) into these
objects, so matching (``matcher.py``) only ever sees data that already passed validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.util.yamlpos import Pos

if TYPE_CHECKING:
    from monitor.detect.rules.gate import GateModel

FIELDS = ("title", "text", "source")
DEFAULT_FIELDS = frozenset({"title", "text"})
SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Phrase:
    """One term: folded tokens, and whether the last token is a prefix (``sanction*``)."""

    text: str
    tokens: tuple[str, ...]
    prefix: bool

    @property
    def key(self) -> str:
        """The search key in the joined token stream: delimited by spaces on both sides
        unless the phrase ends in a wildcard."""
        body = " " + " ".join(self.tokens)
        return body if self.prefix else body + " "


@dataclass(frozen=True, slots=True)
class TermList:
    key: str  # unique across the rule set, e.g. "lexicon/dprk.yaml#dprk" or "rule:x#labor"
    name: str
    phrases: tuple[Phrase, ...]
    pos: Pos


# --- clauses ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ref:
    """A term list named by ``unless:``: only where it is found matters, not what it found."""

    list_key: str
    name: str


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a term or regex looks: in which fields, only in each field's first ``lead``
    sentences (None: all of them), and never in a sentence that holds a term of ``unless``."""

    fields: frozenset[str] = DEFAULT_FIELDS
    lead: int | None = None
    unless: tuple[Ref, ...] = ()


WHOLE = Scope()


@dataclass(frozen=True, slots=True)
class Term:
    list_key: str
    name: str
    scope: Scope = WHOLE


@dataclass(frozen=True, slots=True)
class All:
    children: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class Any:
    children: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class NoneOf:
    children: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class AtLeast:
    count: int
    children: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class Near:
    left: Term
    right: Term
    within: int


@dataclass(frozen=True, slots=True)
class SameSentence:
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: re.Pattern[str]
    scope: Scope = WHOLE


Clause = Term | All | Any | NoneOf | AtLeast | Near | SameSentence | Regex


@dataclass(frozen=True, slots=True)
class Gate:
    """A learned model that must give a report at least ``threshold`` before the rule, whose
    clauses held, alerts (:mod:`monitor.detect.rules.gate`)."""

    model: GateModel
    threshold: float
    ref: str  # the model file as the rule names it
    # With ``alone``, the model by itself fires the rule on a report whose clauses did not hold,
    # if it gives the whole report at least ``alone`` and a term of ``needs`` (term list keys)
    # is found in it (:mod:`monitor.detect.rules.alone`).
    alone: float | None = None
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: str
    match: Clause
    pos: Pos
    version: str  # hash of the rule's content and the term lists it uses
    tags: tuple[str, ...] = ()
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()
    term_lists: tuple[TermList, ...] = ()
    enabled: bool = True
    gate: Gate | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    pos: Pos
    message: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.message}"
