"""Command line of the suite.

python -m benchmarks [--sizes 1000,20000,100000] [--repeat N] [--queries N] [--out docs/benchmarks.md]
                     [--smoke] [--work DIR] [--engines newsctl,whoosh,tantivy,ripgrep]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.corpus import REPO_ROOT
from benchmarks.engines import all_engines
from benchmarks.report import render
from benchmarks.suite import Settings, Suite, log

DEFAULT_WORK = Path(os.environ.get("NEWSCTL_BENCH_WORK", Path(tempfile.gettempdir()) / "newsctl-bench"))
ENGINE_NAMES = [e.name for e in all_engines()]


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be comma-separated integers, got {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _engines(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ENGINE_NAMES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(ENGINE_NAMES)}")
    return names


def parse_settings(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Measure newsctl against its peers.")
    parser.add_argument("--sizes", type=_sizes, default=None, help="archive sizes (default 1000,20000,100000)")
    parser.add_argument("--repeat", type=int, default=None, help="runs of each build/update/validate (default 3)")
    parser.add_argument("--search-repeat", type=int, default=1, help="timed runs of each query (default 1)")
    parser.add_argument("--queries", type=int, default=None, help="queries per archive (default 60)")
    parser.add_argument("--startup-runs", type=int, default=None, help="runs per start-up measure (default 20)")
    parser.add_argument("--out", type=Path, default=None, help="report path (default docs/benchmarks.md)")
    parser.add_argument(
        "--work",
        type=Path,
        default=DEFAULT_WORK,
        help=f"cache of archives and indexes (default {DEFAULT_WORK}; env NEWSCTL_BENCH_WORK)",
    )
    parser.add_argument("--seed", type=int, default=20220601, help="seed for queries and archive changes")
    parser.add_argument("--engines", type=_engines, default=ENGINE_NAMES, help="comma-separated subset")
    parser.add_argument("--jobs", type=int, default=None, help="passed to `newsctl index --jobs`")
    parser.add_argument(
        "--reuse-indexes",
        action="store_true",
        help="search the indexes an earlier run left in --work instead of building (no build measured)",
    )
    parser.add_argument(
        "--long-build",
        type=float,
        default=300.0,
        help="a full build that took longer than this many seconds is not repeated (default 300)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1k posts, one repetition, a few queries; report to a temp file unless --out is given",
    )
    args = parser.parse_args(argv)
    if any(v is not None and v < 1 for v in (args.repeat, args.queries, args.startup_runs, args.search_repeat)):
        parser.error("--repeat, --search-repeat, --queries and --startup-runs must be at least 1")
    smoke = bool(args.smoke)
    out = args.out or (
        Path(tempfile.mkdtemp(prefix="newsctl-bench-")) / "benchmarks.md"
        if smoke
        else REPO_ROOT / "docs" / "benchmarks.md"
    )
    return Settings(
        sizes=args.sizes or ([1000] if smoke else [1000, 20000, 100000]),
        repeat=args.repeat or (1 if smoke else 3),
        search_repeat=args.search_repeat,
        queries=args.queries or (5 if smoke else 60),
        startup_runs=args.startup_runs or (3 if smoke else 20),
        warmup_queries=1 if smoke else 3,
        out=out.resolve(),
        work=args.work.resolve(),
        seed=args.seed,
        smoke=smoke,
        engines=args.engines,
        newsctl_jobs=args.jobs,
        long_build_s=args.long_build,
        reuse_indexes=args.reuse_indexes,
        argv=argv,
    )


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(sys.argv[1:] if argv is None else argv)
    settings.work.mkdir(parents=True, exist_ok=True)
    result = Suite(settings).run()
    write_atomically(settings.out, render(result))
    raw = settings.work / "last-results.json"
    write_atomically(raw, json.dumps(asdict(result), ensure_ascii=False, indent=1, default=str))
    log(f"report: {settings.out} (raw results: {raw})")
    print(settings.out)
    return 0
