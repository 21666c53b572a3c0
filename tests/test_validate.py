"""`newsctl validate`: findings with file, line and column, output formats, exit codes,
archive-wide duplicates, the real corpus, and a start-up path free of the search stack."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import REPO, Cli, post_text, run_newsctl

BAD_POSTS = REPO / "tests" / "data" / "bad_posts"
WARNINGS = {"NC102", "NC104", "NC304", "NC306", "NC309", "NC310", "NC311", "NC312", "NC313", "NC402", "NC502",
            "NC504", "NC506", "NC701"}


def findings(cli: Cli, root: Path, *args: str | Path) -> tuple[int, list[dict[str, object]]]:
    result = cli("--root", root, "validate", "--format", "json", *args)
    return result.code, json.loads(result.stdout)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def bad_post_cases() -> list[tuple[str, str, int]]:
    rows = (BAD_POSTS / "EXPECTED.tsv").read_text(encoding="utf-8").splitlines()
    return [(rel, code, int(line)) for rel, code, line in (row.split("\t") for row in rows[1:] if row)]


# ---- one malformed post, one clear finding ----------------------------------------------------------

@pytest.mark.parametrize(("relpath", "code", "line"), bad_post_cases(), ids=lambda v: str(v))
def test_each_bad_post_gets_its_finding(cli: Cli, make_archive: Callable[..., Path], relpath: str, code: str,
                                        line: int) -> None:
    root = make_archive({relpath: (BAD_POSTS / relpath).read_bytes()})
    before = snapshot(root)
    status, found = findings(cli, root)
    assert [(f["code"], f["line"]) for f in found] == [(code, line)], found
    assert Path(str(found[0]["path"])).resolve() == (root / relpath).resolve()
    assert found[0]["severity"] == ("warning" if code in WARNINGS else "error")
    assert status == (0 if code in WARNINGS else 1)
    assert snapshot(root) == before  # checking never writes


def test_all_bad_posts_together_name_file_and_line_in_concise_output(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "bad"
    shutil.copytree(BAD_POSTS, root, ignore=shutil.ignore_patterns("EXPECTED.tsv"))
    (root / "_config.yml").write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    result = cli("--root", root, "validate", "--format", "concise")
    assert result.code == 1
    lines = result.stdout.splitlines()
    for relpath, code, line in bad_post_cases():
        expected = f"{root / relpath}:{line}:"
        assert any(out.startswith(expected) and f" {code} " in out for out in lines), (relpath, code)
    assert len(lines) == len(bad_post_cases())
    assert "Found 18 errors and 9 warnings in 27 of 27 files." in result.stderr


def test_unreadable_and_oversized_files_are_findings_not_crashes(cli: Cli, make_archive: Callable[..., Path]
                                                                 ) -> None:
    root = make_archive({"_posts/2022-06-01-big.md": post_text(body="大" * (3 * 1024 * 1024))})
    os.mkfifo(root / "_posts" / "2022-06-01-fifo.md")  # reading it would block forever
    (root / "_posts" / "2022-06-01-loop.md").symlink_to("2022-06-01-loop.md")
    status, found = findings(cli, root)
    assert status == 1
    assert {(Path(str(f["path"])).name, f["code"]) for f in found} == {
        ("2022-06-01-big.md", "NC105"), ("2022-06-01-fifo.md", "NC100"), ("2022-06-01-loop.md", "NC100")}


# ---- dates --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "date", "codes"), [
    ("2022-06-01-a.md", "2022-05-31 20:30:00 +0000", []),  # 04:30 on June 1st in Shanghai
    ("2022-05-31-a.md", "2022-05-31 20:30:00 +0000", ["NC402"]),
    ("2022-06-01-a.md", "2022-06-01 00:10:00 +0800", []),
    ("2022-05-31-a.md", "2022-06-01 00:10:00 +0800", ["NC402"]),
    ("2022-06-01-a.md", "2022-06-01T08:00:00Z", []),
    ("2022-06-01-a.md", "2022-06-01 23:59:59", ["NC306"]),  # taken in the archive zone: the same day
])
def test_file_date_is_compared_in_the_archive_zone(cli: Cli, make_archive: Callable[..., Path], name: str,
                                                   date: str, codes: list[str]) -> None:
    root = make_archive({f"_posts/{name}": post_text(date=date)})
    _, found = findings(cli, root)
    assert [f["code"] for f in found] == codes
    assert all(f["line"] == 4 for f in found)


def test_future_dates_fail_beyond_the_tolerance(cli: Cli, make_archive: Callable[..., Path]) -> None:
    zone = timezone(timedelta(hours=8))
    soon = datetime.now(zone) + timedelta(hours=2)
    later = datetime.now(zone) + timedelta(days=3)
    root = make_archive({
        f"_posts/{soon:%Y-%m-%d}-soon.md": post_text(date=f"{soon:%Y-%m-%d %H:%M:%S} +0800", body="不久之后"),
        f"_posts/{later:%Y-%m-%d}-later.md": post_text(date=f"{later:%Y-%m-%d %H:%M:%S} +0800", body="三天以后"),
    })
    _, found = findings(cli, root)
    assert [(Path(str(f["path"])).name, f["code"]) for f in found] == [(f"{later:%Y-%m-%d}-later.md", "NC307")]
    (root / "newsctl.toml").write_text("future_tolerance_hours = 100\n", encoding="utf-8")
    assert findings(cli, root) == (0, [])


# ---- output formats and exit codes ---------------------------------------------------------------------

@pytest.fixture
def mixed_archive(make_archive: Callable[..., Path]) -> Path:
    """One error (empty title) and one warning (trailing whitespace)."""
    return make_archive({
        "_posts/2022-06-01-1.md": post_text(title=""),
        "_posts/2022-06-02-2.md": post_text(date="2022-06-02 08:00:00 +0800", body="第二篇正文。 "),
    })


def test_concise_format(cli: Cli, mixed_archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mixed_archive)
    result = cli("validate", "--format", "concise")
    assert result.stdout.splitlines() == [
        "_posts/2022-06-01-1.md:3:8: NC303 title is empty",
        "_posts/2022-06-02-2.md:8:7: NC701 trailing whitespace",
    ]
    assert result.code == 1


def test_json_format(cli: Cli, mixed_archive: Path) -> None:
    status, found = findings(cli, mixed_archive)
    assert status == 1
    assert found[1] == {"path": str(mixed_archive / "_posts/2022-06-02-2.md"), "line": 8, "column": 7,
                        "code": "NC701", "severity": "warning", "message": "trailing whitespace", "fixable": True}


def test_github_format(cli: Cli, mixed_archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mixed_archive)
    result = cli("validate", "--format", "github")
    assert result.stdout.splitlines() == [
        "::error file=_posts/2022-06-01-1.md,line=3,col=8,title=NC303::title is empty",
        "::warning file=_posts/2022-06-02-2.md,line=8,col=7,title=NC701::trailing whitespace",
    ]


def test_text_format_is_a_table_per_file_with_a_summary(cli: Cli, mixed_archive: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mixed_archive)
    result = cli("validate", "--format", "text", env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert "_posts/2022-06-01-1.md" in result.stdout and "_posts/2022-06-02-2.md" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "NC303" in line)
    assert "3:8" in row and "empty-title" in row and "error" in row and "title is empty" in row
    assert "Found 1 error and 1 warning in 2 of 2 files." in result.stdout


def test_warnings_fail_only_with_strict(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post_text(body="正文。 ")})
    assert cli("--root", root, "validate").code == 0
    assert cli("--root", root, "validate", "--strict").code == 1
    assert cli("--root", root, "validate", "--strict", "--ignore", "NC701").code == 0


def test_clean_archive_passes(cli: Cli, sample_archive: Path) -> None:
    result = cli("--root", sample_archive, "validate")
    assert (result.code, result.stdout) == (0, "")
    assert "passed" in result.stderr


def test_usage_errors_exit_2(cli: Cli, mixed_archive: Path) -> None:
    unknown = cli("--root", mixed_archive, "validate", "--select", "E501")
    assert unknown.code == 2 and "E501" in unknown.stderr
    missing = cli("--root", mixed_archive, "validate", "no/such/post.md")
    assert missing.code == 2 and "no/such/post.md" in missing.stderr
    (mixed_archive / "newsctl.toml").write_text('ignore = ["NC999"]\n', encoding="utf-8")
    configured = cli("--root", mixed_archive, "validate")
    assert configured.code == 2 and "newsctl.toml" in configured.stderr and "NC999" in configured.stderr


# ---- PATHS ---------------------------------------------------------------------------------------------

def test_paths_select_files_and_folders(cli: Cli, mixed_archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mixed_archive)
    _, one = findings(cli, mixed_archive, "_posts/2022-06-02-2.md")
    assert [f["code"] for f in one] == ["NC701"]
    _, folder = findings(cli, mixed_archive, "_posts")
    assert [f["code"] for f in folder] == ["NC303", "NC701"]


def test_files_outside_any_archive_are_checked_with_defaults(cli: Cli, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSCTL_ROOT", raising=False)
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "2022-06-01-x.md").write_text(post_text(date="2022-06-01 10:00:00"), encoding="utf-8")
    monkeypatch.chdir(loose)
    result = cli("validate", "2022-06-01-x.md")
    assert result.code == 0  # a warning: Jekyll publishes the post, at another time than written
    assert result.stdout.startswith("2022-06-01-x.md:4:7: NC306 date '2022-06-01 10:00:00' has no zone: Jekyll "
                                    "(Ruby's YAML) reads it as UTC and publishes it at 2022-06-01 18:00:00 +0800")


def test_archive_in_a_subfolder_is_found_from_the_paths(cli: Cli, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """pre-commit runs at the top of the repository; the archive may live below it."""
    monkeypatch.delenv("NEWSCTL_ROOT", raising=False)
    site = tmp_path / "repo" / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("timezone: UTC\n", encoding="utf-8")
    (site / "_posts" / "2022-06-01-x.md").write_text(post_text(date="2022-06-01 23:30:00"), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "repo")
    result = cli("validate", "site/_posts/2022-06-01-x.md")
    # the site's zone is UTC: Jekyll's UTC reading of a zone-less date changes nothing (with the
    # default Asia/Shanghai it would be NC306)
    assert (result.code, result.stdout) == (0, "")


# ---- duplicates ------------------------------------------------------------------------------------------

FOOTER_A = "[返回东财滚动新闻](//finews.withounder.com/category/emnews.html)｜[返回首页](//finews.withounder.com/)"
FOOTER_B = "[返回东财滚动新闻](../emnews/)\n[返回首页](../)"


def body_with(footer: str, text: str = "<p>春耕用肥供应充足，价格总体平稳。</p>") -> str:
    return f"---\nlayout: post\ntitle: \"春耕用肥\"\ndate: 2022-06-01 10:00:00 +0800\ncategories: emnews\n" \
           f"tags: 东财滚动新闻\n---\n\n{text}\n\n<http://finance.eastmoney.com/a/1.html>\n\n{footer}\n"


def test_copies_between_posts_and_old_post_are_found(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        "_posts/2022-06-01-202206010001.md": body_with(FOOTER_A),
        "old_post/2022-06-01-202206010001.md": body_with(FOOTER_B).replace("+0800", "+08:00"),
        "old_post/2022-06-02-202206010001.md": post_text(date="2022-06-02 09:00:00 +0800", body="另一篇"),
    })
    _, found = findings(cli, root)
    by_file: dict[str, set[str]] = {}
    for f in found:
        by_file.setdefault(str(Path(str(f["path"])).relative_to(root)), set()).add(str(f["code"]))
    assert by_file == {
        "_posts/2022-06-01-202206010001.md": {"NC601", "NC602", "NC603"},
        "old_post/2022-06-01-202206010001.md": {"NC601", "NC602", "NC603"},
        "old_post/2022-06-02-202206010001.md": {"NC601"},
    }
    message = next(f["message"] for f in found if f["code"] == "NC603" and "_posts" in str(f["path"]))
    assert message == "same body text as old_post/2022-06-01-202206010001.md"


def test_bodies_differing_in_text_are_not_duplicates(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        "_posts/2022-06-01-a.md": body_with(FOOTER_A),
        "_posts/2022-06-01-b.md": body_with(FOOTER_A, "<p>春耕用肥供应充足，价格小幅上涨。</p>").replace(
            "10:00:00", "11:00:00"),
    })
    assert findings(cli, root) == (0, [])


def test_a_new_file_copying_an_old_one_fails_when_only_it_is_given(cli: Cli, make_archive: Callable[..., Path],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_archive({
        "old_post/2022-06-01-old.md": body_with(FOOTER_B),
        "old_post/2022-05-01-sameid.md": post_text(date="2022-05-01 09:00:00 +0800", body="五月的稿件"),
        "old_post/2022-05-02-x.md": post_text(date="2022-05-02 09:00:00 +0800", body="重复的旧稿"),
        "old_post/2022-05-03-y.md": post_text(date="2022-05-03 09:00:00 +0800", body="重复的旧稿"),
        "_posts/2022-06-01-new.md": body_with(FOOTER_A),
        "_posts/2022-06-03-sameid.md": post_text(date="2022-06-03 09:00:00 +0800", body="六月的稿件"),
    })
    monkeypatch.chdir(root)
    _, found = findings(cli, root, "_posts/2022-06-01-new.md", "_posts/2022-06-03-sameid.md")
    assert sorted((Path(str(f["path"])).name, f["code"], f["message"]) for f in found) == [
        ("2022-06-01-new.md", "NC602", "same title and date as old_post/2022-06-01-old.md"),
        ("2022-06-01-new.md", "NC603", "same body text as old_post/2022-06-01-old.md"),
        ("2022-06-03-sameid.md", "NC601", "id is also used by old_post/2022-05-01-sameid.md"),
    ]  # the old copies among themselves (05-02, 05-03) are not the given files' business


def test_neighbours_of_a_front_matter_day_and_of_a_given_folder_are_found(
        cli: Cli, make_archive: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The archive's names are searched early for the days and ids the given file names show; a
    front-matter date of another day, or a folder argument, is searched for afterwards."""
    root = make_archive({
        "old_post/2022-06-01-old.md": body_with(FOOTER_B),
        "_posts/2022-06-05-late.md": body_with(FOOTER_A),  # filed on the 5th, dated the 1st
        "_posts/new/2022-06-09-a.md": post_text(date="2022-06-09 09:00:00 +0800", body="新稿"),
        "old_post/2022-06-09-b.md": post_text(date="2022-06-09 09:00:00 +0800", body="新稿"),
    })
    monkeypatch.chdir(root)
    _, found = findings(cli, root, "_posts/2022-06-05-late.md", "_posts/new")
    assert sorted((Path(str(f["path"])).name, f["code"]) for f in found if str(f["code"]).startswith("NC6")) == [
        ("2022-06-05-late.md", "NC602"), ("2022-06-05-late.md", "NC603"),
        ("2022-06-09-a.md", "NC602"), ("2022-06-09-a.md", "NC603"),
    ]


def test_many_posts_are_checked_in_worker_processes_with_the_same_result(
        cli: Cli, make_archive: Callable[..., Path]) -> None:
    files: dict[str, str | bytes] = {
        f"old_post/2022-05-{1 + i % 28:02d}-p{i}.md": post_text(
            title=f"第{i}篇", date=f"2022-05-{1 + i % 28:02d} 08:00:00 +0800", body=f"第{i}篇的正文。")
        for i in range(2100)}
    files["old_post/2022-05-01-p0.md"] = post_text(title="第0篇", date="2022-05-01 08:00:00 +0800",
                                                   body="第2099篇的正文。")  # first and last chunk
    root = make_archive(files)
    status, found = findings(cli, root)
    assert status == 1
    assert sorted((Path(str(f["path"])).name, f["code"]) for f in found) == [
        ("2022-05-01-p0.md", "NC603"), ("2022-05-28-p2099.md", "NC603")]


# ---- the real archive --------------------------------------------------------------------------------------

# MANIFEST notes that are defects, and the rule that must report each.
DEFECT_CODES = {
    "date_missing": {"NC305"}, "empty_title": {"NC303"}, "filename_without_date": {"NC401"},
    "empty_link_<>": {"NC503"}, "no_source_link": {"NC504"}, "date_no_tz": {"NC306"},
    "same_news_text_as": {"NC603"}, "duplicate_body_of": {"NC603"}, "body_equals_title": {"NC502"},
    "trailing_whitespace_in_line": {"NC701"},
}


def manifest_defects(corpus: Path) -> dict[str, set[str]]:
    """relpath -> codes that must be reported; a defect-free post maps to an empty set."""
    expected: dict[str, set[str]] = {}
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            codes: set[str] = set()
            for note in row["note"].split(";"):
                name = note.split("(")[0].split(":")[0]
                codes |= DEFECT_CODES.get(name, set())
            expected[row["path"]] = codes
    ids: dict[str, list[str]] = {}
    for path in expected:
        ids.setdefault(path.rsplit("/", 1)[1].split("-", 3)[-1], []).append(path)
    for same in ids.values():  # the same id in _posts/ and old_post/
        if len(same) > 1:
            for path in same:
                expected[path].add("NC601")
    return expected


def test_real_archive_reports_every_manifest_defect_and_nothing_on_clean_posts(
        cli: Cli, shared_corpus: Path) -> None:
    status, found = findings(cli, shared_corpus)
    assert status == 1
    reported: dict[str, set[str]] = {}
    errors: dict[str, set[str]] = {}
    for f in found:
        rel = Path(str(f["path"])).resolve().relative_to(shared_corpus.resolve()).as_posix()
        reported.setdefault(rel, set()).add(str(f["code"]))
        if f["severity"] == "error":
            errors.setdefault(rel, set()).add(str(f["code"]))
    expected = manifest_defects(shared_corpus)
    assert len(expected) == 140
    for path, codes in expected.items():
        assert codes <= reported.get(path, set()), (path, codes, reported.get(path))
        if not codes:
            assert path not in errors, (path, errors[path])


# ---- start-up path ------------------------------------------------------------------------------------------

def test_validate_does_not_import_the_search_stack_or_rich(make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post_text()})
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "newsctl", "validate",
                             "_posts/2022-06-01-1.md"], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import")}
    assert "newsctl.rules" in imported
    assert not {name for name in imported if name.split(".")[0] in ("whoosh", "rjieba", "jieba", "rich",
                                                                     "selectolax")}


def test_subprocess_exit_code_and_output(make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post_text(title="")})
    result = run_newsctl("validate", cwd=root)
    assert result.returncode == 1
    assert result.stdout.decode() == "_posts/2022-06-01-1.md:3:8: NC303 title is empty\n"


def test_a_file_name_that_is_not_utf8_is_printed_as_its_bytes_under_a_strict_locale(
        make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post_text()})
    with open(os.fsencode(root / "_posts") + b"/2022-06-01-\xffodd.md", "wb") as handle:
        handle.write(post_text(title="怪名").encode("utf-8"))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}  # what en_US.UTF-8 gives Python
    result = run_newsctl("validate", "--format", "concise", cwd=root, env=env)
    assert result.returncode == 1, result.stderr
    assert b"_posts/2022-06-01-\xffodd.md:1:1: NC401" in result.stdout
    assert b"internal error" not in result.stderr
