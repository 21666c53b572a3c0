"""`newsctl rules`, rule selection (--select/--ignore and the settings, as in ruff), docs/rules.md,
and the fast front-matter reader agreeing with PyYAML."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import REPO, Cli, post_text
from hypothesis import given, settings
from hypothesis import strategies as st

from newsctl.post import PostLoader, parse_post
from newsctl.text import extract

DOCS = REPO / "docs" / "rules.md"


def rules_json(cli: Cli, *args: str) -> list[dict[str, str]]:
    result = cli("rules", "--format", "json", *args)
    assert result.code == 0, result
    return json.loads(result.stdout)


def test_rules_have_stable_unique_codes_severity_and_docs(cli: Cli) -> None:
    rules = rules_json(cli)
    codes = [rule["code"] for rule in rules]
    assert len(codes) == len(set(codes)) >= 30
    assert all(re.fullmatch(r"NC[1-7]\d\d", code) for code in codes)
    for rule in rules:
        assert rule["severity"] in ("error", "warning")
        assert rule["fix"] in ("always", "sometimes", "never")
        assert all(len(rule[part]) > 10 for part in ("what", "why", "how")), rule
    fixable = {rule["code"] for rule in rules if rule["fix"] != "never"}
    assert fixable == {"NC102", "NC104", "NC203", "NC306", "NC701"}


def test_rules_filter_by_prefix_and_plain_text_output(cli: Cli) -> None:
    assert [rule["code"] for rule in rules_json(cli, "NC6")] == ["NC601", "NC602", "NC603", "NC604"]
    text = cli("rules", "NC306").stdout
    assert text.splitlines()[0] == "NC306 date-without-zone (warning, fixable)"
    assert "Why:" in text and "Fix:" in text and "newsctl validate --fix" in text
    unknown = cli("rules", "XY1")
    assert unknown.code == 2 and "XY1" in unknown.stderr


def test_docs_describe_every_rule(cli: Cli) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for rule in rules_json(cli):
        section = docs.split(f"### {rule['code']} {rule['name']}\n", 1)
        assert len(section) == 2, f"docs/rules.md lacks {rule['code']} {rule['name']}"
        body = section[1].split("\n### ", 1)[0]
        assert rule["severity"] in body
        for part in ("what", "why", "how"):
            assert rule[part] in body, (rule["code"], part)


# ---- selection ----------------------------------------------------------------------------------------------

@pytest.fixture
def three_problems(make_archive: Callable[..., Path]) -> Path:
    """NC303 (empty title), NC306 (no zone) and NC701 (trailing whitespace) in one post."""
    return make_archive({"_posts/2022-06-01-1.md": post_text(title="", date="2022-06-01 10:00:00", body="正文 ")})


def codes(cli: Cli, root: Path, *args: str) -> list[str]:
    result = cli("--root", root, "validate", "--format", "json", *args)
    assert result.code in (0, 1), result
    return [f["code"] for f in json.loads(result.stdout)]


@pytest.mark.parametrize(("args", "expected"), [
    ((), ["NC303", "NC306", "NC701"]),
    (("--select", "NC3"), ["NC303", "NC306"]),
    (("--select", "nc306,NC701"), ["NC306", "NC701"]),
    (("--select", "NC3", "--select", "NC7"), ["NC303", "NC306", "NC701"]),
    (("--ignore", "NC3"), ["NC701"]),
    (("--select", "NC3", "--ignore", "NC306"), ["NC303"]),
    (("--select", "NC306", "--ignore", "NC3"), ["NC306"]),  # the more specific code wins
    (("--select", "NC3", "--ignore", "NC3"), []),  # a tie goes to ignore
    (("--select", "ALL", "--ignore", "NC7"), ["NC303", "NC306"]),
])
def test_select_and_ignore(cli: Cli, three_problems: Path, args: tuple[str, ...], expected: list[str]) -> None:
    assert codes(cli, three_problems, *args) == expected


def test_settings_select_and_ignore_layer_under_the_command_line(cli: Cli, three_problems: Path) -> None:
    (three_problems / "newsctl.toml").write_text('select = ["NC3", "NC7"]\nignore = ["NC306"]\n', encoding="utf-8")
    assert codes(cli, three_problems) == ["NC303", "NC701"]
    assert codes(cli, three_problems, "--ignore", "NC7") == ["NC303"]
    assert codes(cli, three_problems, "--select", "NC306") == ["NC306"]  # a fresh selection, as in ruff


def test_pyproject_table_selects_too(cli: Cli, three_problems: Path) -> None:
    (three_problems / "pyproject.toml").write_text('[tool.newsctl]\nignore = ["NC701", "NC303"]\n',
                                                   encoding="utf-8")
    assert codes(cli, three_problems) == ["NC306"]


@pytest.mark.parametrize("bad", ["NC9", "X", "NC3O1"])
def test_unknown_codes_are_usage_errors(cli: Cli, three_problems: Path, bad: str) -> None:
    for option in ("--select", "--ignore"):
        result = cli("--root", three_problems, "validate", option, bad)
        assert result.code == 2
        assert f"unknown rule code or prefix {bad!r}" in result.stderr


# ---- the fast front-matter reader must read exactly what PyYAML reads ---------------------------------------

_ALPHABET = st.sampled_from([*"ab -:#\"'\\\t,[]{}&*!|>%@`?~.0123456789eE+xyntTrufalsFNoO中文：，",
                             "\u3000", "\x85", "\r", "\ufeff", "\x07"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["layout", "title", "date", "tags", "null", "true", "on", "x-y", "Yes"]),
                          st.text(_ALPHABET, max_size=12)), min_size=1, max_size=4))
def test_front_matter_reading_agrees_with_pyyaml(pairs: list[tuple[str, str]]) -> None:
    fm = "".join(f"{key}: {value}\n" for key, value in pairs)
    post = parse_post(f"---\n{fm}---\nbody\n", Path("2022-06-01-x.md"))
    try:
        expected = yaml.load(fm, Loader=PostLoader)
    except yaml.YAMLError:
        assert post.problems, fm
        return
    except RecursionError:  # pragma: no cover - not reachable with this alphabet
        return
    if isinstance(expected, dict):
        assert post.meta == {str(key): value for key, value in expected.items()}, fm


# ---- docs/rules.md is generated from the registry ------------------------------------------------------

def test_docs_are_generated_from_the_registry(tmp_path: Path) -> None:
    check = subprocess.run([sys.executable, "-m", "newsctl.render.rules_doc", "--check"], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, "docs/rules.md is stale: run `python -m newsctl.render.rules_doc --write`"
    stale = tmp_path / "rules.md"
    stale.write_text(DOCS.read_text(encoding="utf-8").replace("### NC306 date-without-zone", "### NC306 old"),
                     encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "newsctl.render.rules_doc", "--check", "--docs", str(stale)],
                           cwd=REPO, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "stale" in again.stderr
    subprocess.run([sys.executable, "-m", "newsctl.render.rules_doc", "--write", "--docs", str(stale)],
                   cwd=REPO, check=True, timeout=60)
    assert stale.read_text(encoding="utf-8") == DOCS.read_text(encoding="utf-8")


# ---- boilerplate: validate and the index agree on what is not the article ----------------------------------

@pytest.mark.parametrize(("line", "boilerplate"), [
    ("[返回东财滚动新闻](//finews.withounder.com/category/emnews.html)｜[返回首页](//finews.withounder.com/)", True),
    ("[返回首页](//finews.withounder.com/)", True),
    ("  [返回列表](/list.html) | [返回首页](/)  ", True),
    ("<http://finance.eastmoney.com/a/1.html>", True),
    ("  <//finews.withounder.com/x.html>  ", True),
    ("<>", True),
    ("[返回](()", False),  # validate took this for a footer, the index for text, before boilerplate.py
    ("[返回[旧版]](//x.com/)", False),
    ("[返回](//x.com/) 后面还有正文", False),
    ("< >", False),
    ("<b>要闻</b>", False),
])
def test_validate_and_the_index_agree_on_boilerplate(cli: Cli, make_archive: Callable[..., Path], line: str,
                                                      boilerplate: bool) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": f'---\nlayout: post\ntitle: "标题"\ndate: 2022-06-01 '
                                                   f"12:00:00 +0800\ncategories: a\ntags: b\n---\n{line}\n"})
    empty_for_validate = "NC501" in codes(cli, root, "--select", "NC501")
    empty_for_the_index = not extract(line + "\n").text.strip()
    assert empty_for_validate == empty_for_the_index == boilerplate


# ---- the package's shape: post.py needs only the reading codes; the facade names resolve ------------------

def test_reading_a_post_imports_only_the_reading_rules() -> None:
    code = "import sys, newsctl.post; print(sorted(m for m in sys.modules if m.startswith('newsctl.rules')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "['newsctl.rules', 'newsctl.rules.reading', 'newsctl.rules.rule']"


def test_the_package_names_resolve_to_their_modules() -> None:
    import newsctl.rules as package
    from newsctl.rules import registry

    assert all(getattr(package, name) is not None for name in package.__all__)
    assert package.RULES is registry.RULES and package.check_post is registry.check_post
    with pytest.raises(AttributeError):
        _ = package.check_body  # renamed: the body rules are one check each (rules/body.py)
