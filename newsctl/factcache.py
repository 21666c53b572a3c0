"""A cache of the facts the duplicate rules compare (rules.PostFacts), for pre-commit runs.

`validate FILE...` compares the given files with every post of their day, and reading and
parsing those takes much of its time (5 days of a 100k archive: ~280 posts, ~50 ms). Old posts
do not change, so their facts are kept, one JSON file per day, in `<root>/.newsctl/cache/`, and
trusted while the post's size and mtime are those recorded, as git and ruff trust a file's stat.
As in git's "racy" rule, a post modified in the last seconds is not recorded: an edit within
the same mtime tick would otherwise go unseen.

Best effort: a missing, unreadable or damaged cache file is a miss, a write that fails is
skipped, and nothing is written outside an archive (a folder with `_config.yml` or
`newsctl.toml`). The folder's name carries what else the facts depend on (newsctl's version and
the archive's time zone), so changing either starts afresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from newsctl import __version__
from newsctl.config import ROOT_MARKERS, Settings
from newsctl.rules import PostFacts, blake2b, name_facts

CACHE_FORMAT = 1
RACY_NS = 3_000_000_000  # a post changed this recently may change again within its mtime tick
_STORED = PostFacts._fields[3:]  # path, id and day come from the file name
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

Entries = dict[str, list[object]]  # path relative to the root -> [size, mtime_ns, *stored facts]


class FactCache:
    def __init__(self, settings: Settings) -> None:
        key = f"{CACHE_FORMAT} {__version__} {settings.timezone}".encode()
        self.root = f"{settings.root}/"
        self.folder = settings.root / ".newsctl" / "cache" / f"facts-{blake2b(key, digest_size=6).hexdigest()}"
        self.writable = any((settings.root / marker).is_file() for marker in ROOT_MARKERS)

    def day_facts(self, day: str, paths: list[str], compute: Callable[[str], PostFacts],
                  known: list[PostFacts]) -> list[PostFacts]:
        """The facts of `paths`, all posts of `day` in the archive: from the cache where a post's
        size and mtime are those recorded, else computed. The file of the day is rewritten with
        these posts and the `known` facts of the others of the day (the checked files)."""
        cached = self._read(day)
        fresh: Entries = {}
        facts = []
        for path in paths:
            key = self._key(path)
            stamp = _stamp(path)
            fact = _fact_of(path, cached.get(key), stamp)
            if fact is None:
                fact = compute(path)
                self._remember(fresh, fact, stamp)
            else:
                fresh[key] = cached[key]
            facts.append(fact)
        for fact in known:
            self._remember(fresh, fact, _stamp(fact.path))
        if fresh != cached:
            self._write(day, fresh)
        return facts

    def _key(self, path: str) -> str:
        return path.removeprefix(self.root)

    def _remember(self, entries: Entries, fact: PostFacts, stamp: list[int] | None) -> None:
        if stamp is not None and time.time_ns() - stamp[1] > RACY_NS:
            entries[self._key(fact.path)] = [*stamp, *(getattr(fact, name) for name in _STORED)]

    def _file(self, day: str) -> Path:
        return self.folder / f"{day}.json"

    def _read(self, day: str) -> Entries:
        if not _DAY.fullmatch(day):
            return {}
        try:
            data = json.loads(self._file(day).read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, day: str, entries: Entries) -> None:
        if not self.writable or not _DAY.fullmatch(day):
            return
        target = self._file(day)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            for folder in (self.folder.parent.parent, self.folder.parent, self.folder):
                folder.mkdir(mode=0o700, exist_ok=True)
            temporary.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, target)  # a reader sees the old file or the new one, never half
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def _fact_of(path: str, entry: object, stamp: list[int] | None) -> PostFacts | None:
    """The facts an entry records for a post of this stamp; None when the post changed since, or
    the entry is not what _remember writes (a damaged file)."""
    if stamp is None or not isinstance(entry, list) or entry[:2] != stamp or len(entry) != 2 + len(_STORED):
        return None
    title_key, moment, body_key, title_line, body_line = entry[2:]
    if not (isinstance(title_key, str | None) and isinstance(moment, float | int | None)
            and isinstance(body_key, str | None) and type(title_line) is int and type(body_line) is int):
        return None
    return name_facts(path)._replace(title_key=title_key, moment=moment, body_key=body_key,
                                     title_line=title_line, body_line=body_line)


def _stamp(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]
