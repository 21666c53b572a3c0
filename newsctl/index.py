"""The full-text index: a Whoosh index with a compact codec, incremental parallel updates, queries.

This is the only module that imports Whoosh, and it does so only to write (importing Whoosh
takes ~0.1 s, more than a whole search may spend). Layout of `<root>/.newsctl/index` (0700):

- Whoosh's files: `_MAIN_<gen>.toc` (written under a temporary name and renamed, so a commit
  is atomic) and, per segment `MAIN_<id>`: stored fields and length columns (Whoosh 3 format),
  `.trm`, the term dictionary with the posting lists inline (CompactCodec below), and `.nsc`,
  newsctl's sidecar: per document path, date, field lengths and the display record.
- `newsctl-state-<gen>.json`: format version, user-dictionary hash, post globs, build time, the
  segments of generation <gen> with their deleted documents, and the mtime of every folder that
  holds posts (the cheap staleness check of `search`).
- `newsctl-manifest-<gen>.bin` (class Manifest): every post seen, in scan order, with its size,
  mtime_ns and content hash as packed arrays, and why a post was kept out; an update stats
  every post and reads only new or changed ones.

Both are written (atomically) before the TOC of generation <gen>, so a reader of generation
<gen> always finds them; killing `index` at any moment leaves the previous generation whole.
One writer at a time: a flock on `MAIN_WRITELOCK`, Whoosh's own lock file.

Documents carry four token fields built straight from `newsctl.analysis` token lists: jieba words
of the title and of the body (frequencies, for BM25F ranking) and overlapping bigrams of both
(with positions, for exact substring matching). Worker processes analyse posts and each writes
its own segments. Queries run here, without Whoosh, as set algebra over the decoded posting
arrays (C-level), with Python work only per candidate document. See docs/search.md.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import re
import stat
import struct
import sys
import time
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from itertools import accumulate, chain, repeat
from operator import add, itemgetter, mul, rshift, sub
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

from newsctl.analysis import normalize, query_ngrams
from newsctl.background import in_child
from newsctl.config import Settings, archive_names, iter_post_paths, literal_prefix
from newsctl.errors import NewsctlError

INDEX_NAME = "MAIN"
# Bump whenever the schema, the file formats, the token streams (analysis.py) or the stored
# values change: an index of another format is rebuilt by `newsctl index` and refused by `search`.
INDEX_FORMAT = 2
STATE_PREFIX = "newsctl-state-"
MANIFEST_PREFIX = "newsctl-manifest-"
LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"
_TOC_NAME = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")

TITLE_BOOST = 10.0  # BM25F weight of a title occurrence: posts with the query in the title come first
BM25_K1, BM25_B = 1.2, 0.75
MAX_WORD_CHARS = 6  # longest query substring looked up as a jieba word for ranking
MAX_WORD_LOOKUPS = 200  # distinct substrings looked up per query string (bounds a pasted paragraph)
PARALLEL_MIN = 1000  # fewer posts than this to read: no worker processes (one segment)
BATCH_SIZE = 200  # posts per job sent to a worker
MAX_SEGMENTS = 12  # above this, the posts of the smallest segments are indexed again into one
BUILD_MEMORY = 440 * 1024 * 1024  # postings held in memory by all index workers together, estimated


class IndexBusy(NewsctlError):
    """Another process holds the write lock."""


class IndexMissing(NewsctlError):
    """No usable index: never built, or built in another format."""


# ---- query nodes (search.py builds them from the user's query) ---------------------------------------

@dataclass(frozen=True)
class TextQuery:
    """A string that must occur in the title or body text (or in the title only)."""

    text: str
    title_only: bool = False


@dataclass(frozen=True)
class ValueQuery:
    """An exact value of categories, tags or stocks (compared normalised)."""

    field: str
    value: str


@dataclass(frozen=True)
class AllOf:
    parts: tuple[QueryNode, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[QueryNode, ...]


@dataclass(frozen=True)
class NotQuery:
    part: QueryNode


QueryNode = TextQuery | ValueQuery | AllOf | AnyOf | NotQuery
VALUE_FIELDS = ("categories", "tags", "stocks")


@dataclass
class Filters:
    categories: list[str] = field(default_factory=list)  # any of them
    tags: list[str] = field(default_factory=list)
    stocks: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Hit:
    path: str  # relative to the archive root
    id: str
    title: str
    date: str  # ISO 8601 with zone
    categories: list[str]
    tags: list[str]
    stocks: list[str]
    score: float


# ---- binary formats: posting lists, term dictionary, sidecar ------------------------------------------
# A posting list is packed arrays (native byte order; an index is not portable, like Whoosh's):
# flags, varint doc frequency, varint total frequency, doc-number deltas, frequencies (left out
# when all are 1) and, for bigram fields, positions. Each array uses the narrowest of B/H/I.

_WIDTHS = ("B", "H", "I")
_SINGLE = 1 << 32  # doc number << 32 | position (or frequency): one int per posting, while building
_LIMITS = (1 << 8, 1 << 16)
_ALL_ONES = 3  # weight width code: every frequency is 1, none stored
_HAS_POSITIONS = 1 << 6
_ITEMSIZE = tuple(array(code).itemsize for code in _WIDTHS)
_VARINT_1 = tuple(bytes((n,)) for n in range(128))
_SINGLE_LAYOUTS = {(id_code, pos_code): struct.Struct(f"=BBB{_WIDTHS[id_code]}{_WIDTHS[pos_code]}")
                   for id_code in range(3) for pos_code in range(3)}
_SINGLE_ID = tuple(struct.Struct(f"=BBB{code}") for code in _WIDTHS)


def _width_code(largest: int) -> int:
    return 0 if largest < _LIMITS[0] else 1 if largest < _LIMITS[1] else 2


def _varint(value: int) -> bytes:
    if value < 0x80:
        return _VARINT_1[value]
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def encode_postings(ids: array, weights: array, positions: array | None) -> bytes:
    deltas = array("I", ids[:1])
    deltas.extend(map(sub, ids[1:], ids[:-1]))
    id_code = _width_code(max(deltas))
    top_weight = max(weights)
    weight_code = _ALL_ONES if top_weight == 1 else _width_code(top_weight)
    pos_code = _width_code(max(positions)) if positions else 0
    flags = id_code | weight_code << 2 | pos_code << 4 | (_HAS_POSITIONS if positions else 0)
    parts = [_VARINT_1[flags], _varint(len(ids)), _varint(sum(weights)), array(_WIDTHS[id_code], deltas).tobytes()]
    if weight_code != _ALL_ONES:
        parts.append(array(_WIDTHS[weight_code], weights).tobytes())
    if positions:
        parts.append(array(_WIDTHS[pos_code], positions).tobytes())
    return b"".join(parts)


def encode_single(docnum: int, low: int, is_position: bool) -> bytes:
    """encode_postings() of a one-posting list in one struct call (most bigrams are such)."""
    id_code = _width_code(docnum)
    if is_position:  # frequency 1 at position `low`
        pos_code = _width_code(low)
        flags = id_code | _ALL_ONES << 2 | pos_code << 4 | _HAS_POSITIONS
        return _SINGLE_LAYOUTS[id_code, pos_code].pack(flags, 1, 1, docnum, low)
    if low == 1:
        return _SINGLE_ID[id_code].pack(id_code | _ALL_ONES << 2, 1, 1, docnum)
    return encode_postings(array("I", (docnum,)), array("I", (low,)), None)


def postings_header(data: bytes) -> tuple[int, int, int, int]:
    """(flags, doc frequency, total frequency, offset of the arrays)."""
    count, at = _read_varint(data, 1)
    total, at = _read_varint(data, at)
    return data[0], count, total, at


class Postings:
    """One decoded posting list."""

    __slots__ = ("_ends", "_set", "ids", "positions", "weights")

    def __init__(self, data: bytes) -> None:
        flags, count, _total, at = postings_header(data)
        id_code, weight_code, pos_code = flags & 3, flags >> 2 & 3, flags >> 4 & 3
        deltas = array(_WIDTHS[id_code])
        deltas.frombytes(data[at:at + count * _ITEMSIZE[id_code]])
        at += count * _ITEMSIZE[id_code]
        self.ids = array("I", accumulate(deltas))
        self.weights: array | None = None
        if weight_code != _ALL_ONES:
            self.weights = array(_WIDTHS[weight_code])
            self.weights.frombytes(data[at:at + count * _ITEMSIZE[weight_code]])
            at += count * _ITEMSIZE[weight_code]
        self.positions: array | None = None
        if flags & _HAS_POSITIONS:
            self.positions = array(_WIDTHS[pos_code])
            self.positions.frombytes(data[at:])
        self._ends: array | None = None
        self._set: set[int] | None = None

    def doc_set(self) -> set[int]:
        if self._set is None:
            self._set = set(self.ids)
        return self._set

    def frequencies(self) -> dict[int, int]:
        return dict(zip(self.ids, self.weights, strict=True)) if self.weights else dict.fromkeys(self.ids, 1)

    def positions_at(self, index: int) -> array:
        """The positions of the index-th posting."""
        assert self.positions is not None
        if self.weights is None:  # one position per posting
            return self.positions[index:index + 1]
        if self._ends is None:
            self._ends = array("I", accumulate(self.weights))
        return self.positions[self._ends[index - 1] if index else 0:self._ends[index]]

    def positions_of(self, docnum: int) -> array | None:
        index = bisect_left(self.ids, docnum)
        if index < len(self.ids) and self.ids[index] == docnum:
            return self.positions_at(index)
        return None


BLOCK_TERMS = 16  # dictionary entries per block: a look-up decodes at most this many
_DICT_TRAILER = struct.Struct("<QQQQ")  # offsets of: field map, first keys, key ends, block offsets


class TermDictWriter:
    """Sorted (field number byte + term) -> posting list, in blocks, then the block index.

    Whoosh's hash-table term file spends ~24 bytes per entry besides key and value, and most
    bigrams occur in a single post; this layout spends ~2.
    """

    def __init__(self, handle: Any) -> None:
        self.file = handle
        self.pending: list[bytes] = []
        self.first_keys = bytearray()
        self.key_ends = array("I")
        self.offsets = array("Q")
        self.count = 0
        self.fieldmap: dict[str, int] = {}

    def add_field(self, name: str, items: Iterable[tuple[str | bytes, bytes]]) -> None:
        """One field's (term, posting list) entries, terms in increasing order."""
        self.fieldmap[name] = len(self.fieldmap)
        prefix = bytes((self.fieldmap[name],))
        pending = self.pending
        for term, value in items:
            key = prefix + (term.encode("utf-8") if isinstance(term, str) else term)
            if self.count % BLOCK_TERMS == 0:
                self._write_pending()
                pending = self.pending
                self.offsets.append(self.file.tell())
                self.first_keys += key
                self.key_ends.append(len(self.first_keys))
            pending.append(b"".join((_varint(len(key)), key, _varint(len(value)), value)))
            self.count += 1

    def _write_pending(self) -> None:
        if self.pending:
            self.file.write(b"".join(self.pending))
            self.pending = []

    def close(self) -> None:
        self._write_pending()
        self.offsets.append(self.file.tell())  # the end of the last block
        sections = [json.dumps(self.fieldmap).encode(), bytes(self.first_keys), self.key_ends.tobytes(),
                    self.offsets.tobytes()]
        starts = []
        for section in sections:
            starts.append(self.file.tell())
            self.file.write(section)
        self.file.write(_DICT_TRAILER.pack(*starts))
        self.file.close()


def _map_file(path: Path) -> Any:
    """The file's bytes, memory-mapped (read-only; the page cache is shared between searches)."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


class TermDict:
    """Reads a TermDictWriter file: binary search over the blocks' first keys, then one block."""

    def __init__(self, data: Any) -> None:
        self.data = data
        end = len(data) - _DICT_TRAILER.size
        starts = _DICT_TRAILER.unpack(data[end:])
        fieldmap, first_keys, key_ends, offsets = (data[s:e] for s, e in zip(starts, (*starts[1:], end), strict=True))
        self.fieldmap: dict[str, int] = json.loads(fieldmap)
        self.first_keys: bytes = first_keys
        self.key_ends = array("I")
        self.key_ends.frombytes(key_ends)
        self.offsets = array("Q")
        self.offsets.frombytes(offsets)

    def _first_key(self, block: int) -> bytes:
        return self.first_keys[self.key_ends[block - 1] if block else 0:self.key_ends[block]]

    def _block_for(self, key: bytes) -> int:
        """The last block whose first key is <= key (-1 when key sorts before every entry)."""
        low, high = 0, len(self.key_ends)
        while low < high:
            middle = (low + high) // 2
            if self._first_key(middle) <= key:
                low = middle + 1
            else:
                high = middle
        return low - 1

    def _entries(self, block: int) -> Iterator[tuple[bytes, bytes]]:
        data = self.data[self.offsets[block]:self.offsets[block + 1]]
        at = 0
        while at < len(data):
            size, at = _read_varint(data, at)
            key = data[at:at + size]
            size, at = _read_varint(data, at + size)
            yield key, data[at:at + size]
            at += size

    def get(self, key: bytes) -> bytes | None:
        """The value of `key`, or None. (_entries() inlined: this runs for every query term.)"""
        block = self._block_for(key)
        if block < 0:
            return None
        data = self.data[self.offsets[block]:self.offsets[block + 1]]
        at, end = 0, len(data)
        while at < end:
            size, at = (data[at], at + 1) if data[at] < 0x80 else _read_varint(data, at)
            entry_key = data[at:at + size]
            at += size
            size, at = (data[at], at + 1) if data[at] < 0x80 else _read_varint(data, at)
            if entry_key >= key:
                return data[at:at + size] if entry_key == key else None
            at += size
        return None

    def items_from(self, key: bytes) -> Iterator[tuple[bytes, bytes]]:
        for block in range(max(self._block_for(key), 0), len(self.key_ends)):
            for entry_key, value in self._entries(block):
                if entry_key >= key:
                    yield entry_key, value

    def key(self, fieldname: str, term: str | bytes) -> bytes | None:
        number = self.fieldmap.get(fieldname)
        if number is None:
            return None
        return bytes((number,)) + (term.encode("utf-8") if isinstance(term, str) else term)


_SIDE_MAGIC = b"NCS1"
_SIDE_HEADER = struct.Struct("<4sIQQ")  # magic, documents, total title and body word counts
_SIDE_SECTIONS = ("dates", "title_lengths", "body_lengths", "path_ends", "paths", "record_ends", "records")


class SideWriter:
    """The sidecar of a segment: what a search reads per document, without Whoosh."""

    def __init__(self) -> None:
        self.dates = array("q")
        self.title_lengths = array("I")
        self.body_lengths = array("I")
        self.paths: list[str] = []
        self.record_ends = array("I")
        self.records = bytearray()

    def add(self, doc: dict[str, Any]) -> None:
        self.dates.append(doc["date"])
        self.title_lengths.append(len(doc["title_words"]))
        self.body_lengths.append(len(doc["body_words"]))
        self.paths.append(doc["path"])
        record = {"id": doc["id"], "title": doc["title"], "date": doc["date_text"],
                  "categories": doc["_stored_categories"], "tags": doc["_stored_tags"],
                  "stocks": doc["_stored_stocks"]}
        self.records += json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        self.record_ends.append(len(self.records))

    def write(self, path: Path) -> None:
        # Paths are NUL-separated (no file name holds a NUL), so that a search printing many
        # decodes and splits them in one C call; path_ends locate one path without that.
        encoded = [path.encode("utf-8", "surrogateescape") for path in self.paths]
        path_ends = array("I", (end - 1 for end in accumulate(len(path) + 1 for path in encoded)))
        sections = [self.dates.tobytes(), self.title_lengths.tobytes(), self.body_lengths.tobytes(),
                    path_ends.tobytes(), b"\0".join(encoded), self.record_ends.tobytes(), bytes(self.records)]
        header = _SIDE_HEADER.pack(_SIDE_MAGIC, len(self.paths), sum(self.title_lengths), sum(self.body_lengths))
        with open(path, "wb") as handle:
            handle.write(header)
            for section in sections:
                handle.write(struct.pack("<Q", len(section)))
                handle.write(section)


class SideReader:
    """Lazy access to a sidecar: each section is decoded on first use."""

    def __init__(self, data: Any) -> None:
        magic, self.doc_count, self.title_total, self.body_total = _SIDE_HEADER.unpack(data[:_SIDE_HEADER.size])
        if magic != _SIDE_MAGIC:
            raise IndexMissing("the index has a damaged sidecar file: run `newsctl index --rebuild`")
        self.data = data
        self.spans: dict[str, tuple[int, int]] = {}
        at = _SIDE_HEADER.size
        for name in _SIDE_SECTIONS:
            (size,) = struct.unpack("<Q", data[at:at + 8])
            self.spans[name] = (at + 8, at + 8 + size)
            at += 8 + size

    def _bytes(self, name: str) -> bytes:
        start, end = self.spans[name]
        return bytes(self.data[start:end])

    def _array(self, name: str, typecode: str) -> array:
        values = array(typecode)
        values.frombytes(self._bytes(name))
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

    def path(self, docnum: int) -> str:
        ends, (start, _) = self._path_ends, self.spans["paths"]
        begin = ends[docnum - 1] + 1 if docnum else 0
        return bytes(self.data[start + begin:start + ends[docnum]]).decode("utf-8", "surrogateescape")

    @cached_property
    def paths(self) -> list[str]:
        """Every path (decoding all at once is cheaper when many are needed)."""
        return self._bytes("paths").decode("utf-8", "surrogateescape").split("\0") if self.doc_count else []

    @cached_property
    def _record_ends(self) -> array:
        return self._array("record_ends", "I")

    def record(self, docnum: int) -> dict[str, Any]:
        ends, (start, _) = self._record_ends, self.spans["records"]
        begin = ends[docnum - 1] if docnum else 0
        return dict(json.loads(bytes(self.data[start + begin:start + ends[docnum]])))


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


_NO_DIGEST = bytes(16)
_MANIFEST_MAGIC = b"NCM2"
_MANIFEST_HEADER = struct.Struct("<4sQQQ")  # magic, posts, byte sizes of the paths and of the reasons


@dataclass
class Manifest:
    """What an update saw of every post, in scan order: path, size, mtime_ns, content hash (16 bytes
    each; zeros when the file could not be read) and, for posts kept out of the index, why.

    Stored as packed arrays, not JSON: 100k posts load in ~20 ms instead of ~0.2 s, and an
    unchanged archive is recognised by comparing three sequences at C speed."""

    paths: list[str]
    sizes: array
    mtimes: array
    digests: bytes
    reasons: dict[str, str]

    @classmethod
    def empty(cls) -> Manifest:
        return cls([], array("q"), array("q"), b"", {})

    def digest(self, index: int) -> str:
        return self.digests[16 * index:16 * index + 16].hex()

    @cached_property
    def positions(self) -> dict[str, int]:
        return dict(zip(self.paths, range(len(self.paths)), strict=True))

    def to_bytes(self) -> bytes:
        paths = "\0".join(self.paths).encode("utf-8", "surrogateescape")
        reasons = json.dumps(self.reasons, separators=(",", ":")).encode()  # ASCII: escapes odd names
        header = _MANIFEST_HEADER.pack(_MANIFEST_MAGIC, len(self.paths), len(paths), len(reasons))
        return b"".join((header, paths, self.sizes.tobytes(), self.mtimes.tobytes(), self.digests, reasons))

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest | None:
        magic, count, paths_size, reasons_size = _MANIFEST_HEADER.unpack_from(data)
        at = _MANIFEST_HEADER.size
        if magic != _MANIFEST_MAGIC or len(data) != at + paths_size + 32 * count + reasons_size:
            return None
        paths = data[at:at + paths_size].decode("utf-8", "surrogateescape").split("\0") if count else []
        at += paths_size
        sizes, mtimes = array("q"), array("q")
        sizes.frombytes(data[at:at + 8 * count])
        mtimes.frombytes(data[at + 8 * count:at + 16 * count])
        digests = data[at + 16 * count:at + 32 * count]
        reasons = json.loads(data[at + 32 * count:])
        if len(paths) != count or not isinstance(reasons, dict):
            return None
        return cls(paths, sizes, mtimes, digests, reasons)


def _atomic_write(path: Path, data: str | bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _state_file(index_dir: Path, generation: int) -> Path:
    return index_dir / f"{STATE_PREFIX}{generation}.json"


def _manifest_file(index_dir: Path, generation: int) -> Path:
    return index_dir / f"{MANIFEST_PREFIX}{generation}.bin"


def read_state(index_dir: Path, generation: int) -> State | None:
    try:
        data = json.loads(_state_file(index_dir, generation).read_text(encoding="utf-8"))
        return State.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_manifest(index_dir: Path, generation: int) -> Manifest | None:
    try:
        return Manifest.from_bytes(_manifest_file(index_dir, generation).read_bytes())
    except (OSError, ValueError, struct.error):
        return None


def _write_generation(index_dir: Path, state: State, manifest: Manifest) -> None:
    _atomic_write(_manifest_file(index_dir, state.generation), manifest.to_bytes())
    _atomic_write(_state_file(index_dir, state.generation),
                  json.dumps(state.__dict__, ensure_ascii=False, separators=(",", ":")))


def _remove_other_generations(index_dir: Path, generation: int) -> None:
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


def userdict_hash(settings: Settings) -> str:
    path = settings.userdict_path
    return _content_hash(path.read_bytes()) if path else ""


# ---- scanning the archive (stat only) ----------------------------------------------------------------

STAT_SPLIT_MIN = 20_000  # posts from which two processes share the stat calls


@dataclass
class Scan:
    paths: list[str]  # relative to the root, in listing order
    sizes: array  # "q", -1 when the file cannot be stat()ed (a broken symlink: read once, skipped)
    mtimes: array
    dirs: dict[str, int]  # every folder that holds posts or may receive them -> mtime_ns

    def same_files(self, manifest: Manifest) -> bool:
        return self.paths == manifest.paths and self.sizes == manifest.sizes and self.mtimes == manifest.mtimes

    @cached_property
    def positions(self) -> dict[str, int]:
        return dict(zip(self.paths, range(len(self.paths)), strict=True))


def scan_archive(settings: Settings, split: bool = True, while_waiting: Callable[[], None] | None = None) -> Scan:
    """Every post's size and mtime and the mtimes of the folders that hold posts or may receive them.

    Every post is stat()ed, so that an edit written in place (which leaves its folder's mtime alone)
    is found too. The stat calls are the cost of a no-change update (100k posts: ~0.45 s of system
    calls on the benchmark machine). With `split`, a forked child makes half of them (on a large
    archive), or, given `while_waiting` (loading what reading posts needs, when posts will be read),
    four fifths of them while this process runs it.
    """
    listing = archive_names(settings, trust_md_names=True)
    forking = split and hasattr(os, "fork")
    if forking and while_waiting:  # loading takes ~0.25 s, 100k stat calls ~0.45 s: finish together
        sizes, mtimes = _stat_split(listing, 0.8, while_waiting)
    elif forking and sum(len(names) for _, names in listing) >= STAT_SPLIT_MIN:
        sizes, mtimes = _stat_split(listing, 0.5)
    else:
        sizes, mtimes = _stat_names(listing)
    root = str(settings.root)
    cut = len(root) + 1
    paths: list[str] = []
    folders: set[str] = {literal_prefix(pattern) for pattern in settings.posts}
    for folder, names in listing:
        rel_dir = folder[cut:]
        paths += map(f"{rel_dir}/".__add__, names) if rel_dir else names
        while rel_dir and rel_dir not in folders:
            folders.add(rel_dir)
            rel_dir = rel_dir.rpartition("/")[0]
    return Scan(paths, sizes, mtimes, _folder_mtimes(settings.root, folders))


def _stat_names(listing: Iterable[tuple[str, list[str]]]) -> tuple[array, array]:
    sizes, mtimes = array("q"), array("q")
    add_size, add_mtime, stat_of = sizes.append, mtimes.append, os.stat
    for folder, names in listing:
        for name in names:
            try:
                info = stat_of(f"{folder}/{name}")
            except OSError:
                add_size(-1)
                add_mtime(-1)
            else:
                add_size(info.st_size)
                add_mtime(info.st_mtime_ns)
    return sizes, mtimes


def _split(listing: list[tuple[str, list[str]]],
           share: float) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """The listing cut in two: the first part holds `share` of the names."""
    cut = int(sum(len(names) for _, names in listing) * share)
    first: list[tuple[str, list[str]]] = []
    second: list[tuple[str, list[str]]] = []
    seen = 0
    for folder, names in listing:
        take = max(0, min(len(names), cut - seen))
        if take:
            first.append((folder, names[:take]))
        if take < len(names):
            second.append((folder, names[take:]))
        seen += len(names)
    return first, second


def _stat_split(listing: list[tuple[str, list[str]]], child_share: float,
                meanwhile: Callable[[], None] | None = None) -> tuple[array, array]:
    """_stat_names with a forked child doing `child_share` of the calls while this process runs
    `meanwhile` and then does the rest (stat is a system call: it scales with cores, where threads
    would contend for the GIL)."""
    first, second = _split(listing, child_share)
    count = sum(len(names) for _, names in first)
    with in_child(lambda send: send(b"".join(part.tobytes() for part in _stat_names(first)))) as child:
        if meanwhile:
            meanwhile()
        sizes, mtimes = _stat_names(second)
        data = child.receive()
    if data is None or len(data) != 16 * count or not child.finish():
        return _stat_names(listing)
    first_sizes, first_mtimes = array("q"), array("q")
    first_sizes.frombytes(data[:8 * count])
    first_mtimes.frombytes(data[8 * count:])
    return first_sizes + sizes, first_mtimes + mtimes


def _folder_mtimes(root: Path, folders: Iterable[str]) -> dict[str, int]:
    mtimes = {}
    for folder in folders:
        try:
            mtimes[folder] = os.stat(root / folder).st_mtime_ns
        except OSError:
            mtimes[folder] = -1  # absent: appears when created
    return mtimes


def stale_reason(settings: Settings, state: State) -> str | None:
    """Why the index no longer matches the archive, from a few stats (no post is read).

    Adding, deleting or renaming a post (and an editor's save by rename) changes the mtime of
    its folder; an edit in place does not, and is found by `newsctl index` only.
    """
    if state.posts != list(settings.posts):
        return "the post globs in the settings changed"
    if _folder_mtimes(settings.root, state.dirs) != state.dirs:
        return "posts were added, removed or renamed since the last `newsctl index`"
    if state.userdict != userdict_hash(settings):
        return "the user dictionary changed"
    return None


def _unusable_reason(state: State) -> str | None:
    if state.format != INDEX_FORMAT:
        return f"the index was built in format {state.format}; this newsctl reads format {INDEX_FORMAT}"
    return None


# ---- searching (no Whoosh) ---------------------------------------------------------------------------

class SegmentView:
    """One segment for queries: its term dictionary, sidecar and deleted documents."""

    def __init__(self, index_dir: Path, info: dict[str, Any]) -> None:
        name = f"{INDEX_NAME}_{info['id']}"
        self.terms = TermDict(_map_file(index_dir / f"{name}.trm"))
        self.side = SideReader(_map_file(index_dir / f"{name}.nsc"))
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


@dataclass
class _Item:
    """One ranking signal of a query string: the string itself (exact occurrences) or a word in it."""

    title: list[Any]  # per segment: doc -> frequency in the title (a dict, or a word's Postings)
    body: list[Any]
    df: int  # documents that hold it (title and body counted apart: an upper bound)
    idf: float = 0.0


class Hits:
    """Ranked matches; records are read only for the page asked for."""

    def __init__(self, total: int, page: list[tuple[float, SegmentView, int]]) -> None:
        self.total = total
        self.page = page

    def paths(self) -> list[str]:
        """The page's paths: a segment with many of them decodes all its paths in one call."""
        counts = Counter(map(itemgetter(1), self.page))
        whole = {segment for segment, count in counts.items() if 8 * count > segment.side.doc_count}
        return [segment.side.paths[docnum] if segment in whole else segment.side.path(docnum)
                for _, segment, docnum in self.page]

    def hits(self) -> list[Hit]:
        found = []
        for score, segment, docnum in self.page:
            record = segment.side.record(docnum)
            found.append(Hit(path=segment.side.path(docnum), id=record["id"], title=record["title"],
                             date=record["date"], categories=record["categories"], tags=record["tags"],
                             stocks=record["stocks"], score=round(score, 4)))
        return found


@contextmanager
def _damage_as_missing(index_dir: Path) -> Iterator[None]:
    """Unreadable index files (a disk error, junk written over them) become one clear message."""
    try:
        yield
    except (OSError, ValueError, IndexError, KeyError, TypeError, struct.error) as exc:
        raise IndexMissing(f"the index in {index_dir} cannot be read (damaged, or written by another "
                           "newsctl): run `newsctl index --rebuild`") from exc


class SearchIndex:
    """The latest generation of the index, open for queries; it never blocks or waits for a writer."""

    def __init__(self, settings: Settings) -> None:
        index_dir = settings.index_path
        if latest_generation(index_dir) < 0:
            raise IndexMissing(f"no index yet in {index_dir}: run `newsctl index` first (or search with --update)")
        state = self._read_state(index_dir)
        unusable = _unusable_reason(state)
        if unusable:
            raise IndexMissing(f"{unusable}: run `newsctl index` to rebuild it (or search with --update)")
        self.stale = stale_reason(settings, state)
        with _damage_as_missing(index_dir):
            self.segments = [SegmentView(index_dir, info) for info in state.segments]
        self.live_count = max(1, sum(s.doc_count - len(s.deleted) for s in self.segments))
        self.index_dir = index_dir

    @staticmethod
    def _read_state(index_dir: Path) -> State:
        for _ in range(5):  # a writer may commit between the listing and the read
            state = read_state(index_dir, latest_generation(index_dir))
            if state is not None:
                return state
            time.sleep(0.05)
        raise IndexMissing(f"the index in {index_dir} has no state file: run `newsctl index --rebuild`")

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.segments = []

    # -- matching

    def run(self, node: QueryNode, filters: Filters, sort: str, limit: int | None, offset: int) -> Hits:
        """Matching posts, ranked (`relevance`: BM25F, then newest) or by date (`date`, `-date`)."""
        with _damage_as_missing(self.index_dir):
            return self._run(node, filters, sort, limit, offset)

    def _run(self, node: QueryNode, filters: Filters, sort: str, limit: int | None, offset: int) -> Hits:
        evidence: dict[TextQuery, tuple[list[dict[int, int]], list[dict[int, int]]]] = {}
        matches = [self._filtered(index, self._match(node, index, evidence), filters)
                   for index in range(len(self.segments))]
        ranked: list[tuple[float, int, int, int]] = []  # sort keys first: plain tuple comparison
        if sort == "relevance":
            positive = [n for n in dict.fromkeys(_positive_texts(node)) if n in evidence]
            for index, scores in enumerate(self._scores(matches, positive, evidence)):
                dates = self.segments[index].side.dates
                ranked += [(-score, -dates[d], index, d) for d, score in scores.items()]
            ranked.sort()
        else:
            sign = -1 if sort == "-date" else 1
            for index, docs in enumerate(matches):
                dates = self.segments[index].side.dates
                ranked += [(0.0, sign * dates[d], index, d) for d in docs]
            ranked.sort()
        page = ranked[offset:offset + limit if limit else None]
        return Hits(len(ranked), [(-key or 0.0, self.segments[index], docnum) for key, _, index, docnum in page])

    def _match(self, node: QueryNode, index: int, evidence: dict[Any, Any]) -> set[int]:
        segment = self.segments[index]
        if isinstance(node, TextQuery):
            title, body = self._text(node, index, evidence)
            return set(title).union(body)
        if isinstance(node, ValueQuery):
            postings = segment.postings(node.field, normalize(node.value))
            return set(postings.ids) if postings else set()
        if isinstance(node, AnyOf):
            return set().union(*(self._match(part, index, evidence) for part in node.parts))
        if isinstance(node, NotQuery):
            return segment.live() - self._match(node.part, index, evidence)
        positive = [self._match(p, index, evidence) for p in node.parts if not isinstance(p, NotQuery)]
        docs = set.intersection(*sorted(positive, key=len)) if positive else segment.live()
        for part in node.parts:
            if isinstance(part, NotQuery) and docs:
                docs -= self._match(part.part, index, evidence)
        return docs

    def _text(self, node: TextQuery, index: int, evidence: dict[Any, Any]) -> tuple[dict[int, int], dict[int, int]]:
        """Documents where the string occurs: doc -> occurrences, in the title and in the body."""
        if node not in evidence:
            evidence[node] = ([], [])
            norm = normalize(node.text).strip()
            terms = query_ngrams(norm)
            prefix_last = bool(norm) and len(norm.split()[-1]) == 1
            for segment in self.segments:
                evidence[node][0].append(_phrase(segment, "title_ngrams", terms, prefix_last))
                evidence[node][1].append({} if node.title_only else
                                         _phrase(segment, "body_ngrams", terms, prefix_last))
        titles, bodies = evidence[node]
        return titles[index], bodies[index]

    def _filtered(self, index: int, docs: set[int], filters: Filters) -> set[int]:
        segment = self.segments[index]
        docs -= segment.deleted
        for name in VALUE_FIELDS:
            values = getattr(filters, name)
            if values and docs:
                allowed: set[int] = set()
                for value in values:
                    postings = segment.postings(name, normalize(value))
                    allowed.update(postings.ids if postings else ())
                docs &= allowed
        if (filters.since or filters.until) and docs:
            low = int(filters.since.timestamp()) if filters.since else -(1 << 62)
            high = int(filters.until.timestamp()) if filters.until else 1 << 62
            dates = segment.side.dates
            docs = {d for d in docs if low <= dates[d] <= high}
        return docs

    # -- ranking

    def _scores(self, matches: list[set[int]], positive: list[TextQuery],
                evidence: dict[Any, Any]) -> list[dict[int, float]]:
        """BM25F over each query string and the jieba words inside it; a title occurrence weighs
        TITLE_BOOST body occurrences. Strings under NOT are not scored."""
        scores: list[dict[int, float]] = [dict.fromkeys(docs, 0.0) for docs in matches]
        if not any(matches):
            return scores
        items = [item for node in positive for item in self._items(node, evidence[node])]
        docs_total = sum(s.side.doc_count for s in self.segments) or 1
        avg_title = max(1.0, sum(s.side.title_total for s in self.segments) / docs_total)
        avg_body = max(1.0, sum(s.side.body_total for s in self.segments) / docs_total)
        for index, docs in enumerate(matches):
            side, score = self.segments[index].side, scores[index]
            title_len, body_len = side.title_lengths, side.body_lengths
            title_norm, body_norm, flat = BM25_B / avg_title, BM25_B / avg_body, 1 - BM25_B
            for item in items:
                weights = {doc: freq / (flat + body_norm * body_len[doc])
                           for doc, freq in _frequencies_in(item.body[index], docs).items()}
                for doc, freq in _frequencies_in(item.title[index], docs).items():
                    weights[doc] = weights.get(doc, 0.0) + TITLE_BOOST * freq / (flat + title_norm * title_len[doc])
                saturation, idf = BM25_K1 + 1, item.idf
                for doc, weight in weights.items():
                    score[doc] += idf * weight * saturation / (BM25_K1 + weight)
        return scores

    def _items(self, node: TextQuery, phrase: tuple[list[dict[int, int]], list[dict[int, int]]]) -> list[_Item]:
        """The string's own occurrences, then each indexed jieba word inside it (the words jieba's
        search mode found at index time: no segmenter, and no dictionary load, at query time)."""
        titles, bodies = phrase
        items = [_Item(titles, bodies, sum(max(len(t), len(b)) for t, b in zip(titles, bodies, strict=True)))]
        norm = normalize(node.text).strip()
        for word in _substrings(norm):
            if word == norm:
                continue  # already counted exactly above
            body = [None if node.title_only else s.postings("body_words", word) for s in self.segments]
            if not node.title_only and not any(body):
                continue  # not a word of any body (looking it up in the titles is not worth it)
            title = [s.postings("title_words", word) for s in self.segments]
            df = sum(max(len(t.ids) if t else 0, len(b.ids) if b else 0) for t, b in zip(title, body, strict=True))
            if df:
                items.append(_Item(title, body, df))
        for item in items:
            item.idf = math.log(1 + (self.live_count - item.df + 0.5) / (item.df + 0.5))
        return items


def _frequencies_in(source: dict[int, int] | Postings | None, docs: set[int]) -> dict[int, int]:
    """doc -> frequency for the documents of `docs` that `source` holds."""
    if not source:
        return {}
    if isinstance(source, dict):
        if len(source) <= len(docs):
            return {doc: freq for doc, freq in source.items() if doc in docs}
        return {doc: source[doc] for doc in docs if doc in source}
    if 8 * len(docs) >= len(source.ids):
        return _frequencies_in(source.frequencies(), docs)
    found, ids, weights = {}, source.ids, source.weights
    for doc in docs:  # few documents, a long list: binary searches
        at = bisect_left(ids, doc)
        if at < len(ids) and ids[at] == doc:
            found[doc] = weights[at] if weights else 1
    return found


def _positive_texts(node: QueryNode) -> list[TextQuery]:
    """The strings a match contains: those not under a NOT."""
    if isinstance(node, TextQuery):
        return [node]
    if isinstance(node, (AllOf, AnyOf)):
        return [text for part in node.parts for text in _positive_texts(part)]
    return []


def _substrings(norm: str) -> list[str]:
    """The distinct substrings of 2..MAX_WORD_CHARS characters (or a lone character), at most
    MAX_WORD_LOOKUPS of them: the candidates for jieba words inside a query string."""
    found: dict[str, None] = {}
    for segment in norm.split():
        if len(segment) == 1:
            found[segment] = None
        for start in range(len(segment)):
            for end in range(min(len(segment), start + MAX_WORD_CHARS), start + 1, -1):
                found[segment[start:end]] = None
                if len(found) >= MAX_WORD_LOOKUPS:
                    return list(found)
    return list(found)


def _phrase(segment: SegmentView, fieldname: str, terms: list[str], prefix_last: bool) -> dict[int, int]:
    """doc -> occurrences of the consecutive `terms` in a bigram field (the last term as a prefix
    when `prefix_last`). Set intersections first; then positions, either per candidate document
    (few candidates) or as one intersection of (document, start) keys (C-level, many candidates)."""
    if not terms:
        return {}
    slots = [[segment.postings(fieldname, t)] for t in terms[:-1]]
    if prefix_last:
        slots.append([segment.postings(fieldname, t) for t in segment.expand_prefix(fieldname, terms[-1])])
    else:
        slots.append([segment.postings(fieldname, terms[-1])])
    lists = [[p for p in slot if p is not None] for slot in slots]
    if not all(lists):
        return {}
    if len(lists) == 1:
        if len(lists[0]) == 1:
            return lists[0][0].frequencies()
        return dict.fromkeys(set().union(*(p.ids for p in lists[0])), 1)
    slot_docs = [p[0].doc_set() if len(p) == 1 else set().union(*(q.ids for q in p)) for p in lists]
    candidates = set.intersection(*sorted(slot_docs, key=len))
    postings_total = sum(len(p.ids) for slot in lists for p in slot)
    if len(candidates) * CANDIDATE_COST < postings_total:
        return _phrase_per_candidate(lists, candidates)
    return _phrase_by_keys(lists) if candidates else {}


CANDIDATE_COST = 8  # a candidate checked in Python costs about as much as this many postings in C


def _phrase_per_candidate(lists: list[list[Postings]], candidates: set[int]) -> dict[int, int]:
    found = {}
    for doc in candidates:
        starts: set[int] | None = None
        for offset, slot in enumerate(lists):
            here = {pos - offset for postings in slot for pos in (postings.positions_of(doc) or ())}
            starts = here if starts is None else starts & here
            if not starts:
                break
        if starts:
            found[doc] = len(starts)
    return found


def _phrase_by_keys(lists: list[list[Postings]]) -> dict[int, int]:
    """Each slot's postings as keys doc << 32 | (position + distance to the last slot): a phrase
    start is a key present in every slot. Built with map/zip chains, so no bytecode per posting."""
    starts: set[int] | None = None
    last = len(lists) - 1
    for offset, slot in enumerate(lists):
        keys: set[int] = set()
        for postings in slot:
            assert postings.positions is not None
            ids: Iterable[int] = postings.ids if postings.weights is None else \
                chain.from_iterable(map(repeat, postings.ids, postings.weights))
            keys.update(map(add, map(mul, ids, repeat(_SINGLE)), map(add, postings.positions, repeat(last - offset))))
        starts = keys if starts is None else starts & keys
    return dict(Counter(map(rshift, starts or (), repeat(32))))


# ---- reading one post (in worker processes) --------------------------------------------------------------

@dataclass
class Analysed:
    rel: str
    size: int
    mtime_ns: int
    digest: str
    doc: dict[str, Any] | None = None  # fields for the index, or None when skipped or unchanged
    reason: str | None = None  # why the post was skipped
    unchanged: bool = False  # same content as the indexed version (only its stat moved)


class Outcome(NamedTuple):
    """What the parent keeps of an analysed post (a tuple: 100k of them travel and stay in memory)."""

    rel: str
    size: int
    mtime_ns: int
    digest: str
    reason: str | None
    unchanged: bool


def _content_hash(data: bytes) -> str:
    import hashlib  # not at module level: a search rarely needs it

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def analyse_post(root: Path, rel: str, old_digest: str | None = None) -> Analysed:
    """Read, check and tokenise one post; never raises for what the file holds."""
    from newsctl.post import MAX_POST_BYTES, parse_post, read_post

    path = root / rel
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
            return Analysed(rel, info.st_size, info.st_mtime_ns, "", reason="NC100 not a regular file")
        data = path.read_bytes() if info.st_size <= MAX_POST_BYTES else b""
    except OSError as exc:
        return Analysed(rel, -1, -1, "", reason=f"NC100 cannot read file: {exc.strerror or exc}")
    result = Analysed(rel, info.st_size, info.st_mtime_ns, _content_hash(data))
    if old_digest is not None and old_digest == result.digest:
        result.unchanged = True
        return result
    if not rel.isascii() and _undecodable_name(rel):
        result.reason = "its file name is not valid UTF-8: rename the file"
        return result
    post = parse_post(data, path) if data or info.st_size == 0 else read_post(path)
    result.reason = _skip_reason(post)
    if result.reason is None:
        try:
            result.doc = _document(post, rel)
        except Exception as exc:  # a defect in one post must not stop the whole index
            result.reason = f"cannot extract text: {type(exc).__name__}: {exc}"
    return result


def _undecodable_name(rel: str) -> bool:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # os.listdir() gave undecodable bytes back as lone surrogates
        return True
    return False


def _skip_reason(post: Any) -> str | None:
    """Why a post cannot be indexed: a problem of severity "error" (it prevents reading), no title
    or no date. Warnings (a byte order mark, CRLF line ends) do not keep a post out."""
    from newsctl.rules import RULES

    errors = [p for p in post.problems if p.code not in RULES or RULES[p.code].severity == "error"]
    if errors:
        first = errors[0]
        return f"{first.code} {first.message} (line {first.line})"
    if not post.title:
        return "no title"
    if post.date(timezone.utc) is None:
        return "no valid date"
    return None


_ARCHIVE_TZ: Any = timezone.utc  # set in each process from the settings


def _document(post: Any, rel: str) -> dict[str, Any]:
    from newsctl.analysis import ngram_tokens, word_tokens
    from newsctl.text import extract

    extracted = extract(post.body)
    moment = post.date(_ARCHIVE_TZ)
    title_norm, text_norm = normalize(post.title), normalize(extracted.text)
    categories, tags, stocks = post.categories, post.tags, list(extracted.stocks)
    return {
        "path": rel,
        "id": post.id,
        "title": post.title,
        "date": int(moment.timestamp()),
        "date_text": moment.isoformat(),
        "title_words": word_tokens(title_norm),
        "body_words": word_tokens(text_norm),
        "title_ngrams": ngram_tokens(title_norm),
        "body_ngrams": ngram_tokens(text_norm),
        "categories": [normalize(v) for v in categories],
        "_stored_categories": categories,
        "tags": [normalize(v) for v in tags],
        "_stored_tags": tags,
        "stocks": [normalize(v) for v in stocks],
        "_stored_stocks": stocks,
        "media": [normalize(extracted.media)] if extracted.media else [],
        "source": extracted.source_url or None,
    }


def _prepare_process(settings: Settings) -> None:
    """Per-process set-up: the archive zone and the user dictionary, before any tokenising."""
    global _ARCHIVE_TZ
    _ARCHIVE_TZ = settings.tz
    if settings.userdict_path:
        from newsctl.analysis import load_user_dict

        try:
            load_user_dict(settings.userdict_path)
        except ValueError as exc:
            raise NewsctlError(str(exc)) from exc


# ---- Whoosh: schema, codec (defined on first use) ---------------------------------------------------------
# The classes built on Whoosh are defined when first needed, so that importing this module
# (as every search does) does not import Whoosh. Unpickling a TOC asks this module for them by
# name, through the module-level __getattr__ below.

_WHOOSH_CLASSES = ("WordsField", "NgramField", "ValuesField", "CompactCodec")
_whoosh_namespace: SimpleNamespace | None = None


def __getattr__(name: str) -> Any:
    if name in _WHOOSH_CLASSES:
        return getattr(_whoosh(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _whoosh() -> SimpleNamespace:
    global _whoosh_namespace
    if _whoosh_namespace is None:
        _whoosh_namespace = _define_whoosh_classes()
    return _whoosh_namespace


@contextmanager
def _stand_ins_for_whoosh_imports() -> Iterator[None]:
    """Whoosh imports two modules for things newsctl never calls, and they cost ~0.1 s of every
    writer's start: the `cached_property` package (it imports asyncio) for one plain cached
    attribute of SegmentReader, which functools' cached_property serves alike, and urllib.request
    (http, email, ssl) for a download helper. Stand-ins are seen by Whoosh's import only: they
    leave sys.modules afterwards, so any later importer gets the real modules."""
    def urlretrieve(*args: Any, **kwargs: Any) -> Any:
        from urllib.request import urlretrieve as real

        return real(*args, **kwargs)

    stand_ins = {"cached_property": SimpleNamespace(cached_property=cached_property),
                 "urllib.request": SimpleNamespace(urlretrieve=urlretrieve)}
    added = [name for name in stand_ins if name not in sys.modules]
    sys.modules.update({name: stand_ins[name] for name in added})  # type: ignore[misc]
    try:
        yield
    finally:
        for name in added:
            if sys.modules.get(name) is stand_ins[name]:
                del sys.modules[name]


def _define_whoosh_classes() -> SimpleNamespace:
    with _stand_ins_for_whoosh_imports():
        from whoosh import fields as wfields
        from whoosh import formats
        from whoosh.codec.base import TermsReader
        from whoosh.codec.whoosh3 import W3Codec
        from whoosh.filedb.filestore import FileStorage
        from whoosh.index import TOC, clean_files
        from whoosh.matching import ListMatcher, ReadTooFar
        from whoosh.reading import TermInfo, TermNotFound

    class WordsField(wfields.FieldType):
        """jieba words (a token list from analysis.word_tokens): frequencies only, for BM25F."""

        def __init__(self) -> None:
            super().__init__(formats.Frequency(), analyzer=None, scorable=True, stored=False)

    class NgramField(wfields.FieldType):
        """Bigrams (a token list from analysis.ngram_tokens); a token's position is its list index."""

        def __init__(self) -> None:
            super().__init__(formats.Positions(), analyzer=None, scorable=True, stored=False)

    class ValuesField(wfields.FieldType):
        """Exact, normalised values (categories, tags, stock codes, media): existence only."""

        def __init__(self, stored: bool) -> None:
            super().__init__(formats.Existence(), analyzer=None, scorable=False, stored=stored)

        def index(self, value: Sequence[str], **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
            for item in dict.fromkeys(value):
                yield item.encode("utf-8"), 1, 1.0, b""

    class CompactTermInfo(TermInfo):
        def __init__(self, data: bytes) -> None:
            _, count, total, _ = postings_header(data)
            super().__init__(weight=float(total), df=count, minlength=1, maxlength=0, maxweight=float(total))
            self.data = data

    class MissingTerm(TermNotFound, KeyError):
        """Whoosh's readers catch KeyError for an absent term in some places, TermNotFound in others."""

    class ArrayMatcher(ListMatcher):
        """A Postings list as a Whoosh matcher (skip_to is a binary search)."""

        def __init__(self, postings: Postings, format_: Any, scorer: Any, term: Any, terminfo: Any,
                     position: int = 0) -> None:
            super().__init__(postings.ids, postings.weights, None, format_, scorer, position, None, term, terminfo)
            self.postings = postings

        def skip_to(self, id: int) -> None:  # Whoosh's parameter name
            if not self.is_active():
                raise ReadTooFar
            here: int = self._i  # type: ignore[has-type]
            if id > self._ids[here]:
                self._i = bisect_left(self._ids, id, here)

        def supports(self, astype: str) -> bool:
            return astype in ("frequency", "weight") or (astype == "positions" and self.postings.positions is not None)

        def value(self) -> bytes:
            return b""

        def value_as(self, astype: str) -> Any:
            if astype == "positions" and self.postings.positions is not None:
                return list(self.postings.positions_at(self._i))
            return self.weight()

        def supports_block_quality(self) -> bool:
            return False

        def copy(self) -> ArrayMatcher:
            return ArrayMatcher(self.postings, self._format, self._scorer, self._term, self._terminfo, self._i)

    class CompactTermsReader(TermsReader):
        """Whoosh's terms-reader interface over a TermDict (so plain Whoosh can search the index)."""

        def __init__(self, data: Any) -> None:
            self.dict = TermDict(data)
            self.names = {number: name for name, number in self.dict.fieldmap.items()}

        def _value(self, fieldname: str, tbytes: bytes) -> bytes:
            key = self.dict.key(fieldname, tbytes)
            value = self.dict.get(key) if key is not None else None
            if value is None:
                raise MissingTerm(f"{fieldname}:{tbytes!r}")
            return value

        def __contains__(self, term: tuple[str, bytes]) -> bool:
            key = self.dict.key(*term)
            return key is not None and self.dict.get(key) is not None

        def indexed_field_names(self) -> Iterable[str]:
            return self.dict.fieldmap.keys()

        def _items_from(self, key: bytes) -> Iterator[tuple[tuple[str, bytes], bytes]]:
            return (((self.names[k[0]], k[1:]), v) for k, v in self.dict.items_from(key))

        def terms(self) -> Iterator[tuple[str, bytes]]:
            return (term for term, _ in self._items_from(b""))

        def terms_from(self, fieldname: str, prefix: bytes) -> Iterator[tuple[str, bytes]]:
            key = self.dict.key(fieldname, prefix)
            return (term for term, _ in self._items_from(key)) if key is not None else iter(())

        def items(self) -> Iterator[tuple[tuple[str, bytes], Any]]:
            return ((term, CompactTermInfo(v)) for term, v in self._items_from(b""))

        def items_from(self, fieldname: str, prefix: bytes) -> Iterator[tuple[tuple[str, bytes], Any]]:
            key = self.dict.key(fieldname, prefix)
            items = self._items_from(key) if key is not None else iter(())
            return ((term, CompactTermInfo(v)) for term, v in items)

        def term_info(self, fieldname: str, tbytes: bytes) -> Any:
            return CompactTermInfo(self._value(fieldname, tbytes))

        def frequency(self, fieldname: str, tbytes: bytes) -> float:
            return float(postings_header(self._value(fieldname, tbytes))[2])

        def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
            return postings_header(self._value(fieldname, tbytes))[1]

        def matcher(self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None) -> Any:
            value = self._value(fieldname, tbytes)
            return ArrayMatcher(Postings(value), format_, scorer, (fieldname, tbytes), CompactTermInfo(value))

        def close(self) -> None:
            pass

    class CompactCodec(W3Codec):
        """Whoosh 3 per-document files (stored fields, length columns) with newsctl's term dictionary."""

        def terms_reader(self, storage: Any, segment: Any) -> CompactTermsReader:
            name = segment.make_filename(self.TERMS_EXT)
            return CompactTermsReader(_map_file(Path(storage.folder) / name))

    def build_schema() -> Any:
        return wfields.Schema(
            path=wfields.ID(stored=True, unique=True),  # relative to the root, posix
            id=wfields.ID(stored=True),
            title=wfields.STORED(),
            date=wfields.NUMERIC(int, bits=64, signed=True, sortable=True, shift_step=16),  # epoch seconds
            date_text=wfields.STORED(),  # ISO 8601 with the post's zone
            title_words=WordsField(),
            body_words=WordsField(),
            title_ngrams=NgramField(),
            body_ngrams=NgramField(),
            categories=ValuesField(stored=True),
            tags=ValuesField(stored=True),
            stocks=ValuesField(stored=True),
            media=ValuesField(stored=False),
            source=wfields.ID(stored=False),
        )

    for cls in (WordsField, NgramField, ValuesField, CompactCodec):
        cls.__qualname__ = cls.__name__  # pickled by reference as newsctl.index.<name>
        globals()[cls.__name__] = cls
    return SimpleNamespace(WordsField=WordsField, NgramField=NgramField, ValuesField=ValuesField,
                           CompactCodec=CompactCodec, build_schema=build_schema, FileStorage=FileStorage,
                           TOC=TOC, clean_files=clean_files, ID=wfields.ID)


def build_schema() -> Any:
    """The Whoosh schema of the index (see _define_whoosh_classes)."""
    return _whoosh().build_schema()


# ---- building a segment in memory ------------------------------------------------------------------------
# A term seen in one post so far (most bigrams) is a single int: doc number << 32 | position
# (bigram fields) or frequency (other fields); a second posting turns it into
# [doc numbers, frequencies, positions or None] arrays.

_TERM_COST, _POSTING_COST = 240, 12  # bytes of memory per term entry and per posting (measured)


class SegmentBuilder:
    """Accumulates analysed posts into one new segment; `finish()` writes it and returns it."""

    def __init__(self, storage: Any, schema: Any, budget: int) -> None:
        whoosh = _whoosh()
        self.budget = budget
        self.storage, self.schema = storage, schema
        self.codec = whoosh.CompactCodec()
        self.segment = self.codec.new_segment(storage, INDEX_NAME)
        self.perdoc = self.codec.per_document_writer(storage, self.segment)
        self.side = SideWriter()
        self.terms: dict[str, dict[Any, Any]] = {name: {} for name in schema.names() if schema[name].indexed}
        self.fields = list(schema.items())
        self.kinds = {name: ("ngrams" if isinstance(f, whoosh.NgramField) else "words"
                             if isinstance(f, whoosh.WordsField) else "id" if isinstance(f, whoosh.ID) else "other")
                      for name, f in self.fields}
        self.docnum = 0
        self.cost = 0

    def full(self) -> bool:
        return self.cost > self.budget

    def add(self, doc: dict[str, Any]) -> None:
        perdoc = self.perdoc
        perdoc.start_doc(self.docnum)
        for name, fieldobj in self.fields:
            value = doc.get(name)
            length = self._index(name, fieldobj, value) if value is not None and fieldobj.indexed else 0
            stored = doc.get(f"_stored_{name}", value) if fieldobj.stored else None
            perdoc.add_field(name, fieldobj, stored, length if fieldobj.scorable else 0)
            if fieldobj.column_type is not None and value is not None:
                perdoc.add_column_value(name, fieldobj.column_type, fieldobj.to_column_value(value))
        perdoc.finish_doc()
        self.side.add(doc)
        self.docnum += 1

    def _index(self, name: str, fieldobj: Any, value: Any) -> int:
        """Add the field's postings; return its length in tokens (for BM25)."""
        table, kind = self.terms[name], self.kinds[name]
        if kind == "ngrams":
            self._add_ngrams(table, value)
        elif kind == "words":
            self._add_words(table, value)
        elif kind == "id":
            self._add_posting(table, value.encode("utf-8"), 1)
        else:
            for btext, freq, _weight, _value in fieldobj.index(value):
                self._add_posting(table, btext, freq)
        return len(value) if kind in ("ngrams", "words") else 0

    def _add_posting(self, table: dict[Any, Any], term: Any, freq: int) -> None:
        docnum = self.docnum
        entry = table.get(term)
        if entry is None:
            table[term] = docnum * _SINGLE + freq
            self.cost += _TERM_COST
        elif type(entry) is int:
            if entry >> 32 == docnum:
                table[term] = entry + freq
            else:
                table[term] = [array("I", (entry >> 32, docnum)), array("I", (entry & 0xFFFFFFFF, freq)), None]
        elif entry[0][-1] == docnum:
            entry[1][-1] += freq
        else:
            entry[0].append(docnum)
            entry[1].append(freq)
            self.cost += _POSTING_COST

    def _add_words(self, table: dict[Any, Any], tokens: Sequence[tuple[str, int, int]]) -> None:
        """_add_posting(term, 1) for every token, inlined: this is a hot loop of indexing."""
        docnum = self.docnum
        single = docnum * _SINGLE + 1
        get = table.get
        new_terms = 0
        for token in tokens:
            term = token[0]
            entry = get(term)
            if entry is None:
                table[term] = single
                new_terms += 1
            elif type(entry) is int:
                if entry >> 32 == docnum:
                    table[term] = entry + 1
                else:
                    table[term] = [array("I", (entry >> 32, docnum)), array("I", (entry & 0xFFFFFFFF, 1)), None]
            elif entry[0][-1] == docnum:
                entry[1][-1] += 1
            else:
                entry[0].append(docnum)
                entry[1].append(1)
        self.cost += new_terms * _TERM_COST + len(tokens) * _POSTING_COST

    def _add_ngrams(self, table: dict[Any, Any], tokens: Sequence[tuple[str, int, int]]) -> None:
        """One pass over the tokens; a token's position is its index in the list."""
        docnum = self.docnum
        base = docnum * _SINGLE
        get = table.get
        new_terms = 0
        for pos, token in enumerate(tokens):
            term = token[0]
            entry = get(term)
            if entry is None:
                table[term] = base + pos
                new_terms += 1
            elif type(entry) is int:
                first_doc, first_pos = entry >> 32, entry & 0xFFFFFFFF
                if first_doc == docnum:
                    table[term] = [array("I", (docnum,)), array("I", (2,)), array("I", (first_pos, pos))]
                else:
                    table[term] = [array("I", (first_doc, docnum)), array("I", (1, 1)), array("I", (first_pos, pos))]
            else:
                if entry[0][-1] == docnum:
                    entry[1][-1] += 1
                else:
                    entry[0].append(docnum)
                    entry[1].append(1)
                entry[2].append(pos)
        self.cost += new_terms * _TERM_COST + len(tokens) * _POSTING_COST

    def finish(self) -> Any:
        """Write the term dictionary, the sidecar and the per-document files; return the segment."""
        self.perdoc.close()
        terms = TermDictWriter(self.segment.create_file(self.storage, ".trm"))
        for name in sorted(self.terms):
            table = self.terms[name]
            positions = self.kinds[name] == "ngrams"
            # str keys sort as their UTF-8 bytes do (code point order), as the dictionary needs
            terms.add_field(name, ((term, _encode_entry(table[term], positions)) for term in sorted(table)))
            table.clear()
        terms.close()
        self.side.write(Path(self.storage.folder) / self.segment.make_filename(".nsc"))
        self.segment.set_doc_count(self.docnum)
        return self.segment


def _encode_entry(entry: Any, with_positions: bool) -> bytes:
    if type(entry) is int:
        return encode_single(entry >> 32, entry & 0xFFFFFFFF, with_positions)
    return encode_postings(*entry)


# ---- reading posts into segments: inline, or in worker processes ----------------------------------------

ReadJob = tuple[str, str | None]  # (relative path, digest it had: None means index it whatever it holds)


class SegmentSink:
    """Feeds analysed posts to SegmentBuilders, starting a new segment when one is full."""

    def __init__(self, index_dir: Path, budget: int) -> None:
        self.storage = _whoosh().FileStorage(str(index_dir))
        self.schema = build_schema()
        self.budget = budget
        self.builder: SegmentBuilder | None = None
        self.segments: list[Any] = []

    def take(self, result: Analysed) -> Outcome:
        """Index the post (if it has a document); return what the parent needs to know, compactly."""
        if result.doc is not None:
            if self.builder is None:
                self.builder = SegmentBuilder(self.storage, self.schema, self.budget)
            self.builder.add(result.doc)
            if self.builder.full():
                self.flush()
        return Outcome(result.rel, result.size, result.mtime_ns, result.digest, result.reason, result.unchanged)

    def flush(self) -> None:
        if self.builder is not None:
            self.segments.append(self.builder.finish())
            self.builder = None


def _worker_main(settings: Settings, index_dir: Path, budget: int, lock_fd: int | None, jobs: Any,
                 results: Any) -> None:
    """Take batches of read jobs until None, report each batch, and finally the new segments.

    A forked worker closes its copy of the lock's file at once (else it would hold the lock after
    its parent's death), and leaves when its parent is gone (killed: nobody will commit its work).
    """
    if lock_fd is not None:
        os.close(lock_fd)
    parent = os.getppid()
    try:
        _prepare_process(settings)
        sink = SegmentSink(index_dir, budget)
        while (batch := jobs.get()) is not None:
            if os.getppid() != parent:
                os._exit(1)
            results.put(("batch", [sink.take(analyse_post(settings.root, rel, old)) for rel, old in batch]))
        sink.flush()
        results.put(("done", sink.segments))
    except BaseException as exc:  # report, so that the parent stops instead of waiting
        results.put(("error", f"{type(exc).__name__}: {exc}"))
        raise


@dataclass
class Outcomes:
    results: list[Outcome] = field(default_factory=list)
    segments: list[Any] = field(default_factory=list)


def _read_posts(settings: Settings, index_dir: Path, to_read: list[ReadJob], options: IndexOptions,
                lock: Any) -> Outcomes:
    jobs = options.jobs or os.cpu_count() or 1
    with _Progress(len(to_read), options.quiet) as advance:
        if jobs == 1 or len(to_read) < PARALLEL_MIN:
            return _read_inline(settings, index_dir, to_read, advance)
        return _read_in_workers(settings, index_dir, to_read, jobs, advance, getattr(lock, "fd", None))


def _read_inline(settings: Settings, index_dir: Path, to_read: list[ReadJob],
                 advance: Callable[[int], None]) -> Outcomes:
    _prepare_process(settings)
    sink = SegmentSink(index_dir, BUILD_MEMORY)
    outcomes = Outcomes()
    for rel, old in to_read:
        outcomes.results.append(sink.take(analyse_post(settings.root, rel, old)))
        advance(1)
    sink.flush()
    outcomes.segments = sink.segments
    return outcomes


def _read_in_workers(settings: Settings, index_dir: Path, to_read: list[ReadJob], jobs: int,
                     advance: Callable[[int], None], lock_fd: int | None) -> Outcomes:
    import multiprocessing
    import queue

    forking = "fork" in multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if forking else "spawn")
    job_queue: Any = context.Queue()
    result_queue: Any = context.Queue()
    batches = [to_read[i:i + BATCH_SIZE] for i in range(0, len(to_read), BATCH_SIZE)]
    count = min(jobs, len(batches))
    args = (settings, index_dir, BUILD_MEMORY // count, lock_fd if forking else None, job_queue, result_queue)
    workers = [context.Process(target=_worker_main, args=args, daemon=True) for _ in range(count)]
    for batch in batches:
        job_queue.put(batch)
    for _ in workers:
        job_queue.put(None)
    for worker in workers:
        worker.start()
    outcomes = Outcomes()
    try:
        done = 0
        while done < len(workers):
            try:
                kind, payload = result_queue.get(timeout=1.0)
            except queue.Empty:
                if any(w.exitcode not in (None, 0) for w in workers):
                    raise NewsctlError("an index worker process died; the previous index is unchanged") from None
                continue
            if kind == "error":
                raise NewsctlError(f"an index worker failed: {payload}; the previous index is unchanged")
            if kind == "batch":
                outcomes.results.extend(payload)
                advance(len(payload))
            else:
                done += 1
                outcomes.segments.extend(payload)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        # After a failure, batches nobody will take may still wait in the queue's feeder thread,
        # blocked on a full pipe: without this, the process would hang at exit, joining it.
        job_queue.cancel_join_thread()
    return outcomes


# ---- the index command -----------------------------------------------------------------------------------

@dataclass
class IndexOptions:
    rebuild: bool = False
    jobs: int = 0  # 0: one worker per core
    wait: float = 5.0  # seconds to wait for another writer
    quiet: bool = False


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # relative path -> reason
    rebuilt_because: str | None = None
    seconds: float = 0.0
    read: int = 0


def run_index(settings: Settings, options: IndexOptions) -> int:
    summary = update_index(settings, options)
    if not options.quiet:
        _print_summary(summary)
    return 0


def update_index(settings: Settings, options: IndexOptions) -> Summary:
    """Bring the index up to date with the archive; raises IndexBusy when another writer runs."""
    started = time.perf_counter()
    index_dir = settings.index_path
    _make_private_dir(index_dir)
    lock = _write_lock(index_dir)
    if not _acquire(lock, options.wait):
        raise IndexBusy(f"another `newsctl index` is updating {index_dir} (waited {options.wait:g} s); "
                        "try again when it has finished, or pass a longer --wait")
    try:
        summary = _update_locked(settings, options, index_dir, lock)
    finally:
        _remove_scratch(index_dir)
        lock.release()
    summary.seconds = time.perf_counter() - started
    return summary


def _remove_scratch(index_dir: Path) -> None:
    """Whoosh's per-document scratch folder (its writers leave it behind)."""
    import shutil

    shutil.rmtree(index_dir / f"{INDEX_NAME}.tmp", ignore_errors=True)


def _make_private_dir(index_dir: Path) -> None:
    if not index_dir.parent.exists():
        index_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    index_dir.mkdir(mode=0o700, exist_ok=True)


class _FlockLock:
    """Whoosh's write lock without importing Whoosh: the same file, flock()ed as whoosh.util.filelock
    does, so that newsctl and any Whoosh writer exclude each other. The kernel drops it when the
    process dies, however it dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, blocking: bool = False) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        import fcntl

        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _write_lock(index_dir: Path) -> Any:
    if os.name == "posix":
        return _FlockLock(index_dir / LOCK_NAME)
    return _whoosh().FileStorage(str(index_dir)).lock(LOCK_NAME)  # msvcrt on Windows


def _acquire(lock: Any, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
    return True


def _update_locked(settings: Settings, options: IndexOptions, index_dir: Path, lock: Any) -> Summary:
    generation = latest_generation(index_dir)
    if generation < 0:
        _whoosh().TOC.create(_whoosh().FileStorage(str(index_dir)), build_schema(), INDEX_NAME)
        generation = 0
    _remove_scratch(index_dir)  # left by a killed run
    state = read_state(index_dir, generation)
    manifest = read_manifest(index_dir, generation)
    dict_hash = userdict_hash(settings)
    # Folders whose mtime moved hold added, removed or renamed posts: there will be posts to read or
    # documents to delete, so load the writer's modules while a child process stats the posts.
    moved = state is not None and _folder_mtimes(settings.root, state.dirs) != state.dirs
    scan = scan_archive(settings, split=options.jobs != 1, while_waiting=_load_writer if moved else None)
    summary = Summary(rebuilt_because=_rebuild_reason(options, generation, state, manifest, dict_hash))
    if (summary.rebuilt_because is None and state is not None and manifest is not None
            and scan.same_files(manifest) and state.dirs == scan.dirs and state.posts == list(settings.posts)):
        # Nothing changed: no Whoosh, no tokeniser, no write.
        return Summary(unchanged=len(scan.paths) - len(manifest.reasons), skipped=manifest.reasons)
    storage = _whoosh().FileStorage(str(index_dir))
    segments = [] if summary.rebuilt_because else _existing_segments(storage, index_dir, generation)
    if segments is None:
        summary.rebuilt_because, segments = "the index files are damaged", []
    previous = manifest if manifest is not None and not summary.rebuilt_because else Manifest.empty()
    plan = _plan(scan, previous)
    folded = _fold_small_segments(index_dir, segments, scan, plan)
    outcomes = _read_posts(settings, index_dir, list(plan.to_read.items()), options, lock)
    new_manifest = _apply(index_dir, segments, scan, plan, outcomes, summary)
    new_state = State(generation, INDEX_FORMAT, dict_hash, list(settings.posts), time.time(),
                      state.doc_count if state else 0, _segment_list(segments), scan.dirs)
    if summary.rebuilt_because or folded or summary.added or summary.updated or summary.deleted:
        _commit(storage, index_dir, new_state, new_manifest, segments + outcomes.segments)
    else:  # only stats moved: the same documents, the same generation, fresh bookkeeping
        _write_generation(index_dir, new_state, new_manifest)
    return summary


def _load_writer() -> None:
    """Import what reading posts into a segment needs (~0.4 s: Whoosh, jieba's dictionary, YAML)."""
    from newsctl import post, rules, text  # noqa: F401
    from newsctl.analysis import load_tokenizer

    _whoosh()
    load_tokenizer()


def _existing_segments(storage: Any, index_dir: Path, generation: int) -> list[Any] | None:
    """The segments of the current generation, or None when their files cannot be read."""
    try:
        segments = list(_whoosh().TOC.read(storage, INDEX_NAME, generation).segments)
        for info in _segment_list(segments):
            SegmentView(index_dir, info)
    except Exception:  # Whoosh raises many kinds for a damaged TOC; all mean "start over"
        return None
    return segments


def _segment_list(segments: list[Any]) -> list[dict[str, Any]]:
    return [{"id": s.segid, "docs": s.doc_count_all(), "deleted": sorted(s.deleted_docs())} for s in segments]


def _commit(storage: Any, index_dir: Path, state: State, manifest: Manifest, segments: list[Any]) -> None:
    """Write the new generation: its state and manifest first, then the TOC that makes it live."""
    whoosh = _whoosh()
    state.generation += 1
    state.segments = _segment_list(segments)
    state.doc_count = sum(s.doc_count() for s in segments)
    _write_generation(index_dir, state, manifest)
    whoosh.TOC(build_schema(), segments, state.generation).write(storage, INDEX_NAME)
    whoosh.clean_files(storage, INDEX_NAME, state.generation, segments)
    _remove_other_generations(index_dir, state.generation)


def _rebuild_reason(options: IndexOptions, generation: int, state: State | None,
                    manifest: Manifest | None, dict_hash: str) -> str | None:
    if generation == 0 and state is None:
        return None  # a new, empty index: everything is "added"
    if options.rebuild:
        return "--rebuild"
    if state is not None and state.format != INDEX_FORMAT:
        return f"the index format changed ({state.format} -> {INDEX_FORMAT})"
    if state is None or manifest is None:
        return "the index has no manifest (built by another program, or damaged)"
    if state.userdict != dict_hash:
        return "the user dictionary changed"
    return None


@dataclass
class Plan:
    to_read: dict[str, str | None]  # path -> digest it had (None: index it whatever it holds)
    to_delete: list[str]  # gone from the archive
    previous: Manifest
    scan_at: dict[str, int] = field(default_factory=dict)  # path to read -> its place in the scan
    old_at: dict[str, int] = field(default_factory=dict)  # path to read -> its place in `previous`
    head: int = 0  # the listings agree on their first `head` paths
    tail: int = 0  # and then on their last `tail`
    middle_at: dict[str, int] = field(default_factory=dict)  # the old paths in between -> place

    def read_again(self, rel: str, scan: Scan) -> None:
        """Read a post whatever it holds (its segment is folded)."""
        self.to_read[rel] = None
        self.scan_at.setdefault(rel, scan.positions[rel])
        self.old_at.setdefault(rel, self.previous.positions[rel])


def _plan(scan: Scan, previous: Manifest) -> Plan:
    """What to read and what to delete. Paths common to both ends of the two listings are compared
    in place (an update rarely reorders a listing: 100k posts in a few ms); the rest by path."""
    plan = Plan({}, [], previous)
    new, old = scan.paths, previous.paths
    plan.head, plan.tail = head, tail = _common_ends(new, old)
    shift = len(old) - len(new)
    for low, high, offset in ((0, head, 0), (len(new) - tail, len(new), shift)):
        for i in _stat_changes(scan, previous, low, high, offset):
            plan.to_read[new[i]], plan.scan_at[new[i]], plan.old_at[new[i]] = previous.digest(i + offset), i, i + offset
    old_middle = old[head:len(old) - tail]
    plan.middle_at = position = dict(zip(old_middle, range(head, head + len(old_middle)), strict=True))
    for i in range(head, len(new) - tail):
        rel = new[i]
        j = position.get(rel)
        if j is None:
            plan.to_read[rel], plan.scan_at[rel] = None, i
        elif scan.sizes[i] != previous.sizes[j] or scan.mtimes[i] != previous.mtimes[j]:
            plan.to_read[rel], plan.scan_at[rel], plan.old_at[rel] = previous.digest(j), i, j
    new_middle = set(new[head:len(new) - tail])
    plan.to_delete = [rel for rel in old_middle if rel not in new_middle]
    return plan


def _common_ends(new: list[str], old: list[str]) -> tuple[int, int]:
    """How many paths the two lists share at their start and, after that, at their end."""
    head = _common_prefix(new, old)
    tail = _common_prefix(new[:head - 1:-1] if head else new[::-1], old[:head - 1:-1] if head else old[::-1])
    return head, tail


def _common_prefix(first: list[str], second: list[str]) -> int:
    at, end, step = 0, min(len(first), len(second)), 4096
    while at + step <= end and first[at:at + step] == second[at:at + step]:  # C-speed, block by block
        at += step
    while at < end and first[at] == second[at]:
        at += 1
    return at


def _stat_changes(scan: Scan, previous: Manifest, low: int, high: int, offset: int) -> list[int]:
    """Places in scan[low:high] whose size or mtime differ from previous[low + offset:high + offset]."""
    sizes, mtimes, old_sizes, old_mtimes = scan.sizes, scan.mtimes, previous.sizes, previous.mtimes
    if sizes[low:high] == old_sizes[low + offset:high + offset] and \
            mtimes[low:high] == old_mtimes[low + offset:high + offset]:
        return []
    return [i for i in range(low, high) if sizes[i] != old_sizes[i + offset] or mtimes[i] != old_mtimes[i + offset]]


def _fold_small_segments(index_dir: Path, segments: list[Any], scan: Scan, plan: Plan) -> bool:
    """Keep the segment count low: the posts of the smallest segments are indexed again.

    Merging by re-reading the posts reuses the one indexing path (and picks up any edit). It
    happens when an update would leave more than MAX_SEGMENTS segments, and to a segment whose
    documents are mostly deleted. Returns whether any segment was folded.
    """
    segments.sort(key=lambda s: s.doc_count(), reverse=True)
    folded = segments[MAX_SEGMENTS - 1:]
    folded += [s for s in segments[:MAX_SEGMENTS - 1] if s.doc_count() < s.doc_count_all() // 2]
    if not folded:
        return False
    gone = set(plan.to_delete)
    for segment in folded:
        view = SegmentView(index_dir, _segment_list([segment])[0])
        for docnum, rel in enumerate(view.side.paths):
            if docnum not in view.deleted and rel not in gone:
                plan.read_again(rel, scan)  # even if unchanged: its document goes with the segment
    segments[:] = [s for s in segments if all(s is not f for f in folded)]
    return True


def _delete_paths(index_dir: Path, segments: list[Any], paths: set[str]) -> None:
    """Mark the documents of these posts deleted in the segments that hold them."""
    if not paths:
        return
    for segment in segments:
        view = SegmentView(index_dir, _segment_list([segment])[0])
        for rel in paths:
            postings = view.postings("path", rel)
            for docnum in postings.ids if postings else ():
                segment.delete_document(docnum)


def _apply(index_dir: Path, segments: list[Any], scan: Scan, plan: Plan, outcomes: Outcomes,
           summary: Summary) -> Manifest:
    """Delete replaced and vanished documents; count; return the manifest of the new generation."""
    previous, old_at = plan.previous, plan.old_at
    old_reasons = previous.reasons
    gone = set(plan.to_delete)
    reasons = {rel: reason for rel, reason in old_reasons.items() if rel not in gone}
    doomed = {rel for rel in gone if rel not in old_reasons}
    summary.deleted += len(doomed)
    for result in outcomes.results:
        summary.read += 1
        if result.unchanged:
            continue
        rel = result.rel
        was_indexed = rel in old_at and rel not in old_reasons
        if was_indexed:
            doomed.add(rel)
        reasons.pop(rel, None)
        if result.reason is None:
            if not was_indexed:  # new, or newly readable
                summary.added += 1
            elif previous.digest(old_at[rel]) != result.digest:
                summary.updated += 1
            # else: the same post, moved out of a folded segment
        else:
            reasons[rel] = result.reason
            if was_indexed:
                summary.deleted += 1  # it became invalid: out of the index, listed as skipped
    _delete_paths(index_dir, segments, doomed)
    summary.skipped = reasons
    summary.unchanged = len(scan.paths) - summary.added - summary.updated - len(reasons)
    return _new_manifest(scan, plan, outcomes.results, reasons)


def _new_manifest(scan: Scan, plan: Plan, results: list[Outcome], reasons: dict[str, str]) -> Manifest:
    """The scan's paths and stats, the previous digests, and what was read where posts were read."""
    new, old, previous = scan.paths, plan.previous.paths, plan.previous
    head, tail = plan.head, plan.tail
    middle = bytearray(16 * (len(new) - head - tail))
    for i in range(head, len(new) - tail):
        j = plan.middle_at.get(new[i])
        if j is not None:
            middle[16 * (i - head):16 * (i - head + 1)] = previous.digests[16 * j:16 * j + 16]
    digests = bytearray(previous.digests[:16 * head] + middle + previous.digests[16 * (len(old) - tail):])
    sizes, mtimes = array("q", scan.sizes), array("q", scan.mtimes)
    for result in results:  # what was read, even if the file changed again since the scan
        at = plan.scan_at[result.rel]
        sizes[at], mtimes[at] = result.size, result.mtime_ns
        digests[16 * at:16 * at + 16] = bytes.fromhex(result.digest) if result.digest else _NO_DIGEST
    return Manifest(new, sizes, mtimes, bytes(digests), reasons)


# ---- progress and summary on stderr ----------------------------------------------------------------------

PROGRESS_MIN = 200  # fewer posts are read in well under a second: a bar would only flicker


class _Progress:
    """A Rich progress bar with posts/s on stderr when it is a terminal (Rich draws no live bar
    elsewhere, and importing it costs ~0.08 s), unless quiet or there is little to do."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.quiet = total, quiet
        self.progress: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if self.quiet or self.total < PROGRESS_MIN or not sys.stderr.isatty():
            return lambda count: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]} posts/s"), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task("index", total=self.total, rate="-")
        self.progress.start()
        return self._advance

    def _advance(self, count: int) -> None:
        speed = self.progress.tasks[0].speed
        self.progress.update(self.task, advance=count, rate=f"{speed:,.0f}" if speed else "-")

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _print_summary(summary: Summary) -> None:
    out = sys.stderr
    if summary.rebuilt_because:
        print(f"newsctl: rebuilt the index ({summary.rebuilt_because})", file=out)
    for rel, reason in sorted(summary.skipped.items()):
        print(f"{rel}: skipped: {reason}", file=out)
    rate = f" ({summary.read / summary.seconds:,.0f} posts/s)" if summary.read and summary.seconds else ""
    print(f"index: {summary.added} added, {summary.updated} updated, {summary.deleted} deleted, "
          f"{len(summary.skipped)} skipped, {summary.unchanged} unchanged; "
          f"{summary.read} read in {summary.seconds:.2f} s{rate}", file=out)


# ---- status and look-up ------------------------------------------------------------------------------

@dataclass
class IndexStatus:
    exists: bool
    doc_count: int = 0
    size_bytes: int = 0
    updated_at: datetime | None = None
    stale: bool | None = None  # None when there is no index to judge
    reason: str | None = None  # why it is stale or unusable


def index_status(settings: Settings) -> IndexStatus:
    """Existence, size and freshness of the index (for `stats`). Cheap: no post is read."""
    index_dir = settings.index_path
    generation = latest_generation(index_dir)
    if generation < 0:
        return IndexStatus(exists=False)
    size = sum(entry.stat().st_size for entry in os.scandir(index_dir) if entry.is_file())
    state = read_state(index_dir, generation)
    if state is None:
        return IndexStatus(True, 0, size, None, stale=True, reason="the index has no state file")
    updated = datetime.fromtimestamp(state.built_at, tz=timezone.utc).astimezone(settings.tz)
    reason = _unusable_reason(state) or stale_reason(settings, state)
    return IndexStatus(True, state.doc_count, size, updated, stale=reason is not None, reason=reason)


def find_post_path(settings: Settings, post_id: str) -> Path | None:
    """The file of a post id: through the index when there is one, else by file name."""
    try:
        index = SearchIndex(settings)
    except NewsctlError:
        index = None
    if index is not None:
        found = sorted(segment.side.path(docnum) for segment in index.segments
                       for docnum in _ids_of(segment, post_id) if docnum not in segment.deleted)
        for rel in found:
            if (settings.root / rel).is_file():
                return settings.root / rel
    suffix = f"-{post_id}.md"
    return next((path for path in iter_post_paths(settings) if path.name.endswith(suffix)), None)


def _ids_of(segment: SegmentView, post_id: str) -> Sequence[int]:
    postings = segment.postings("id", post_id)
    return postings.ids if postings else ()
