"""Terminal output (issue 13, item 4), under a real pseudo-terminal and piped: the search listing
keeps paths, categories and ids whole and shows the id `show` takes; highlights survive NO_COLOR;
long result lists go through the pager; `stats` is plain text when piped."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_POSTS, Cli, run_newsctl
from terminal import ANSI, COLOUR_PARAMS, SGR, has_pty, run_in_terminal

pytestmark = pytest.mark.skipif(not has_pty(), reason="needs a pseudo-terminal")

BOX_DRAWING = re.compile("[\u2500-\u257f]")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("terminal") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    assert Cli()("--root", root, "index", "--quiet").code == 0
    return root


def results(root: Path, *query: str) -> list[dict[str, object]]:
    """The JSON records, paths relative to the root (as a search run in the root prints them)."""
    result = Cli()("--root", root, "search", *query, "--format", "json", "--limit", "0", "--absolute")
    assert result.code == 0, result
    records = list(json.loads(result.stdout)["results"])
    for record in records:
        record["path"] = Path(record["path"]).relative_to(root).as_posix()
    return records


@pytest.mark.parametrize("columns", [80, 120])
def test_search_listing_keeps_paths_categories_and_ids_whole(indexed: Path, columns: int) -> None:
    expected = results(indexed, "公司")
    run = run_in_terminal(["--root", indexed, "search", "公司", "--no-pager"], columns=columns, lines=200,
                          cwd=indexed)
    assert run.code == 0, run
    lines = run.text.splitlines()
    assert all(len(line) <= columns for line in lines)
    for record in expected:
        assert any(str(record["path"]) in line for line in lines), (record["path"], run.text)
        for category in record["categories"]:  # type: ignore[attr-defined]
            assert any(re.search(rf"(?<![\w-]){re.escape(category)}(?![\w-])", line) for line in lines), category
        # the id that `newsctl show` takes, on its own (not only inside the file name)
        assert any(re.search(rf"(?<![\w-]){re.escape(str(record['id']))}(?![\w.])", line) for line in lines), \
            (record["id"], run.text)


def test_the_shown_id_is_what_show_takes(indexed: Path) -> None:
    [first, *_] = results(indexed, "信也科技")
    shown = Cli()("--root", indexed, "show", str(first["id"]))
    assert shown.code == 0 and str(first["title"]) in shown.stdout


def match_styles(output: str, match: str) -> list[set[str]]:
    """The SGR parameters in force where `match` is printed (the last escape before each occurrence)."""
    styles = []
    for found in re.finditer(re.escape(match), output):
        before = SGR.findall(output[:found.start()])
        styles.append(set(before[-1].split(";")) if before else set())
    return styles


def test_highlights_stay_visible_with_no_color(indexed: Path) -> None:
    run = run_in_terminal(["--root", indexed, "search", "信也科技", "--no-pager"], env={"NO_COLOR": "1"},
                          cwd=indexed)
    assert run.code == 0, run
    assert not any(COLOUR_PARAMS.search(params) for params in SGR.findall(run.output)), run.output
    styles = match_styles(run.output, "信也科技")
    assert styles and all(style & {"4", "7"} for style in styles), (styles, run.output)  # underline or reverse
    # the rest of the snippet text is not marked that way
    plain_word = "发布"
    assert any(not style & {"4", "7"} for style in match_styles(run.output, plain_word))


def test_highlights_are_coloured_on_a_colour_terminal(indexed: Path) -> None:
    run = run_in_terminal(["--root", indexed, "search", "信也科技", "--no-pager"], cwd=indexed)
    assert run.code == 0, run
    assert any(COLOUR_PARAMS.search(params) for params in SGR.findall(run.output))


@pytest.mark.parametrize(("lines", "flags", "paged"), [(24, [], True), (24, ["--no-pager"], False),
                                                       (2000, [], False)])
def test_long_result_lists_go_through_the_pager(indexed: Path, tmp_path: Path, lines: int, flags: list[str],
                                                paged: bool) -> None:
    paged_file = tmp_path / "paged.txt"
    env = {"PAGER": f"cat > {shlex.quote(str(paged_file))}"}
    titles = [str(record["title"]) for record in results(indexed, "市场")]
    assert len(titles) > 6  # more than fits in 24 lines
    run = run_in_terminal(["--root", indexed, "search", "市场", "--limit", "0", *flags], lines=lines, env=env,
                          cwd=indexed)
    assert run.code == 0, run
    if paged:
        text = ANSI.sub("", paged_file.read_text(encoding="utf-8"))
        assert all(title[:8] in text for title in titles)
        assert titles[-1][:8] not in run.text
    else:
        assert not paged_file.exists()
        assert titles[-1][:8] in run.text


def test_piped_search_never_pages(indexed: Path, tmp_path: Path) -> None:
    paged_file = tmp_path / "paged.txt"
    import os

    proc = run_newsctl("--root", indexed, "search", "市场", "--limit", "0",
                       env={**os.environ, "PAGER": f"cat > {shlex.quote(str(paged_file))}", "LINES": "5"})
    assert proc.returncode == 0 and not paged_file.exists()


def test_stats_is_plain_text_when_piped(indexed: Path) -> None:
    proc = run_newsctl("--root", indexed, "stats")
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in out
    assert not BOX_DRAWING.search(out), out
    assert "emnews" in out and "2022-05" in out
    assert re.search(r"^Posts\s+36$", out, re.MULTILINE), out  # label and value on one plain line


def test_stats_keeps_its_tables_on_a_terminal(indexed: Path) -> None:
    run = run_in_terminal(["--root", indexed, "stats"], cwd=indexed)
    assert run.code == 0, run
    assert BOX_DRAWING.search(run.text) and "emnews" in run.text
