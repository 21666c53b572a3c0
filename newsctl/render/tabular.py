"""Search results for other programs: `csv` (a header and one row per hit) and `line` (one hit per
line: id, date, title and path, tab-separated, for fzf, cut and awk). Both print the records of
docs/search.md; neither imports Rich."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

Record = dict[str, Any]

CSV_COLUMNS = ("id", "date", "title", "path", "categories", "tags", "stocks", "score")


def csv_text(records: Iterable[Record]) -> str:
    """RFC 4180 rows (quoted where needed, CRLF-free: '\\n' line ends); lists joined by spaces, as
    Jekyll writes them in front matter."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow([_csv_cell(record.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return "" if value is None else str(value)


def line_text(records: Iterable[Record]) -> str:
    """`id<TAB>date<TAB>title<TAB>path` per hit; tabs and line breaks in a field become spaces, so
    that one line is always one hit and field n is always the same field."""
    return "".join("\t".join(_one_line(field) for field in (record["id"], str(record["date"])[:10],
                                                              record["title"], record["path"])) + "\n"
                   for record in records)


def _one_line(value: Any) -> str:
    return " ".join(str(value).replace("\t", " ").splitlines()) if value is not None else ""
