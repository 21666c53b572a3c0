"""Search results in five formats; every format prints the same records (docs/search.md).

A record is the JSON object of one result: id, path, title, date, categories, tags, stocks,
score, and (except for `paths`) snippet and highlights {title, snippet} as [start, end)
character offsets.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsctl.commands.search import SearchResult

Record = dict[str, Any]


def print_search(result: SearchResult) -> None:
    """The stale-index warning on stderr, then the page in the format asked for."""
    if result.stale:
        print(f"newsctl: warning: the index is out of date ({result.stale}); run `newsctl index`, "
              "or search with --update", file=sys.stderr)
    if result.output == "paths":
        print_paths(result.paths)
    else:
        print_results(result.records, result.output, query=result.query, total=result.total,
                      offset=result.offset, limit=result.limit, sort=result.sort)


def print_results(records: list[Record], fmt: str, *, query: str, total: int, offset: int, limit: int,
                  sort: str) -> None:
    if fmt == "paths":
        _write("".join(f"{r['path']}\n" for r in records))
    elif fmt == "jsonl":
        _write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    elif fmt == "json":
        document = {"query": query, "total": total, "offset": offset, "limit": limit, "sort": sort,
                    "results": records}
        _write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "plain":
        _write("".join(_plain_block(offset + n, r) for n, r in enumerate(records, 1)))
    else:
        _print_table(records, total=total, offset=offset)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _plain_block(rank: int, record: Record) -> str:
    """Three lines and a blank one: rank, date and title; path and categories; snippet."""
    categories = " ".join(record["categories"])
    lines = [f"{rank}. {record['date'][:10]}  {record['title']}",
             f"   {record['path']}" + (f"  [{categories}]" if categories else "")]
    if record.get("snippet"):
        lines.append(f"   {record['snippet']}")
    return "\n".join(lines) + "\n\n"


def _print_table(records: list[Record], *, total: int, offset: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not records:
        console.print(f"no results ({total} matches before --offset {offset})" if total else "no results")
        return
    first, last = offset + 1, offset + len(records)
    table = Table(caption=f"{first}–{last} of {total}", show_lines=True, expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("title / snippet", ratio=1, overflow="fold")
    table.add_column("categories", max_width=16, overflow="fold")
    widest = max(len(r["path"]) for r in records)
    table.add_column("path", min_width=min(widest, console.width // 4), max_width=max(20, console.width // 4),
                     overflow="fold")
    for rank, record in enumerate(records, first):
        cell = _marked(record["title"], record["highlights"]["title"], "bold")
        if record.get("snippet"):
            cell.append("\n")
            cell.append_text(_marked(record["snippet"], record["highlights"]["snippet"], "dim"))
        table.add_row(str(rank), record["date"][:10], cell, Text(", ".join(record["categories"])),
                      Text(record["path"]))
    console.print(table)


def _marked(text: str, spans: list[list[int]], style: str) -> Any:
    from rich.text import Text

    marked = Text(text, style=style, overflow="fold")  # CJK has no spaces to wrap at
    for start, end in spans:
        marked.stylize("bold yellow", start, end)
    return marked


def print_paths(paths: list[str]) -> None:
    """One path per line, for xargs (no JSON, no Rich: this is the fast path of `search`)."""
    if paths:
        _write("\n".join(paths) + "\n")
