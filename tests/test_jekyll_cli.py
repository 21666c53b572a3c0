"""What Jekyll publishes, through the CLI: `add` protects Liquid-looking text (and the post builds
with a real Jekyll, text intact), default search leaves out what Jekyll does not publish, stats
counts it apart."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text
from jekyll_build import jekyll_build, read_tree

LIQUID_BODY = "模板 {{ 1 | plus: 1 }} 与 {% 错误 %} 与 {{ 未闭合\n\n<http://finance.eastmoney.com/a/9.html>"


def test_add_protects_liquid_looking_text_and_validate_passes_it(cli: Cli, make_archive: Callable[..., Path],
                                                                 tmp_path: Path) -> None:
    root = make_archive({})
    body = tmp_path / "body.txt"
    body.write_text(LIQUID_BODY, encoding="utf-8")
    added = cli("--root", root, "add", "--title", "模板 {{ 标题 }}", "--date", "2022-06-01 10:00:00",
                "--category", "emnews", "--tag", "快讯", "--body-file", str(body), "--print-path")
    assert added.code == 0, added
    path = Path(added.stdout.strip())
    path = path if path.is_absolute() else root / path
    text = path.read_text(encoding="utf-8")
    assert "{% raw %}{{{% endraw %} 1 | plus: 1 }}" in text
    checked = cli("--root", root, "validate", "--format", "json", str(path))
    assert not [f for f in json.loads(checked.stdout) if f["code"] in ("NC505", "NC506")], checked.stdout


@pytest.mark.skipif(shutil.which("jekyll") is None, reason="jekyll is not installed")
def test_add_output_builds_with_jekyll_with_the_text_intact(cli: Cli, make_archive: Callable[..., Path],
                                                            tmp_path: Path) -> None:
    root = make_archive({})
    body = tmp_path / "body.txt"
    body.write_text(LIQUID_BODY, encoding="utf-8")
    added = cli("--root", root, "add", "--title", "模板 {{ 标题 }}", "--date", "2022-06-01 10:00:00",
                "--category", "emnews", "--tag", "快讯", "--body-file", str(body), "--print-path")
    assert added.code == 0, added
    build = jekyll_build(read_tree(root), "timezone: Asia/Shanghai\n", tmp_path / "jekyll")
    assert not build.aborts
    (row,) = build.published.values()
    assert row["body"].startswith(LIQUID_BODY.split("\n")[0])
    assert row["title_shown"] == "模板 {{ 标题 }}"


def test_default_search_leaves_out_what_jekyll_does_not_publish(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        "_posts/2022-06-01-1.md": post_text(title="发布的稿件", body="独特词汇甲乙丙。"),
        "_posts/2022-06-01-2.md": post_text(title="不发布的稿件", body="独特词汇甲乙丙。", post_id="2")
        .replace("tags: 东财滚动新闻", "tags: 东财滚动新闻\npublished: false"),
        "_posts/2099-06-01-3.md": post_text(title="未来的稿件", date="2099-06-01 10:00:00 +0800",
                                            body="独特词汇甲乙丙。", post_id="3"),
    })
    assert cli("--root", root, "index").code == 0
    default = cli("--root", root, "search", "独特词汇甲乙丙", "--format", "paths")
    assert [Path(p).name for p in default.stdout.split()] == ["2022-06-01-1.md"]
    everything = cli("--root", root, "search", "独特词汇甲乙丙", "--format", "paths", "--include-unpublished")
    assert sorted(Path(p).name for p in everything.stdout.split()) == ["2022-06-01-1.md", "2022-06-01-2.md",
                                                                       "2099-06-01-3.md"]
    stats = json.loads(cli("--root", root, "stats", "--format", "json").stdout)
    assert (stats["posts"], stats["unpublished"], stats["future"]) == (3, 1, 1)


def test_markdown_and_html_posts_are_seen_as_jekyll_publishes_them(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        "_posts/2022-06-01-a.markdown": post_text(title="扩展名不同", body="另一种扩展名的稿件。"),
        "_posts/2022-06-01-b.html": post_text(title="网页稿件", body="<p>网页格式的稿件。</p>", post_id="2"),
    })
    checked = cli("--root", root, "validate", "--format", "json")
    assert "2 of 2 files" in checked.stderr  # both seen; only the archive's own `.md` convention is flagged
    assert {(f["code"], "Jekyll publishes it" in f["message"]) for f in json.loads(checked.stdout)} == {("NC401", True)}
    assert cli("--root", root, "index").code == 0
    found = cli("--root", root, "search", "稿件", "--format", "paths")
    assert sorted(Path(p).name for p in found.stdout.split()) == ["2022-06-01-a.markdown", "2022-06-01-b.html"]


def test_a_custom_markdown_ext_decides_which_files_are_posts(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        "_posts/2022-06-01-a.txt": post_text(title="自定义扩展名", body="自定义扩展名的稿件独特词。"),
        "_posts/2022-06-01-b.md": post_text(title="默认扩展名", body="默认扩展名的稿件独特词。", post_id="2"),
    }, config="title: t\ntimezone: Asia/Shanghai\nmarkdown_ext: txt,md\n")
    assert "of 2 files" in cli("--root", root, "validate").stderr  # both seen
    assert cli("--root", root, "index").code == 0
    found = cli("--root", root, "search", "稿件独特词", "--format", "paths")
    assert sorted(Path(p).name for p in found.stdout.split()) == ["2022-06-01-a.txt", "2022-06-01-b.md"]
    origin = json.loads(cli("--root", root, "config", "--format", "json").stdout)["posts"]["origin"]
    assert origin == "_config.yml (markdown_ext)"
