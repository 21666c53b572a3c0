"""The index on disk, without Whoosh: the sidecar (engine.postings has the posting lists and
the term dictionary), the state and manifest of a generation, a read view of one segment, and the cheap
staleness check. Shared by the writer (engine.updater) and the reader (engine.reader); a
search imports only this side. Layouts and commit protocol: see engine.updater."""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from array import array
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from pathlib import Path
from typing import Any

from newsctl.config import Settings
from newsctl.discovery import folder_mtimes
from newsctl.engine.postings import DamagedFile, Postings, TermDict, map_file
from newsctl.errors import IndexUnusable

INDEX_NAME = "MAIN"
# Bump whenever the schema, the file formats, the token streams (analysis.py) or the stored
# values change: an index of another format is rebuilt by `newsctl index` and refused by `search`.
INDEX_FORMAT = 4  # 4: checksums in every index file, ctime and inode in the manifest; ambiguous
# traditional characters (乾, 於 …) no longer folded; the status field (published or not, as Jekyll does)
STATE_PREFIX = "newsctl-state-"
MANIFEST_PREFIX = "newsctl-manifest-"
VALUE_FIELDS = ("categories", "tags", "stocks", "status")  # exact values, queried as field:value
_TOC_NAME = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")


class IndexMissing(IndexUnusable):
    """No usable index: never built, or built in another format (exit 4, not 1: a script must tell
    "no results" from "no index")."""


_SIDE_MAGIC = b"NCS2"
_SIDE_HEADER = struct.Struct("<4sIQQ")  # magic, documents, total title and body word counts
_SIDE_SECTIONS = ("dates", "title_lengths", "body_lengths", "path_ends", "paths", "record_ends", "records",
                  "path_crcs", "record_crcs")
_SIDE_ENTRY = struct.Struct("<QI")  # per section: its size and CRC-32; then the CRC-32 of header and table
_SIDE_TABLE = _SIDE_HEADER.size + _SIDE_ENTRY.size * len(_SIDE_SECTIONS)


class SideWriter:
    """The sidecar of a segment: what a search reads per document, without Whoosh.

    Layout: header, a table of (size, CRC-32) per section and the CRC-32 of both, then the sections.
    Each path and each display record also has its own CRC-32, so that showing a page of hits
    checks only what it shows."""

    def __init__(self) -> None:
        self.dates = array("q")
        self.title_lengths = array("I")
        self.body_lengths = array("I")
        self.paths: list[str] = []
        self.record_ends = array("I")
        self.record_crcs = array("I")
        self.records = bytearray()

    def add(self, path: str, date: int, title_length: int, body_length: int, record: dict[str, Any]) -> None:
        """One document: its path, date (epoch seconds), field lengths and display record."""
        self.dates.append(date)
        self.title_lengths.append(title_length)
        self.body_lengths.append(body_length)
        self.paths.append(path)
        encoded = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        self.records += encoded
        self.record_ends.append(len(self.records))
        self.record_crcs.append(zlib.crc32(encoded))

    def write(self, path: Path) -> None:
        # Paths are NUL-separated (no file name holds a NUL), so that a search printing many
        # decodes and splits them in one C call; path_ends locate one path without that.
        encoded = [path.encode("utf-8", "surrogateescape") for path in self.paths]
        path_ends = array("I", (end - 1 for end in accumulate(len(path) + 1 for path in encoded)))
        path_crcs = array("I", map(zlib.crc32, encoded))
        sections = [self.dates.tobytes(), self.title_lengths.tobytes(), self.body_lengths.tobytes(),
                    path_ends.tobytes(), b"\0".join(encoded), self.record_ends.tobytes(), bytes(self.records),
                    path_crcs.tobytes(), self.record_crcs.tobytes()]
        table = _SIDE_HEADER.pack(_SIDE_MAGIC, len(self.paths), sum(self.title_lengths), sum(self.body_lengths))
        table += b"".join(_SIDE_ENTRY.pack(len(section), zlib.crc32(section)) for section in sections)
        with open(path, "wb") as handle:
            handle.write(table + struct.pack("<I", zlib.crc32(table)))
            for section in sections:
                handle.write(section)


class SideReader:
    """Lazy access to a sidecar: each section is decoded, and checked against its CRC, on first use;
    a path or record shown alone is checked against its own CRC. Damage raises DamagedFile."""

    def __init__(self, data: Any, name: object = "sidecar") -> None:
        self.name = name
        if len(data) < _SIDE_TABLE + 4:
            raise DamagedFile(name, "too short to be a sidecar")
        magic, self.doc_count, self.title_total, self.body_total = _SIDE_HEADER.unpack(data[:_SIDE_HEADER.size])
        (table_crc,) = struct.unpack("<I", data[_SIDE_TABLE:_SIDE_TABLE + 4])
        if magic != _SIDE_MAGIC or zlib.crc32(data[:_SIDE_TABLE]) != table_crc:
            raise DamagedFile(name, "its header is damaged (or it was written by another newsctl)")
        self.data = data
        self.spans: dict[str, tuple[int, int, int]] = {}
        at, entry = _SIDE_TABLE + 4, _SIDE_HEADER.size
        for section in _SIDE_SECTIONS:
            size, crc = _SIDE_ENTRY.unpack(data[entry:entry + _SIDE_ENTRY.size])
            self.spans[section] = (at, at + size, crc)
            at, entry = at + size, entry + _SIDE_ENTRY.size
        if at != len(data):
            raise DamagedFile(name, "its sections do not fill the file")

    def _bytes(self, name: str) -> bytes:
        start, end, crc = self.spans[name]
        data = bytes(self.data[start:end])
        if zlib.crc32(data) != crc:
            raise DamagedFile(self.name, f"its {name} do not match their checksum")
        return data

    def _array(self, name: str, typecode: str) -> array:
        values = array(typecode)
        values.frombytes(self._bytes(name))
        if name not in ("paths", "records") and len(values) != self.doc_count:
            raise DamagedFile(self.name, f"its {name} do not match its document count")
        return values

    @cached_property
    def dates(self) -> array:
        return self._array("dates", "q")

    @cached_property
    def title_lengths(self) -> array:
        return self._array("title_lengths", "I")

    @cached_property
    def body_lengths(self) -> array:
        return self._array("body_lengths", "I")

    @cached_property
    def _path_ends(self) -> array:
        return self._array("path_ends", "I")

    @cached_property
    def _path_crcs(self) -> array:
        return self._array("path_crcs", "I")

    def path(self, docnum: int) -> str:
        ends, (start, _, _) = self._path_ends, self.spans["paths"]
        begin = ends[docnum - 1] + 1 if docnum else 0
        data = bytes(self.data[start + begin:start + ends[docnum]])
        if zlib.crc32(data) != self._path_crcs[docnum]:
            raise DamagedFile(self.name, f"the path of document {docnum} does not match its checksum")
        return data.decode("utf-8", "surrogateescape")

    @cached_property
    def paths(self) -> list[str]:
        """Every path (decoding all at once is cheaper when many are needed)."""
        return self._bytes("paths").decode("utf-8", "surrogateescape").split("\0") if self.doc_count else []

    @cached_property
    def _record_ends(self) -> array:
        return self._array("record_ends", "I")

    @cached_property
    def _record_crcs(self) -> array:
        return self._array("record_crcs", "I")

    def record(self, docnum: int) -> dict[str, Any]:
        ends, (start, _, _) = self._record_ends, self.spans["records"]
        begin = ends[docnum - 1] if docnum else 0
        data = bytes(self.data[start + begin:start + ends[docnum]])
        if zlib.crc32(data) != self._record_crcs[docnum]:
            raise DamagedFile(self.name, f"the record of document {docnum} does not match its checksum")
        return dict(json.loads(data))

    def verify(self) -> None:
        """Check every section (`index` and `stats` do, for a file whose stat changed)."""
        for section in _SIDE_SECTIONS:
            self._bytes(section)


# ---- the state and manifest files -------------------------------------------------------------------

@dataclass
class State:
    generation: int
    format: int
    userdict: str
    posts: list[str]
    built_at: float
    doc_count: int
    segments: list[dict[str, Any]]  # {"id": segment id, "docs": count, "deleted": [doc numbers]}
    dirs: dict[str, int]  # relative folder -> mtime_ns

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


NO_DIGEST = bytes(16)
_MANIFEST_MAGIC = b"NCM3"
_MANIFEST_HEADER = struct.Struct("<4sQQQ")  # magic, posts, byte sizes of the paths and of the reasons
_STAT_ARRAYS = 4  # sizes, mtimes, ctimes, inodes: 8 bytes each per post


@dataclass
class Manifest:
    """What an update saw of every post, in scan order: path, size, mtime_ns, ctime_ns, inode,
    content hash (16 bytes each; zeros when the file could not be read) and, for posts kept out of the
    index, why. An edit that puts size and mtime back (`touch -r`) still moves ctime, and a file
    replaced by another has another inode: as git does, all four decide whether a post is read again.

    Stored as packed arrays, not JSON: 100k posts load in ~20 ms instead of ~0.2 s, and an
    unchanged archive is recognised by comparing four sequences at C speed. A CRC-32 of the rest
    ends the file."""

    paths: list[str]
    sizes: array
    mtimes: array
    ctimes: array
    inodes: array
    digests: bytes
    reasons: dict[str, str]

    @classmethod
    def empty(cls) -> Manifest:
        return cls([], array("q"), array("q"), array("q"), array("q"), b"", {})

    def digest(self, index: int) -> str:
        return self.digests[16 * index:16 * index + 16].hex()

    @cached_property
    def positions(self) -> dict[str, int]:
        return dict(zip(self.paths, range(len(self.paths)), strict=True))

    def to_bytes(self) -> bytes:
        paths = "\0".join(self.paths).encode("utf-8", "surrogateescape")
        reasons = json.dumps(self.reasons, separators=(",", ":")).encode()  # ASCII: escapes odd names
        header = _MANIFEST_HEADER.pack(_MANIFEST_MAGIC, len(self.paths), len(paths), len(reasons))
        body = b"".join((header, paths, self.sizes.tobytes(), self.mtimes.tobytes(), self.ctimes.tobytes(),
                         self.inodes.tobytes(), self.digests, reasons))
        return body + struct.pack("<I", zlib.crc32(body))

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest | None:
        """The manifest, or None when it is damaged or of another format (the index is then rebuilt)."""
        if len(data) < _MANIFEST_HEADER.size + 4 or zlib.crc32(data[:-4]) != struct.unpack("<I", data[-4:])[0]:
            return None
        data = data[:-4]
        magic, count, paths_size, reasons_size = _MANIFEST_HEADER.unpack_from(data)
        at = _MANIFEST_HEADER.size
        stats = 8 * _STAT_ARRAYS * count
        if magic != _MANIFEST_MAGIC or len(data) != at + paths_size + stats + 16 * count + reasons_size:
            return None
        paths = data[at:at + paths_size].decode("utf-8", "surrogateescape").split("\0") if count else []
        at += paths_size
        arrays = []
        for number in range(_STAT_ARRAYS):
            values = array("q")
            values.frombytes(data[at + 8 * count * number:at + 8 * count * (number + 1)])
            arrays.append(values)
        digests = data[at + stats:at + stats + 16 * count]
        reasons = json.loads(data[at + stats + 16 * count:])
        if len(paths) != count or not isinstance(reasons, dict):
            return None
        sizes, mtimes, ctimes, inodes = arrays
        return cls(paths, sizes, mtimes, ctimes, inodes, digests, reasons)


def _state_file(index_dir: Path, generation: int) -> Path:
    return index_dir / f"{STATE_PREFIX}{generation}.json"


def _manifest_file(index_dir: Path, generation: int) -> Path:
    return index_dir / f"{MANIFEST_PREFIX}{generation}.bin"


def read_state(index_dir: Path, generation: int) -> State | None:
    """The state of a generation; None when it has no state file, DamagedFile when it does not match
    its checksum or cannot be parsed."""
    path = _state_file(index_dir, generation)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedFile(path, f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from exc
    try:
        data = json.loads(text)
        crc = data.pop("crc32", None)
        if data.get("format") != INDEX_FORMAT:  # another newsctl's index: refused as such, not as damage
            return State.from_json(data)
        if crc != zlib.crc32(_state_json(data)):
            raise DamagedFile(path, "it does not match its checksum")
        return State.from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, DamagedFile):
            raise
        raise DamagedFile(path, "it cannot be parsed") from exc


def _state_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_manifest(index_dir: Path, generation: int) -> Manifest | None:
    try:
        return Manifest.from_bytes(_manifest_file(index_dir, generation).read_bytes())
    except (OSError, ValueError, struct.error):
        return None


def write_generation(index_dir: Path, state: State, manifest: Manifest) -> None:
    from newsctl.fsutil import atomic_write  # a writer's import: not on a search's path

    atomic_write(_manifest_file(index_dir, state.generation), manifest.to_bytes())
    data = dict(state.__dict__)
    data["crc32"] = zlib.crc32(_state_json(state.__dict__))
    atomic_write(_state_file(index_dir, state.generation), _state_json(data))


def remove_other_generations(index_dir: Path, generation: int) -> None:
    keep = {_state_file(index_dir, generation).name, _manifest_file(index_dir, generation).name}
    for entry in os.scandir(index_dir):
        if entry.name.startswith((STATE_PREFIX, MANIFEST_PREFIX)) and entry.name not in keep:
            Path(entry.path).unlink(missing_ok=True)


def latest_generation(index_dir: Path) -> int:
    """The generation of the newest TOC file, -1 when there is none (no Whoosh import needed)."""
    try:
        names = os.listdir(index_dir)
    except OSError:
        return -1
    return max((int(m[1]) for m in map(_TOC_NAME.match, names) if m), default=-1)


def content_hash(data: bytes) -> str:
    import hashlib  # not at module level: a search rarely needs it

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def userdict_hash(settings: Settings) -> str:
    path = settings.userdict_path
    return content_hash(path.read_bytes()) if path else ""


def stale_reason(settings: Settings, state: State) -> str | None:
    """Why the index no longer matches the archive, from a few stats (no post is read).

    Adding, deleting or renaming a post (and an editor's save by rename) changes the mtime of
    its folder; an edit in place does not, and is found by `newsctl index` only.
    """
    if state.posts != list(settings.posts):
        return "the post globs in the settings changed"
    if folder_mtimes(settings.root, state.dirs) != state.dirs:
        return "posts were added, removed or renamed since the last `newsctl index`"
    if state.userdict != userdict_hash(settings):
        return "the user dictionary changed"
    return None


def unusable_reason(state: State) -> str | None:
    if state.format != INDEX_FORMAT:
        return f"the index was built in format {state.format}; this newsctl reads format {INDEX_FORMAT}"
    return None


# ---- one segment, open for reading ------------------------------------------------------------

class SegmentView:
    """One segment for queries: its term dictionary, sidecar and deleted documents."""

    def __init__(self, index_dir: Path, info: dict[str, Any]) -> None:
        name = f"{INDEX_NAME}_{info['id']}"
        self.terms = TermDict(map_file(index_dir / f"{name}.trm"), index_dir / f"{name}.trm")
        self.side = SideReader(map_file(index_dir / f"{name}.nsc"), index_dir / f"{name}.nsc")
        self.doc_count: int = info["docs"]
        self.deleted = frozenset(info["deleted"])
        self._cache: dict[tuple[str, str], Postings | None] = {}

    def postings(self, fieldname: str, term: str) -> Postings | None:
        cached = self._cache.get((fieldname, term), False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        key = self.terms.key(fieldname, term)
        data = self.terms.get(key) if key is not None else None
        result = Postings(data) if data is not None else None
        self._cache[fieldname, term] = result
        return result

    def expand_prefix(self, fieldname: str, prefix: str) -> list[str]:
        key = self.terms.key(fieldname, prefix)
        if key is None:
            return []
        found = []
        for entry_key, _ in self.terms.items_from(key):
            if not entry_key.startswith(key):
                break
            found.append(entry_key[1:].decode("utf-8"))
        return found

    def live(self) -> set[int]:
        return set(range(self.doc_count)).difference(self.deleted)

