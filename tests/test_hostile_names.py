"""Hostile file names (issue 11): a newline cannot forge a finding line or split a path list, an ESC or
CR is never printed raw, in any human format; `search --format paths -0/--null` gives exact names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from faultkit import copy_sample
from hostile import Run, post_text, run_batch, run_bounded

NAMES = {  # file name -> a phrase only that post holds
    "2022-06-01-nl\nforged.md": "琥珀湾码头",
    "2022-06-02-esc\x1b[31mred.md": "青石岭水库",
    "2022-06-03-cr\rback.md": "银杏路夜市",
    "2022-06-04-bell\x07tab\there.md": "白鹭洲渡口",
}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")  # raw controls other than tab and newline
FINDING = re.compile(r"^.+:\d+:\d+: NC\d{3} ")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_sample(tmp_path_factory.mktemp("names") / "archive")
    for number, (name, phrase) in enumerate(NAMES.items()):
        day = name[:10]
        text = post_text(title=f"{phrase}最新消息", date=f"{day} 09:00:00 +0800",
                         body=f"<p>{phrase}今日开放。</p>   ", post_id=f"{day.replace('-', '')}9900000{number}")
        (root / "_posts" / name).write_text(text, encoding="utf-8")  # trailing spaces: an NC701 finding
    run_bounded("--root", root, "index", "--quiet", timeout=120).assert_clean(allowed=(0,))
    return root


def raw_controls(text: str) -> list[str]:
    return sorted(set(CONTROL.findall(text)))


def no_raw_controls(run: Run) -> None:
    found = raw_controls(run.stdout + run.stderr)
    assert not found, f"raw control characters {found!r} in the output of {run.args[2:5]}: {run!r}"


def test_validate_concise_lines_cannot_be_forged(archive: Path) -> None:
    run = run_bounded("--root", archive, "validate", "--format", "concise", timeout=60)
    run.assert_clean(allowed=(0, 1))
    no_raw_controls(run)
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    findings = [line for line in lines if FINDING.match(line)]
    others = [line for line in lines if not FINDING.match(line)]
    assert all(line.startswith(("Found", "All ", "Fixed", "No ")) for line in others), others
    assert not any(line.startswith("forged.md") for line in lines), lines
    for head, tail in (("2022-06-01-nl", "forged.md"), ("2022-06-02-esc", "red.md"), ("2022-06-03-cr", "back.md"),
                       ("2022-06-04-bell", "here.md")):
        assert any(head in line and tail in line for line in findings), (head, findings)


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_validate_other_human_formats_escape_names(archive: Path, fmt: str) -> None:
    run = run_bounded("--root", archive, "validate", "--format", fmt, timeout=60)
    run.assert_clean(allowed=(0, 1))
    no_raw_controls(run)
    if fmt == "github":
        assert all(line.startswith("::") for line in run.stdout.splitlines() if line.strip() and "::" in line[:2]), run
        assert not any(line.startswith("forged.md") for line in run.stdout.splitlines()), run


def test_validate_json_keeps_exact_names(archive: Path) -> None:
    run = run_bounded("--root", archive, "validate", "--format", "json", timeout=60)
    run.assert_clean(allowed=(0, 1))
    paths = {Path(item["path"]).name for item in json.loads(run.stdout)}
    assert set(NAMES) <= paths


def test_search_paths_one_escaped_line_per_result(archive: Path) -> None:
    runs = run_batch([["--root", str(archive), "search", "--format", "paths", "--limit", "0", phrase]
                      for phrase in NAMES.values()])
    for run, name in zip(runs, NAMES, strict=True):
        assert run.code == 0, run
        no_raw_controls(run)
        lines = run.stdout.splitlines()
        assert len(lines) == 1, f"{name!r}: one result printed as {len(lines)} lines: {lines}"


@pytest.mark.parametrize("flag", ["-0", "--null"])
def test_search_paths_null_separated_are_exact(archive: Path, flag: str) -> None:
    runs = run_batch([["--root", str(archive), "search", "--format", "paths", flag, "--absolute", "--limit", "0",
                       phrase] for phrase in NAMES.values()])
    for run, name in zip(runs, NAMES, strict=True):
        assert run.code == 0, run
        assert run.stdout.endswith("\0"), run
        found = [Path(p) for p in run.stdout.split("\0") if p]
        assert found == [archive / "_posts" / name], (name, found)
        assert found[0].is_file()


@pytest.mark.parametrize("fmt", ["plain", "table"])
def test_search_human_formats_escape_names(archive: Path, fmt: str) -> None:
    runs = run_batch([["--root", str(archive), "search", "--format", fmt, phrase] for phrase in NAMES.values()])
    for run in runs:
        assert run.code == 0, run
        no_raw_controls(run)
        assert not any(line.startswith(("forged.md", "back.md")) for line in run.stdout.splitlines()), run


def test_show_and_index_messages_escape_names(archive: Path) -> None:
    esc_name = next(name for name in NAMES if "\x1b" in name)
    show = run_bounded("--root", archive, "show", "--no-pager", str(archive / "_posts" / esc_name), timeout=60)
    show.assert_clean(allowed=(0,))
    no_raw_controls(show)
    bad = archive / "_posts" / "2022-06-05-bad\x1b]0;title\x07.md"
    bad.write_bytes(b"---\ntitle: [unclosed\n---\n")
    try:
        index = run_bounded("--root", archive, "index", timeout=120)
        index.assert_clean(allowed=(0,))
        no_raw_controls(index)
        assert "skipped" in index.stderr, index
        stats = run_bounded("--root", archive, "stats", timeout=60)
        no_raw_controls(stats)
    finally:
        bad.unlink()
        run_bounded("--root", archive, "index", "--quiet", timeout=120)
