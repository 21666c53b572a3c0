"""`newsctl dups` output: a Rich table on a terminal, plain text when piped, JSON or CSV.

JSON (docs/dups.md): {"schema": 1, "threshold": t, "checked": n,
"groups": [{"paths": [...], "similarity": 0.93, "reason": "near duplicate", "reasons": [...],
"pairs": [{"paths": [a, b], "similarity": s, "reason": r, "detail": d}]}],
"templates": [same shape: near only through a shared template, not duplicates],
"skipped": [{"path": p, "reason": r}]}. Paths are relative to the archive root.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from typing import TextIO

from newsctl.commands.dups import DupsResult
from newsctl.dups.finder import Group

SCHEMA = 1


def render(result: DupsResult, fmt: str, out: TextIO | None = None, err: TextIO | None = None) -> None:
    """fmt: a DupsFormat ("table" is Rich); skipped posts go to stderr except in JSON, which has them."""
    out = out or sys.stdout
    err = err or sys.stderr
    for note in result.notes:
        err.write(f"newsctl: warning: {note}\n")
    if fmt == "json":
        out.write(json_text(as_dict(result)) + "\n")
        return
    for path, reason in result.skipped:
        err.write(f"{path}: skipped: {reason}\n")
    if fmt == "csv":
        write_csv(result, out)
    elif fmt == "table":
        write_table(result)
    else:
        write_plain(result, out)


def json_text(value: object) -> str:
    """json.dumps(value, ensure_ascii=False, indent=2), character for character, several times
    faster: with an indent, the json module encodes in pure Python, and 100k posts make 60k pairs
    (tests/test_dups.py compares the two)."""
    parts: list[str] = []
    _encode(value, "\n", parts)
    return "".join(parts)


def _encode(value: object, newline: str, parts: list[str]) -> None:
    """`value` as JSON onto `parts`; `newline`: a line break and the indent of value's line."""
    if isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            parts.append(separator + _string(key) + ": ")
            _encode(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            parts.append("[]")
            return
        inner = newline + "  "
        if all(isinstance(item, str) for item in value):
            parts.append("[" + inner + ("," + inner).join(map(_string, value)) + newline + "]")
            return
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _encode(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "]")
    elif isinstance(value, float) and math.isfinite(value):
        parts.append(float.__repr__(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        parts.append(int.__repr__(value))
    else:  # true, false, null, NaN, Infinity
        parts.append(json.dumps(value))


_string = json.encoder.encode_basestring  # the C one when there is one


def as_dict(result: DupsResult) -> dict[str, object]:
    return {
        "schema": SCHEMA,
        "threshold": result.threshold,
        "checked": result.checked,
        "groups": [group_dict(group) for group in result.groups],
        "templates": [group_dict(group) for group in result.templates],
        "skipped": [{"path": path, "reason": reason} for path, reason in result.skipped],
    }


def group_dict(group: Group) -> dict[str, object]:
    return {
        "paths": group.paths,
        "similarity": group.similarity,
        "reason": group.reason,
        "reasons": group.reasons,
        "pairs": [{"paths": [link.first, link.second], "similarity": link.similarity, "reason": link.reason,
                   "detail": link.detail} for link in group.links],
    }


def write_csv(result: DupsResult, out: TextIO) -> None:
    """One row per post of each group: kind (duplicate/template), group number, similarity, reason, path."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "group", "similarity", "reason", "path"])
    for kind, groups in (("duplicate", result.groups), ("template", result.templates)):
        for number, group in enumerate(groups, 1):
            for path in group.paths:
                writer.writerow([kind, number, f"{group.similarity:.3f}", group.reason, path])


def summary(result: DupsResult) -> str:
    posts = sum(len(group.paths) for group in result.groups)
    text = (f"Found {_count(len(result.groups), 'group')} of copies ({_count(posts, 'post')}) "
            f"among {_count(result.checked, 'post')}")
    if result.templates:
        text += f"; {_count(len(result.templates), 'group')} alike only by template (other figures or names)"
    if result.skipped:
        text += f"; {len(result.skipped)} skipped"
    return text + "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def write_plain(result: DupsResult, out: TextIO) -> None:
    for number, group in enumerate(result.groups, 1):
        out.write(f"{number}. {group.similarity:.2f}  {group.reason}\n")
        out.writelines(f"   {path}\n" for path in group.paths)
    if result.templates:
        out.write("same template, other figures (not duplicates):\n")
        for number, group in enumerate(result.templates, 1):
            detail = next((link.detail for link in group.links if link.detail), "")
            out.write(f"{number}. {group.similarity:.2f}  {detail}\n")
            out.writelines(f"   {path}\n" for path in group.paths)
    out.write(summary(result) + "\n")


def write_table(result: DupsResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for title, groups in (("Copies", result.groups), ("Same template, other figures (not duplicates)",
                                                       result.templates)):
        if not groups:
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("similarity", justify="right")
        table.add_column("reason")
        table.add_column("posts")
        for number, group in enumerate(groups, 1):
            reason = group.reason if groups is result.groups else next(
                (link.detail for link in group.links if link.detail), group.reason)
            table.add_row(str(number), f"{group.similarity:.2f}", reason, "\n".join(group.paths))
        console.print(table)
    console.print(summary(result))
