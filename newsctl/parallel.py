"""THE parallel map of newsctl: chunks of a list handed to worker processes, results in input
order, and the same work in this process when the list is small or workers cannot be had.

`validate` and `stats` use it. The index does not: its workers stream segments and progress
(engine/workers.py), and the stat split is one forked child (background.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_chunks(work: Callable[..., Result], items: Sequence[Item], *extra: Any, chunk_size: int,
               threshold: int, workers: int = 0, notes: list[str] | None = None,
               start_method: str | None = None,
               read_ahead: bool = False, meanwhile: Callable[[], object] | None = None) -> Iterator[Result]:
    """`work(chunk, *extra)` for each chunk of `items`, in order. Worker processes from `threshold`
    items on and with two or more workers (`workers` 0: one per core); should they fail (no
    semaphores, a worker killed), the remaining work runs here and the reason goes to `notes`.
    `start_method`: the multiprocessing start method ("spawn": workers that do not inherit a large
    parent's memory, each of whose pages would count again in the process tree's RSS).
    `read_ahead`: the items are paths of files that `work` reads; while the workers run, this
    process (which only waits for their results) has the kernel read them ahead (readahead.py).
    `meanwhile`: run once here, while the workers work (without workers: before the work); it
    must not raise (an OSError would read as the workers' failure)."""
    chunks = [items[start:start + chunk_size] for start in range(0, len(items), chunk_size)]
    workers = min(workers or os.cpu_count() or 1, len(chunks))
    pending = [meanwhile] if meanwhile is not None else []
    if len(items) < threshold or workers < 2:
        while pending:
            pending.pop()()
        yield from (work(chunk, *extra) for chunk in chunks)
        return
    from concurrent.futures import ProcessPoolExecutor  # local: ~30 ms to import, for big runs only
    from concurrent.futures.process import BrokenProcessPool

    done = 0
    try:
        import multiprocessing

        context = multiprocessing.get_context(start_method) if start_method else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = pool.map(work, chunks, *([value] * len(chunks) for value in extra))
            if read_ahead:  # (after the map: the workers are started, no fork follows the threads)
                from newsctl.readahead import read_ahead as start_read_ahead

                start_read_ahead([str(item) for item in items], chunk_size, workers)
            while pending:
                pending.pop()()
            for result in results:
                done += 1
                yield result
    except (OSError, NotImplementedError, BrokenProcessPool) as exc:
        if notes is not None:
            notes.append(f"worker processes failed ({exc or type(exc).__name__}); the rest ran in one process")
        while pending:  # (the pool failed before it ran)
            pending.pop()()
        yield from (work(chunk, *extra) for chunk in chunks[done:])
