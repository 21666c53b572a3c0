"""The Whoosh side of the index: analyzers, field types, schema and codec, at module level.

A TOC pickles the schema and the segments' codec by reference (newsctl.engine.codec.<name>), so
Whoosh alone can open, parse and search the index: the text fields carry analyzers that give the
token streams of newsctl.analysis, the n-gram fields parse a query string into what
`newsctl search` looks up (docs/search.md), and CompactCodec reads newsctl's term dictionary.
Imported lazily: only the writer and Whoosh's own API import this module (see whooshlib).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from newsctl.analysis import Token, ngram_tokens, normalize, query_ngrams, word_tokens
from newsctl.engine.postings import Postings, TermDict, map_file, postings_header
from newsctl.engine.whooshlib import (
    ListMatcher,
    ReadTooFar,
    TermInfo,
    TermNotFound,
    TermsReader,
    Tokenizer,
    W3Codec,
    WhooshToken,
    fields,
    formats,
    query,
)
from newsctl.errors import NewsctlError

# ---- analyzers: newsctl.analysis token streams as Whoosh tokens ------------------------------------


class _ListAnalyzer(Tokenizer):
    """A Whoosh analyzer over newsctl.analysis tokens (term, startchar, endchar) of a text."""

    def tokens(self, text: str, mode: str) -> list[Token]:
        raise NotImplementedError

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[Any]:
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, (term, start, end) in enumerate(self.tokens(value, mode)):
            token.text, token.boost, token.stopped = term, 1.0, False
            if keeporiginal:
                token.original = term
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class WordsAnalyzer(_ListAnalyzer):
    """jieba words of the normalised text (analysis.word_tokens). A query string stays one token:
    the word fields rank, the n-gram fields decide what matches, so a word field never matches a
    post that the string does not occur in."""

    def tokens(self, text: str, mode: str) -> list[Token]:
        if mode == "query":
            norm = normalize(text).strip()
            return [(norm, 0, len(norm))] if norm else []
        return word_tokens(normalize(text))


class NgramAnalyzer(_ListAnalyzer):
    """Overlapping bigrams of the normalised text (analysis.ngram_tokens); a query string gives the
    terms whose consecutive occurrence is the string (analysis.query_ngrams)."""

    def tokens(self, text: str, mode: str) -> list[Token]:
        norm = normalize(text)
        if mode != "query":
            return ngram_tokens(norm)
        found, at = [], 0
        for term in query_ngrams(norm):
            start = norm.find(term, at)
            at = max(start, at)
            found.append((term, at, at + len(term)))
        return found


# ---- field types -----------------------------------------------------------------------------------


class WordsField(fields.FieldType):
    """jieba words: frequencies only, for BM25F (newsctl's builder adds analysis.word_tokens lists)."""

    def __init__(self) -> None:
        super().__init__(formats.Frequency(), analyzer=WordsAnalyzer(), scorable=True, stored=False)


class NgramField(fields.FieldType):
    """Bigrams with positions, for exact substring matching; a token's position is its list index.

    Parses its own query strings (Whoosh's extension point for that), as `newsctl search` matches a
    string: the phrase of its bigrams, the last one as a prefix when it is a single character (the
    text may go on after it)."""

    def __init__(self) -> None:
        super().__init__(formats.Positions(), analyzer=NgramAnalyzer(), scorable=True, stored=False,
                         multitoken_query="phrase")

    def self_parsing(self) -> bool:
        return True

    def parse_query(self, fieldname: str, qstring: str, boost: float = 1.0) -> Any:
        norm = normalize(qstring).strip()
        terms = query_ngrams(norm)
        if not terms:
            return query.NullQuery
        prefix_last = len(norm.split()[-1]) == 1
        last = query.Prefix(fieldname, terms[-1]) if prefix_last else query.Term(fieldname, terms[-1])
        if len(terms) == 1:
            last.boost = boost
            return last
        if not prefix_last:
            return query.Phrase(fieldname, terms, boost=boost)
        return query.Sequence([*(query.Term(fieldname, t) for t in terms[:-1]), last], boost=boost)


class ValuesField(fields.FieldType):
    """Exact, normalised values (categories, tags, stock codes, media): existence only. A query
    string is one value (`tags:科技`), compared normalised as `newsctl search` does."""

    def __init__(self, stored: bool) -> None:
        super().__init__(formats.Existence(), analyzer=None, scorable=False, stored=stored)

    def index(self, value: str | Sequence[str], **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        for item in dict.fromkeys([value] if isinstance(value, str) else value):
            yield normalize(item).encode("utf-8"), 1, 1.0, b""

    def self_parsing(self) -> bool:
        return True

    def parse_query(self, fieldname: str, qstring: str, boost: float = 1.0) -> Any:
        return query.Term(fieldname, normalize(qstring), boost=boost)

    def process_text(self, qstring: str, mode: str = "", **kwargs: Any) -> Iterator[str]:
        """The value, normalised: what Whoosh's phrase plugin asks of a field without analyzer."""
        yield normalize(qstring)


# ---- the schema: a commit by another Whoosh writer is refused -------------------------------------


class ForeignWriteRefused(NewsctlError):
    """Only newsctl writes its index: a generation needs newsctl's state, manifest and sidecars."""


_newsctl_commit = False  # set while newsctl itself writes a TOC


class NewsctlSchema(fields.Schema):
    """Whoosh calls clean() as it starts writing a TOC: refuse there, before any file is written,
    unless newsctl is the writer. The index stays as it was; `writer.cancel()` frees the lock."""

    def clean(self) -> None:
        if not _newsctl_commit:
            raise ForeignWriteRefused(
                "this index is written by newsctl only: a commit by another Whoosh writer would leave "
                "newsctl's state behind; add or change posts and run `newsctl index` (call "
                "writer.cancel() to release the lock)")
        super().clean()


@contextmanager
def newsctl_commit() -> Iterator[None]:
    global _newsctl_commit
    _newsctl_commit = True
    try:
        yield
    finally:
        _newsctl_commit = False


def build_schema() -> Any:
    """The Whoosh schema of the index (docs/search.md lists the fields)."""
    return NewsctlSchema(
        path=fields.ID(stored=True, unique=True),  # relative to the root, posix
        id=fields.ID(stored=True),
        title=fields.STORED(),
        date=fields.NUMERIC(int, bits=64, signed=True, sortable=True, shift_step=16),  # epoch seconds
        date_text=fields.STORED(),  # ISO 8601 with the post's zone
        title_words=WordsField(),
        body_words=WordsField(),
        title_ngrams=NgramField(),
        body_ngrams=NgramField(),
        categories=ValuesField(stored=True),
        tags=ValuesField(stored=True),
        stocks=ValuesField(stored=True),
        media=ValuesField(stored=False),
        status=ValuesField(stored=False),  # published / unpublished (what Jekyll does with the post)
        source=fields.ID(stored=False),
    )


# ---- reading newsctl's term dictionary through Whoosh's interfaces ---------------------------------


class CompactTermInfo(TermInfo):
    """A term's statistics; the first and last document numbers let Whoosh's MultiReader combine
    the infos of several segments (term_info, iter_prefix, most_frequent_terms)."""

    def __init__(self, data: bytes) -> None:
        _, count, total, _ = postings_header(data)
        ids = Postings(data).ids
        super().__init__(weight=float(total), df=count, minlength=1, maxlength=0, maxweight=float(total),
                         minid=ids[0], maxid=ids[-1])
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
        return CompactTermsReader(map_file(Path(storage.folder) / name))
