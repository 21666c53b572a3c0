"""newsctl's model of what Jekyll publishes, against a real Jekyll 4.3 build.

Two sites are built with `jekyll build` (once each per test session): our own edge posts
(tests/data/jekyll_edge: dates, YAML typing, keys, file names, Liquid, published, future) and the
real archive excerpt in ../shared/corpus/finews (read from there). For every file, what Jekyll
did (published it and how, left it out, or stopped the build on it) must be what
`newsctl.jekyll.model.publish` says.
"""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Cli
from jekyll_build import JekyllBuild, jekyll_build, read_tree

from newsctl.jekyll.escape import protect_liquid
from newsctl.jekyll.model import Publication, publish
from newsctl.jekyll.site import read_site

EDGE = Path(__file__).parent / "data" / "jekyll_edge"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "finews"
CORPUS_CONFIG = "timezone: Asia/Shanghai\npermalink: /:categories/:year/:month/:day/:title.html\n"
ZONE = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.skipif(shutil.which("jekyll") is None, reason="jekyll is not installed")


def _site_files(root: Path) -> list[str]:
    return sorted(read_tree(root)) if root.is_dir() else []


# Bodies that look like Liquid, as a scraper may bring them; `protect_liquid` (what `add` writes)
# must make Jekyll publish each exactly as written.
LIQUID_LOOKING = [
    "一加一等于 {{ 1 | plus: 1 }}。",
    "{% 错误 %} 与 {{ 未闭合的变量",
    "模板里写 {% raw %} 和 {% endraw %} 两个标签。",
    "{{{ 三个花括号 }}} 与 {%- if -%} 与 {{%",
    "第一段 {{ a }}\n\n第二段 {% if b %}",
]


def _protected_posts() -> dict[str, bytes]:
    posts = {}
    for number, body in enumerate(LIQUID_LOOKING):
        text = (f'---\nlayout: post\ntitle: "保护 {number}"\ndate: 2022-06-02 09:0{number}:00 +0800\n'
                f"categories: emnews\ntags: 东财滚动新闻\n---\n\n{protect_liquid(body)}\n")
        posts[f"_posts/2022-06-02-protected-{number}.md"] = text.encode("utf-8")
    return posts


@pytest.fixture(scope="module")
def edge_build(tmp_path_factory: pytest.TempPathFactory) -> JekyllBuild:
    files = {**read_tree(EDGE), **_protected_posts()}
    return jekyll_build(files, (EDGE / "_config.yml").read_text(encoding="utf-8"),
                        tmp_path_factory.mktemp("jekyll-edge"))


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus with the _config.yml it is built with: newsctl reads the same site."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/finews is absent")
    root = tmp_path_factory.mktemp("corpus-site") / "finews"
    shutil.copytree(CORPUS, root)
    (root / "_config.yml").write_text(CORPUS_CONFIG, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def corpus_build(corpus_root: Path, tmp_path_factory: pytest.TempPathFactory) -> JekyllBuild:
    return jekyll_build(read_tree(CORPUS), CORPUS_CONFIG, tmp_path_factory.mktemp("jekyll-corpus"))


@pytest.fixture(scope="module")
def edge_root() -> Path:
    return EDGE


def model_of(root: Path, rel: str) -> Publication:
    raw = (root / rel).read_bytes()
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return publish(rel, text, read_site(root, ZONE), now=datetime.now(timezone.utc))


def disagreements(build: JekyllBuild, rel: str, model: Publication) -> list[str]:
    """What Jekyll did with `rel` that the model does not say (empty when they agree)."""
    if rel in build.aborts:
        return [] if model.aborts else [f"Jekyll aborts ({build.aborts[rel][:160]}); the model says "
                                        f"published={model.published} reason={model.reason}"]
    if model.aborts:
        return [f"the model says the build aborts ({model.aborts}); Jekyll did not"]
    row = build.published.get(rel)
    if row is None:
        return [f"Jekyll does not publish it; the model says published ({model.kind})"] if model.published else []
    if not model.published:
        return [f"Jekyll publishes it; the model says not ({model.reason})"]
    found = []
    if model.date_rule != "build-time":  # a post Jekyll dates at the build time moves with the clock
        epoch = int(model.instant.timestamp()) if model.instant else None
        if row["epoch"] != epoch:
            found.append(f"instant: Jekyll {row['date']}, model {model.instant}")
        if row["url"] != model.url:
            found.append(f"url: Jekyll {row['url']}, model {model.url}")
    if row["title_shown"] != model.title:
        found.append(f"title: Jekyll {row['title_shown']!r}, model {model.title!r}")
    if model.kind == "post":
        if (row["categories"] or []) != list(model.categories):
            found.append(f"categories: Jekyll {row['categories']}, model {list(model.categories)}")
        if (row["tags"] or []) != list(model.tags):
            found.append(f"tags: Jekyll {row['tags']}, model {list(model.tags)}")
    if row["kind"] != model.kind:
        found.append(f"kind: Jekyll {row['kind']}, model {model.kind}")
    liquid = model.liquid
    body = liquid.output if liquid is not None else (model.front_matter.body if model.front_matter else None)
    if body is not None and not (liquid is not None and liquid.lenient) and row["body"] != body:
        found.append(f"body: Jekyll {row['body'][:80]!r}, model {body[:80]!r}")
    return found


@pytest.mark.parametrize("rel", _site_files(EDGE))
def test_edge_post_as_jekyll_publishes_it(edge_build: JekyllBuild, rel: str) -> None:
    assert disagreements(edge_build, rel, model_of(EDGE, rel)) == []


@pytest.mark.parametrize("rel", _site_files(CORPUS))
def test_corpus_post_as_jekyll_publishes_it(corpus_build: JekyllBuild, corpus_root: Path, rel: str) -> None:
    assert disagreements(corpus_build, rel, model_of(corpus_root, rel)) == []


def test_the_edge_set_covers_what_jekyll_refuses_drops_and_defers(edge_build: JekyllBuild) -> None:
    """The edge posts keep their purpose: some abort the build, some are left out, one is future."""
    files = _site_files(EDGE)
    assert {"_posts/2022-06-01-zone-only.md", "_posts/2022-06-01-empty-date.md",
            "_posts/2022-06-01-liquid-bad-tag.md", "_posts/2022-06-01-liquid-unclosed.md",
            "_posts/2022-06-01-bad-yaml-liquid-tag.md"} <= set(edge_build.aborts)
    left_out = [rel for rel in files if rel not in edge_build.published and rel not in edge_build.aborts]
    assert {"_posts/2022-06-01-published-false.md", "_posts/2022-06-01-published-null.md",
            "_posts/2099-01-01-future.md", "_posts/no-date-name.md"} <= set(left_out)
    zone_less = edge_build.published["_posts/2022-06-01-zone-less.md"]
    assert zone_less["date"] == "2022-06-01 18:46:18 +0800"  # Psych: a zone-less timestamp is UTC
    assert edge_build.published["_posts/2022-06-01-no-seconds.md"]["date"] == "2022-06-01 10:46:00 +0800"


@pytest.mark.parametrize("number", range(len(LIQUID_LOOKING)))
def test_protected_liquid_looking_text_is_published_as_written(edge_build: JekyllBuild, number: int) -> None:
    row = edge_build.published.get(f"_posts/2022-06-02-protected-{number}.md")
    assert row is not None, edge_build.aborts
    assert row["body"] == LIQUID_LOOKING[number] + "\n"


# ---- the same comparison through the CLI: `newsctl show PATH --format json` ------------------------

def cli_disagreements(build: JekyllBuild, rel: str, doc: dict) -> list[str]:
    """What Jekyll did with `rel` that `newsctl show --format json` does not say."""
    said = doc["jekyll"]
    if rel in build.aborts:
        return [] if said["aborts"] else [f"Jekyll aborts ({build.aborts[rel][:160]}); newsctl: {said}"]
    if said["aborts"]:
        return [f"newsctl says the build aborts ({said['aborts']}); Jekyll did not"]
    row = build.published.get(rel)
    if row is None:
        return [f"Jekyll does not publish it; newsctl says published ({said['kind']})"] if said["published"] else []
    if not said["published"]:
        return [f"Jekyll publishes it; newsctl says not ({said['reason']})"]
    found = []
    if said["date_rule"] != "build-time":
        if row["epoch"] != said["epoch"]:
            found.append(f"instant: Jekyll {row['date']}, newsctl {said['date']}")
        if row["url"] != said["url"]:
            found.append(f"url: Jekyll {row['url']}, newsctl {said['url']}")
    if row["title_shown"] != said["title"]:
        found.append(f"title: Jekyll {row['title_shown']!r}, newsctl {said['title']!r}")
    if said["kind"] == "post":
        for key in ("categories", "tags"):
            if (row[key] or []) != said[key]:
                found.append(f"{key}: Jekyll {row[key]}, newsctl {said[key]}")
    approximate = said["liquid"] is not None and said["liquid"]["approximate"]
    # (newsctl reads CRLF files with LF line ends, and says so: NC104)
    if said["body"] is not None and not approximate and row["body"].replace("\r\n", "\n") != said["body"]:
        found.append(f"body: Jekyll {row['body'][:80]!r}, newsctl {said['body'][:80]!r}")
    return found


def _shown(root: Path, rel: str) -> dict:
    result = Cli()("--root", root, "show", rel, "--format", "json")
    assert result.code == 0, result
    return json.loads(result.stdout)


@pytest.mark.parametrize("rel", _site_files(EDGE))
def test_edge_post_through_show_json(edge_build: JekyllBuild, rel: str) -> None:
    assert cli_disagreements(edge_build, rel, _shown(EDGE, rel)) == []


@pytest.mark.parametrize("rel", _site_files(CORPUS))
def test_corpus_post_through_show_json(corpus_build: JekyllBuild, corpus_root: Path, rel: str) -> None:
    assert cli_disagreements(corpus_build, rel, _shown(corpus_root, rel)) == []


# ---- what `validate` says of each post, against what Jekyll did --------------------------------------

SITES = ("edge", "corpus")


def _built_and_found(request: pytest.FixtureRequest, site: str) -> tuple[Path, JekyllBuild, dict[str, list[dict]]]:
    root: Path = request.getfixturevalue(f"{site}_root")
    build: JekyllBuild = request.getfixturevalue(f"{site}_build")
    result = Cli()("--root", root, "validate", "--no-cache", "--format", "json")
    assert result.code in (0, 1), result
    found: dict[str, list[dict]] = {}
    for finding in json.loads(result.stdout):
        found.setdefault(Path(finding["path"]).resolve().relative_to(root.resolve()).as_posix(), []).append(finding)
    return root, build, found


@pytest.mark.parametrize("site", SITES)
def test_every_post_that_stops_the_build_gets_an_error(request: pytest.FixtureRequest, site: str) -> None:
    _, build, found = _built_and_found(request, site)
    assert [rel for rel in build.aborts if not any(f["severity"] == "error" for f in found.get(rel, []))] == []


@pytest.mark.parametrize("site", SITES)
def test_every_post_whose_liquid_changes_its_text_gets_a_finding(request: pytest.FixtureRequest, site: str) -> None:
    root, build, found = _built_and_found(request, site)
    files = set(_site_files(root))
    # (a body whose only Liquid is {% raw %} is published as its author meant: what `add` writes)
    changed = [rel for rel, row in build.published.items() if rel in files
               and (model := model_of(root, rel)).front_matter is not None
               and row["body"].replace("\r\n", "\n") != model.front_matter.body.replace("\r\n", "\n")
               and not (model.liquid is not None and model.liquid.only_raw)]
    if site == "edge":
        assert "_posts/2022-06-01-bad-yaml-liquid-output.md" in changed  # broken YAML, the body rendered
    assert [rel for rel in changed if not {"NC505", "NC506"} & {f["code"] for f in found.get(rel, [])}] == []
