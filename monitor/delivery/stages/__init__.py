"""Delivery as a chain of small stages, each one concern, each testable alone.

A stage takes a context and a batch and returns the part of the batch that goes on, changed as
its concern says: a stage that holds an item back (a silenced alert stays recorded, a row whose
earlier message is pending waits, a row another replica took over is dropped) simply leaves it
out. A :class:`Chain` runs stages in order until the batch is empty, so a chain reads as the
policy it applies.

Two chains exist. Writing (see :mod:`monitor.alerting.notify`): dedup -> mute -> group, then
the rows are written. Sending (see :mod:`monitor.delivery.outbox`): hold -> order -> send ->
retry -> record, one row at a time per channel, the channels side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

C = TypeVar("C", contravariant=True)
T = TypeVar("T")


class Stage(Protocol[C, T]):
    def run(self, ctx: C, batch: list[T]) -> list[T]:
        """The items that go on to the next stage."""
        ...


class Chain(Generic[C, T]):
    """Stages run in order; an empty batch ends the chain early."""

    def __init__(self, *stages: Stage[C, T]) -> None:
        self.stages: Sequence[Stage[C, T]] = stages

    def run(self, ctx: C, batch: list[T]) -> list[T]:
        for stage in self.stages:
            if not batch:
                break
            batch = stage.run(ctx, batch)
        return batch

    def __repr__(self) -> str:
        return " -> ".join(type(stage).__name__ for stage in self.stages)
