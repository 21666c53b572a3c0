"""The benchmark suite (benchmarks/) works end to end: smoke run over a generated archive, plus its parts."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gencorpus import generate
from benchmarks.queries import ground_truth, make_queries
from benchmarks.textnorm import list_posts, read_title_body, searchable_text

REPO_ROOT = Path(__file__).resolve().parents[1]

SAMPLE_DIGEST = """---
layout: post
title: "示例公司发布2023Q2业绩快报"
date: 2023-08-01 09:30:00 +0800
categories: emnews
tags: 东财滚动新闻
---

示例公司今日披露半年度业绩快报，营业收入同比增长百分之十二。公司表示新产品线贡献了主要增量。（东财滚动新闻）

<http://finance.eastmoney.com/a/202308011234567890.html>

[返回东财滚动新闻新闻](//finews.withounder.com/category/emnews.html)｜[返回首页](//finews.withounder.com/)
"""

SAMPLE_HTML = """---
layout: post
title: "港口吞吐量回升 航运板块走强"
date: 2023-08-02 15:00:00 +0800
categories: zhengquanshibao
tags: 证券时报新闻
---
<p>今年七月主要港口集装箱吞吐量环比回升。多家航运企业股价随之上涨。</p><p>分析人士认为运价企稳仍需观察。\
<span id="stock_1.600018"><a href="http://quote.eastmoney.com/unify/r/1.600018" data-code="1,600018">上港集团</a>\
</span></p><p class="em_media">（文章来源：证券时报）</p>

<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202308029876543210>

[返回证券时报新闻](//finews.withounder.com/category/zhengquanshibao.html)｜[返回首页](//finews.withounder.com/)
"""


@pytest.fixture
def sample_sources(tmp_path: Path) -> Path:
    source = tmp_path / "samples"
    source.mkdir()
    (source / "digest.md").write_text(SAMPLE_DIGEST, encoding="utf-8")
    (source / "article.md").write_text(SAMPLE_HTML, encoding="utf-8")
    return source


def test_post_text_has_title_and_body_without_markup_or_footer(sample_sources: Path) -> None:
    title, body = read_title_body(sample_sources / "article.md")
    assert title == "港口吞吐量回升 航运板块走强"
    assert "多家航运企业股价随之上涨" in body
    assert "上港集团" in body
    assert "<" not in body and "返回首页" not in body and "infoCode" not in body


def test_own_generator_writes_requested_posts_with_front_matter(sample_sources: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    generate([sample_sources], archive, 40, seed=7)
    posts = list_posts(archive)
    assert len(posts) == 40
    assert (archive / "_config.yml").read_text(encoding="utf-8").startswith("title:")
    for post in posts:
        title, body = read_title_body(post)
        assert title and body, post


def test_queries_are_seeded_and_drawn_from_the_archive(sample_sources: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    generate([sample_sources], archive, 30, seed=3)
    posts = list_posts(archive)
    first, again = make_queries(posts, 12, seed=11), make_queries(posts, 12, seed=11)
    assert first == again and len(first) == 12
    texts = {p: searchable_text(p) for p in posts}
    for query in first:
        if query.kind != "traditional":  # its simplified form may differ from the word it came from
            assert ground_truth(query, texts), query
    assert {"word", "span", "and", "code"} <= {q.kind for q in first}


def test_smoke_run_writes_report_with_every_table(shared_dir: Path, tmp_path: Path) -> None:
    """Needs ../shared: the smoke archive comes from its generator and corpus (skips cleanly without)."""
    report = tmp_path / "benchmarks.md"
    cmd = [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(report), "--work", str(tmp_path / "work")]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = report.read_text(encoding="utf-8")
    for heading in (
        "## Summary",
        "## Machine",
        "## Commands",
        "## Archives",
        "## Index build",
        "## Incremental update",
        "## Search",
        "## Recall by query kind",
        "## Validate",
        "## Start-up",
        "## Huge posts",
        "## Queries",
    ):
        assert f"\n{heading}\n" in text, heading
    assert "| search p50 <= 0.25 s at 100k posts |" in text
    assert "| huge post <= 5 s, <= +300 MB (index a 4.8 MB post) |" in text
    assert "| 1000 | newsctl |" in text  # measured, or n/a with the error: never missing
    for engine, label, available in (
        ("tantivy", "Tantivy", importlib.util.find_spec("tantivy") is not None),
        ("whoosh", "naive Whoosh", importlib.util.find_spec("jieba") is not None),
        ("ripgrep", "ripgrep", shutil.which("rg") is not None),
    ):
        if available:
            row = next(line for line in text.splitlines() if line.startswith(f"| 1000 | {label} | ") and "/5 |" in line)
            assert "| 5/5 |" in row, row  # every query answered; p50 is a time
        else:
            assert f"{label}" in text and "skipped" in text, engine
