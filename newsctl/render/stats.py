"""Output of `newsctl stats`: Rich tables (and a bar per month) on a terminal, or the JSON of
newsctl.stats; the progress bar while counting."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import tzinfo
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.progress import MofNCompleteColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from newsctl.render import InfoFormat
from newsctl.render.bars import bar
from newsctl.stats import ArchiveStats, Progress, by_count, stats_dict

if TYPE_CHECKING:
    from newsctl.engine.status import IndexStatus

TOP_ROWS = 20  # categories and tags beyond this are summed up in one row (JSON has them all)
BAR_WIDTH = 40


def print_stats(stats: ArchiveStats, tz: tzinfo, fmt: InfoFormat) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(stats_dict(stats), ensure_ascii=False, indent=2) + "\n")
        return
    console = Console()
    if console.is_terminal:
        console.print(stats_report(stats, tz))
    else:  # piped: plain lines that grep and awk can read, no box drawing
        sys.stdout.write(stats_text(stats, tz))


def stats_text(stats: ArchiveStats, tz: tzinfo) -> str:
    """The same report as plain text: `label  value` lines, then one section per table."""
    tally = stats.tally
    invalid = f"{tally.invalid}  (details: newsctl validate)" if tally.invalid else "0"
    lines = [f"{'Posts':<14} {tally.posts}", f"{'Invalid posts':<14} {invalid}",
             f"{'Index':<14} {describe_index(stats.index, tz).plain}"]
    for label, counts in (("Category", tally.categories), ("Tag", tally.tags)):
        ordered = list(by_count(counts).items())
        shown, rest = ordered[:TOP_ROWS], ordered[TOP_ROWS:]
        width = max([len(label), *(len(name) for name, _ in shown)])
        lines += ["", f"Posts per {label.lower()}", f"{label:<{width}}  Posts  Share"]
        lines += [f"{name:<{width}}  {count:>5}  {percent(count, tally.posts):>5}" for name, count in shown]
        if rest:
            lines.append(f"… {len(rest)} more  {sum(n for _, n in rest)}")
    peak = max(tally.months.values(), default=0)
    lines += ["", "Posts per month", "Month    Posts"]
    lines += [f"{month}  {count:>5}  {bar(count, peak, BAR_WIDTH)}" for month, count in sorted(tally.months.items())]
    return "\n".join(lines) + "\n"


@contextmanager
def counting_progress() -> Iterator[Progress | None]:
    """A transient progress bar on stderr when it is a terminal (a big archive takes seconds to
    count): the callback for commands.stats.run; None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    with RichProgress(*RichProgress.get_default_columns(), MofNCompleteColumn(), console=Console(stderr=True),
                      transient=True) as bar:
        task = bar.add_task("Counting posts", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def stats_report(stats: ArchiveStats, tz: tzinfo) -> RenderableType:
    tally = stats.tally
    return Group(
        summary_table(stats, tz),
        counts_table("Category", tally.categories, tally.posts),
        counts_table("Tag", tally.tags, tally.posts),
        months_table(tally.months),
    )


def summary_table(stats: ArchiveStats, tz: tzinfo) -> Table:
    table = Table(title="Archive", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Posts", str(stats.tally.posts))
    table.add_row("Not published by Jekyll", f"{stats.tally.unpublished}, and {stats.tally.future} dated in the future")
    invalid = stats.tally.invalid
    table.add_row("Invalid posts", Text(f"{invalid}  (details: newsctl validate)" if invalid else "0",
                                        style="red" if invalid else ""))
    table.add_row("Index", describe_index(stats.index, tz))
    return table


def describe_index(status: IndexStatus, tz: tzinfo) -> Text:
    if not status.exists:
        return Text("no index (create it with: newsctl index)", style="yellow")
    updated = status.updated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z") if status.updated_at else "unknown"
    text = Text(f"{status.doc_count} documents, {human_size(status.size_bytes)}, updated {updated}, ")
    if status.damaged:
        text.append(f"{status.reason} (repair it with: newsctl index)", style="red")
    elif status.stale is None:
        text.append("freshness unknown")
    elif status.stale:
        because = f": {status.reason}" if status.reason else ""
        text.append(f"stale{because} (update it with: newsctl index)", style="yellow")
    else:
        text.append("up to date", style="green")
    return text


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def counts_table(label: str, counts: Counter[str], posts: int) -> Table:
    table = Table(title=f"Posts per {label.lower()}", title_justify="left")
    table.add_column(label)
    table.add_column("Posts", justify="right")
    table.add_column("Share", justify="right")
    ordered = list(by_count(counts).items())
    for name, count in ordered[:TOP_ROWS]:
        table.add_row(name, str(count), percent(count, posts))
    rest = ordered[TOP_ROWS:]
    if rest:
        table.add_row(Text(f"… {len(rest)} more", style="dim"), str(sum(n for _, n in rest)), "")
    if not ordered:
        table.add_row(Text("none", style="dim"), "0", "")
    return table


def percent(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else ""


def months_table(months: Counter[str]) -> Table:
    table = Table(title="Posts per month", title_justify="left")
    table.add_column("Month")
    table.add_column("Posts", justify="right")
    table.add_column("", no_wrap=True)
    peak = max(months.values(), default=0)
    for month, count in sorted(months.items()):
        table.add_row(month, str(count), Text(bar(count, peak, BAR_WIDTH), style="cyan"))
    if not months:
        table.add_row(Text("none", style="dim"), "0", "")
    return table
