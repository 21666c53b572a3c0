"""`newsctl index` on stderr: the progress bar while posts are read, and the summary."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from newsctl.engine.progress import Advance, ProgressFactory, no_progress
from newsctl.engine.updater import Summary

PROGRESS_MIN = 200  # fewer posts are read in well under a second: a bar would only flicker


def index_progress(quiet: bool) -> ProgressFactory:
    """A Rich progress bar with posts/s on stderr when it is a terminal (Rich draws no live bar
    elsewhere, and importing it costs ~0.08 s), unless quiet or there is little to do."""
    if quiet or not sys.stderr.isatty():
        return no_progress
    return _bar


@contextmanager
def _bar(total: int) -> Iterator[Advance]:
    if total < PROGRESS_MIN:
        yield lambda count: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress: Any = Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]} posts/s"), TimeRemainingColumn(),
                             console=Console(stderr=True), transient=True)
    task = progress.add_task("index", total=total, rate="-")

    def advance(count: int) -> None:
        speed = progress.tasks[0].speed
        progress.update(task, advance=count, rate=f"{speed:,.0f}" if speed else "-")

    progress.start()
    try:
        yield advance
    finally:
        progress.stop()


def print_index_summary(summary: Summary) -> None:
    out = sys.stderr
    if summary.rebuilt_because:
        print(f"newsctl: rebuilt the index ({summary.rebuilt_because})", file=out)
    for rel, reason in sorted(summary.skipped.items()):
        print(f"{rel}: skipped: {reason}", file=out)
    rate = f" ({summary.read / summary.seconds:,.0f} posts/s)" if summary.read and summary.seconds else ""
    print(f"index: {summary.added} added, {summary.updated} updated, {summary.deleted} deleted, "
          f"{len(summary.skipped)} skipped, {summary.unchanged} unchanged; "
          f"{summary.read} read in {summary.seconds:.2f} s{rate}", file=out)
