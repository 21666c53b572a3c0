"""Markdown report: targets first, then the machine, the exact commands and one table per measure."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from benchmarks.hugepost import TARGET_ROW as HUGE_TARGET_ROW
from benchmarks.measures import BuildRow, SearchRow, TimedRow
from benchmarks.queries import KINDS
from benchmarks.stats import Spread
from benchmarks.suite import SuiteResult, command_line

MB = 1024 * 1024
GB = 10**9
ENGINE_ORDER = ("newsctl", "whoosh", "tantivy", "ripgrep")
ENGINE_LABELS = {"newsctl": "newsctl", "whoosh": "naive Whoosh", "tantivy": "Tantivy", "ripgrep": "ripgrep"}


def seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def spread_range(spread: Spread | None) -> str:
    return f"{seconds(spread.low)} – {seconds(spread.high)}" if spread else "n/a"


def megabytes(value: int | None) -> str:
    return f"{value / MB:.1f} MB" if value else "n/a"


def ratio(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "n/a"


def times(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "n/a"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


FULL_SIZE = 100_000  # the archive size the targets are set for


@dataclass
class Target:
    name: str
    measured: str
    met: bool | None  # None: could not be measured
    size: int | None = None  # archive size it was judged at

    def row(self) -> list[str]:
        verdict = {True: "met", False: "**missed**", None: "n/a"}[self.met]
        if self.met is not None and self.size is not None and self.size < FULL_SIZE:
            verdict += " (provisional: below 100k posts)"
        return [self.name, str(self.size) if self.size else "", self.measured, verdict]


class TargetCheck:
    """Evaluates the issue's targets at the biggest archive measured for each."""

    def __init__(self, result: SuiteResult) -> None:
        self.result = result

    def _search(self, engine: str) -> SearchRow | None:
        rows = [r for r in self.result.searches if r.engine == engine and r.latency]
        return max(rows, key=lambda r: r.size) if rows else None

    def _build(self, engine: str) -> BuildRow | None:
        rows = [r for r in self.result.builds if r.engine == engine and r.wall]
        return max(rows, key=lambda r: r.size) if rows else None

    def _timed(self, rows: Sequence[TimedRow], name: str) -> TimedRow | None:
        found = [r for r in rows if r.name == name and r.wall]
        return max(found, key=lambda r: r.size) if found else None

    def targets(self) -> list[Target]:
        return [*self._search_targets(), *self._build_targets(), *self._other_targets()]

    def _search_targets(self) -> list[Target]:
        own, rg, whoosh = self._search("newsctl"), self._search("ripgrep"), self._search("whoosh")
        name = "search p50 <= 0.25 s at 100k posts"
        if own is None or own.latency is None:
            first = Target(name, "n/a", None)
        else:
            first = Target(name, seconds(own.latency.median), own.latency.median <= 0.25, own.size)
        return [
            first,
            self._versus("search p50 faster than ripgrep", own, rg, 1.0),
            self._versus("search p50 >= 5x faster than naive Whoosh", own, whoosh, 5.0),
        ]

    def _versus(self, name: str, own: SearchRow | None, peer: SearchRow | None, factor: float) -> Target:
        if not (own and peer and own.latency and peer.latency) or own.size != peer.size:
            return Target(name, "n/a", None)
        speedup = peer.latency.median / own.latency.median
        met = speedup >= factor if factor > 1 else speedup > 1
        measured = f"{speedup:.1f}x ({seconds(own.latency.median)} vs {seconds(peer.latency.median)})"
        return Target(name, measured, met, own.size)

    def _build_targets(self) -> list[Target]:
        own, whoosh = self._build("newsctl"), self._build("whoosh")
        out = [Target("index throughput >= 2x naive Whoosh", "n/a", None)]
        if own and whoosh and own.size == whoosh.size and own.posts_per_s and whoosh.posts_per_s:
            speedup = own.posts_per_s / whoosh.posts_per_s
            measured = f"{speedup:.1f}x ({own.posts_per_s:.0f} vs {whoosh.posts_per_s:.0f} posts/s)"
            out[0] = Target(out[0].name, measured, speedup >= 2, own.size)
        if own is None:
            return [
                *out,
                Target("index build peak RSS < 1 GB", "n/a", None),
                Target("index size <= 3x archive text", "n/a", None),
            ]
        rss = own.peak_rss_bytes
        out.append(Target("index build peak RSS < 1 GB", megabytes(rss), None if rss is None else rss < GB, own.size))
        size_ratio = own.index_bytes / own.text_bytes if own.index_bytes and own.text_bytes else None
        met = None if size_ratio is None else size_ratio <= 3
        out.append(Target("index size <= 3x archive text", times(size_ratio), met, own.size))
        return out

    def _other_targets(self) -> list[Target]:
        checks: list[tuple[str, Sequence[TimedRow], str, Callable[[TimedRow], tuple[str, bool]]]] = [
            ("incremental add 1 post <= 1 s", self.result.incremental, "add 1 post", _at_most(1.0)),
            ("incremental no-change run <= 1 s", self.result.incremental, "no change", _at_most(1.0)),
            ("validate >= 5000 posts/s", self.result.validate, "validate whole archive", _throughput(5000)),
            ("validate 5 files <= 0.3 s", self.result.startup, "validate 5 files (pre-commit style)", _at_most(0.3)),
            ("newsctl --help <= 0.15 s", self.result.startup, "newsctl --help", _at_most(0.15)),
            ("dups <= 30 s (no signature store)", self.result.dups, "dups, no signature store (first run)",
             _at_most(30.0)),
            ("dups peak RSS <= 1 GB", self.result.dups, "dups, no signature store (first run)", _rss_at_most(GB)),
        ]
        out = []
        for name, rows, row_name, judge in checks:
            row = self._timed(rows, row_name)
            out.append(Target(name, *judge(row), row.size) if row else Target(name, "n/a", None))
        out.append(self._huge_target())
        return out

    def _huge_target(self) -> Target:
        name = "huge post <= 5 s, <= +300 MB (index a 4.8 MB post)"
        row = next((r for r in self.result.huge if r.name == HUGE_TARGET_ROW and r.wall), None)
        if row is None or row.wall is None or row.extra_rss_bytes is None:
            return Target(name, "n/a", None)
        extra = row.extra_rss_bytes
        measured = f"{seconds(row.wall.median)}, +{megabytes(extra)}"
        return Target(name, measured, row.wall.median <= 5.0 and extra <= 300 * MB)


def _at_most(limit: float) -> Callable[[TimedRow], tuple[str, bool]]:
    def judge(row: TimedRow) -> tuple[str, bool]:
        assert row.wall is not None
        return seconds(row.wall.median), row.wall.median <= limit

    return judge


def _rss_at_most(limit: int) -> Callable[[TimedRow], tuple[str, bool]]:
    def judge(row: TimedRow) -> tuple[str, bool]:
        return megabytes(row.peak_rss_bytes), row.peak_rss_bytes is not None and row.peak_rss_bytes <= limit

    return judge


def _throughput(minimum: float) -> Callable[[TimedRow], tuple[str, bool]]:
    def judge(row: TimedRow) -> tuple[str, bool]:
        value = row.throughput or 0.0
        return f"{value:.0f} posts/s", value >= minimum

    return judge


def _engine_key(name: str) -> int:
    return ENGINE_ORDER.index(name) if name in ENGINE_ORDER else len(ENGINE_ORDER)


def render(result: SuiteResult) -> str:
    settings = result.settings
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command_line(settings.argv)}` on {result.started}; the run took "
        f"{result.duration_s / 60:.1f} min. Every time is the wall time of a whole fresh process.",
        "",
    ]
    if settings.smoke:
        lines += [
            "**Smoke run**: tiny archive, one repetition, few queries; the numbers prove only that the suite works.",
            "",
        ]
    for section in (
        _summary,
        _machine,
        _commands,
        _archives,
        _builds,
        _incremental,
        _search,
        _recall,
        _validate,
        _startup,
        _dups,
        _huge,
        _queries,
        _notes,
    ):
        lines += section(result)
    return "\n".join(lines).rstrip() + "\n"


def _summary(result: SuiteResult) -> list[str]:
    targets = TargetCheck(result).targets()
    return [
        "## Summary",
        "",
        "Targets from the issue, judged at the biggest archive measured.",
        "",
        *table(["target", "archive posts", "measured", "result"], [t.row() for t in targets]),
    ]


def _machine(result: SuiteResult) -> list[str]:
    return ["## Machine", "", *table(["item", "value"], [[k, v] for k, v in result.machine.items()])]


def _commands(result: SuiteResult) -> list[str]:
    cmds = ["# the whole suite", command_line(result.settings.argv), "", "# archives"]
    cmds += [shlex.join(a.command) for a in result.archives]
    cmds += ["", "# builds (repeated; peers start from an empty index dir)"]
    seen: set[str] = set()
    for row in sorted(result.builds, key=lambda r: -r.size):
        if row.engine not in seen:
            seen.add(row.engine)
            cmds.append(shlex.join(row.command))
    cmds += ["", "# searches (QUERY: one argument per term)"]
    seen.clear()
    for search in sorted(result.searches, key=lambda r: -r.size):
        if search.engine not in seen:
            seen.add(search.engine)
            cmds.append(shlex.join(search.command))
    cmds += ["", "# newsctl: incremental update, validate, start-up"]
    others = [*result.incremental[:1], *result.validate[-1:], *result.startup, *result.dups[:1]]
    cmds += [shlex.join(r.command) for r in others]
    definitions = [
        "- Post bytes: the size of the post files; MB/s and the index/archive ratio are relative to it.",
        "- Peak RSS: the larger of GNU time's maximum RSS and the RSS summed over the process tree, "
        "sampled every 0.1 s.",
        "- Search: one fresh process per query, after warm-up queries (warm page cache); p50/p95 over the "
        "queries. Recall and precision are per query, averaged, against exact substring matching over each "
        "post's title + body text with markup stripped, NFKC and case folded (for a traditional-Chinese query, "
        "its simplified form). Several terms: a post must contain each.",
        "- ripgrep searches the raw post files (`_posts/`, `old_post/`); several terms are ANDed by piping "
        "file lists through `xargs rg -l`.",
        "- Incremental: `newsctl index` after the change, in the biggest archive, which is restored "
        "(bytes and mtimes) and re-indexed afterwards.",
    ]
    return ["## Commands", "", "```bash", *cmds, "```", "", *definitions, ""]


def _archives(result: SuiteResult) -> list[str]:
    rows = [[str(a.size), str(a.files), megabytes(a.raw_bytes), a.generator, a.root] for a in result.archives]
    return ["## Archives", "", *table(["posts", "files", "post bytes", "generator", "path"], rows)]


def _builds(result: SuiteResult) -> list[str]:
    rows = []
    for r in sorted(result.builds, key=lambda r: (r.size, _engine_key(r.engine))):
        if r.error:
            rows.append(
                [str(r.size), ENGINE_LABELS.get(r.engine, r.engine), "n/a", "", "", "", "", "", f"error: {r.error}"]
            )
            continue
        size_ratio = r.index_bytes / r.text_bytes if r.index_bytes and r.text_bytes else None
        rows.append(
            [
                str(r.size),
                ENGINE_LABELS.get(r.engine, r.engine),
                seconds(r.wall.median if r.wall else None),
                spread_range(r.wall),
                f"{r.posts_per_s:.0f}" if r.posts_per_s else "n/a",
                f"{r.mb_per_s:.2f}" if r.mb_per_s else "n/a",
                megabytes(r.peak_rss_bytes),
                megabytes(r.index_bytes),
                times(size_ratio),
            ]
        )
    header = [
        "posts",
        "engine",
        "wall (median)",
        "min – max",
        "posts/s",
        "MB/s",
        "peak RSS",
        "index size",
        "index / post bytes",
    ]
    runs = (f"Full build, {result.settings.repeat} run(s) each; a build that took longer than "
            f"{result.settings.long_build_s:g} s was not repeated (the runs column says).")
    return ["## Index build", "", runs, "", *table(header, rows)]


def _timed_rows(rows: Sequence[TimedRow], with_throughput: bool = False) -> list[list[str]]:
    out = []
    for r in rows:
        cells = [
            r.name,
            str(r.size),
            seconds(r.wall.median) if r.wall else "n/a",
            spread_range(r.wall),
            str(r.wall.n) if r.wall else "0",
        ]
        if with_throughput:
            cells.append(f"{r.throughput:.0f}" if r.throughput else "n/a")
        cells.append(f"error: {r.error}" if r.error else "")
        out.append(cells)
    return out


def _incremental(result: SuiteResult) -> list[str]:
    header = ["operation", "posts", "median", "min – max", "runs", "note"]
    return [
        "## Incremental update",
        "",
        "Whole-process time of `newsctl index` after each change.",
        "",
        *table(header, _timed_rows(result.incremental)),
    ]


def _search(result: SuiteResult) -> list[str]:
    rows = []
    for r in sorted(result.searches, key=lambda r: (r.size, _engine_key(r.engine))):
        lat = r.latency
        rows.append(
            [
                str(r.size),
                ENGINE_LABELS.get(r.engine, r.engine),
                seconds(lat.median if lat else None),
                seconds(lat.p95 if lat else None),
                spread_range(lat),
                f"{r.ok}/{r.total}",
                ratio(r.recall),
                ratio(r.precision),
                str(r.empty),
                _first_error(r.errors),
            ]
        )
    header = ["posts", "engine", "p50", "p95", "min – max", "queries ok", "recall", "precision", "no result", "note"]
    return [
        "## Search",
        "",
        f"Untimed warm-up: the first {result.settings.warmup_queries} query(s) per engine; then "
        f"{result.settings.search_repeat} timed run(s) per query (median taken).",
        "",
        *table(header, rows),
    ]


def _first_error(errors: Sequence[str]) -> str:
    if not errors:
        return ""
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"error: {errors[0][:160]}{more}"


def _recall(result: SuiteResult) -> list[str]:
    engines = sorted({r.engine for r in result.searches}, key=_engine_key)
    rows = []
    for size in sorted({r.size for r in result.searches}):
        by_engine = {r.engine: r for r in result.searches if r.size == size}
        for kind in KINDS:
            count = sum(1 for q in result.queries if q.size == size and q.kind == kind)
            if count:
                rows.append(
                    [
                        str(size),
                        kind,
                        str(count),
                        *[ratio(by_engine[e].recall_by_kind.get(kind)) if e in by_engine else "n/a" for e in engines],
                    ]
                )
    header = ["posts", "query kind", "queries", *[ENGINE_LABELS.get(e, e) for e in engines]]
    return ["## Recall by query kind", "", *table(header, rows)]


def _dups(result: SuiteResult) -> list[str]:
    rows = [[*cells[:-1], megabytes(r.peak_rss_bytes), cells[-1]]
            for r, cells in zip(result.dups, _timed_rows(result.dups), strict=True)]
    header = ["command", "posts", "median", "min – max", "runs", "peak RSS", "note"]
    return ["## Near duplicates (`newsctl dups`)", "", *table(header, rows)]


def _huge(result: SuiteResult) -> list[str]:
    """`benchmarks.hugepost`: each row against the same archive (sample_posts) without the huge posts."""
    rows = []
    for row in result.huge:
        if row.wall is None or row.base_wall is None:
            rows.append([row.name, str(row.posts), "", "", "", "", "", row.error or ""])
            continue
        extra = row.extra_rss_bytes
        rows.append([row.name, str(row.posts), seconds(row.wall.median), spread_range(row.wall),
                     seconds(row.base_wall.median), megabytes(row.peak_rss_bytes),
                     f"+{megabytes(extra)}" if extra is not None else "", ""])
    if not rows:
        return []
    header = ["`index --rebuild` of sample_posts plus", "huge posts", "median", "min – max", "without them",
              "peak RSS", "above the usual peak", "note"]
    return ["## Huge posts", "", "4.8 MB posts (just below the 5 MB limit above which a post is skipped, NC105): "
            "generated worst-case text (~400,000 distinct bigrams each) and ../shared's real bodies, repeated.",
            "", *table(header, rows)]


def _validate(result: SuiteResult) -> list[str]:
    header = ["command", "posts", "median", "min – max", "runs", "posts/s", "note"]
    return ["## Validate", "", *table(header, _timed_rows(result.validate, with_throughput=True))]


def _startup(result: SuiteResult) -> list[str]:
    rows = [
        [*cells[:-1], r.tool, cells[-1]] for r, cells in zip(result.startup, _timed_rows(result.startup), strict=True)
    ]
    header = ["command", "archive posts", "median", "min – max", "runs", "timed with", "note"]
    return ["## Start-up", "", *table(header, rows)]


def _queries(result: SuiteResult) -> list[str]:
    lines = ["## Queries", "", f"Drawn with seed {result.settings.seed} from each archive's own posts.", ""]
    for size in sorted({q.size for q in result.queries}):
        rows = [[q.kind, f"`{q.text}`", str(q.truth)] for q in result.queries if q.size == size]
        lines += [
            "<details><summary>" + f"{len(rows)} queries at {size} posts" + "</summary>",
            "",
            *table(["kind", "query", "posts containing it"], rows),
            "</details>",
            "",
        ]
    return lines


def _notes(result: SuiteResult) -> list[str]:
    timing = [f"- {name}: {secs:.1f} s" for name, secs in result.section_seconds.items()]
    notes = [f"- {n}" for n in result.notes] or ["- none"]
    return ["## Notes", "", *notes, "", "Time spent per part of this run:", "", *timing, ""]
