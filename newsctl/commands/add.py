"""`newsctl add`: one post from the options, or many from a JSON-lines feed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from newsctl.add import AddOptions, body_from_options, draft_from_options
from newsctl.config import Settings
from newsctl.errors import EXIT_FINDINGS, EXIT_OK, NewsctlError, UsageError
from newsctl.feed import MAX_RECORD_BYTES, FeedTally, draft_from_record, feed_lines, parse_record
from newsctl.postwriter import AddEvents, PostWriter, Refused

_SINGLE_ONLY = {"title": "--title", "date": "--date", "post_id": "--id", "source_url": "--source-url",
                "body_file": "--body-file"}

__all__ = ["AddOptions", "AddResult", "run"]


@dataclass
class AddResult:
    """What `add` did; `tally` for a feed (None for one post). `error` stopped a feed after some
    records (a write failed): the summary is still due, then the error."""

    tally: FeedTally | None = None
    written: list[Path] = field(default_factory=list)
    error: NewsctlError | None = None

    @property
    def exit_code(self) -> int:
        tally = self.tally
        clean = tally is None or tally.errors + tally.duplicates + tally.existing == 0
        return EXIT_OK if clean else EXIT_FINDINGS


def run(settings: Settings, options: AddOptions, events: AddEvents) -> AddResult:
    """Write one post (options) or many (--from-jsonl), telling `events` as it goes."""
    writer = PostWriter(settings, resolve_dest(settings, options), options, events)
    if options.from_jsonl is not None:
        refuse_single_options(options)
        return add_from_feed(writer, options, events)
    return AddResult(written=[add_one(writer, options)])


def resolve_dest(settings: Settings, options: AddOptions) -> Path:
    """--dest is relative to the working folder; the `dest` setting to the archive root."""
    dest = options.dest.absolute() if options.dest is not None else settings.root / settings.dest
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"--dest {dest} is not a folder")
    return dest


def refuse_single_options(options: AddOptions) -> None:
    given = [flag for name, flag in _SINGLE_ONLY.items() if getattr(options, name) is not None]
    if given:
        raise UsageError(f"--from-jsonl cannot be combined with {', '.join(given)} (each record has its own)")


def add_one(writer: PostWriter, options: AddOptions) -> Path:
    draft, source_url = draft_from_options(options, writer.settings)
    planned = writer.plan(draft.title, draft.moment, draft.post_id)  # refuse duplicates before the editor opens
    draft.body = body_from_options(options, draft.title, source_url)
    return writer.commit(planned, draft)


def add_from_feed(writer: PostWriter, options: AddOptions, events: AddEvents) -> AddResult:
    name = "<stdin>" if options.from_jsonl == "-" else str(options.from_jsonl)
    tally = FeedTally()
    result = AddResult(tally=tally)
    try:
        for line_no, line in feed_lines(options.from_jsonl or "-"):
            path = add_feed_line(writer, options, events, f"{name}:{line_no}", line, tally)
            if path is not None:
                result.written.append(path)
    except NewsctlError as exc:
        result.error = exc
    return result


def add_feed_line(writer: PostWriter, options: AddOptions, events: AddEvents, where: str, line: bytes | None,
                  tally: FeedTally) -> Path | None:
    """The record's post, written; None (counted in `tally`, told to `events`) when refused."""
    try:
        if line is None:
            raise UsageError(f"record longer than {MAX_RECORD_BYTES / 1e6:.0f} MB")
        path = writer.write(draft_from_record(parse_record(line), writer.settings, options))
    except Refused as exc:
        events.record_refused(where, str(exc))
        tally.duplicates += exc.duplicate
        tally.existing += not exc.duplicate
        return None
    except UsageError as exc:
        events.record_refused(where, str(exc))
        tally.errors += 1
        return None
    tally.added += 1
    return path
