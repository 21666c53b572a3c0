"""Search results in every format; each prints the same records (docs/search.md).

A record is the JSON object of one result: id, path, title, date, categories, tags, stocks,
score, and (except for `paths`) snippet and highlights {title, snippet} as [start, end)
character offsets.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from newsctl.paths import printable

if TYPE_CHECKING:
    from newsctl.commands.search import SearchResult

Record = dict[str, Any]


def print_search(result: SearchResult, *, pager: bool = False, null: bool = False) -> None:
    """The stale-index warning on stderr, then the page in the format asked for (`table`: through
    the pager when taller than the terminal and `pager`; `null`: paths ended by NUL, exact)."""
    if result.stale:
        print(f"newsctl: warning: the index is out of date ({printable(result.stale)}); run `newsctl index`, "
              "or search with --update", file=sys.stderr)
    if result.output == "paths":
        print_paths(result.paths, null=null)
    else:
        print_results(result.records, result.output, query=result.query, total=result.total,
                      offset=result.offset, limit=result.limit, sort=result.sort, pager=pager)


def print_results(records: list[Record], fmt: str, *, query: str, total: int, offset: int, limit: int,
                  sort: str, pager: bool = False) -> None:
    from newsctl.render.tabular import csv_text, line_text

    if fmt == "csv":
        _write(csv_text(records))
    elif fmt == "line":
        _write(line_text(records))
    elif fmt == "paths":
        _write("".join(f"{printable(r['path'])}\n" for r in records))
    elif fmt == "jsonl":
        _write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    elif fmt == "json":
        document = {"query": query, "total": total, "offset": offset, "limit": limit, "sort": sort,
                    "results": records}
        _write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "plain":
        _write("".join(_plain_block(offset + n, r) for n, r in enumerate(records, 1)))
    else:
        from newsctl.render.listing import print_listing

        print_listing(records, total=total, offset=offset, pager=pager)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _plain_block(rank: int, record: Record) -> str:
    """Three lines and a blank one: rank, date and title; path and categories; snippet."""
    categories = printable(" ".join(record["categories"]))
    lines = [f"{rank}. {record['date'][:10]}  {printable(record['title'])}",
             f"   {printable(record['path'])}" + (f"  [{categories}]" if categories else "")]
    if record.get("snippet"):
        lines.append(f"   {printable(record['snippet'])}")
    return "\n".join(lines) + "\n\n"


def print_paths(paths: list[str], null: bool = False) -> None:
    """One path per line, for xargs (no JSON, no Rich: this is the fast path of `search`); control
    characters escaped. With `null` (`-0`), each path exact and ended by a NUL, for `xargs -0`."""
    if paths and null:
        _write("".join(f"{path}\0" for path in paths))
    elif paths:
        _write("\n".join(map(printable, paths)) + "\n")
