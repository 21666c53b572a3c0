"""The full-text index: a Whoosh index with a compact codec, incremental parallel updates, queries.

This is the writer, and the only module that imports Whoosh (importing it takes ~0.1 s, more
than a whole search may spend). newsctl.store holds the file formats it shares with the
reader, newsctl.query the queries. Layout of `<root>/.newsctl/index` (0700):

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
its own segments. Queries (newsctl.query) run without Whoosh, as set algebra over the decoded
posting arrays (C-level), with Python work only per candidate document. See docs/search.md.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

from newsctl.analysis import normalize
from newsctl.background import in_child
from newsctl.config import Settings
from newsctl.discovery import archive_names, literal_prefix
from newsctl.errors import NewsctlError
from newsctl.store import (
    INDEX_FORMAT,
    INDEX_NAME,
    NO_DIGEST,
    SINGLE,
    Manifest,
    Postings,
    SegmentView,
    SideWriter,
    State,
    TermDict,
    TermDictWriter,
    content_hash,
    encode_postings,
    encode_single,
    folder_mtimes,
    latest_generation,
    map_file,
    postings_header,
    read_manifest,
    read_state,
    remove_other_generations,
    stale_reason,
    unusable_reason,
    userdict_hash,
    write_generation,
)

LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"
PARALLEL_MIN = 1000  # fewer posts than this to read: no worker processes (one segment)
BATCH_SIZE = 200  # posts per job sent to a worker
MAX_SEGMENTS = 12  # above this, the posts of the smallest segments are indexed again into one
BUILD_MEMORY = 440 * 1024 * 1024  # postings held in memory by all index workers together, estimated


class IndexBusy(NewsctlError):
    """Another process holds the write lock."""


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
    return Scan(paths, sizes, mtimes, folder_mtimes(settings.root, folders))


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
    result = Analysed(rel, info.st_size, info.st_mtime_ns, content_hash(data))
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
            return CompactTermsReader(map_file(Path(storage.folder) / name))

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

    def _add_words(self, table: dict[Any, Any], tokens: Sequence[tuple[str, int, int]]) -> None:
        """_add_posting(term, 1) for every token, inlined: this is a hot loop of indexing."""
        docnum = self.docnum
        single = docnum * SINGLE + 1
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
        base = docnum * SINGLE
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
    moved = state is not None and folder_mtimes(settings.root, state.dirs) != state.dirs
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
        write_generation(index_dir, new_state, new_manifest)
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
    write_generation(index_dir, state, manifest)
    whoosh.TOC(build_schema(), segments, state.generation).write(storage, INDEX_NAME)
    whoosh.clean_files(storage, INDEX_NAME, state.generation, segments)
    remove_other_generations(index_dir, state.generation)


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
        digests[16 * at:16 * at + 16] = bytes.fromhex(result.digest) if result.digest else NO_DIGEST
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
    reason = unusable_reason(state) or stale_reason(settings, state)
    return IndexStatus(True, state.doc_count, size, updated, stale=reason is not None, reason=reason)

