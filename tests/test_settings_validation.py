"""Settings of the wrong type or value, and paths outside the archive (issue 11): every command says, in one
line naming the settings file and the key, what is wrong (exit 2), never "internal error"; paths in the
settings resolve inside the archive root, and a file outside it is never read into an error message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from faultkit import copy_sample, one_error_line
from hostile import Run, run_batch, run_bounded

BAD_SETTINGS = [
    ("posts = [1, 2]", "posts"),
    ('posts = ["_posts/**/*.md", 7]', "posts"),
    ('posts = "_posts/**/*.md"', "posts"),
    ("select = [1]", "select"),
    ('ignore = ["NC701", 3]', "ignore"),
    ('select = ["ZZ999"]', "select"),
    ("future_tolerance_hours = nan", "future_tolerance_hours"),
    ("future_tolerance_hours = inf", "future_tolerance_hours"),
    ("future_tolerance_hours = -1", "future_tolerance_hours"),
    ('future_tolerance_hours = "24"', "future_tolerance_hours"),
    ("max_title_length = 0", "max_title_length"),
    ("max_title_length = -5", "max_title_length"),
    ("max_title_length = true", "max_title_length"),
    ("max_title_length = 1.5", "max_title_length"),
    ('layouts = "post"', "layouts"),
    ("layouts = [1]", "layouts"),
    ("timezone = 5", "timezone"),
    ('timezone = "Mars/Olympus_Mons"', "timezone"),
    ('index_dir = "/dev/null"', "index_dir"),
    ('index_dir = "../outside-index"', "index_dir"),
    ('index_dir = ""', "index_dir"),
    ("index_dir = 3", "index_dir"),
    ('dest = "../../outside-dest"', "dest"),
    ('dest = "/tmp"', "dest"),
    ('posts = ["../outside/**/*.md"]', "posts"),
    ('posts = ["/etc/**/*.md"]', "posts"),
    ('userdict = "/etc/passwd"', "userdict"),
    ('userdict = "../secret.txt"', "userdict"),
    ("userdict = 3", "userdict"),
    ('feed_fields = {title = "art_title"}', "feed_fields"),
    ("feed_fields = {title = [1]}", "feed_fields"),
    ('feed_fields = {bogus = ["x"]}', "feed_fields"),
    ('feed_fields = ["title"]', "feed_fields"),
    ('unknown_key = "x"', "unknown_key"),
]

COMMANDS = [
    ["config"],
    ["validate"],
    ["stats", "--format", "json"],
    ["index", "--quiet"],
    ["search", "港口"],
    ["add", "--title", "设置检查", "--date", "2022-06-01 10:00:00 +0800", "--category", "emnews", "--tag", "东财",
     "--source-url", "http://example.com/s", "--body-file", "BODY"],
]

SECRET = "SECRET-LINE-do-not-print 9 nz"


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "secret.txt"
    path.write_text(f"{SECRET}\n{SECRET} extra words that make a bad line\n", encoding="utf-8")
    return path


def archive_with(base: Path, name: str, settings: str | bytes, file: str = "newsctl.toml") -> Path:
    root = copy_sample(base / name / "archive")
    data = settings if isinstance(settings, bytes) else (settings + "\n").encode()
    (root / file).write_bytes(data)
    (root.parent / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    return root


def command(root: Path, args: list[str], body: Path) -> list[str]:
    return ["--root", str(root), *(str(body) if a == "BODY" else a for a in args)]


def check_refused(run: Run, key: str, file: str = "newsctl.toml") -> None:
    line = one_error_line(run)
    assert run.code == 2, run
    assert file in line and key in line, f"{run.args[2:4]}: the line names neither {file} nor {key!r}: {line!r}"
    assert "SECRET-LINE" not in run.output, f"an outside file was echoed: {run!r}"


def test_bad_settings_are_one_line_naming_the_key(tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("<p>设置检查正文。</p>", encoding="utf-8")
    roots = [archive_with(tmp_path, f"case{n}", text) for n, (text, _) in enumerate(BAD_SETTINGS)]
    invocations = [command(root, args, body) for root in roots for args in COMMANDS]
    runs = run_batch(invocations, timeout=300)
    problems = []
    for number, run in enumerate(runs):
        text, key = BAD_SETTINGS[number // len(COMMANDS)]
        try:
            check_refused(run, key)
        except AssertionError as exc:
            problems.append(f"{text!r} / {' '.join(run.args[2:3])}: {str(exc).splitlines()[0][:300]}")
    assert not problems, f"{len(problems)} of {len(runs)} runs:\n" + "\n".join(problems)
    for root in roots:  # nothing was written outside the archive
        assert not (root.parent / "outside-index").exists()
        assert not (root.parent.parent / "outside-dest").exists()


def test_invalid_utf8_in_newsctl_toml(tmp_path: Path) -> None:
    root = archive_with(tmp_path, "utf8", b'posts = ["_posts/**/*.md"]\n# \xff\xfe bad bytes\n')
    runs = run_batch([["--root", str(root), *args] for args in (["config"], ["validate"], ["search", "港口"])])
    for run in runs:
        line = one_error_line(run)
        assert run.code == 2 and "newsctl.toml" in line, run
        assert "UTF-8" in line or "utf-8" in line, line


def test_bad_settings_in_pyproject(tmp_path: Path) -> None:
    root = archive_with(tmp_path, "pyproject", "[tool.newsctl]\nselect = [1]\n", file="pyproject.toml")
    run = run_batch([["--root", str(root), "validate"]])[0]
    check_refused(run, "select", file="pyproject.toml")


def test_a_userdict_outside_the_root_is_never_echoed(tmp_path: Path, secret: Path) -> None:
    root = archive_with(tmp_path, "abs", f'userdict = "{secret}"')
    runs = run_batch([["--root", str(root), "index", "--quiet"], ["--root", str(root), "config"],
                      ["--root", str(root), "search", "港口"]])
    for run in runs:
        check_refused(run, "userdict")


def test_a_userdict_symlink_leading_outside_is_refused(tmp_path: Path, secret: Path) -> None:
    root = archive_with(tmp_path, "link", 'userdict = "words.txt"')
    os.symlink(secret, root / "words.txt")
    run = run_bounded("--root", root, "index", "--quiet", timeout=60)
    check_refused(run, "userdict")


def test_a_bad_userdict_inside_the_root_names_its_file_and_line(tmp_path: Path) -> None:
    root = archive_with(tmp_path, "inside", 'userdict = "words.txt"')
    (root / "words.txt").write_bytes(b"\xff\xfe\x00broken\n")
    run = run_bounded("--root", root, "index", "--quiet", timeout=60)
    line = one_error_line(run)
    assert run.code == 2 and "words.txt" in line, run


def test_post_globs_reaching_outside_through_a_symlink_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "2022-06-01-x.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    root = archive_with(tmp_path, "globlink", 'posts = ["linked/**/*.md"]')
    os.symlink(outside, root / "linked")
    run = run_bounded("--root", root, "validate", timeout=60)
    check_refused(run, "posts")


def test_explicit_dest_option_may_point_outside(tmp_path: Path) -> None:
    """The --dest option is explicit: it may name a folder outside the archive (with a warning)."""
    root = copy_sample(tmp_path / "archive")
    body = tmp_path / "body.txt"
    body.write_text("<p>外部目录。</p>", encoding="utf-8")
    outside = tmp_path / "drafts"
    run = run_bounded("--root", root, "add", "--title", "外部草稿", "--date", "2022-06-01 10:00:00 +0800",
                      "--category", "emnews", "--tag", "东财", "--source-url", "http://example.com/d",
                      "--body-file", body, "--dest", outside, timeout=60)
    run.assert_clean(allowed=(0,))
    assert len(list(outside.glob("*.md"))) == 1


def test_index_dir_inside_the_root_is_accepted(tmp_path: Path) -> None:
    root = archive_with(tmp_path, "okdir", 'index_dir = "build/search-index"')
    run_bounded("--root", root, "index", "--quiet", timeout=120).assert_clean(allowed=(0,))
    assert (root / "build" / "search-index").is_dir()
