"""Reading posts into new segments: inline, or in worker processes that each write their own.

Progress is reported through a ProgressFactory (render draws it; the engine never prints)."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsctl.analysis import NgramColumns
from newsctl.config import Settings
from newsctl.engine import codec
from newsctl.engine.builder import SegmentBuilder
from newsctl.engine.document import Analysed, Outcome, analyse_post, prepare_process
from newsctl.engine.progress import Advance, ProgressFactory
from newsctl.engine.whooshlib import FileStorage
from newsctl.errors import NewsctlError

PARALLEL_MIN = 1000  # fewer posts than this to read: no worker processes (one segment)
BATCH_SIZE = 200  # posts per job sent to a worker
BUILD_MEMORY = 440 * 1024 * 1024  # postings held in memory by all index workers together, estimated


ReadJob = tuple[str, str | None]  # (relative path, digest it had: None means index it whatever it holds)


class RunStorage(FileStorage):
    """The index folder, with Whoosh's scratch files in this run's own folder (`scratch`), not in the
    `MAIN.tmp` every run shares: a run removes its scratch when it ends, and must not remove files of
    another run's workers (see updater._remove_scratch)."""

    def __init__(self, folder: Path, scratch: str) -> None:
        super().__init__(str(folder))
        self.scratch = scratch

    def temp_storage(self, name: str | None = None) -> Any:
        return FileStorage(os.path.join(self.folder, self.scratch)).create()


class SegmentSink:
    """Feeds analysed posts to SegmentBuilders, starting a new segment when one is full."""

    def __init__(self, index_dir: Path, budget: int, scratch: str) -> None:
        self.storage = RunStorage(index_dir, scratch)
        self.schema = codec.build_schema()
        self.budget = budget
        self.builder: SegmentBuilder | None = None
        self.segments: list[Any] = []

    def take(self, result: Analysed) -> Outcome:
        """Index the post (if it has a document); return what the parent needs to know, compactly."""
        if result.doc is not None:
            if self.builder is not None and (self.builder.would_overflow(result.doc)
                                             or isinstance(result.doc.body_ngrams, NgramColumns)):
                self.flush()  # (a post whose bigrams are numbers has a segment of its own)
            if self.builder is None:
                self.builder = SegmentBuilder(self.storage, self.schema, self.budget)
            self.builder.add(result.doc)
            if self.builder.full():
                self.flush()
        return Outcome(result.rel, result.size, result.mtime_ns, result.ctime_ns, result.inode, result.digest,
                       result.reason, result.unchanged)

    def flush(self) -> None:
        if self.builder is not None:
            self.segments.append(self.builder.finish())
            self.builder = None


def _worker_main(settings: Settings, index_dir: Path, budget: int, scratch: str, lock_fd: int | None, jobs: Any,
                 results: Any) -> None:
    """Take batches of read jobs until None, report each batch, and finally the new segments.

    A forked worker closes its copy of the lock's file at once (else it would hold the lock after
    its parent's death), and leaves when its parent is gone (killed: nobody will commit its work).
    """
    if lock_fd is not None:
        os.close(lock_fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    parent = os.getppid()
    try:
        prepare_process(settings)
        sink = SegmentSink(index_dir, budget, scratch)
        while (batch := jobs.get()) is not None:
            if os.getppid() != parent:
                os._exit(1)
            results.put(("batch", [sink.take(analyse_post(settings.root, rel, old)) for rel, old in batch]))
        sink.flush()
        results.put(("done", sink.segments))
    except BaseException as exc:  # report, so that the parent stops instead of waiting; no traceback
        results.put(("error", _describe(exc)))
        results.close()
        results.join_thread()
        os._exit(1)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot write {exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Outcomes:
    results: list[Outcome] = field(default_factory=list)
    segments: list[Any] = field(default_factory=list)


def read_posts(settings: Settings, index_dir: Path, to_read: list[ReadJob], jobs: int,
               progress: ProgressFactory, lock_fd: int | None, scratch: str) -> Outcomes:
    """Analyse and index the posts; `jobs` worker processes (0: one per core) for many posts."""
    jobs = jobs or os.cpu_count() or 1
    with progress(len(to_read)) as advance:
        if jobs == 1 or len(to_read) < PARALLEL_MIN:
            return _read_inline(settings, index_dir, to_read, advance, scratch)
        return _read_in_workers(settings, index_dir, to_read, jobs, advance, lock_fd, scratch)


def _read_inline(settings: Settings, index_dir: Path, to_read: list[ReadJob], advance: Advance,
                 scratch: str) -> Outcomes:
    prepare_process(settings)
    sink = SegmentSink(index_dir, BUILD_MEMORY, scratch)
    outcomes = Outcomes()
    for rel, old in to_read:
        outcomes.results.append(sink.take(analyse_post(settings.root, rel, old)))
        advance(1)
    sink.flush()
    outcomes.segments = sink.segments
    return outcomes


def _read_in_workers(settings: Settings, index_dir: Path, to_read: list[ReadJob], jobs: int,
                     advance: Advance, lock_fd: int | None, scratch: str) -> Outcomes:
    import multiprocessing
    import queue

    forking = "fork" in multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if forking else "spawn")
    job_queue: Any = context.Queue()
    result_queue: Any = context.Queue()
    batches = [to_read[i:i + BATCH_SIZE] for i in range(0, len(to_read), BATCH_SIZE)]
    count = min(jobs, len(batches))
    args = (settings, index_dir, BUILD_MEMORY // count, scratch, lock_fd if forking else None, job_queue,
            result_queue)
    workers = [context.Process(target=_worker_main, args=args, daemon=True) for _ in range(count)]
    for batch in batches:
        job_queue.put(batch)
    for _ in workers:
        job_queue.put(None)
    for worker in workers:
        worker.start()
    outcomes = Outcomes()
    try:
        from newsctl.readahead import read_ahead  # (after the forks: none follows its threads)

        read_ahead([str(settings.root / rel) for rel, _ in to_read], BATCH_SIZE, count)
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

