"""The indexed document: one post read, checked and tokenised (in worker processes), typed.

See docs/search.md for the fields and docs/analysis.md for the token streams."""

from __future__ import annotations

import gc
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any, NamedTuple

from newsctl.analysis import NgramColumns, normalize
from newsctl.config import Settings
from newsctl.engine.store import content_hash
from newsctl.errors import ConfigError


@dataclass
class IndexedDocument:
    """The fields of one post in the index. Value fields are indexed normalised and stored (and
    shown) as written; token fields are the token lists of newsctl.analysis."""

    path: str  # relative to the root, posix
    id: str
    title: str
    date: int  # epoch seconds
    date_text: str  # ISO 8601 with the archive zone
    title_words: list[str]  # the terms of analysis.word_tokens (word_terms: no offsets, interned)
    body_words: list[str]
    title_ngrams: list[str]  # the terms of analysis.ngram_tokens; a term's position is its index
    body_ngrams: list[str] | NgramColumns  # (a long body's as numbers: analysis.ngram_columns)
    categories: list[str]  # as written (the index normalises them)
    tags: list[str]
    stocks: list[str]
    media: str | None
    source: str | None
    status: list[str]  # ["published"], or ["unpublished"]: Jekyll leaves the post out (newsctl.jekyll)

    def record(self) -> dict[str, Any]:
        """What a search shows of the post (the sidecar's display record)."""
        return {"id": self.id, "title": self.title, "date": self.date_text, "categories": self.categories,
                "tags": self.tags, "stocks": self.stocks, "published": self.status == ["published"]}


@dataclass
class Analysed:
    rel: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: str
    doc: IndexedDocument | None = None  # fields for the index, or None when skipped or unchanged
    reason: str | None = None  # why the post was skipped
    unchanged: bool = False  # same content as the indexed version (only its stat moved)


class Outcome(NamedTuple):
    """What the parent keeps of an analysed post (a tuple: 100k of them travel and stay in memory)."""

    rel: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: str
    reason: str | None
    unchanged: bool


def analyse_post(root: Path, rel: str, old_digest: str | None = None) -> Analysed:
    """Read, check and tokenise one post; never raises for what the file holds."""
    from newsctl.post import MAX_POST_BYTES, parse_post, read_post, unusable_reason
    from newsctl.rules.reading import UNREADABLE

    path = root / rel
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
            return Analysed(rel, *_stat_of(info), "", reason=f"{UNREADABLE} not a regular file")
        data = path.read_bytes() if info.st_size <= MAX_POST_BYTES else b""
    except OSError as exc:
        return Analysed(rel, -1, -1, -1, -1, "", reason=f"{UNREADABLE} cannot read file: {exc.strerror or exc}")
    result = Analysed(rel, *_stat_of(info), content_hash(data))
    if old_digest is not None and old_digest == result.digest:
        result.unchanged = True
        return result
    if not rel.isascii() and _undecodable_name(rel):
        result.reason = "its file name is not valid UTF-8: rename the file"
        return result
    post = parse_post(data, path) if data or info.st_size == 0 else read_post(path)
    result.reason = unusable_reason(post)
    if result.reason is None:
        try:
            result.doc = _document(post, rel)
        except Exception as exc:  # a defect in one post must not stop the whole index
            result.reason = f"cannot extract text: {type(exc).__name__}: {exc}"
    return result


def _stat_of(info: os.stat_result) -> tuple[int, int, int, int]:
    """size, mtime, ctime and inode, as the scan records them (engine.scan)."""
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino & 0x7FFFFFFFFFFFFFFF


def _undecodable_name(rel: str) -> bool:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # os.listdir() gave undecodable bytes back as lone surrogates
        return True
    return False


_ARCHIVE_TZ: Any = timezone.utc  # set in each process from the settings
_ARCHIVE_ROOT: Path | None = None


def _document(post: Any, rel: str) -> IndexedDocument:
    """The post as Jekyll publishes it: its title, instant, categories and tags (newsctl.jekyll),
    and the text of the body (Liquid protection markers removed)."""
    from newsctl.analysis import COLUMNAR_CHARS, ngram_columns, ngram_terms
    from newsctl.jekyll.escape import without_raw_markers
    from newsctl.jekyll.view import publication_of, site_for
    from newsctl.text import extract

    root = _ARCHIVE_ROOT
    pub = publication_of(post, root, site_for(root, _ARCHIVE_TZ), check_liquid=False) if root is not None else None
    extracted = extract(without_raw_markers(post.body))
    moment = post.date(_ARCHIVE_TZ)
    title = pub.title if pub is not None and pub.title else post.title
    categories = list(pub.categories) if pub is not None else post.categories
    tags = list(pub.tags) if pub is not None else post.tags
    published = pub is None or (pub.kind in ("post", "page") and (pub.published or pub.future))
    title_norm, text_norm = normalize(title), normalize(extracted.text)
    with no_collection():  # millions of strings for a huge post, no cycle among them
        title_words, body_words = words_of(title_norm), words_of(text_norm)
        title_ngrams = ngram_terms(title_norm)
        columnar = len(text_norm) >= COLUMNAR_CHARS and "\x00" not in text_norm  # (0 marks a run's end)
        body_ngrams = ngram_columns(text_norm) if columnar else ngram_terms(text_norm)
    return IndexedDocument(
        path=rel, id=post.id, title=title, date=int(moment.timestamp()), date_text=moment.isoformat(),
        title_words=title_words, body_words=body_words, title_ngrams=title_ngrams, body_ngrams=body_ngrams,
        categories=categories, tags=tags, stocks=list(extracted.stocks),
        media=extracted.media or None, source=extracted.source_url or None,
        status=["published" if published else "unpublished"])


WORDS_CHUNK = 1 << 16  # characters given to jieba at a time (a huge post's words are then not all strings at once)
_WHITESPACE = re.compile(r"\s")


def words_of(norm: str) -> list[str]:
    """analysis.word_terms(norm), jieba's search-mode words, a chunk of the text at a time.

    jieba returns a new string per word: for a 5 MB post, 1.5 million strings (~130 MB) alive at
    once, before they are interned into the few thousand distinct words. Chunks end just before
    a whitespace character, which jieba never joins to a word (its blocks of text are runs of
    non-space characters), and whitespace tokens are not words: the terms are the same."""
    from newsctl.analysis import word_terms

    if len(norm) <= WORDS_CHUNK:
        return word_terms(norm)
    terms: list[str] = []
    start = 0
    while start < len(norm):
        found = _WHITESPACE.search(norm, start + WORDS_CHUNK)
        end = found.start() if found else len(norm)
        terms += word_terms(norm[start:end])
        start = end
    return terms


@contextmanager
def no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused for the block. Adding a huge post, or writing a segment,
    allocates millions of objects, none in a reference cycle; each allocation burst would start
    a collection that walks every tracked object of the process (the segment's posting lists
    among them), again and again. Nothing of the block leaves a cycle behind to collect."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def prepare_process(settings: Settings) -> None:
    """Per-process set-up: the archive zone and the user dictionary, before any tokenising."""
    global _ARCHIVE_TZ, _ARCHIVE_ROOT
    _ARCHIVE_TZ = settings.tz
    _ARCHIVE_ROOT = settings.root
    if settings.userdict_path:
        from newsctl.analysis import load_user_dict

        try:
            load_user_dict(settings.userdict_path)
        except ValueError as exc:  # bad configuration: the file (inside the root) and its line
            raise ConfigError(str(exc)) from exc

