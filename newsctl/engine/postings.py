"""The binary formats of the index, without Whoosh: posting lists and the term dictionary."""

from __future__ import annotations

import json
import mmap
import os
import struct
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import accumulate, islice
from operator import itemgetter, sub
from pathlib import Path
from typing import Any

from newsctl.errors import IndexUnusable

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


def entry_bytes(key: bytes, value: bytes) -> bytes:
    """A term dictionary entry: varint key length, key, varint value length, value."""
    return b"".join((_varint(len(key)), key, _varint(len(value)), value))


def single_entry_layout(key_size: int, docnum: int, position: int) -> tuple[struct.Struct, int, int]:
    """(layout, value size, flags) packing a whole entry of a one-posting bigram list with one position
    (most terms of a segment): key size, key, value size, then encode_single()'s bytes."""
    id_code, pos_code = _width_code(docnum), _width_code(position)
    layout = _SINGLE_ENTRY.get((key_size, id_code, pos_code))
    if layout is None:
        if key_size >= 0x80:
            raise ValueError("a key this long needs a multi-byte varint")
        value = _SINGLE_LAYOUTS[id_code, pos_code]
        layout = _SINGLE_ENTRY[key_size, id_code, pos_code] = (
            struct.Struct(f"=B{key_size}sB{value.format[1:]}"), value.size,
            id_code | _ALL_ONES << 2 | pos_code << 4 | _HAS_POSITIONS)
    return layout


_SINGLE_ENTRY: dict[tuple[int, int, int], tuple[struct.Struct, int, int]] = {}


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
# Trailer: magic, offsets of the field map, first keys, key ends, block offsets, block checksums and
# first-key checksums, the CRC-32 of the field map, then the CRC-32 of the trailer's own bytes before it.
_DICT_MAGIC = b"NCT3"
_DICT_TRAILER = struct.Struct("<4sQQQQQQII")


class DamagedFile(IndexUnusable, ValueError):
    """An index file whose bytes do not match their checksums (or cannot be parsed at all)."""

    def __init__(self, path: object, what: str) -> None:
        super().__init__(f"the index is damaged: {path}: {what}; run `newsctl index` to repair it")
        self.path, self.what = path, what


def _block_crc(first_key: bytes, block: bytes) -> int:
    return zlib.crc32(block, zlib.crc32(first_key))


class TermDictWriter:
    """Sorted (field number byte + term) -> posting list, in blocks, then the block index.

    Whoosh's hash-table term file spends ~24 bytes per entry besides key and value, and most
    bigrams occur in a single post; this layout spends ~2. Every block has a CRC-32 (of its first
    key and its bytes), checked when a search reads the block (see TermDict).
    """

    def __init__(self, handle: Any) -> None:
        self.file = handle
        self.pending: list[bytes] = []
        self.first_keys = bytearray()
        self.key_ends = array("I")
        self.offsets = array("Q")
        self.crcs = array("I")
        self.key_crcs = array("I")
        self.count = 0
        self.fieldmap: dict[str, int] = {}

    def add_field(self, name: str, items: Iterable[tuple[str | bytes, bytes]]) -> None:
        """One field's (term, posting list) entries, terms in increasing order."""
        prefix = bytes((len(self.fieldmap),))
        self.add_entries(name, ((key, entry_bytes(key, value)) for key, value in
                                ((prefix + (term.encode("utf-8") if isinstance(term, str) else term), value)
                                 for term, value in items)))

    def add_entries(self, name: str, entries: Iterable[tuple[bytes, bytes]]) -> None:
        """One field's (key, entry_bytes(key, posting list)) pairs, keys in increasing order, each key
        starting with field_prefix(): add_field() for callers that encode entries themselves."""
        self.fieldmap[name] = len(self.fieldmap)
        items = iter(entries)
        while True:  # a block at a time: the per-entry work is an append
            room = BLOCK_TERMS - self.count % BLOCK_TERMS
            chunk = list(islice(items, room))
            if not chunk:
                return
            if room == BLOCK_TERMS:
                self._write_pending()
                key = chunk[0][0]
                self.offsets.append(self.file.tell())
                self.first_keys += key
                self.key_ends.append(len(self.first_keys))
                self.key_crcs.append(zlib.crc32(key))
            self.pending += map(itemgetter(1), chunk)
            self.count += len(chunk)

    def field_prefix(self) -> bytes:
        """The first byte of the keys of the next field added."""
        return bytes((len(self.fieldmap),))

    def _write_pending(self) -> None:
        if self.pending:
            block = b"".join(self.pending)
            start = self.key_ends[-2] if len(self.key_ends) > 1 else 0
            self.crcs.append(_block_crc(bytes(self.first_keys[start:self.key_ends[-1]]), block))
            self.file.write(block)
            self.pending = []

    def close(self) -> None:
        self._write_pending()
        self.offsets.append(self.file.tell())  # the end of the last block
        fieldmap = json.dumps(self.fieldmap).encode()
        sections = [fieldmap, bytes(self.first_keys), self.key_ends.tobytes(), self.offsets.tobytes(),
                    self.crcs.tobytes(), self.key_crcs.tobytes()]
        starts = []
        for section in sections:
            starts.append(self.file.tell())
            self.file.write(section)
        head = _DICT_TRAILER.pack(_DICT_MAGIC, *starts, zlib.crc32(fieldmap), 0)[:-4]
        self.file.write(head + struct.pack("<I", zlib.crc32(head)))
        self.file.close()


def map_file(path: Path) -> Any:
    """The file's bytes, memory-mapped (read-only; the page cache is shared between searches)."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


class TermDict:
    """Reads a TermDictWriter file: binary search over the blocks' first keys, then one block.

    Damage is detected where it is read, never trusted: the trailer and the field map are checked
    at opening; a look-up checks the CRC of the block it lands in and the CRC of the next block's
    first key: the two first keys then prove (the file being sorted) that the key can only be in
    that block, even if the keys the binary search compared on its way were damaged. A damaged part
    raises DamagedFile.
    """

    def __init__(self, data: Any, name: object = "term dictionary") -> None:
        self.data, self.name = data, name
        end = len(data) - _DICT_TRAILER.size
        if end < 0:
            raise DamagedFile(name, "too short to be a term dictionary")
        magic, *starts, fieldmap_crc, trailer_crc = _DICT_TRAILER.unpack(data[end:])
        if magic != _DICT_MAGIC or zlib.crc32(data[end:len(data) - 4]) != trailer_crc:
            raise DamagedFile(name, "its trailer is damaged (or it was written by another newsctl)")
        bounds = (*starts[1:], end)
        if any(not 0 <= s <= e <= end for s, e in zip(starts, bounds, strict=True)):
            raise DamagedFile(name, "its trailer points outside the file")
        fieldmap, first_keys, key_ends, offsets, crcs, key_crcs = (data[s:e] for s, e in zip(starts, bounds,
                                                                                          strict=True))
        if zlib.crc32(fieldmap) != fieldmap_crc:
            raise DamagedFile(name, "its field map is damaged")
        self.fieldmap: dict[str, int] = json.loads(fieldmap)
        self.first_keys: bytes = first_keys
        self.key_ends = array("I")
        self.key_ends.frombytes(key_ends)
        self.offsets = array("Q")
        self.offsets.frombytes(offsets)
        self.crcs = array("I")
        self.crcs.frombytes(crcs)
        self.key_crcs = array("I")
        self.key_crcs.frombytes(key_crcs)
        blocks = len(self.key_ends)
        if len(self.offsets) != blocks + 1 or len(self.crcs) != blocks or len(self.key_crcs) != blocks:
            raise DamagedFile(name, "its block index is damaged")
        self._verified: set[int] = set()

    def _first_key(self, block: int) -> bytes:
        return self.first_keys[self.key_ends[block - 1] if block else 0:self.key_ends[block]]

    def _block(self, block: int) -> Any:
        """The bytes of `block`, checked against its CRC (once per block)."""
        start, end = self.offsets[block], self.offsets[block + 1]
        if not start <= end <= len(self.data):
            raise DamagedFile(self.name, f"block {block} lies outside the file")
        data = self.data[start:end]
        if block not in self._verified:
            if _block_crc(self._first_key(block), data) != self.crcs[block]:
                raise DamagedFile(self.name, f"block {block} does not match its checksum")
            self._verified.add(block)
        return data

    def _block_for(self, key: bytes) -> int:
        """The last block whose first key is <= key (-1 when key sorts before every entry), proven by
        the checksums of that block and of the next block's first key (the two bracket `key`)."""
        low, high = 0, len(self.key_ends)
        while low < high:
            middle = (low + high) // 2
            if self._first_key(middle) <= key:
                low = middle + 1
            else:
                high = middle
        found = low - 1
        if found >= 0 and found not in self._verified:
            self._block(found)
        after = found + 1
        if after < len(self.key_ends) and after not in self._verified \
                and zlib.crc32(self._first_key(after)) != self.key_crcs[after]:
            raise DamagedFile(self.name, f"the first key of block {after} does not match its checksum")
        return found

    def _entries(self, block: int) -> Iterator[tuple[bytes, bytes]]:
        data = self._block(block)
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
        data = self._block(block)
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

    def verify(self) -> None:
        """Check every block (`index` and `stats` do, for a file whose stat changed)."""
        for block in range(len(self.key_ends)):
            self._block(block)

    def key(self, fieldname: str, term: str | bytes) -> bytes | None:
        number = self.fieldmap.get(fieldname)
        if number is None:
            return None
        return bytes((number,)) + (term.encode("utf-8") if isinstance(term, str) else term)
