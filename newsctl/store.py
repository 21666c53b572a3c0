"""The index on disk, without Whoosh: the binary formats (posting lists, term dictionary,
sidecar), the state and manifest of a generation, a read view of one segment, and the cheap
staleness check. Shared by the writer (newsctl.index) and the searcher (newsctl.query); a
search imports only this side. Layouts and commit protocol: see newsctl.index."""

from __future__ import annotations

import json
import mmap
import os
import re
import struct
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from operator import sub
from pathlib import Path
from typing import Any

from newsctl.config import Settings
from newsctl.errors import NewsctlError

INDEX_NAME = "MAIN"
# Bump whenever the schema, the file formats, the token streams (analysis.py) or the stored
# values change: an index of another format is rebuilt by `newsctl index` and refused by `search`.
INDEX_FORMAT = 2
STATE_PREFIX = "newsctl-state-"
MANIFEST_PREFIX = "newsctl-manifest-"
LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"
_TOC_NAME = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")
class IndexMissing(NewsctlError):
    """No usable index: never built, or built in another format."""


# ---- binary formats: posting lists, term dictionary, sidecar ------------------------------------------
# A posting list is packed arrays (native byte order; an index is not portable, like Whoosh's):
# flags, varint doc frequency, varint total frequency, doc-number deltas, frequencies (left out
# when all are 1) and, for bigram fields, positions. Each array uses the narrowest of B/H/I.

_WIDTHS = ("B", "H", "I")
SINGLE = 1 << 32  # doc number << 32 | position (or frequency): one int per posting, while building
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


def map_file(path: Path) -> Any:
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


NO_DIGEST = bytes(16)
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


def write_generation(index_dir: Path, state: State, manifest: Manifest) -> None:
    _atomic_write(_manifest_file(index_dir, state.generation), manifest.to_bytes())
    _atomic_write(_state_file(index_dir, state.generation),
                  json.dumps(state.__dict__, ensure_ascii=False, separators=(",", ":")))


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


def folder_mtimes(root: Path, folders: Iterable[str]) -> dict[str, int]:
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
        self.terms = TermDict(map_file(index_dir / f"{name}.trm"))
        self.side = SideReader(map_file(index_dir / f"{name}.nsc"))
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

