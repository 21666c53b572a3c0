"""validate's caches in `<root>/.newsctl/cache/`, for pre-commit runs on a large archive.

`validate FILE...` compares the given files with every post of their day, and their ids with
every file name of the archive. On 100k posts, listing the names (~0.07 s of system time) and
reading the day's posts (5 days: ~280 posts, ~50 ms) are most of its work, and both mostly
repeat from one commit to the next: the big folder (`old_post/`) rarely changes, and old
posts never do. So:

- NameCache keeps each folder's file names, trusted while the folder's mtime is the one
  recorded: creating, removing or renaming an entry changes it (POSIX), the signal git's
  untracked cache relies on too;
- FactCache keeps the facts the duplicate rules compare (rules.PostFacts), one JSON file per
  day, trusted while the post's size and mtime are those recorded, as git and ruff trust a
  file's stat.

Nothing modified in the last seconds is recorded (git's "racy" rule): a change within the same
mtime tick would otherwise go unseen. Best effort: a missing, unreadable or damaged cache file
is a miss, a write that fails is skipped, and nothing is written outside an archive (a folder
with `_config.yml` or `newsctl.toml`). A new newsctl version, or another time zone for the
facts, starts afresh. `validate --no-cache` neither reads nor writes them.

The module imports nothing heavy: the names are read in a forked child before the rules are.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from newsctl import __version__
from newsctl.config import ROOT_MARKERS, Settings
from newsctl.fsutil import atomic_write

if TYPE_CHECKING:
    from newsctl.rules import PostFacts

FACTS_FORMAT = 1
RACY_NS = 3_000_000_000  # a file or folder changed this recently may change again within its mtime tick
_NAMES_MAGIC = f"newsctl-names-1-{__version__}"
_STORED = ("title_key", "moment", "body_key", "title_line", "body_line")  # PostFacts after path, id, day
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

Entries = dict[str, list[object]]  # path relative to the root -> [size, mtime_ns, *stored facts]


class _CacheFolder:
    def __init__(self, settings: Settings, name: str) -> None:
        self.folder = settings.root / ".newsctl" / "cache" / name
        self.writable = any((settings.root / marker).is_file() for marker in ROOT_MARKERS)

    def write(self, name: str, data: bytes) -> None:
        """Replace the cache file `name` whole (a reader sees the old file or the new one); skipped
        outside an archive and when anything fails. No fsync: a lost cache file is only a miss."""
        if not self.writable:
            return
        with contextlib.suppress(OSError):
            for folder in (self.folder.parent.parent, self.folder.parent, self.folder):
                folder.mkdir(mode=0o700, exist_ok=True)
            atomic_write(self.folder / name, data, durable=False)

    def read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return None


# ---- file names per folder ----------------------------------------------------------------------------

def folder_lister(settings: Settings, use_cache: bool) -> Callable[[str], list[str]]:
    """How `validate` lists a post folder: through NameCache, or plainly (`--no-cache`)."""
    return NameCache(settings).listdir if use_cache else os.listdir


class NameCache:
    def __init__(self, settings: Settings) -> None:
        self.files = _CacheFolder(settings, "names")
        self.root = f"{settings.root}/"

    def listdir(self, folder: str) -> list[str]:
        """os.listdir(folder), from the cache while the folder's mtime is the recorded one."""
        try:
            mtime = os.stat(folder).st_mtime_ns  # before listing: a change meanwhile moves it on
        except OSError:
            return os.listdir(folder)  # (raises as os.listdir does)
        file_name = (folder.removeprefix(self.root) or ".").replace("%", "%25").replace("/", "%2F")
        names = self._cached(file_name, folder, mtime)
        if names is None:
            names = os.listdir(folder)
            if time.time_ns() - mtime > RACY_NS:
                body = "\0".join([_NAMES_MAGIC, str(mtime), folder, "", *names])
                self.files.write(file_name, body.encode("utf-8", "surrogateescape"))
        return names

    def _cached(self, file_name: str, folder: str, mtime: int) -> list[str] | None:
        data = self.files.read(file_name)
        if data is None:
            return None
        parts = data.decode("utf-8", "surrogateescape").split("\0", 4)
        if len(parts) < 4 or parts[:4] != [_NAMES_MAGIC, str(mtime), folder, ""]:
            return None
        return parts[4].split("\0") if len(parts) == 5 and parts[4] else []


# ---- facts per day ------------------------------------------------------------------------------------

class FactCache:
    def __init__(self, settings: Settings) -> None:
        from newsctl.rules import blake2b

        key = blake2b(f"{FACTS_FORMAT} {__version__} {settings.timezone}".encode(), digest_size=6).hexdigest()
        self.files = _CacheFolder(settings, f"facts-{key}")
        self.root = f"{settings.root}/"

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
        if fresh != cached and _DAY.fullmatch(day):
            # ASCII JSON: a file name that is not UTF-8 (a lone surrogate here) survives as \udcxx
            self.files.write(f"{day}.json", json.dumps(fresh).encode("ascii"))
        return facts

    def _key(self, path: str) -> str:
        return path.removeprefix(self.root)

    def _remember(self, entries: Entries, fact: PostFacts, stamp: list[int] | None) -> None:
        if stamp is not None and time.time_ns() - stamp[1] > RACY_NS:
            entries[self._key(fact.path)] = [*stamp, *(getattr(fact, name) for name in _STORED)]

    def _read(self, day: str) -> Entries:
        data = self.files.read(f"{day}.json") if _DAY.fullmatch(day) else None
        try:
            entries = json.loads(data) if data else {}
        except ValueError:
            return {}
        return entries if isinstance(entries, dict) else {}


def _fact_of(path: str, entry: object, stamp: list[int] | None) -> PostFacts | None:
    """The facts an entry records for a post of this stamp; None when the post changed since, or
    the entry is not what _remember writes (a damaged file)."""
    if stamp is None or not isinstance(entry, list) or entry[:2] != stamp or len(entry) != 2 + len(_STORED):
        return None
    title_key, moment, body_key, title_line, body_line = entry[2:]
    if not (isinstance(title_key, str | None) and isinstance(moment, float | int | None)
            and isinstance(body_key, str | None) and type(title_line) is int and type(body_line) is int):
        return None
    from newsctl.rules import name_facts

    return name_facts(path)._replace(title_key=title_key, moment=moment, body_key=body_key,
                                     title_line=title_line, body_line=body_line)


def _stamp(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]
