"""Output of `newsctl add`, as it happens: `added PATH` (or the bare path, `--print-path`) per post
on stdout, or with `--dry-run` the post's text; warnings and refused feed records on stderr; a
feed ends with its summary on stderr. Plain text always (no Rich: add is a scripting command)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from newsctl.paths import shown_path

if TYPE_CHECKING:
    from newsctl.commands.add import AddResult
    from newsctl.feed import FeedTally


class AddPrinter:
    """The AddEvents (postwriter.py) that print."""

    def __init__(self, *, dry_run: bool, print_path: bool, feed: bool) -> None:
        self.dry_run, self.print_path, self.feed = dry_run, print_path, feed

    def written(self, path: Path, text: str) -> None:
        if self.print_path:
            typer.echo(shown_path(path))
        elif not self.dry_run:
            typer.echo(f"added {shown_path(path)}")
        elif self.feed:
            typer.echo(f"==> {shown_path(path)} <==\n{text}", nl=False)
        else:
            typer.echo(text, nl=False)

    def warning(self, message: str) -> None:
        typer.echo(f"newsctl: warning: {message}", err=True)

    def record_refused(self, where: str, message: str) -> None:
        typer.echo(f"{where}: {message}", err=True)

    def finished(self, result: AddResult) -> None:
        if result.tally is not None:
            typer.echo(feed_summary(result.tally, self.dry_run), err=True)


def feed_summary(tally: FeedTally, dry_run: bool) -> str:
    verb = "would add" if dry_run else "added"
    return (f"{verb} {tally.added}, skipped {tally.duplicates + tally.existing} "
            f"(duplicates {tally.duplicates}), errors {tally.errors}")
