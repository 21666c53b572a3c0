"""`validate` as scripts and dashboards use it (issue 13): every finding of a post in one run even
when its YAML is broken, fix counts that match what `--fix` changes, and ruff's habits:
`--statistics`, `--exit-zero`, `--output-format`, SARIF output."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, Cli, post_text

BAD_POSTS = REPO / "tests" / "data" / "bad_posts"
BROKEN = "_posts/2022-06-03-202206030000000001.md"
# The README's example: invalid YAML (unescaped quotes), a date without zone, trailing whitespace,
# no source link and an empty link.
BROKEN_TEXT = ('---\nlayout: post\ntitle: "他说"好"的"\ndate: 2022-06-03 10:00:00\ncategories: emnews\n'
               "tags: 东财滚动新闻\n---\n正文一句。  \n\n<>\n")


def validate_json(root: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = Cli()("--root", root, "validate", "--format", "json", *args)
    assert result.code in (0, 1), result
    return result.code, json.loads(result.stdout)


def codes(found: list[dict[str, object]]) -> list[tuple[str, int]]:
    return sorted((str(f["code"]), int(f["line"])) for f in found)  # type: ignore[call-overload]


# ---- every finding at once ----------------------------------------------------------------------

def test_a_post_with_broken_yaml_gets_all_its_other_findings(make_archive: Callable[..., Path]) -> None:
    root = make_archive({BROKEN: BROKEN_TEXT})
    status, found = validate_json(root)
    assert status == 1
    found_codes = {code for code, _ in codes(found)}
    assert {"NC203", "NC306", "NC701", "NC503"} <= found_codes, found
    assert ("NC203", 3) in codes(found) and ("NC306", 4) in codes(found) and ("NC701", 8) in codes(found)
    assert ("NC503", 10) in codes(found)


def test_broken_yaml_and_a_missing_key_in_one_run(make_archive: Callable[..., Path]) -> None:
    text = ('---\nlayout: post\ntitle: "说"是"的"\ndate: 2022-06-03 10:00:00 +0800\ncategories: emnews\n---\n'
            "一句正文。\n\n<http://finance.eastmoney.com/news/1355,202206030000000002.html>\n")
    root = make_archive({"_posts/2022-06-03-202206030000000002.md": text})
    _, found = validate_json(root)
    assert {code for code, _ in codes(found)} == {"NC203", "NC301"}, found
    [missing] = [f for f in found if f["code"] == "NC301"]
    assert "tags" in str(missing["message"])


def test_a_tolerant_scan_adds_nothing_to_an_otherwise_clean_broken_post(make_archive: Callable[..., Path]) -> None:
    for rel in ("_posts/2022-06-01-bad-title-quotes.md", "_posts/2022-06-01-bad-yaml-flow.md"):
        root = make_archive({rel: (BAD_POSTS / rel).read_bytes()}, name=Path(rel).stem)
        _, found = validate_json(root)
        assert [f["code"] for f in found] == ["NC203"], found


def test_the_concise_output_lists_them_in_line_order(make_archive: Callable[..., Path]) -> None:
    root = make_archive({BROKEN: BROKEN_TEXT})
    result = Cli()("--root", root, "validate", "--format", "concise")
    lines = [line.split(BROKEN, 1)[1] for line in result.stdout.splitlines() if BROKEN in line]
    numbers = [int(line.split(":")[1]) for line in lines]
    assert numbers == sorted(numbers) and len(lines) >= 4, result


# ---- fix counts ---------------------------------------------------------------------------------

def changed_lines(diff: str) -> int:
    return sum(1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))


def test_fix_counts_match_what_fix_changes(make_archive: Callable[..., Path]) -> None:
    root = make_archive({BROKEN: BROKEN_TEXT})
    _, before = validate_json(root)
    fixable = [f for f in before if f["fixable"]]
    summary = Cli()("--root", root, "validate", "--format", "concise")
    assert f"{len(fixable)} fixable" in summary.stdout + summary.stderr, summary
    diff = Cli()("--root", root, "validate", "--diff")
    assert changed_lines(diff.stdout) == len(fixable) == 3, (diff.stdout, fixable)
    assert f"Would fix {len(fixable)} problems" in diff.stdout + diff.stderr, diff
    fixed = Cli()("--root", root, "validate", "--fix")
    assert f"Fixed {len(fixable)} problems in 1 file" in fixed.stdout + fixed.stderr, fixed
    _, after = validate_json(root)
    assert not [f for f in after if f["fixable"]], after
    assert {str(f["code"]) for f in after} == {str(f["code"]) for f in before} - {str(f["code"]) for f in fixable}


# ---- --statistics, --exit-zero, --output-format, sarif ------------------------------------------------

@pytest.fixture
def bad_archive(tmp_path: Path) -> Path:
    root = tmp_path / "bad"
    shutil.copytree(BAD_POSTS, root, ignore=shutil.ignore_patterns("EXPECTED.tsv"))
    (root / "_config.yml").write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    return root


STAT_LINE = re.compile(r"^\s*(\d+)\s+(NC\d{3})\s+\[([ *])\]\s+([a-z0-9-]+)$")


def test_statistics_count_findings_per_code(bad_archive: Path) -> None:
    _, found = validate_json(bad_archive)
    expected = Counter(str(f["code"]) for f in found)
    result = Cli()("--root", bad_archive, "validate", "--statistics")
    assert result.code == 1, result
    rows = [STAT_LINE.match(line) for line in result.stdout.splitlines() if line.strip()]
    assert all(rows), result.stdout
    assert {row[2]: int(row[1]) for row in rows if row} == dict(expected)
    counts = [int(row[1]) for row in rows if row]
    assert counts == sorted(counts, reverse=True)
    fixable_codes = {str(f["code"]) for f in found if f["fixable"]}
    assert {row[2] for row in rows if row and row[3] == "*"} <= fixable_codes


def test_statistics_as_json(bad_archive: Path) -> None:
    _, found = validate_json(bad_archive)
    result = Cli()("--root", bad_archive, "validate", "--statistics", "--format", "json")
    assert result.code == 1, result
    stats = json.loads(result.stdout)
    assert {row["code"]: row["count"] for row in stats} == dict(Counter(str(f["code"]) for f in found))
    assert all(set(row) == {"code", "name", "count", "fixable"} for row in stats)


def test_exit_zero_reports_but_succeeds(bad_archive: Path) -> None:
    result = Cli()("--root", bad_archive, "validate", "--exit-zero", "--format", "concise")
    assert result.code == 0 and "NC203" in result.stdout
    assert Cli()("--root", bad_archive, "validate", "--exit-zero", "--strict", "--format", "concise").code == 0
    assert Cli()("--root", bad_archive, "validate", "--exit-zero", "--format", "nosuch").code == 2


def test_output_format_is_an_alias_of_format(bad_archive: Path) -> None:
    by_format = Cli()("--root", bad_archive, "validate", "--format", "json")
    by_alias = Cli()("--root", bad_archive, "validate", "--output-format", "json")
    assert (by_alias.code, by_alias.stdout) == (by_format.code, by_format.stdout)
    assert json.loads(by_alias.stdout)


def test_sarif_output_for_code_scanning(bad_archive: Path) -> None:
    _, found = validate_json(bad_archive)
    result = Cli()("--root", bad_archive, "validate", "--format", "sarif")
    assert result.code == 1, result
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0" and "sarif" in sarif["$schema"]
    [run] = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "newsctl" and driver["version"]
    rule_ids = {rule["id"] for rule in driver["rules"]}
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    results = run["results"]
    assert len(results) == len(found)
    by_location = sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                          r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results)
    expected = sorted((str(f["code"]), Path(str(f["path"])).resolve().relative_to(bad_archive.resolve()).as_posix(),
                       int(f["line"])) for f in found)  # type: ignore[call-overload]
    assert by_location == expected
    assert {r["ruleId"] for r in results} <= rule_ids
    assert {r["level"] for r in results} <= {"error", "warning"}
    assert all(r["message"]["text"] for r in results)


def test_sarif_of_a_clean_archive_is_an_empty_run(make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-202206012399054634.md": post_text()})
    result = Cli()("--root", root, "validate", "--format", "sarif")
    assert result.code == 0, result
    assert json.loads(result.stdout)["runs"][0]["results"] == []
