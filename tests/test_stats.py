"""`newsctl stats`: the numbers agree with the files, invalid posts are counted, both output forms."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, Cli, post_text

import newsctl.stats

SGR = re.compile(r"\x1b\[([0-9;]*)m")
COLOUR_PARAMS = re.compile(r"(?:^|;)(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;|$)")


def stats_json(cli: Cli, root: Path) -> dict[str, Any]:
    result = cli("--root", root, "stats", "--format", "json")
    assert result.code == 0, result
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def count_from_files(root: Path) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Categories, tags and months read straight from the front matter, independently of newsctl."""
    categories: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    months: Counter[str] = Counter()
    for path in sorted([*root.glob("_posts/**/*.md"), *root.glob("old_post/**/*.md")]):
        meta = yaml.load(path.read_text(encoding="utf-8").split("---\n")[1], Loader=yaml.BaseLoader)
        categories.update(meta["categories"].split())
        tags.update(meta["tags"].split())
        assert meta["date"].endswith("+0800")  # so the month of the text is the month in Asia/Shanghai
        months[meta["date"][:7]] += 1
    return categories, tags, months


def test_json_counts_equal_the_files(cli: Cli, sample_archive: Path) -> None:
    data = stats_json(cli, sample_archive)
    categories, tags, months = count_from_files(sample_archive)
    facts = json.loads((REPO / "tests" / "data" / "sample_facts.json").read_text(encoding="utf-8"))

    assert data["schema"] == 1
    assert data["posts"] == facts["post_count"] == sum(months.values())
    assert data["invalid"] == 0
    assert data["categories"] == dict(categories) == facts["categories"]
    assert data["tags"] == dict(tags)
    assert data["months"] == dict(months)
    assert list(data["months"]) == sorted(data["months"])  # oldest first
    counts = list(data["categories"].values())
    assert counts == sorted(counts, reverse=True)  # most first


def test_invalid_posts_are_counted_and_still_tallied(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        "_posts/2022-06-01-a1.md": post_text(title="好文章一", category="alpha", tag="甲"),
        "_posts/2022-06-02-a2.md": post_text(title="好文章二", date="2022-06-02 08:00:00 +0800", category="beta"),
        "_posts/2022-06-03-bad-yaml.md": '---\nlayout: post\ntitle: "没有结束\ndate: 2022-06-03\n---\n正文\n',
        "_posts/2022-06-04-no-title.md": post_text(title="", category="alpha"),
        "_posts/2022-05-05-no-date.md": post_text(date="", category="alpha"),
        "_posts/2022-06-06-latin1.md": "---\ntitle: caf\xe9\n---\n".encode("latin-1"),
        "_posts/2022-06-07-bom.md": "\ufeff" + post_text(title="带BOM的文章", category="beta"),
    })
    data = stats_json(cli, root)
    assert data["posts"] == 7
    assert data["invalid"] == 4  # broken YAML, empty title, no date, not UTF-8 (a BOM is only a warning)
    # What could be read is still counted: the categories of the posts whose front matter parsed.
    assert data["categories"] == {"alpha": 3, "beta": 2}
    assert data["tags"] == {"东财滚动新闻": 4, "甲": 1}
    # The undated post counts under its file-name month; the unreadable ones by their file names too.
    assert data["months"] == {"2022-05": 1, "2022-06": 6}


def test_a_post_that_validate_passes_and_the_index_keeps_is_not_invalid(
        cli: Cli, make_archive: Callable[..., Path]) -> None:
    """CRLF line ends and a BOM are warnings: validate passes the post and index indexes it, so
    stats must not count it invalid (all three ask post.unusable_reason)."""
    crlf = post_text(title="换行符", body="第一段。\n\n第二段。").replace("\n", "\r\n")
    root = make_archive({
        "_posts/2022-06-01-crlf.md": crlf.encode("utf-8"),
        "_posts/2022-06-02-bom.md": ("\ufeff" + post_text(title="带BOM", date="2022-06-02 08:00:00 +0800")).encode(),
        "_posts/2022-06-03-no-title.md": post_text(title="", date="2022-06-03 08:00:00 +0800"),
    })
    assert stats_json(cli, root)["invalid"] == 1
    validated = cli("--root", root, "validate", "--format", "json", root / "_posts/2022-06-01-crlf.md")
    assert validated.code == 0 and [f["code"] for f in json.loads(validated.stdout)] == ["NC104"]
    indexed = cli("--root", root, "index")
    assert indexed.code == 0, indexed.stderr
    found = cli("--root", root, "search", "--format", "paths", "换行符")
    assert found.code == 0 and found.stdout.strip().endswith("2022-06-01-crlf.md")


def test_months_are_taken_in_the_archive_zone(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        # 20:00 in New York on 31 May is 08:00 on 1 June in Shanghai.
        "_posts/2022-05-31-ny.md": post_text(date="2022-05-31 20:00:00 -0400"),
        # no zone: Jekyll (Psych) reads it as UTC, 07:30 on 1 June in Shanghai
        "_posts/2022-05-31-naive.md": post_text(date="2022-05-31 23:30:00"),
        "_posts/2022-05-31-text.md": post_text(date="2022-05-31 23:30"),  # no seconds: read in the site zone
    })
    assert stats_json(cli, root)["months"] == {"2022-05": 1, "2022-06": 2}


def test_tag_lists_count_each_tag_once_per_post(cli: Cli, make_archive: Callable[..., Path]) -> None:
    listed = post_text(tag="[银行, 保险, 银行]").replace("categories: emnews", "categories: [emnews, 快讯]")
    root = make_archive({"_posts/2022-06-01-x.md": listed, "_posts/2022-06-01-y.md": post_text(tag="银行")})
    data = stats_json(cli, root)
    assert data["tags"] == {"银行": 2, "保险": 1}
    assert data["categories"] == {"emnews": 2, "快讯": 1}


def test_empty_archive_and_no_index(cli: Cli, make_archive: Callable[..., Path]) -> None:
    data = stats_json(cli, make_archive({}))
    assert (data["posts"], data["invalid"], data["categories"], data["tags"], data["months"]) == (0, 0, {}, {}, {})
    assert data["index"]["exists"] is False
    assert data["index"]["updated_at"] is None


def test_index_size_and_freshness(cli: Cli, sample_archive: Path) -> None:
    assert cli("--root", sample_archive, "index", "--quiet").code == 0
    fresh = stats_json(cli, sample_archive)["index"]
    assert fresh["exists"] is True
    assert fresh["doc_count"] == 36
    assert fresh["size_bytes"] > 0
    assert fresh["updated_at"] is not None
    assert fresh["stale"] is False

    (sample_archive / "_posts" / "2022-06-04-new.md").write_text(post_text(title="新来的文章"), encoding="utf-8")
    assert stats_json(cli, sample_archive)["index"]["stale"] is True
    text = cli("--root", sample_archive, "stats").stdout
    assert "36 documents" in text and "stale" in text


def test_worker_processes_count_the_same(cli: Cli, make_archive: Callable[..., Path],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    files: dict[str, str | bytes] = {
        f"_posts/2022-{month:02d}-0{day}-p{month}{day}.md": post_text(
            date=f"2022-{month:02d}-0{day} 10:00:00 +0800", category=f"c{day % 3}", tag=f"t{month % 4}")
        for month in range(1, 13) for day in range(1, 10)
    }
    files["_posts/2022-03-01-broken.md"] = "---\ntitle: [unclosed\n---\n"
    root = make_archive(files)
    serial = stats_json(cli, root)
    monkeypatch.setattr(newsctl.stats, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(newsctl.stats, "CHUNK_SIZE", 7)
    assert stats_json(cli, root) == serial
    assert serial["posts"] == 12 * 9 + 1 and serial["invalid"] == 1


def test_text_report_has_tables_and_bars(cli: Cli, sample_archive: Path) -> None:
    result = cli("--root", sample_archive, "stats")
    assert result.code == 0, result
    out = result.stdout
    assert "\x1b[" not in out  # not a terminal: no colour, and plain lines instead of tables
    assert "Posts per category" in out and "Posts per tag" in out and "Posts per month" in out
    assert re.search(r"^Posts\s+36$", out, re.MULTILINE)
    assert "no index" in out
    bars = {month: line.count("█") for line in out.splitlines()
            for month in re.findall(r"\b(2022-0[56])\b", line)}
    _, _, months = count_from_files(sample_archive)
    peak = max(months, key=lambda month: months[month])
    assert bars[peak] == 40  # the busiest month gets the full bar, the other one a share of it
    other = next(month for month in months if month != peak)
    assert bars[other] == round(40 * months[other] / months[peak])
    assert re.search(r"^emnews\s+15\b", out, re.MULTILINE)


def test_terminal_colours_follow_no_color(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-a.md": post_text(), "_posts/2022-06-02-b.md": post_text(title="")})
    coloured = cli("--root", root, "stats", env={"FORCE_COLOR": "1", "COLUMNS": "120"})
    assert any(COLOUR_PARAMS.search(params) for params in SGR.findall(coloured.stdout)), coloured
    plain = cli("--root", root, "stats", env={"FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "120"})
    assert plain.code == 0
    assert not any(COLOUR_PARAMS.search(params) for params in SGR.findall(plain.stdout)), plain
    assert "Invalid posts" in plain.stdout


def test_real_archive_counts(cli: Cli, finews_copy: Path) -> None:
    manifest = (finews_copy / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    broken = [row for row in manifest if "date_missing" in row or "empty_title" in row]
    data = stats_json(cli, finews_copy)
    assert data["posts"] == len(manifest)
    assert data["invalid"] == len(broken) == 1
    # The one post without a date has no date in its file name either: it is in no month.
    assert sum(data["months"].values()) == len(manifest) - 1
    assert sum(data["categories"].values()) == len(manifest)
