"""Hostile queries and filters: a clear one-line message (exit 2) or a search (exit 0/1), never a
traceback or a hang. The sample archive is indexed once per module."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_POSTS
from hostile import HOSTILE_QUERIES, TRACEBACK_MARKERS, Run, run_batch, run_bounded


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("queries") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    run_bounded("--root", root, "index", "--quiet", timeout=90).assert_clean(allowed=(0,))
    return root


def judge(run: Run) -> str | None:
    """What is wrong with the outcome of a search, or None."""
    if any(marker in run.output for marker in ("Traceback", "internal error")):
        return "traceback"
    if run.code == 2:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        if len(lines) != 1 or not lines[0].startswith("newsctl: error:"):
            return "exit 2 without exactly one 'newsctl: error:' line"
        return None
    if run.code not in (0, 1):
        return f"exit {run.code}"
    if "--format" in run.args and run.args[run.args.index("--format") + 1] == "json":
        try:
            data = json.loads(run.stdout or "null")
        except json.JSONDecodeError:
            return "exit 0/1 but stdout is not JSON"
        if run.code == 0 and not data:
            return "exit 0 without results"
    return None


@pytest.mark.parametrize("output", ["json", "plain"])
def test_hostile_queries_get_a_message_or_a_search(indexed: Path, output: str) -> None:
    runs = run_batch([["--root", str(indexed), "search", "--format", output, "--", query]
                      for query in HOSTILE_QUERIES], per_case=20, timeout=150)
    bad = [(judge(run), run) for run in runs if judge(run)]
    assert not bad, "\n".join(f"{why}: {run!r}" for why, run in bad)


def test_hostile_queries_parse_or_raise_query_error() -> None:
    from newsctl.engine.querylang import QueryError, parse_query

    for query in HOSTILE_QUERIES:
        try:
            parse_query(query)
        except QueryError as exc:
            assert str(exc).strip(), f"empty message for {query[:40]!r}"


@pytest.mark.parametrize("query", ['"信也科技', "(信也", "信也 OR", "NOT", "title:", "", "   "],
                         ids=["open-quote", "open-paren", "trailing-or", "lone-not", "empty-field", "empty",
                              "blank"])
def test_unusable_queries_are_usage_errors_or_searches_in_a_real_process(indexed: Path, query: str) -> None:
    run = run_bounded("--root", indexed, "search", "--format", "json", query, timeout=30)
    assert judge(run) is None, run


def test_ten_thousand_character_queries_are_bounded(indexed: Path) -> None:
    queries = ["信也科技" * 2500, " OR ".join(["信也"] * 2000), '"' + "马" * 9998 + '"', "title:" + "x" * 9994,
               " ".join(f"-词{n}" for n in range(2500))]
    runs = run_batch([["--root", str(indexed), "search", "--format", "json", "--", q] for q in queries],
                     per_case=15)
    for run in runs:
        assert judge(run) is None, run
        assert run.seconds < 10, run


MISTAKES = [["search"], ["search", "--limit", "x", "信也"], ["search", "--sort", "up", "信也"], ["show"],
            ["search", "--format", "yaml", "信也"], ["search", "--limit", "-1", "信也"]]


def test_command_line_mistakes_are_usage_errors(indexed: Path) -> None:
    runs = run_batch([["--root", str(indexed), *args] for args in MISTAKES])
    bad = [run for run in runs if run.code != 2 or any(m in run.output for m in TRACEBACK_MARKERS)]
    assert not bad, "\n".join(map(repr, bad))


def test_valid_query_beside_hostile_ones_still_finds(indexed: Path) -> None:
    """A control: the index answers real queries, so exit 1 above is not an empty index."""
    run = run_bounded("--root", indexed, "search", "--format", "json", "信也科技", timeout=30)
    assert run.code == 0 and json.loads(run.stdout), run


HOSTILE_FILTERS = [
    ["--since", "garbage"], ["--until", "2022-13-45"], ["--since", "7x"], ["--since", "-7d"],
    ["--since", "9" * 400 + "d"], ["--until", ""], ["--since", "2022-06-03", "--until", "2022-05-01"],
    ["--tag", ""], ["--category", "\x00"], ["--stock", "😀"], ["--stock", "(" * 100], ["--offset", "999999999"],
    ["--limit", "0", "--offset", "0"], ["--tag", '"'], ["--category", "OR"],
]


def test_hostile_filters_get_a_message_or_a_search(indexed: Path) -> None:
    runs = run_batch([["--root", str(indexed), "search", "--format", "json", *flags, "信也"]
                      for flags in HOSTILE_FILTERS], per_case=20, timeout=120)
    bad = [(judge(run), run) for run in runs if judge(run)]
    assert not bad, "\n".join(f"{why}: {run!r}" for why, run in bad)


def test_hostile_highlight_in_show_is_a_message_or_a_preview(indexed: Path) -> None:
    post = "_posts/2022-06-01-202206012398184598.md"
    runs = run_batch([["--root", str(indexed), "show", "--no-pager", f"--highlight={query}", post]
                      for query in HOSTILE_QUERIES], per_case=20, timeout=150, cwd=indexed)
    bad = [run for run in runs if run.code not in (0, 2) or "Traceback" in run.output
           or "internal error" in run.output]
    assert not bad, "\n".join(map(repr, bad))


def test_search_without_an_index_is_a_clear_message(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    run = run_bounded("--root", root, "search", "信也", timeout=30)
    run.assert_clean(allowed=(1, 2))
    assert "index" in run.stderr, run


def test_corrupt_index_is_a_clear_message_not_a_traceback(indexed: Path, tmp_path: Path) -> None:
    """Junk where the index files are: search says so (and how to rebuild) instead of crashing."""
    root = tmp_path / "archive"
    shutil.copytree(indexed, root)
    index_dir = root / ".newsctl"
    for path in sorted(index_dir.rglob("*")):
        if path.is_file() and path.stat().st_size > 0 and "lock" not in path.name.lower():
            path.write_bytes(b"\x00garbage" * 64)
    run = run_bounded("--root", root, "search", "--format", "json", "信也", timeout=30)
    run.assert_clean(allowed=(1, 2))
    assert "index" in run.stderr, run
    rebuilt = run_bounded("--root", root, "index", "--rebuild", "--quiet", timeout=60)
    rebuilt.assert_clean(allowed=(0,))
    again = run_bounded("--root", root, "search", "--format", "json", "信也科技", timeout=30)
    assert again.code == 0 and json.loads(again.stdout), again
