"""Building one segment in memory from analysed posts, then writing it: newsctl's term dictionary
(TermDictWriter), its sidecar (SideWriter) and Whoosh's per-document files."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from newsctl.analysis import NgramColumns
from newsctl.engine import codec
from newsctl.engine.document import IndexedDocument, no_collection
from newsctl.engine.postings import (
    SINGLE,
    TermDictWriter,
    encode_postings,
    encode_single,
    entry_bytes,
    single_entry_layout,
)
from newsctl.engine.store import INDEX_NAME, SideWriter

# A term seen in one post so far (most bigrams) is a single int: doc number << 32 | position
# (bigram fields) or frequency (other fields); a second posting turns it into
# [doc numbers, frequencies, positions or None] arrays.

_TERM_COST, _POSTING_COST = 240, 12  # bytes of memory per term entry and per posting (measured)


class SegmentBuilder:
    """Accumulates analysed posts into one new segment; `finish()` writes it and returns it."""

    def __init__(self, storage: Any, schema: Any, budget: int) -> None:
        self.budget = budget
        self.storage, self.schema = storage, schema
        self.codec = codec.CompactCodec()
        self.segment = self.codec.new_segment(storage, INDEX_NAME)
        self.perdoc = self.codec.per_document_writer(storage, self.segment)
        self.side = SideWriter()
        self.terms: dict[str, dict[Any, Any]] = {name: {} for name in schema.names() if schema[name].indexed}
        self.fields = list(schema.items())
        self.kinds = {name: _kind(f) for name, f in self.fields}
        self.docnum = 0
        self.cost = 0
        self.columns: dict[str, NgramColumns] = {}  # the bigram fields of doc 0 kept as numbers (_add_columns)

    def full(self) -> bool:
        """Over budget, or holding a post's bigrams as numbers (that post has the segment alone)."""
        return self.cost > self.budget or bool(self.columns)

    def would_overflow(self, doc: IndexedDocument) -> bool:
        """Whether the post could take the segment past its budget (every token a new term): a huge
        post then starts a segment of its own, so that memory holds one huge post's terms, not
        several."""
        tokens = len(doc.body_ngrams) + len(doc.body_words) + len(doc.title_ngrams) + len(doc.title_words)
        return self.docnum > 0 and self.cost + tokens * (_TERM_COST + _POSTING_COST) > self.budget

    def add(self, doc: IndexedDocument) -> None:
        with no_collection():
            self._add(doc)

    def _add(self, doc: IndexedDocument) -> None:
        if self.columns:  # a second post after one whose bigrams are numbers: those become terms
            self._columns_to_terms()
        perdoc = self.perdoc
        perdoc.start_doc(self.docnum)
        for name, fieldobj in self.fields:
            value = getattr(doc, name)
            length = self._index(name, fieldobj, value) if value is not None and fieldobj.indexed else 0
            stored = value if fieldobj.stored else None
            perdoc.add_field(name, fieldobj, stored, length if fieldobj.scorable else 0)
            if fieldobj.column_type is not None and value is not None:
                perdoc.add_column_value(name, fieldobj.column_type, fieldobj.to_column_value(value))
        perdoc.finish_doc()
        self.side.add(doc.path, doc.date, len(doc.title_words), len(doc.body_words), doc.record())
        self.docnum += 1

    def _index(self, name: str, fieldobj: Any, value: Any) -> int:
        """Add the field's postings; return its length in tokens (for BM25)."""
        table, kind = self.terms[name], self.kinds[name]
        if kind == "ngrams" and isinstance(value, NgramColumns):
            self._add_columns(name, value)
        elif kind == "ngrams":
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
            table[term] = docnum * SINGLE + freq
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

    def _add_words(self, table: dict[Any, Any], tokens: Sequence[str]) -> None:
        """_add_posting(term, 1) for every token, inlined: this is a hot loop of indexing."""
        docnum = self.docnum
        single = docnum * SINGLE + 1
        get = table.get
        new_terms = 0
        for term in tokens:
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

    def _add_ngrams(self, table: dict[Any, Any], tokens: Sequence[str]) -> None:
        """One pass over the tokens; a token's position is its index in the list."""
        docnum = self.docnum
        base = docnum * SINGLE
        get = table.get
        new_terms = 0
        for pos, term in enumerate(tokens):
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

    def _add_columns(self, name: str, columns: NgramColumns) -> None:
        """A long post's bigrams as numbers: kept as they are when the post is the segment's first
        (SegmentSink gives it the segment alone), and written column by column (column_entries)."""
        if self.docnum == 0 and not self.terms[name]:
            self.columns[name] = columns
            self.cost += len(columns) * (_POSTING_COST + _TERM_COST // 4)
        else:
            self._add_ngrams(self.terms[name], columns.terms())

    def _columns_to_terms(self) -> None:
        docnum, self.docnum = self.docnum, 0
        for name, columns in self.columns.items():
            self._add_ngrams(self.terms[name], columns.terms())
        self.docnum = docnum
        self.columns = {}

    def finish(self) -> Any:
        """Write the term dictionary, the sidecar and the per-document files; return the segment."""
        with no_collection():
            return self._finish()

    def _finish(self) -> Any:
        self.perdoc.close()
        terms = TermDictWriter(self.segment.create_file(self.storage, ".trm"))
        for name in sorted(self.terms):
            table = self.terms[name]
            if name in self.columns:  # (then the segment's only post: the table is empty)
                terms.add_entries(name, column_entries(terms.field_prefix(), self.columns.pop(name)))
            else:
                terms.add_entries(name, _entries(terms.field_prefix(), table, self.kinds[name]))
            table.clear()
        terms.close()
        self.side.write(Path(self.storage.folder) / self.segment.make_filename(".nsc"))
        self.segment.set_doc_count(self.docnum)
        return self.segment


def _kind(fieldobj: Any) -> str:
    if isinstance(fieldobj, codec.NgramField):
        return "ngrams"
    if isinstance(fieldobj, codec.WordsField):
        return "words"
    return "id" if isinstance(fieldobj, codec.fields.ID) else "other"


def _entries(prefix: bytes, table: dict[Any, Any], kind: str) -> Iterator[tuple[bytes, bytes]]:
    """(key, dictionary entry) of every term of the table, in key order. str terms sort as their
    UTF-8 bytes do (code point order), as the dictionary needs. This runs once per term of the
    segment (a huge post brings ~400,000): a one-posting bigram list, most terms, is one struct call."""
    text, positions = kind in ("ngrams", "words"), kind == "ngrams"
    for term in sorted(table):
        entry = table[term]
        key = prefix + term.encode() if text else prefix + term
        if type(entry) is int:
            docnum, low = entry >> 32, entry & 0xFFFFFFFF
            if positions:
                layout, size, flags = single_entry_layout(len(key), docnum, low)
                yield key, layout.pack(len(key), key, size, flags, 1, 1, docnum, low)
            else:
                yield key, entry_bytes(key, encode_single(docnum, low, False))
        else:
            yield key, entry_bytes(key, encode_postings(*entry))


def column_entries(prefix: bytes, columns: NgramColumns) -> Iterator[tuple[bytes, bytes]]:
    """_entries of the table that _add_ngrams would make of doc 0's `columns`, in key order: the
    terms sorted, counted and their positions grouped by numpy, their keys encoded as one text."""
    import numpy as np

    codes = columns.codes
    if not len(codes):
        return
    by_term = np.argsort(codes, kind="stable")  # positions grouped by term, each group in order
    ordered = codes[by_term]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, len(ordered)])
    terms = ordered[starts]
    del ordered
    keys, key_ends = _key_bytes(terms)
    positions, key_ends_list = by_term.tolist(), key_ends.tolist()
    start = 0
    for number, count in enumerate(counts.tolist()):
        key = prefix + keys[key_ends_list[number]:key_ends_list[number + 1]]
        if count == 1:
            position = positions[start]
            layout, size, flags = single_entry_layout(len(key), 0, position)
            yield key, layout.pack(len(key), key, size, flags, 1, 1, 0, position)
        else:
            grouped = array("I", positions[start:start + count])
            yield key, entry_bytes(key, encode_postings(array("I", (0,)), array("I", (count,)), grouped))
        start += count


def _key_bytes(terms: Any) -> tuple[bytes, Any]:
    """The terms (analysis.NgramColumns numbers) as UTF-8, one after the other, and where each
    ends (starting with a 0)."""
    import numpy as np

    first, second = terms >> 21, terms & ((1 << 21) - 1)
    pair = second != 0
    lengths = 1 + pair
    ends = np.cumsum(lengths)
    points = np.empty(int(ends[-1]) if len(ends) else 0, dtype="<u4")
    points[ends - lengths] = first
    points[(ends - 1)[pair]] = second[pair]
    text = points.tobytes().decode("utf-32-le")
    widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)  # UTF-8 bytes per character
    point_ends = np.cumsum(widths)
    return text.encode(), np.r_[0, point_ends[ends - 1]]
