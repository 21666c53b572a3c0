"""Post file names: the `YYYY-MM-DD-<id>.md` convention, and finding names among 100k of them.

Pure functions over names: no file system, no YAML. A pre-commit `validate` runs them in a
forked child before the rules are imported (discovery.neighbours_in_background).
"""

from __future__ import annotations

import re

FILENAME_RE = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<id>.+)\.md$")


def day_and_id(name: str) -> tuple[str | None, str]:
    """The day and the id a file name gives: `2022-06-01-abc.md` -> ("2022-06-01", "abc"). An odd
    name gives no day, and its stem without leading dashes as the id."""
    match = FILENAME_RE.match(name)
    if match:
        return match["date"], match["id"]
    return None, name.removesuffix(".md").lstrip("-")


def is_neighbour(name: str, days: set[str], ids: set[str]) -> bool:
    """A name of one of the days (its `YYYY-MM-DD-` prefix), or with one of the ids as
    `day_and_id` reads it (also from a name without a date)."""
    return (name[:10] in days or name[11:-3] in ids
            or (name[10:11] != "-" and day_and_id(name)[1] in ids))


def neighbour_names(joined: str, days: set[str], ids: set[str]) -> list[str]:
    """The names `is_neighbour` accepts among `joined` (a folder's names joined by NUL), in their
    order. 100k names are not looped over in Python: no file name holds a NUL, so each day is
    searched in C at the start of a name and each id anywhere, and only the names found are tested."""
    if not joined:
        return []
    if "" in ids or any("\0" in key for key in (*days, *ids)):
        return [name for name in joined.split("\0") if is_neighbour(name, days, ids)]
    joined = f"\0{joined}\0"  # every name between two NULs
    starts: set[int] = set()  # where candidate names start in `joined`
    for day in days:
        at = joined.find("\0" + day)
        while at >= 0:
            starts.add(at + 1)
            at = joined.find("\0" + day, at + 1 + len(day))
    for post_id in ids:
        at = joined.find(post_id)
        while at >= 0:
            starts.add(joined.rfind("\0", 0, at) + 1)
            at = joined.find(post_id, joined.find("\0", at))  # the next name on
    candidates = (joined[start:joined.find("\0", start)] for start in sorted(starts))
    return [name for name in candidates if is_neighbour(name, days, ids)]
