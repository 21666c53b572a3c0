"""Front-matter defaults (`defaults:` in _config.yml) against a real Jekyll 4.3 build: the site
in tests/data/jekyll_defaults has one post per rule of newsctl/jekyll/defaults.py (path prefix,
glob, type, precedence, categories joined, a page's fallback, a broken front matter)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jekyll_build import JekyllBuild, jekyll_build, read_tree
from test_jekyll_differential import _shown, _site_files, cli_disagreements, disagreements, model_of

SITE = Path(__file__).parent / "data" / "jekyll_defaults"

pytestmark = pytest.mark.skipif(shutil.which("jekyll") is None, reason="jekyll is not installed")


@pytest.fixture(scope="module")
def defaults_build(tmp_path_factory: pytest.TempPathFactory) -> JekyllBuild:
    return jekyll_build(read_tree(SITE), (SITE / "_config.yml").read_text(encoding="utf-8"),
                        tmp_path_factory.mktemp("jekyll-defaults"))


@pytest.mark.parametrize("rel", _site_files(SITE))
def test_post_with_defaults_as_jekyll_publishes_it(defaults_build: JekyllBuild, rel: str) -> None:
    assert disagreements(defaults_build, rel, model_of(SITE, rel)) == []
    assert cli_disagreements(defaults_build, rel, _shown(SITE, rel)) == []


def test_the_defaults_site_exercises_each_rule(defaults_build: JekyllBuild) -> None:
    published = defaults_build.published
    assert published["_posts/sub/2022-06-01-sub-own-tags.md"]["categories"] == ["默认栏目", "emnews"]
    assert published["_posts/sub/2022-06-01-sub-default-tags.md"]["tags"] == ["默认标签"]
    assert "_posts/sub/deeper/2022-06-01-deeper.md" not in published
    assert published["_posts/2022-06-01-no-title.md"]["title_shown"] == "默认标题"
    assert published["_posts/2022-06-01-glob-dated.md"]["date"] == "2021-01-02 03:04:05 +0800"
    assert published["_posts/2022-06-01-null-title.md"]["title_shown"] == "默认标题"  # a null keeps the default
    assert "old_post/2022-05-20-page.md" in published  # a page's `published` ignores the defaults
