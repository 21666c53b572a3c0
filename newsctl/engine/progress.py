"""How the engine reports progress without printing: render supplies a ProgressFactory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

Advance = Callable[[int], None]  # called with the number of posts just read
# Given the number of posts to read, a context that yields the Advance callback.
ProgressFactory = Callable[[int], AbstractContextManager[Advance]]


@contextmanager
def no_progress(total: int) -> Iterator[Advance]:
    yield lambda count: None
