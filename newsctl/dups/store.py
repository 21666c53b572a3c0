"""Signatures kept in `<root>/.newsctl/cache/dups-<key>/`, so that neither `dups` nor the
pre-commit hook reads 100k posts again: only posts added or changed since are read.

One generation of the store is a folder `gen-<token>/`:

- `posts.tsv`: a header, then one line per post (path relative to the root, size, mtime_ns,
  id, file day, title key, date as POSIX time, body key, title line, body line, local day,
  categories, problem, headline, shingle count); line n is row n of the other files, and
  `offsets.u64` says where each line starts;
- `signatures.u32`: NUM_PERM little-endian uint32 per row (the MinHash signature), with
  `shingles.u32` and `headlines.u64` per row for estimating a pair without reading its line;
- `bands.key` / `bands.row`: every row's LSH band keys, sorted (uint64), and their rows (uint32);
- `exact.key` / `exact.row`: the same for the exact-copy keys (body, title with date), so that
  `validate FILE` finds NC602/NC603 copies on any day;
- `stories.u64`: each row's story key (normalise.story_key), by which `verdicts.tsv` (written
  later into the current generation by `dups`, verdicts.py) keeps the verdicts on pairs;
- `names.bin`: the rows' file names by folder (discovery.pack_listing's format);
- `meta.json`: format, counts, and the marks of the post folders listed for it
  (discovery.marked_listing: a folder whose mtime moved on has gained or lost files since).

`CURRENT` names the whole generation, and may name after it a small recent layer that the
pre-commit check writes (recent.py): the posts added since, so that the next commit does not
read them again. Writers build a new generation and then replace `CURRENT` (atomic), so a
reader sees one state whole; a missing or damaged store is a miss, never an error. Lookups
bisect the sorted keys in place (memoryview over the file), without numpy: the pre-commit path
reads a few small files and a few rows. Nothing modified in the last seconds is recorded
(cache.RACY_NS).
"""

from __future__ import annotations

import array
import bisect
import contextlib
import itertools
import json
import mmap
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

from newsctl import __version__
from newsctl.cache import RACY_NS
from newsctl.config import ROOT_MARKERS, Settings
from newsctl.discovery import UNSURE, pack_listing, unpack_listing
from newsctl.dups.signature import BANDS, NUM_PERM, SHINGLE, band_keys

Tables = Callable[[Path, Sequence["Entry"]], tuple[int, int]]  # writes a generation's tables: (bands, exact)

FORMAT = 4  # 2: names.bin, folder marks relative to the root, the recent layer; 3: sizes and mtimes in
# names.bin; 4: stories.u64 (the story keys verdicts.py keeps verdicts by)
_MAGIC = f"newsctl-dups-{FORMAT}-{__version__}-{SHINGLE}-{NUM_PERM}-{BANDS}"
_M64 = 0xFFFFFFFFFFFFFFFF
_NO_SIGNATURE = (0xFFFFFFFF,) * NUM_PERM
_FIELDS = 15
_TABLES = ("signatures.u32", "bands.key", "bands.row", "exact.key", "exact.row", "offsets.u64", "shingles.u32",
           "headlines.u64")


@dataclass(slots=True)  # slots: 100k of them in a whole-archive run
class Entry:
    """What the store keeps of one post; `signature` is None when it has no story text."""

    path: str  # relative to the root
    size: int
    mtime_ns: int
    id: str
    day: str | None  # from the file name
    title_key: str | None
    moment: float | None
    body_key: str | None
    title_line: int = 1
    body_line: int = 1
    local_day: str | None = None  # the front-matter date's day in the archive's zone, else the file's
    categories: tuple[str, ...] = ()
    problem: str | None = None  # why the post could not be read
    headline: str | None = None  # the story's title (normalise.Story.title): reposts keep it
    shingles: int = 0  # how many distinct shingles the story has (for estimating containment)
    signature: tuple[int, ...] | None = None
    story_key: int = 0  # normalise.story_key of its story (0: none): verdicts are kept by it
    # exact_keys' hashes (body, title with moment, headline), once: by the worker that read the post
    hashes: tuple[int | None, int | None, int | None] | None = field(default=None, compare=False, repr=False)

    def line(self) -> str:
        values = [self.path, str(self.size), str(self.mtime_ns), self.id, self.day or "", self.title_key or "",
                  "" if self.moment is None else repr(self.moment), self.body_key or "", str(self.title_line),
                  str(self.body_line), self.local_day or "", "\x1f".join(self.categories), self.problem or "",
                  self.headline or "", str(self.shingles)]
        line = "\t".join(values)
        if line.count("\t") == _FIELDS - 1 and "\n" not in line and "\r" not in line:
            return line  # nothing to clean (the common case, and a tenth of the time)
        return "\t".join(_clean(value) for value in values)


def _clean(value: str) -> str:
    return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def storable(path: str) -> bool:
    return not any(char in path for char in "\t\n\r")


def recordable(entry: Entry) -> bool:
    """Kept in the store: a path the file format holds, of a post not changed in the last seconds
    (a post dated in the future by a skewed clock is recorded: any change gives it a new mtime)."""
    return storable(entry.path) and abs(time.time_ns() - entry.mtime_ns) > RACY_NS


def exact_keys(entry: Entry) -> list[int]:
    """64-bit keys of the exact-copy facts (the body; the title with the moment) and of the
    headline (a candidate, as a shared LSH band is)."""
    return [key for key in hashes_of(entry) if key is not None]


def hashes_of(entry: Entry) -> tuple[int | None, int | None, int | None]:
    """The keys of exact_keys, None where the entry has no such fact (Entry.hashes, computed once)."""
    if entry.hashes is None:
        body = _key64(b"b" + entry.body_key.encode()) if entry.body_key else None
        title = (_key64(f"t{entry.title_key}\0{entry.moment!r}".encode("utf-8", "surrogatepass"))
                 if entry.title_key and entry.moment is not None else None)
        entry.hashes = (body, title, headline_key(entry.headline) if entry.headline else None)
    return entry.hashes


def headline_key(headline: str) -> int:
    return _key64(f"h{headline}".encode("utf-8", "surrogatepass"))


def _key64(data: bytes) -> int:
    from hashlib import blake2b

    return int.from_bytes(blake2b(data, digest_size=8).digest(), "little")


def _parse_line(line: str) -> Entry | None:
    parts = line.split("\t")
    if len(parts) != _FIELDS:
        return None
    try:
        return Entry(parts[0], int(parts[1]), int(parts[2]), parts[3], parts[4] or None, parts[5] or None,
                     float(parts[6]) if parts[6] else None, parts[7] or None, int(parts[8]), int(parts[9]),
                     parts[10] or None, tuple(parts[11].split("\x1f")) if parts[11] else (), parts[12] or None,
                     parts[13] or None, int(parts[14]))
    except ValueError:
        return None


class RowSource(Protocol):
    """A generation, or the pre-commit view of the store (recent.View)."""

    def estimate_inputs(self, row: int) -> tuple[tuple[int, ...], int, int]: ...


@dataclass
class Generation:
    """One readable generation of the store. Its files are mapped when it is opened (`open`), so
    that a writer removing it meanwhile cannot pull them from under a reader. Lines of posts.tsv
    are read one at a time through `offsets.u64` (a pre-commit run needs a few), or all at once
    (`entries`)."""

    folder: Path
    meta: dict[str, object]
    count: int
    _files: dict[str, bytes | mmap.mmap] = field(default_factory=dict)
    _maps: dict[str, memoryview] = field(default_factory=dict)

    def open(self) -> bool:
        """Map every file; False when one is missing."""
        try:
            for name in (*_TABLES, "posts.tsv", "names.bin"):
                self._files[name] = _mapped(self.folder / name)
        except OSError:
            return False
        return True

    def entry(self, row: int, with_signature: bool = False) -> Entry | None:
        if not 0 <= row < self.count:
            return None
        offsets = self._view("offsets.u64", "Q")
        line = self._files["posts.tsv"][offsets[row]:offsets[row + 1]]
        entry = _parse_line(line.decode("utf-8", "surrogateescape").rstrip("\n"))
        if entry is not None and with_signature:
            values = tuple(self._view("signatures.u32", "I")[row * NUM_PERM:(row + 1) * NUM_PERM])
            entry.signature = None if values == _NO_SIGNATURE else values
        return entry

    def estimate_inputs(self, row: int) -> tuple[tuple[int, ...], int, int]:
        """(signature, shingle count, headline key) of a row, without reading its line."""
        values = tuple(self._view("signatures.u32", "I")[row * NUM_PERM:(row + 1) * NUM_PERM])
        return values, self._view("shingles.u32", "I")[row], self._view("headlines.u64", "Q")[row]

    def entries(self) -> list[Entry]:
        """Every entry with its signature (the whole-archive path)."""
        view = self._view("signatures.u32", "I")
        found = []
        for row, line in enumerate(self._lines()):
            entry = _parse_line(line)
            if entry is None:
                continue
            values = tuple(view[row * NUM_PERM:(row + 1) * NUM_PERM])
            entry.signature = None if values == _NO_SIGNATURE else values
            found.append(entry)
        return found

    @cached_property
    def names(self) -> dict[str, dict[str, tuple[int, int]]]:
        """The entries' file names by folder (relative to the root, "" for the root itself), each
        with the size and mtime_ns recorded; from names.bin, a few MB at 100k posts (posts.tsv
        would take ten times as long to read)."""
        by_folder: dict[str, dict[str, tuple[int, int]]] = {}
        for folder, names in unpack_listing(self._files["names.bin"][:]):
            stats = by_folder.setdefault("" if folder == "." else folder, {})
            for item in names:
                name, _, stat = item.partition("/")  # (no file name holds a "/")
                size, _, mtime = stat.partition("/")
                with contextlib.suppress(ValueError):
                    stats[name] = (int(size), int(mtime))
        return by_folder

    @property
    def token(self) -> str:
        return self.folder.name.removeprefix("gen-")

    def _lines(self) -> list[str]:
        text = self._files["posts.tsv"][:].decode("utf-8", "surrogateescape")
        lines = text.split("\n")[1:]
        return lines[:-1] if lines and lines[-1] == "" else lines

    def rows_with(self, kind: str, keys: Iterable[int]) -> set[int]:
        """Rows having any of the keys in `<kind>.key` ("bands" or "exact")."""
        sorted_keys = self._view(f"{kind}.key", "Q")
        rows = self._view(f"{kind}.row", "I")
        found = set()
        for key in keys:
            start = bisect.bisect_left(sorted_keys, key)
            while start < len(sorted_keys) and sorted_keys[start] == key:
                found.add(rows[start])
                start += 1
        return found

    def _view(self, name: str, code: str) -> memoryview:
        """The file as an array, mapped (only the pages a lookup touches are read)."""
        if name not in self._maps:
            data = self._files[name]
            view = memoryview(data).cast(code)  # type: ignore[call-overload]
            if sys.byteorder != "little":  # the files are little-endian
                swapped = array.array(code, data)
                swapped.byteswap()
                view = memoryview(swapped)
            self._maps[name] = view
        return self._maps[name]


def _mapped(path: Path) -> bytes | mmap.mmap:
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


class Store:
    def __init__(self, settings: Settings) -> None:
        from hashlib import blake2b

        key = blake2b(f"{_MAGIC} {settings.timezone}".encode(), digest_size=6).hexdigest()
        self.folder = settings.root / ".newsctl" / "cache" / f"dups-{key}"
        self.settings = settings
        self.writable = any((settings.root / marker).is_file() for marker in ROOT_MARKERS)

    def load(self) -> Generation | None:
        """The current generation, or None when there is none or it is damaged."""
        tokens = self.current_tokens()
        return self.open_generation(tokens[0]) if tokens else None

    def current_tokens(self) -> list[str]:
        """CURRENT's tokens: the whole generation, then the recent layer if there is one (recent.py)."""
        try:
            tokens = (self.folder / "CURRENT").read_text(encoding="ascii").split()
        except (OSError, ValueError):
            return []
        return tokens if 1 <= len(tokens) <= 2 and all(token.isalnum() for token in tokens) else []

    def open_generation(self, token: str) -> Generation | None:
        """Generation `gen-<token>`, or None when it is missing or damaged."""
        folder = self.folder / f"gen-{token}"
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            with open(folder / "posts.tsv", "rb") as handle:
                header = handle.readline()
        except (OSError, ValueError):
            return None
        if not _valid_meta(meta) or header != f"{_MAGIC}\n".encode():
            return None
        count = meta.get("count")
        if not isinstance(count, int) or not self._sizes_match(folder, count, meta):
            return None
        generation = Generation(folder, meta, count)
        return generation if generation.open() else None

    @staticmethod
    def _sizes_match(folder: Path, count: int, meta: dict[str, object]) -> bool:
        try:
            sizes = {name: (folder / name).stat().st_size for name in (*_TABLES, "posts.tsv")}
        except OSError:
            return False
        bands, exact = meta.get("bands"), meta.get("exact")
        return (sizes["signatures.u32"] == count * NUM_PERM * 4 and sizes["offsets.u64"] == (count + 1) * 8
                and sizes["shingles.u32"] == count * 4 and sizes["headlines.u64"] == count * 8
                and sizes["posts.tsv"] == meta.get("tsv_bytes") and isinstance(bands, int)
                and isinstance(exact, int) and sizes["bands.key"] == bands * 8 and sizes["bands.row"] == bands * 4
                and sizes["exact.key"] == exact * 8 and sizes["exact.row"] == exact * 4)

    def save(self, entries: Sequence[Entry], folders: dict[str, int], tables: Tables | None = None) -> None:
        """Write a new generation with these entries (recent or unstorable ones left out), make
        it current and remove the older ones. `folders`: the marks (discovery.marked_listing) of
        the folders listed for `entries`; a folder holding a post left out is marked UNSURE
        (readers list it to find that post). Best effort: any failure leaves the old one.
        `tables`: writes signatures.u32, bands.* and exact.* for the kept entries instead of
        _write_tables (the whole-archive path: tables.py, from its signature array)."""
        kept = [entry for entry in entries if recordable(entry)]
        token = self.publish(kept, {"folders": trusted_marks(folders, entries, kept)}, tables=tables)
        if token:
            self.remove_old(token)
            self._remove_other_stores()

    def _remove_other_stores(self) -> None:
        """Stores of other formats, versions or zones beside this one: never read again."""
        import shutil

        with contextlib.suppress(OSError):
            for entry in os.scandir(self.folder.parent):
                if entry.name.startswith("dups-") and entry.path != str(self.folder) and entry.is_dir():
                    shutil.rmtree(entry.path, ignore_errors=True)

    def publish(self, kept: Sequence[Entry], extra: Mapping[str, object],
                layered_on: Sequence[str] | None = None, tables: Tables | None = None) -> str | None:
        """Write generation `gen-<token>` with these entries and `extra` in its meta.json and make
        it current: the whole generation, or (`layered_on`: the tokens CURRENT must still name)
        the recent layer on that whole generation, compare-and-swap. The token, or None when
        nothing was made current (CURRENT moved on meanwhile, or a write failed). `tables`: as
        for `save`."""
        if not self.writable or (layered_on is not None and self.current_tokens() != list(layered_on)):
            return None
        import secrets  # local: only writers need them (pre-commit mostly reads)
        import shutil

        token = secrets.token_hex(6)
        folder = self.folder / f"gen-{token}"
        try:
            for parent in (self.folder.parent.parent, self.folder.parent, self.folder):
                parent.mkdir(mode=0o700, exist_ok=True)
            folder.mkdir(mode=0o700)
            _write_generation(folder, kept, extra, tables)
            with self._locked():
                before = self.current_tokens()
                if layered_on is not None and before != list(layered_on):
                    shutil.rmtree(folder, ignore_errors=True)
                    return None
                line = token if layered_on is None else f"{layered_on[0]} {token}"
                temporary = self.folder / f".CURRENT.{os.getpid()}.tmp"
                temporary.write_text(line + "\n", encoding="ascii")
                os.replace(temporary, self.folder / "CURRENT")
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        self._retire(set(before) - set(line.split()))
        return token

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The store's own lock around reading and replacing CURRENT: a recent layer never
        replaces a whole generation written between its check and its write."""
        import fcntl

        descriptor = os.open(self.folder / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _retire(self, tokens: set[str]) -> None:
        """Stamp generations CURRENT no longer names: remove_old counts a minute from now."""
        for token in tokens:
            with contextlib.suppress(OSError):
                os.utime(self.folder / f"gen-{token}")

    def remove_old(self, *current: str) -> None:
        """Generations CURRENT does not name, a minute after they stopped being current (or were
        last written), when no reader can still be starting on them."""
        import shutil

        kept = {f"gen-{token}" for token in current}
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.folder):
                if entry.name.startswith("gen-") and entry.name not in kept:
                    with contextlib.suppress(OSError):
                        if time.time() - entry.stat().st_mtime > 60:
                            shutil.rmtree(entry.path, ignore_errors=True)


def _valid_meta(meta: object) -> bool:
    """meta.json as written: the format, folder marks as {folder: mtime_ns}, racy paths as texts."""
    if not isinstance(meta, dict) or meta.get("magic") != _MAGIC:
        return False
    folders, racy = meta.get("folders", {}), meta.get("racy", [])
    return (isinstance(folders, dict) and all(isinstance(key, str) and "\0" not in key and type(value) is int
                                              for key, value in folders.items())
            and isinstance(racy, list) and all(isinstance(path, str) for path in racy))


def _write_generation(folder: Path, kept: Sequence[Entry], extra: Mapping[str, object],
                      tables: Tables | None = None) -> None:
    """The files of a generation; `tables`: see Store.save."""
    bands, exact = tables(folder, kept) if tables else _write_tables(folder, kept)
    story_keys = array.array("Q", (entry.story_key for entry in kept))
    if sys.byteorder != "little":
        story_keys.byteswap()
    (folder / "stories.u64").write_bytes(story_keys.tobytes())
    lines = [f"{_MAGIC}\n".encode(), *(f"{entry.line()}\n".encode("utf-8", "surrogateescape") for entry in kept)]
    offsets = array.array("Q", itertools.accumulate((len(line) for line in lines), initial=0))[1:]
    shingle_counts = array.array("I", (min(entry.shingles, 0xFFFFFFFF) for entry in kept))
    headlines = array.array("Q", (hashes_of(entry)[2] or 0 for entry in kept))
    if sys.byteorder != "little":
        for table in (offsets, shingle_counts, headlines):
            table.byteswap()
    (folder / "offsets.u64").write_bytes(offsets.tobytes())
    (folder / "shingles.u32").write_bytes(shingle_counts.tobytes())
    (folder / "headlines.u64").write_bytes(headlines.tobytes())
    (folder / "posts.tsv").write_bytes(b"".join(lines))
    (folder / "names.bin").write_bytes(_packed_names(kept))
    meta = {"magic": _MAGIC, "count": len(kept), "bands": bands, "exact": exact, "written": time.time_ns(),
            "tsv_bytes": sum(len(line) for line in lines), **extra}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def _packed_names(entries: Iterable[Entry]) -> bytes:
    """The entries' names by folder, each as `name/size/mtime_ns`, packed as discovery packs a
    listing (folders relative to the root, "." for the root)."""
    by_folder: dict[str, list[str]] = {}
    for entry in entries:
        folder, _, name = entry.path.rpartition("/")
        by_folder.setdefault(folder or ".", []).append(f"{name}/{entry.size}/{entry.mtime_ns}")
    return pack_listing(list(by_folder.items()))


def trusted_marks(folders: dict[str, int], entries: Iterable[Entry], kept: Sequence[Entry]) -> dict[str, int]:
    """The folder marks, UNSURE for folders holding an entry that is not recorded (readers list
    them to find it)."""
    recorded = {id(entry) for entry in kept}
    untrusted = {entry.path.rpartition("/")[0] for entry in entries if id(entry) not in recorded}
    return {folder: UNSURE if folder in untrusted else mark for folder, mark in folders.items()}


def _write_tables(folder: Path, entries: Sequence[Entry]) -> tuple[int, int]:
    """signatures.u32, bands.* and exact.* in plain Python, from Entry.signature: the pre-commit
    check's recent layer (importing numpy costs more than sorting its rows); a whole-archive save
    passes tables.py's numpy writer instead."""
    signatures = array.array("I")
    band_pairs: list[tuple[int, int]] = []
    exact_pairs: list[tuple[int, int]] = []
    for row, entry in enumerate(entries):
        signatures.extend(entry.signature or _NO_SIGNATURE)
        if entry.signature:
            band_pairs += [(key, row) for key in band_keys(entry.signature)]
        exact_pairs += [(key, row) for key in exact_keys(entry)]
    for name, pairs in (("bands", band_pairs), ("exact", exact_pairs)):
        pairs.sort()
        keys = array.array("Q", [key for key, _ in pairs])
        rows = array.array("I", [row for _, row in pairs])
        if sys.byteorder != "little":
            keys.byteswap()
            rows.byteswap()
        (folder / f"{name}.key").write_bytes(keys.tobytes())
        (folder / f"{name}.row").write_bytes(rows.tobytes())
    if sys.byteorder != "little":
        signatures.byteswap()
    (folder / "signatures.u32").write_bytes(signatures.tobytes())
    return len(band_pairs), len(exact_pairs)
