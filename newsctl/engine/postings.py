"""The binary formats of the index, without Whoosh: posting lists and the term dictionary."""

from __future__ import annotations

import json
import mmap
import os
import struct
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import accumulate
from operator import sub
from pathlib import Path
from typing import Any

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
