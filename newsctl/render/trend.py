"""`newsctl trend` output: a bar chart (Rich on a terminal, plain text when piped), JSON
(docs/search.md, "trend") or CSV (`period,start,count`)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from typing import TYPE_CHECKING

from newsctl.render import TrendFormat
from newsctl.render.bars import bar

if TYPE_CHECKING:
    from newsctl.commands.trend import TrendResult

SCHEMA = 1


def print_trend(result: TrendResult, fmt: TrendFormat) -> None:
    """chart: Rich on a terminal, the same bars as plain lines when piped; json; csv. The stale-index
    warning goes to stderr first."""
    if result.stale:
        print(f"newsctl: warning: the index is out of date ({result.stale}); run `newsctl index`",
              file=sys.stderr)
    if fmt == "json":
        _write(trend_json(result))
    elif fmt == "csv":
        _write(trend_csv(result))
    elif sys.stdout.isatty():
        _print_rich_chart(result)
    else:
        _write(chart_text(result, shutil.get_terminal_size().columns))


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def trend_dict(result: TrendResult) -> dict[str, object]:
    return {"schema": SCHEMA, "query": result.query, "by": result.by, "total": result.total,
            "periods": [{"period": p.label, "start": p.start.isoformat(), "count": p.count}
                        for p in result.periods]}


def trend_json(result: TrendResult) -> str:
    return json.dumps(trend_dict(result), ensure_ascii=False, indent=2) + "\n"


def trend_csv(result: TrendResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("period", "start", "count"))
    writer.writerows((p.label, p.start.isoformat(), p.count) for p in result.periods)
    return buffer.getvalue()


def chart_text(result: TrendResult, columns: int) -> str:
    """`period  count  bars` per period, the count right-aligned, the bars fitting in `columns`."""
    label_width = max((len(p.label) for p in result.periods), default=0)
    count_width = max((len(str(p.count)) for p in result.periods), default=1)
    peak = max((p.count for p in result.periods), default=0)
    room = max(10, min(60, columns - label_width - count_width - 5))
    lines = [f"{p.label:<{label_width}}  {p.count:>{count_width}}  {bar(p.count, peak, room)}".rstrip()
             for p in result.periods]
    return "\n".join(lines) + "\n" if lines else ""


def _print_rich_chart(result: TrendResult) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    peak = max((p.count for p in result.periods), default=0)
    label_width = max((len(p.label) for p in result.periods), default=0)
    count_width = max((len(str(p.count)) for p in result.periods), default=1)
    room = max(10, min(60, console.width - label_width - count_width - 8))
    table = Table(title=f"{result.query}: {result.total} posts per {result.by}", title_justify="left",
                  show_header=False, box=None, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    for period in result.periods:
        table.add_row(period.label, Text(str(period.count), style="dim" if not period.count else ""),
                      Text(bar(period.count, peak, room), style="cyan"))
    console.print(table)
