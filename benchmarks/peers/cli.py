"""The command line every peer shares: `index ARCHIVE INDEX_DIR` and `search INDEX_DIR TERM...`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def print_paths(paths: Sequence[str]) -> int:
    """The matching paths, one per line; exit 1 when there is none (as `newsctl search`)."""
    if paths:
        sys.stdout.write("\n".join(paths) + "\n")
    return 0 if paths else 1


def run(argv: list[str], build_index: Callable[[Path, Path], int],
        search: Callable[[Path, list[str]], int], usage: str | None) -> int:
    if len(argv) >= 3 and argv[0] == "index":
        return build_index(Path(argv[1]), Path(argv[2]))
    if len(argv) >= 3 and argv[0] == "search":
        return search(Path(argv[1]), argv[2:])
    print(usage, file=sys.stderr)
    return 2
