"""`search --format csv` and `--format line` (one hit per line: id, date, title, path, tab-separated),
and the README's fzf recipe that previews hits with `newsctl show`."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_POSTS, Cli, post_text

CSV_COLUMNS = ["id", "date", "title", "path", "categories", "tags", "stocks", "score"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    assert Cli()("--root", root, "index", "--quiet").code == 0
    return root


def as_json(root: Path, *args: str) -> list[dict[str, object]]:
    result = Cli()("--root", root, "search", *args, "--format", "json")
    assert result.code == 0, result
    return list(json.loads(result.stdout)["results"])


def test_csv_holds_the_json_records(indexed: Path) -> None:
    records = as_json(indexed, "公司", "--limit", "0")
    result = Cli()("--root", indexed, "search", "公司", "--limit", "0", "--format", "csv")
    assert result.code == 0, result
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == CSV_COLUMNS
    rows = list(reader)
    assert [row["id"] for row in rows] == [r["id"] for r in records]
    for row, record in zip(rows, records, strict=True):
        assert row["title"] == record["title"] and row["path"] == record["path"]
        assert row["date"] == record["date"]
        assert row["categories"].split() == record["categories"]
        assert float(row["score"]) == pytest.approx(float(record["score"]))  # type: ignore[arg-type]


def test_csv_quotes_awkward_titles(make_archive: Callable[..., Path]) -> None:
    title = '逗号,引号\\"和分号;都在标题里'
    root = make_archive({"_posts/2022-06-01-202206012399054634.md": post_text(title=title)})
    assert Cli()("--root", root, "index", "--quiet").code == 0
    result = Cli()("--root", root, "search", "标题", "--format", "csv")
    assert result.code == 0, result
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["title"] == '逗号,引号"和分号;都在标题里'


def test_csv_without_results_is_the_header_and_exit_1(indexed: Path) -> None:
    result = Cli()("--root", indexed, "search", "不存在的词语组合", "--format", "csv")
    assert result.code == 1
    assert result.stdout in ("", ",".join(CSV_COLUMNS) + "\n", ",".join(CSV_COLUMNS) + "\r\n")


def test_line_format_is_one_hit_per_line(indexed: Path) -> None:
    records = as_json(indexed, "公司", "--limit", "0")
    result = Cli()("--root", indexed, "search", "公司", "--limit", "0", "--format", "line")
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        fields = line.split("\t")
        assert fields == [record["id"], str(record["date"])[:10], record["title"], record["path"]]


def test_line_format_keeps_one_line_per_hit_for_odd_titles(make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-202206012399054634.md": post_text(title="制表\\t符在标题里")})
    assert Cli()("--root", root, "index", "--quiet").code == 0
    result = Cli()("--root", root, "search", "标题", "--format", "line")
    assert result.code == 0, result
    [line] = result.stdout.splitlines()
    assert len(line.split("\t")) == 4


def test_line_format_without_results(indexed: Path) -> None:
    result = Cli()("--root", indexed, "search", "不存在的词语组合", "--format", "line")
    assert (result.code, result.stdout) == (1, "")


def test_the_readme_has_an_fzf_recipe_whose_preview_works(indexed: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    recipe = next((line for line in readme.splitlines() if "fzf" in line and "newsctl search" in line), None)
    assert recipe, "README: an fzf recipe"
    block = readme[readme.index(recipe) - 400: readme.index(recipe) + 600]
    assert "--format line" in block and "newsctl show" in block and "--preview" in block
    preview = re.search(r"--preview[= ]'newsctl show ([^']*)'", block)
    assert preview, block
    # fzf replaces {1} with the first tab-separated field of the chosen line: the id
    [first, *_] = Cli()("--root", indexed, "search", "公司", "--format", "line").stdout.splitlines()
    args = preview[1].replace("{1}", first.split("\t")[0]).split()
    shown = Cli()("--root", indexed, "show", *args)
    assert shown.code == 0, shown
    assert first.split("\t")[2] in shown.stdout
