"""`newsctl validate`: find the posts to check, run the rules (in worker processes for large
archives), apply `--fix` atomically or show it as `--diff`, and collect a `Report`.

Archive-wide rules (NC6xx duplicates) always look beyond the given PATHS, because a new
file that copies an old one must be caught at pre-commit time. To keep that cheap:

- without PATHS every post is read once, and ids, titles+dates and body hashes are compared
  across the whole archive;
- with PATHS only the given files are read, plus the archive's files of the same day (file
  name prefix `YYYY-MM-DD-`, and the day of the front-matter date); ids are compared against
  every file name of the archive, which needs no reading. A copy filed under another day is
  therefore only caught by a run over the whole archive (as CI does).

Nothing here imports Rich, Whoosh or the tokenizer, nor worker processes unless they are used:
pre-commit runs this path on every commit.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from newsctl.cache import FactCache, folder_lister
from newsctl.config import Settings
from newsctl.discovery import FindNeighbours, expand_paths, find_neighbours, list_archive_posts
from newsctl.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from newsctl.fsutil import FileChanged, read_regular, replace_if_unchanged
from newsctl.locking import archive_lock
from newsctl.paths import shown_path
from newsctl.post import Post, parse_post, read_post
from newsctl.rules import (
    ERROR,
    WARNING,
    CheckContext,
    Finding,
    PostFacts,
    check_post,
    duplicate_findings,
    fix_text,
    name_facts,
    post_facts,
    resolve_selection,
)
from newsctl.rules.dates import DATE_WITHOUT_ZONE
from newsctl.rules.duplicates import NEAR_DUPLICATE

PARALLEL_THRESHOLD = 2000  # below this, starting worker processes costs more than it saves
FILES_PER_TASK = 250
FIX_LOCK_WAIT = 30.0  # seconds --fix waits for another writer of the archive (add, --fix)
MAX_FIX_PASSES = 4  # a fix can reveal another (a re-quoted title lets the date be checked)

FileResult = tuple[str, list[Finding], PostFacts]


@dataclass
class ValidateOptions:
    paths: list[Path] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fix: bool = False
    diff: bool = False
    cache: bool = True  # names and facts of the given files' neighbours (cache.py)


@dataclass
class Report:
    """What `validate` found (after fixing, what remains), ready for `render.findings`."""

    root: Path
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0
    fixed: int = 0  # problems repaired by --fix (or that --diff would repair)
    fixed_files: int = 0
    diffs: list[str] = field(default_factory=list)  # unified diffs, for --diff
    diff_mode: bool = False
    notes: list[str] = field(default_factory=list)  # warnings about the run, not the posts (stderr)
    not_fixed: list[tuple[str, str]] = field(default_factory=list)  # (path, why) for --fix: exit 1
    date_fixes: list[tuple[str, str]] = field(default_factory=list)  # (path, what NC306's fix moves)
    cwd: str = field(default_factory=os.getcwd)

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == WARNING)

    @property
    def files_with_findings(self) -> int:
        return len({finding.path for finding in self.findings})

    def exit_code(self, strict: bool = False) -> int:
        """0 clean; 1 with errors (or warnings when strict), or when --diff would change files."""
        if self.diff_mode:
            return EXIT_FINDINGS if self.diffs else EXIT_OK
        if self.errors or self.not_fixed or (strict and self.warnings):
            return EXIT_FINDINGS
        return EXIT_OK

    def display_path(self, path: str) -> str:
        """How a finding names its file: paths.shown_path from where validate ran."""
        return shown_path(path, self.cwd)


def run_validate(settings: Settings, options: ValidateOptions, find: FindNeighbours | None = None) -> Report:
    """`find` gives the archive's names that given PATHS must be compared with (by default
    discovery.find_neighbours; see discovery.neighbours_in_background)."""
    enabled = _enabled_codes(settings, options)
    ctx = make_context(settings)
    notes: list[str] = []
    if options.paths:
        targets = _explicit_targets(options.paths)
        results = check_files(targets, ctx, notes)
        if find is None:
            find = partial(find_neighbours, settings, listdir=folder_lister(settings, options.cache))
        neighbours = _neighbour_facts(results, ctx, find, FactCache(settings) if options.cache else None)
    else:
        targets = list_archive_posts(settings)
        results = check_files(targets, ctx, notes)
        neighbours = []
    report = Report(root=settings.root, checked=len(targets), diff_mode=options.diff, notes=notes)
    if options.fix and not options.diff:
        with archive_lock(settings.root, FIX_LOCK_WAIT, "run `newsctl validate --fix`"):
            results = _apply_fixes(results, ctx, enabled, report)
    elif options.diff:
        results = _apply_fixes(results, ctx, enabled, report)
    own = [finding for _, findings, _ in results for finding in findings]
    facts = [fact for _, _, fact in results] + neighbours
    report_for = {path for path, _, _ in results} if options.paths else None
    own += duplicate_findings(facts, report_for, str(settings.root))
    own = _with_copies_found_by_dups(own, settings, ctx, options, results, facts, enabled)
    report.findings = sorted((f for f in own if f.code in enabled),
                             key=lambda f: (f.path, f.line, f.column, f.code))
    return report


def _with_copies_found_by_dups(own: list[Finding], settings: Settings, ctx: CheckContext, options: ValidateOptions,
                               results: list[FileResult], facts: list[PostFacts],
                               enabled: frozenset[str]) -> list[Finding]:
    """Copies on other days (NC602/NC603) and near copies (NC604) from newsctl/dups' signatures:
    for the given PATHS against the whole archive; over the whole archive, NC604 when selected by
    its code (`--select NC604`)."""
    from newsctl.dups import findings as dups_findings  # local: only this step needs the dups package

    if options.paths:
        return dups_findings.with_archive_copies(own, settings, ctx, [path for path, _, _ in results], facts,
                                                 enabled, use_store=options.cache)
    if NEAR_DUPLICATE.code in enabled and _named(NEAR_DUPLICATE.code, [*settings.select, *options.select]):
        return own + dups_findings.near_duplicates_everywhere(settings, ctx, [], use_store=options.cache)
    return own


def _named(code: str, selection: list[str]) -> bool:
    """Whether `code` itself (not a prefix such as NC6) was selected. Comparing the whole archive
    for near copies costs `newsctl dups`' time, which a whole-archive run only pays when asked."""
    return code in (item.strip().upper() for item in selection)


def _enabled_codes(settings: Settings, options: ValidateOptions) -> frozenset[str]:
    """Layers as in ruff: the settings' select/ignore, then the command line's. A --select starts
    the selection afresh; an --ignore alone removes codes from the configured selection."""
    origin = settings.origins.get("select") or settings.origins.get("ignore") or "settings"
    configured = resolve_selection(settings.select, settings.ignore, f"{origin}: select/ignore")
    if options.select:
        return resolve_selection(options.select, options.ignore)
    if options.ignore:
        return configured - resolve_selection(options.ignore, [], "--ignore")
    return configured


def make_context(settings: Settings) -> CheckContext:
    layouts = set(settings.layouts)
    layouts_dir = settings.root / "_layouts"
    if layouts_dir.is_dir():
        layouts |= {entry.name.rsplit(".", 1)[0] for entry in os.scandir(layouts_dir) if entry.is_file()}
    from newsctl.jekyll.view import site_for

    return CheckContext(zone_name=settings.timezone, tz=settings.tz,
                        now=datetime.now(timezone.utc), future_tolerance=settings.future_tolerance,
                        layouts=frozenset(layouts), max_title_length=settings.max_title_length,
                        site=site_for(settings.root, settings.tz), date_fix=settings.date_fix)


# ---- which files -------------------------------------------------------------------------------------

def _explicit_targets(paths: list[Path]) -> list[str]:
    missing = [str(path) for path in paths if not os.path.lexists(path)]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    targets: dict[str, None] = {}
    for path in expand_paths(paths):
        targets.setdefault(os.path.abspath(path), None)
    return list(targets)


def _neighbour_facts(results: list[FileResult], ctx: CheckContext, find: FindNeighbours,
                     cache: FactCache | None) -> list[PostFacts]:
    """Facts of the archive files the given files must be compared with (see the module docs):
    same-day files are read (or their facts taken from the cache), files with the same id are
    known by name. Names only are listed."""
    targets = {path for path, _, _ in results}
    ids = {fact.id for _, _, fact in results}
    days = {fact.day for _, _, fact in results if fact.day}
    days |= {_local_day(fact.moment, ctx) for _, _, fact in results if fact.moment is not None}
    facts: list[PostFacts] = []
    same_day: dict[str, list[str]] = {}
    for folder, names in find(days, ids):
        for name in names:
            path = f"{folder}/{name}"
            if path in targets:
                continue
            if name[:10] in days and os.path.isfile(path):
                same_day.setdefault(name[:10], []).append(path)
            else:
                facts.append(name_facts(path))

    def read(path: str) -> PostFacts:
        return post_facts(read_post(Path(path)), ctx)

    for day, paths in same_day.items():
        if cache is None:
            facts += map(read, paths)
        else:
            known = [fact for _, _, fact in results if fact.day == day]
            facts += cache.day_facts(day, paths, read, known)
    return facts


def _local_day(moment: float, ctx: CheckContext) -> str:
    return datetime.fromtimestamp(moment, ctx.tz).date().isoformat()


# ---- checking ----------------------------------------------------------------------------------------

def check_files(paths: list[str], ctx: CheckContext, notes: list[str]) -> list[FileResult]:
    """Findings and facts of each file; worker processes for large archives, in input order.
    Why the workers were given up, if they were, goes to `notes`."""
    from newsctl.parallel import map_chunks

    chunks = map_chunks(check_chunk, paths, ctx, chunk_size=FILES_PER_TASK, threshold=PARALLEL_THRESHOLD + 1,
                        notes=notes, read_ahead=True)
    return [result for chunk in chunks for result in chunk]


def check_chunk(paths: list[str], ctx: CheckContext) -> list[FileResult]:
    return [check_one(read_post(Path(path)), ctx) for path in paths]


def check_one(post: Post, ctx: CheckContext) -> FileResult:
    return str(post.path), check_post(post, ctx), post_facts(post, ctx)


# ---- fixing ------------------------------------------------------------------------------------------

def _apply_fixes(results: list[FileResult], ctx: CheckContext, enabled: frozenset[str],
                 report: Report) -> list[FileResult]:
    """Fix what is fixable. Each file is replaced by compare-and-swap (fsutil.replace_if_unchanged): a
    file that changed since it was read is left alone and listed in `report.not_fixed`, as is a file
    that could not be written (then the rest is not tried: the disk is full or read-only)."""
    updated = []
    stopped: str | None = None
    for path, findings, facts in results:
        if stopped or not any(f.fixable and f.code in enabled for f in findings):
            if stopped and any(f.fixable and f.code in enabled for f in findings):
                report.not_fixed.append((path, stopped))
            updated.append((path, findings, facts))
            continue
        try:
            data = read_regular(Path(path))
        except OSError as exc:
            report.not_fixed.append((path, f"cannot read it again: {exc.strerror or exc}"))
            updated.append((path, findings, facts))
            continue
        post = parse_post(data, Path(path))
        fixed_text = fixed_version(post, ctx, enabled)
        if fixed_text == post.raw:
            updated.append((path, findings, facts))
            continue
        after = check_one(parse_post(fixed_text.encode("utf-8"), post.path), ctx)
        moves = _date_fix_effects(findings, enabled)
        if report.diff_mode:
            report.fixed += _count_fixed(findings, after[1], enabled)
            report.fixed_files += 1
            report.date_fixes += [(path, effect) for effect in moves]
            preamble = "".join(f"# NC306 --fix {effect}\n" for effect in moves)  # patch and git apply skip it
            report.diffs.append(preamble + unified_diff(post.raw, fixed_text, report.display_path(path)))
            updated.append((path, findings, facts))
            continue
        try:
            replace_if_unchanged(Path(path), fixed_text.encode("utf-8"), data)
        except FileChanged:
            report.not_fixed.append((path, "changed since it was read: not fixed (run `newsctl validate "
                                           "--fix` again)"))
            updated.append((path, findings, facts))
            continue
        except OSError as exc:
            stopped = f"not fixed: cannot write: {exc.strerror or exc}"
            report.not_fixed.append((path, stopped))
            updated.append((path, findings, facts))
            continue
        report.fixed += _count_fixed(findings, after[1], enabled)
        report.fixed_files += 1
        report.date_fixes += [(path, effect) for effect in moves]
        updated.append(after)
    return updated


def _date_fix_effects(findings: list[Finding], enabled: frozenset[str]) -> list[str]:
    """What the fix of each zone-less date moves ("(keep) keeps the published instant …"), as the
    NC306 finding states it (newsctl/jekyll/datefix.py)."""
    marker = "; --fix "
    return [finding.message.split(marker, 1)[1] for finding in findings
            if finding.code == DATE_WITHOUT_ZONE.code and finding.code in enabled and marker in finding.message]


def fixed_version(post: Post, ctx: CheckContext, enabled: frozenset[str]) -> str:
    """The post's text with every enabled, fixable problem repaired (repeated while fixes reveal more)."""
    current = post
    for _ in range(MAX_FIX_PASSES):
        codes = {f.code for f in check_post(current, ctx) if f.fixable and f.code in enabled}
        if not codes:
            break
        text = fix_text(current.raw, codes, post.path, ctx.tz, ctx)
        if text == current.raw:
            break
        current = parse_post(text.encode("utf-8"), post.path)
    return current.raw


def _count_fixed(before: Iterable[Finding], after: Iterable[Finding], enabled: frozenset[str]) -> int:
    def counts(findings: Iterable[Finding]) -> dict[str, int]:
        tally: dict[str, int] = {}
        for finding in findings:
            if finding.code in enabled:
                tally[finding.code] = tally.get(finding.code, 0) + 1
        return tally

    old, new = counts(before), counts(after)
    return sum(max(0, number - new.get(code, 0)) for code, number in old.items())


def unified_diff(old: str, new: str, label: str) -> str:
    """A unified diff that `git apply` / `patch -p1` accept; lines split on LF only."""
    lines = difflib.unified_diff(_lines(old), _lines(new), f"a/{label}", f"b/{label}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines
