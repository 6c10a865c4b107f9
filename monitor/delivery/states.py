"""The outbox's states and the moves between them, so no code path can invent a new one.

A row is written ``pending`` (to be sent), ``silenced`` or ``skipped`` (kept for the history,
never sent). Only a pending row moves, and only by a send's outcome: ``sent``, ``failed`` for
good, or ``pending`` again to wait for its retry. The stored values are these strings.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SILENCED = "silenced"
    SKIPPED = "skipped"


# What a row may be written as; only PENDING is ever sent.
INITIAL = frozenset({OutboxState.PENDING, OutboxState.SILENCED, OutboxState.SKIPPED})
# Kept as rows so the history is complete, but never sent.
RECORDED_ONLY = (OutboxState.SILENCED.value, OutboxState.SKIPPED.value)

TRANSITIONS: dict[OutboxState, frozenset[OutboxState]] = {
    OutboxState.PENDING: frozenset({OutboxState.PENDING, OutboxState.SENT, OutboxState.FAILED}),
    OutboxState.SENT: frozenset(),
    OutboxState.FAILED: frozenset(),
    OutboxState.SILENCED: frozenset(),
    OutboxState.SKIPPED: frozenset(),
}


class IllegalTransition(ValueError):
    """A move the state machine does not allow: a bug in the caller, never a channel's fault."""


def initial(state: str) -> str:
    """``state`` as a new row's state; refuses one a row cannot start in."""
    if state not in INITIAL:
        raise IllegalTransition(f"an outbox row cannot be written as {state!r}")
    return OutboxState(state).value


def advance(current: str, target: str) -> str:
    """The stored value of ``target`` if a row in ``current`` may move there; refuses any
    other move (a sent row sent again, a silenced row tried)."""
    try:
        allowed = TRANSITIONS[OutboxState(current)]
        wanted = OutboxState(target)
    except ValueError:
        raise IllegalTransition(f"unknown outbox state in {current!r} -> {target!r}") from None
    if wanted not in allowed:
        raise IllegalTransition(f"an outbox row cannot move from {current!r} to {target!r}")
    return wanted.value
