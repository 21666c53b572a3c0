"""Every command on an archive full of defective posts: a finding or an error naming the file (and
line), the documented exit code, no traceback, no hang, bounded memory, and no file changed.

The archive is built once per module from tests/hostile.py; each command runs once on it (in a
child process with a timeout and RLIMIT_AS), and the per-case tests read those runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hostile import (
    TRACEBACK_MARKERS,
    Hostile,
    Run,
    build_archive,
    good_posts,
    hostile_cases,
    run_batch,
    run_bounded,
    snapshot,
    write_case,
    write_feed,
)

CASES = hostile_cases()
MAIN_CASES = [case for case in CASES if case.kind != "fifo"]  # the FIFO gets its own archive below
GOODS = good_posts()
ids = [case.name for case in MAIN_CASES]


@dataclass
class HostileArchive:
    root: Path
    before: dict[str, str]
    validate: Run
    stats: Run
    index: Run
    after_index: dict[str, str]


def without_index(digests: dict[str, str]) -> dict[str, str]:
    return {rel: digest for rel, digest in digests.items() if not rel.startswith(".newsctl")}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> HostileArchive:
    root = build_archive(tmp_path_factory.mktemp("hostile") / "archive", MAIN_CASES, GOODS)
    before = snapshot(root)
    validate = run_bounded("--root", root, "validate", "--format", "json", timeout=60)
    stats = run_bounded("--root", root, "stats", "--format", "json", timeout=60)
    index = run_bounded("--root", root, "index", "--jobs", "1", timeout=90)
    return HostileArchive(root, before, validate, stats, index, snapshot(root))


def findings(run: Run) -> list[dict[str, Any]]:
    """The findings of `validate --format json`, whatever the envelope."""
    data = json.loads(run.stdout)
    if isinstance(data, dict):
        data = data.get("findings", data.get("results", []))
    assert isinstance(data, list), run
    return data


def finding_path(finding: dict[str, Any]) -> str:
    return str(finding.get("path") or finding.get("file") or finding.get("filename") or "")


def about(case: Hostile, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in items if finding_path(f).endswith(Path(case.relpath).name)]


# ---- the corpus itself --------------------------------------------------------------------------

def test_corpus_has_forty_distinct_hostile_posts() -> None:
    assert len({case.name for case in CASES}) == len(CASES) >= 40


# ---- validate ----------------------------------------------------------------------------------

def test_validate_whole_archive_exits_1_and_changes_nothing(archive: HostileArchive) -> None:
    archive.validate.assert_clean(allowed=(1,))
    assert archive.validate.seconds < 30, archive.validate
    assert without_index(archive.after_index) == archive.before


@pytest.mark.parametrize("case", MAIN_CASES, ids=ids)
def test_validate_names_each_hostile_file_and_line(archive: HostileArchive, case: Hostile) -> None:
    mine = about(case, findings(archive.validate))
    if case.kind == "directory":  # not a file: ignored, or reported by name
        return
    if not (case.fatal or case.codes or case.lines):
        return
    assert mine, f"no finding names {case.relpath}: {archive.validate}"
    if case.codes:
        assert {f.get("code") for f in mine} & set(case.codes), (case.codes, mine)
    if case.lines:
        assert {f.get("line") for f in mine} & set(case.lines), (case.lines, mine)
    if case.fatal:
        assert any(str(f.get("severity", "error")).lower() == "error" for f in mine), mine


def test_validate_each_file_alone(archive: HostileArchive) -> None:
    """Pre-commit passes files one by one: each gets exit 1 and its own name (and line) in the output."""
    before = snapshot(archive.root)
    targets = [case for case in MAIN_CASES if case.kind != "directory"]
    runs = run_batch([["--root", str(archive.root), "validate", "--format", "concise", case.relpath]
                      for case in targets], cwd=archive.root)
    problems = []
    for case, run in zip(targets, runs, strict=True):
        name = Path(case.relpath).name
        crashed = run.code not in (0, 1) or any(m in run.output for m in ("Traceback", "internal error"))
        unnamed = case.fatal and (run.code != 1 or name not in run.output)
        no_line = case.fatal and case.lines and not any(f"{name}:{line}" in run.output for line in case.lines)
        if crashed or unnamed or no_line:
            problems.append(run)
    assert not problems, "\n".join(map(repr, problems))
    assert snapshot(archive.root) == before


def test_validate_odd_paths(archive: HostileArchive) -> None:
    """A folder named like a post is no crash; a missing file is an error naming it."""
    folder = next(c for c in MAIN_CASES if c.kind == "directory").relpath
    missing = "_posts/2022-06-09-missing.md"
    runs = run_batch([["--root", str(archive.root), "validate", path] for path in (folder, missing)],
                     cwd=archive.root)
    runs[0].assert_clean(allowed=(0, 1, 2))
    runs[1].assert_clean(allowed=(1, 2))
    assert "2022-06-09-missing.md" in runs[1].output, runs[1]


# ---- index and search ---------------------------------------------------------------------------

def test_index_skips_bad_posts_and_finishes(archive: HostileArchive) -> None:
    archive.index.assert_clean(allowed=(0, 1))
    assert without_index(archive.after_index) == archive.before, "index changed a post"


@pytest.mark.parametrize("case", [c for c in MAIN_CASES if c.fatal and c.codes], ids=lambda c: c.name)
def test_index_names_each_skipped_post(archive: HostileArchive, case: Hostile) -> None:
    assert Path(case.relpath).name in archive.index.output, archive.index


def test_good_posts_beside_bad_ones_stay_searchable(archive: HostileArchive) -> None:
    """Every good post (a BOM or CRLF is only a warning) is found; a second index changes nothing."""
    runs = run_batch([*(["--root", str(archive.root), "search", "--format", "paths", "--limit", "0", good.marker]
                        for good in GOODS), ["--root", str(archive.root), "index", "--quiet"]], cwd=archive.root)
    lost = [(good.relpath, run) for good, run in zip(GOODS, runs, strict=False)
            if run.code != 0 or Path(good.relpath).name not in run.stdout]
    assert not lost, "\n".join(f"{rel} not found: {run!r}" for rel, run in lost)
    runs[-1].assert_clean(allowed=(0, 1))
    assert without_index(snapshot(archive.root)) == archive.before


# ---- stats ------------------------------------------------------------------------------------

def test_stats_counts_hostile_posts_as_invalid(archive: HostileArchive) -> None:
    archive.stats.assert_clean(allowed=(0,))
    data = json.loads(archive.stats.stdout)
    structural = [c for c in MAIN_CASES if c.fatal and c.codes]
    assert data["invalid"] >= len(structural), data
    files = [rel for rel, digest in archive.before.items() if rel.endswith(".md") and digest != "dir"]
    assert data["posts"] == len(files), data


# ---- show ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [False, True], ids=["preview", "raw"])
def test_show_each_hostile_post(archive: HostileArchive, raw: bool) -> None:
    """Shown, or refused with an error naming the file; never a traceback or a hang."""
    before = snapshot(archive.root)
    flags = ["--raw"] if raw else []
    targets = [case for case in MAIN_CASES if case.kind != "huge"]
    runs = run_batch([["--root", str(archive.root), "show", "--no-pager", *flags, case.relpath]
                      for case in targets], cwd=archive.root)
    problems = []
    for case, run in zip(targets, runs, strict=True):
        name = Path(case.relpath).name
        crashed = run.code not in (0, 1, 2) or any(m in run.output for m in ("Traceback", "internal error"))
        unnamed = run.code != 0 and name not in run.stderr and case.kind != "directory"
        if crashed or unnamed:
            problems.append(run)
    assert not problems, "\n".join(map(repr, problems))
    assert snapshot(archive.root) == before


def test_show_huge_post_is_bounded(archive: HostileArchive) -> None:
    case = next(c for c in MAIN_CASES if c.kind == "huge")
    run = run_bounded("--root", archive.root, "show", "--no-pager", case.relpath, cwd=archive.root, timeout=30)
    run.assert_clean(allowed=(0, 1, 2))
    if run.code:
        assert Path(case.relpath).name in run.stderr, run


# ---- a named pipe: reading it would block forever ----------------------------------------------

PIPE_COMMANDS = [["validate"], ["index", "--quiet"], ["stats", "--format", "json"],
                 ["search", "--update", "琥珀湾码头"], ["show", "--no-pager", "--raw"], ["show", "--no-pager"]]


def test_named_pipe_post_hangs_no_command(tmp_path: Path) -> None:
    fifo = next(c for c in CASES if c.kind == "fifo")
    root = build_archive(tmp_path / "archive", [fifo], GOODS[:1])
    runs = run_batch([["--root", str(root), *command, *([fifo.relpath] if command[0] == "show" else [])]
                      for command in PIPE_COMMANDS], per_case=8, cwd=root)
    bad = [run for run in runs if run.code not in (0, 1) or any(m in run.output for m in TRACEBACK_MARKERS)]
    assert not bad, "\n".join(map(repr, bad))
    assert runs[0].code == 1 and Path(fifo.relpath).name in runs[0].output, runs[0]
    assert runs[3].code == 0 and GOODS[0].relpath in runs[3].stdout, runs[3]


# ---- add --------------------------------------------------------------------------------------

def test_add_from_hostile_feed_adds_good_records_and_names_bad_lines(tmp_path: Path) -> None:
    root = build_archive(tmp_path / "archive", [])
    feed = write_feed(tmp_path / "feed.jsonl")
    before = snapshot(tmp_path)
    run = run_bounded("--root", root, "add", "--from-jsonl", feed.path, "--category", "emnews", "--tag", "东财",
                      cwd=tmp_path, timeout=60)
    run.assert_clean(allowed=(1,))
    for number, (name, good) in enumerate(zip(feed.names, feed.good, strict=True), start=1):
        if not good:
            assert f"feed.jsonl:{number}:" in run.stderr, (name, run)
    added = sorted(set(snapshot(tmp_path)) - set(before))
    assert [Path(p).name.split("-", 3)[-1] for p in added] == ["feedgood1.md", "feedgood2.md"], added
    assert all(p.startswith("archive/_posts/") for p in added), added
    check = run_bounded("--root", root, "validate", timeout=30)
    assert check.code == 0, check


BODY_DEFECTS = {
    "not-utf8": b"\xff\xfe\xfd body",
    "utf16": "正文".encode("utf-16"),
    "nul": b"text\x00more",
    "empty": b"",
    "whitespace": b" \n\t\n",
}
BAD_TITLES = ["第一行\n第二行", "回车\r符", "a\u2028b", "", "   ", "长" * 10000, "tab\tin", "bell\x07"]
BAD_DATES = ["yesterday", "2022-13-45", "2022-06-01 25:61:00", "06/01/2022", "", "9999-12-31", "0000-00-00",
             "2022-06-01 12:00:00 +9999", "1e400", "-1" + "0" * 400, "9" * 400, "2022-06-01T12:00:00+08:00junk"]


def add_args(root: Path, body: Path, title: str = "标题", date: str = "2022-06-01 10:00:00 +0800") -> list[str]:
    return ["--root", str(root), "add", "--title", title, "--date", date, "--category", "emnews", "--tag", "东财",
            "--source-url", "http://example.com/a", "--body-file", str(body)]


def test_add_refuses_bad_titles_dates_and_bodies_with_exit_2(tmp_path: Path) -> None:
    """Each refusal: exit 2, one message naming what is wrong (the field, or the body file)."""
    root = build_archive(tmp_path / "archive", [])
    body = tmp_path / "body.txt"
    body.write_text("<p>正文。</p>", encoding="utf-8")
    cases: list[tuple[list[str], str]] = [(add_args(root, body, title=t), "title") for t in BAD_TITLES]
    cases += [(add_args(root, body, date=d), "date") for d in BAD_DATES]
    for name, data in BODY_DEFECTS.items():
        defective = tmp_path / f"body-{name}.txt"
        defective.write_bytes(data)
        cases.append((add_args(root, defective), defective.name))
    folder = tmp_path / "folder-body"
    folder.mkdir()
    cases.append((add_args(root, folder), folder.name))
    cases.append((add_args(root, tmp_path / "missing-body.txt"), "missing-body.txt"))
    before = snapshot(root)
    runs = run_batch([args for args, _ in cases], cwd=tmp_path)
    bad = [(word, run) for (_, word), run in zip(cases, runs, strict=True)
           if run.code != 2 or word not in run.stderr or any(m in run.output for m in TRACEBACK_MARKERS)]
    assert not bad, "\n".join(f"expected exit 2 naming {word!r}: {run!r}" for word, run in bad)
    assert snapshot(root) == before


@pytest.mark.parametrize("source", ["/dev/zero", "huge"])
def test_add_body_file_that_never_ends_or_is_huge_is_bounded(tmp_path: Path, source: str) -> None:
    root = build_archive(tmp_path / "archive", [])
    huge = next(c for c in CASES if c.kind == "huge")
    body = Path(source) if source.startswith("/") else write_case(tmp_path, huge)
    before = snapshot(root)
    run = run_bounded(*add_args(root, body), timeout=30, memory=768 * 1024**2)
    run.assert_clean(allowed=(1, 2))
    assert body.name in run.stderr, run
    assert snapshot(root) == before


def test_hostile_files_given_as_bodies_never_crash_add(tmp_path: Path) -> None:
    """Any bytes as --body-file: a post is written (exit 0) or refused naming the file (exit 1/2)."""
    root = build_archive(tmp_path / "archive", [])
    bodies = tmp_path / "bodies"
    targets = [c for c in MAIN_CASES if c.kind == "file"]
    invocations = []
    for number, case in enumerate(targets):
        path = write_case(bodies, case)
        invocations.append(["--root", str(root), "add", "--force", "--title", f"正文测试{number}", "--date",
                            "2022-06-01 10:00:00 +0800", "--category", "emnews", "--tag", "东财",
                            "--source-url", f"http://example.com/{number}", "--body-file", str(path)])
    runs = run_batch(invocations, cwd=tmp_path)
    bad = [run for run in runs if run.code not in (0, 1, 2) or "Traceback" in run.output
           or "internal error" in run.output or (run.code and Path(run.args[-1]).name not in run.stderr)]
    assert not bad, "\n".join(map(repr, bad))
    written = sorted((root / "_posts").glob("*.md"))
    assert len(written) == sum(run.code == 0 for run in runs)
    check = run_bounded("--root", root, "validate", "--format", "json", timeout=60)
    assert check.code in (0, 1), check
    errors = [f for f in findings(check) if str(f.get("severity", "error")).lower() == "error"]
    assert not errors, errors


def test_no_file_outside_the_index_changed(archive: HostileArchive) -> None:
    """Last: after every command above, the hostile archive holds exactly its original bytes."""
    assert without_index(snapshot(archive.root)) == archive.before
    assert os.path.isdir(archive.root / "_posts")
