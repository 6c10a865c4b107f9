"""How validation errors become the sentences rule authors read, each at its ``file:line:col``.

Pydantic reports a failure as a type code and a ``loc`` path into the data. Authors need more:
a sentence that names what was expected, a "did you mean" for a misspelt word, and the line and
column in their file. So the types in :mod:`monitor.detect.rules.format` raise errors of our
own kind, whose ``ctx`` holds the finished sentence, and :func:`problems_from` maps each ``loc``
back to the YAML node it names.

Two kinds exist because authors look for some mistakes at the key rather than its value
(``unknown key 'mtach'``, ``'within' goes with 'near'``): ``rule`` errors point at the value,
``rule_key`` errors at the last key on their path.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    WrapValidator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from monitor.detect.rules.model import Problem
from monitor.util.yamlpos import Pos, pos_at

AT_VALUE, AT_KEY = "rule", "rule_key"
OURS = (AT_VALUE, AT_KEY)


def did_you_mean(word: str, choices: Iterable[Any]) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def problem(message: str, *, at_key: bool = False) -> PydanticCustomError:
    """An error carrying the finished sentence (kept out of the template, so braces in an
    author's text are never read as placeholders)."""
    return PydanticCustomError(AT_KEY if at_key else AT_VALUE, "{message}", {"message": message})


def worded(
    text: str, loc: tuple[str | int, ...], value: Any, *, at_key: bool = False
) -> InitErrorDetails:
    """One error with its sentence, as a new :class:`ValidationError` is made of."""
    return InitErrorDetails(type=problem(text, at_key=at_key), loc=loc, input=value)


def reworded(error: dict[str, Any], text: str) -> InitErrorDetails:
    """One of our errors, same kind and place, with another sentence."""
    return worded(text, error["loc"], error["input"], at_key=error["type"] == AT_KEY)


def fail_at(
    loc: tuple[str | int, ...], value: Any, message: str, *, at_key: bool = False
) -> ValidationError:
    """A :class:`ValidationError` at a field of the model being checked, for the rules that
    tie two fields together (``within`` needs ``near``), which a model checks as a whole."""
    return ValidationError.from_exception_data("rule", [worded(message, loc, value, at_key=at_key)])


def _rebuilt(error: dict[str, Any]) -> InitErrorDetails:
    """An error as reported, back in the form a new :class:`ValidationError` is made of."""
    if error["type"] in OURS:
        return reworded(error, error["ctx"]["message"])
    detail = InitErrorDetails(type=error["type"], loc=error["loc"], input=error["input"])
    if "ctx" in error:
        detail["ctx"] = error["ctx"]
    return detail


def reraise(
    exc: ValidationError, change: Callable[[dict[str, Any]], InitErrorDetails | None]
) -> ValidationError:
    """The same errors, each passed through ``change`` (None keeps it as it was)."""
    details = [change(error) or _rebuilt(error) for error in exc.errors()]
    return ValidationError.from_exception_data(exc.title, details)


def expect(message: str | Callable[[Any], str], *, at_key: bool = False) -> WrapValidator:
    """Pydantic's own complaints about a value (wrong type, too short, not in the list) become
    one sentence at that value; sentences written further down (a phrase, a term name) keep
    their own place. ``message`` may be a function of the value, to quote it."""

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            errors = exc.errors()
            if all(e["type"] in OURS for e in errors):
                raise
            text = message(value) if callable(message) else message
            kept = [_rebuilt(e) for e in errors if e["type"] in OURS]
            sentence = worded(text, (), value, at_key=at_key)
            raise ValidationError.from_exception_data(exc.title, [*kept, sentence]) from None

    return WrapValidator(check)


class FormatModel(BaseModel):
    """A mapping in a rule file: every key it may hold is a field, any other is a mistake.

    Subclasses word their own complaints: an unknown key (with the nearest allowed one), a
    missing key, and a value that is not a mapping at all. The order the keys were written in
    is kept, for what depends on it (a clause's operators).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    unknown_key: ClassVar[str] = "unknown key '{key}'"
    missing_key: ClassVar[str] = "missing required key '{key}'"
    not_a_mapping: ClassVar[str] = "expected a mapping"
    _written: tuple[str, ...] = PrivateAttr(default=())  # the keys, in the order written

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.alias or name for name, f in cls.model_fields.items())

    @model_validator(mode="wrap")
    @classmethod
    def _in_authors_words(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        if not isinstance(data, dict):
            raise problem(cls.not_a_mapping)
        try:
            model = handler(data)
        except ValidationError as exc:
            raise reraise(exc, cls._reword) from None
        model._written = tuple(data)
        return model

    @classmethod
    def _reword(cls, error: dict[str, Any]) -> InitErrorDetails | None:
        loc = error["loc"]
        if len(loc) != 1 or error["type"] not in ("extra_forbidden", "missing"):
            return None
        key = str(loc[0])
        if error["type"] == "missing":
            return worded(cls.missing_key.format(key=key), loc, error["input"])
        text = cls.unknown_key.format(key=key) + did_you_mean(key, cls.keys())
        return worded(text, loc, error["input"], at_key=True)


def problems_from(exc: ValidationError, data: Any, top: Pos) -> list[Problem]:
    """Each error as a :class:`Problem` at the place in ``data`` (loaded with positions) that
    its ``loc`` names; an error no type has worded yet keeps pydantic's sentence."""
    out = []
    for error in exc.errors():
        ours = error["type"] in OURS
        text = error["ctx"]["message"] if ours else error["msg"]
        where = pos_at(data, error["loc"], key=error["type"] == AT_KEY, fallback=top)
        out.append(Problem(where, text))
    return out
