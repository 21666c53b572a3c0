"""Updating the full-text index: a Whoosh index with a compact codec, incremental parallel updates.

Whoosh is imported only once there is work (an unchanged archive is recognised without it).
Layout of `<root>/.newsctl/index` (0700):

- Whoosh's files: `_MAIN_<gen>.toc` (written under a temporary name and renamed, so a commit
  is atomic) and, per segment `MAIN_<id>`: stored fields and length columns (Whoosh 3 format),
  `.trm`, the term dictionary with the posting lists inline (codec.CompactCodec), and `.nsc`,
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
its own segments. Queries (engine.reader) run without Whoosh, as set algebra over the decoded
posting arrays (C-level), with Python work only per candidate document. See docs/search.md.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsctl.config import Settings
from newsctl.discovery import folder_mtimes
from newsctl.engine import integrity
from newsctl.engine.lock import IndexBusy, acquire, write_lock
from newsctl.engine.plan import Plan, make_plan
from newsctl.engine.postings import DamagedFile
from newsctl.engine.progress import ProgressFactory, no_progress
from newsctl.engine.scan import Scan, scan_archive
from newsctl.engine.store import (
    INDEX_FORMAT,
    INDEX_NAME,
    NO_DIGEST,
    Manifest,
    SegmentView,
    State,
    latest_generation,
    read_manifest,
    read_state,
    remove_other_generations,
    userdict_hash,
    write_generation,
)
from newsctl.errors import NewsctlError
from newsctl.locking import make_private_dir

if TYPE_CHECKING:
    from newsctl.engine.workers import Outcome, Outcomes

MAX_SEGMENTS = 12  # above this, the posts of the smallest segments are indexed again into one


@dataclass
class IndexOptions:
    rebuild: bool = False
    jobs: int = 0  # 0: one worker per core
    wait: float = 5.0  # seconds to wait for another writer
    progress: ProgressFactory = no_progress  # how the posts read are reported (render draws a bar)


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


def update_index(settings: Settings, options: IndexOptions) -> Summary:
    """Bring the index up to date with the archive; raises IndexBusy when another writer runs.

    A file-system error (a full disk, a file size limit, no permission) is one NewsctlError naming
    the file: the previous generation is left whole, and the next run removes what this one wrote."""
    started = time.perf_counter()
    index_dir = settings.index_path
    make_private_dir(index_dir)
    lock = write_lock(index_dir)
    if not acquire(lock, options.wait):
        raise IndexBusy(f"another `newsctl index` is updating {index_dir} (waited {options.wait:g} s); "
                        "try again when it has finished, or pass a longer --wait")
    scratch = f"{INDEX_NAME}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        summary = _update_locked(settings, options, index_dir, lock, scratch)
    except (OSError, NewsctlError) as exc:
        if not _holds(lock):
            raise LockLost(f"{index_dir} was removed or replaced while this `newsctl index` ran (another index "
                           "may be writing there now); nothing was committed: run `newsctl index` again") from exc
        if not isinstance(exc, OSError):
            raise
        raise NewsctlError(f"cannot update the index in {index_dir}: {_os_error(exc)}; "
                           "the previous index is unchanged") from exc
    finally:
        shutil.rmtree(index_dir / scratch, ignore_errors=True)
        lock.release()
    summary.seconds = time.perf_counter() - started
    return summary


class LockLost(NewsctlError):
    """The lock's file was removed while this process held the lock: another may hold a new one."""


def _holds(lock: Any) -> bool:
    holds = getattr(lock, "holds", None)  # Windows: Whoosh's msvcrt lock, held on an open file
    return holds() if holds is not None else True


def _check_lock(lock: Any) -> None:
    """Before each write that makes something live: the lock must still be the folder's lock."""
    if not _holds(lock):
        raise LockLost("the index lock's file was removed")


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


_SCRATCH = re.compile(rf"^{INDEX_NAME}(\..+)?\.tmp$")


def _remove_scratch(index_dir: Path) -> None:
    """Whoosh's per-document scratch folders (`MAIN.<pid>-<token>.tmp`, one per run; `MAIN.tmp` of older
    newsctl) left by killed runs. Only the lock holder calls this; a run removes its own at its end,
    never another's: an `index` whose folder was removed under it may still be running."""
    for entry in os.scandir(index_dir):
        if _SCRATCH.match(entry.name) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def _read_generation(index_dir: Path, generation: int) -> tuple[State | None, Manifest | None, str | None]:
    """The state and manifest of the generation, and why its files cannot be trusted (None: they can)."""
    try:
        state = read_state(index_dir, generation)
    except DamagedFile as exc:
        return None, None, f"{Path(str(exc.path)).name}: {exc.what}"
    manifest = read_manifest(index_dir, generation)
    if state is None or state.format != INDEX_FORMAT:  # another format is rebuilt as such
        return state, manifest, None
    problem = integrity.damage(index_dir, generation, state)
    return state, manifest, problem


def _update_locked(settings: Settings, options: IndexOptions, index_dir: Path, lock: Any, scratch: str) -> Summary:
    generation = latest_generation(index_dir)
    if generation < 0:
        from newsctl.engine import codec
        from newsctl.engine.whooshlib import TOC, FileStorage

        with codec.newsctl_commit():
            TOC.create(FileStorage(str(index_dir)), codec.build_schema(), INDEX_NAME)
        generation = 0
    _remove_scratch(index_dir)  # left by a killed run
    state, manifest, damaged = _read_generation(index_dir, generation)
    if state is not None and not damaged:
        integrity.remove_orphans(index_dir, generation, state)  # left by an interrupted or killed run
    dict_hash = userdict_hash(settings)
    # Folders whose mtime moved hold added, removed or renamed posts: there will be posts to read or
    # documents to delete, so load the writer's modules while a child process stats the posts.
    moved = state is not None and folder_mtimes(settings.root, state.dirs) != state.dirs
    scan = scan_archive(settings, split=options.jobs != 1, while_waiting=_load_writer if moved else None,
                        known_dirs=state.dirs if state is not None else ())
    summary = Summary(rebuilt_because=f"the index files are damaged: {damaged}" if damaged else
                      _rebuild_reason(options, generation, state, manifest, dict_hash))
    if (summary.rebuilt_because is None and state is not None and manifest is not None
            and scan.same_files(manifest) and state.dirs == scan.dirs and state.posts == list(settings.posts)):
        # Nothing changed: no Whoosh, no tokeniser; only the files' record, if their stats moved.
        if generation and integrity.needs_record(index_dir, generation, state):
            _check_lock(lock)
            integrity.record_files(index_dir, generation, state)
        return Summary(unchanged=len(scan.paths) - len(manifest.reasons), skipped=manifest.reasons)
    from newsctl.engine.whooshlib import FileStorage
    from newsctl.engine.workers import read_posts

    storage = FileStorage(str(index_dir))
    segments = [] if summary.rebuilt_because else _existing_segments(storage, index_dir, generation)
    if segments is None:
        summary.rebuilt_because, segments = "the index files are damaged", []
    previous = manifest if manifest is not None and not summary.rebuilt_because else Manifest.empty()
    plan = make_plan(scan, previous)
    folded = _fold_small_segments(index_dir, segments, scan, plan)
    outcomes = read_posts(settings, index_dir, list(plan.to_read.items()), options.jobs, options.progress,
                          getattr(lock, "fd", None), scratch)
    new_manifest = _apply(index_dir, segments, scan, plan, outcomes, summary)
    new_state = State(generation, INDEX_FORMAT, dict_hash, list(settings.posts), time.time(),
                      state.doc_count if state else 0, _segment_list(segments), scan.dirs)
    _check_lock(lock)
    if summary.rebuilt_because or folded or summary.added or summary.updated or summary.deleted:
        _commit(storage, index_dir, new_state, new_manifest, segments + outcomes.segments)
    else:  # only stats moved: the same documents, the same generation, fresh bookkeeping
        write_generation(index_dir, new_state, new_manifest)
    _check_lock(lock)
    integrity.record_files(index_dir, new_state.generation, new_state)
    integrity.remove_orphans(index_dir, new_state.generation, new_state)
    return summary


def _load_writer() -> None:
    """Import what reading posts into a segment needs (~0.4 s: Whoosh, jieba's dictionary, YAML)."""
    from newsctl import post, text  # noqa: F401
    from newsctl.analysis import load_tokenizer
    from newsctl.engine import workers  # noqa: F401  (Whoosh, the codec)
    from newsctl.rules import registry  # noqa: F401  (the lazy package alone loads nothing)

    load_tokenizer()


def _existing_segments(storage: Any, index_dir: Path, generation: int) -> list[Any] | None:
    """The segments of the current generation, or None when their files cannot be read."""
    from newsctl.engine.whooshlib import TOC

    try:
        segments = list(TOC.read(storage, INDEX_NAME, generation).segments)
        for info in _segment_list(segments):
            SegmentView(index_dir, info)
    except Exception:  # Whoosh raises many kinds for a damaged TOC; all mean "start over"
        return None
    return segments


def _segment_list(segments: list[Any]) -> list[dict[str, Any]]:
    return [{"id": s.segid, "docs": s.doc_count_all(), "deleted": sorted(s.deleted_docs())} for s in segments]


def _commit(storage: Any, index_dir: Path, state: State, manifest: Manifest, segments: list[Any]) -> None:
    """Write the new generation: its state and manifest first, then the TOC that makes it live."""
    from newsctl.engine import codec
    from newsctl.engine.whooshlib import TOC, clean_files

    state.generation += 1
    state.segments = _segment_list(segments)
    state.doc_count = sum(s.doc_count() for s in segments)
    write_generation(index_dir, state, manifest)
    with codec.newsctl_commit():
        TOC(codec.build_schema(), segments, state.generation).write(storage, INDEX_NAME)
    clean_files(storage, INDEX_NAME, state.generation, segments)
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
    sizes, mtimes, ctimes, inodes = (array("q", values) for values in (scan.sizes, scan.mtimes, scan.ctimes,
                                                                        scan.inodes))
    for result in results:  # what was read, even if the file changed again since the scan
        at = plan.scan_at[result.rel]
        sizes[at], mtimes[at], ctimes[at], inodes[at] = result.size, result.mtime_ns, result.ctime_ns, result.inode
        digests[16 * at:16 * at + 16] = bytes.fromhex(result.digest) if result.digest else NO_DIGEST
    return Manifest(new, sizes, mtimes, ctimes, inodes, bytes(digests), reasons)

