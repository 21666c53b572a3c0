"""Query syntax as Chinese input methods type it (issue 13, item 5): full-width colons, parentheses,
minus, curly quotes and ＯＲ mean what their half-width forms mean; characters whose traditional ->
simplified mapping is ambiguous (乾 is 干 in 乾燥 but itself in 乾隆) are not folded."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SAMPLE_POSTS, Cli, post_text
from hypothesis import given
from hypothesis import strategies as st

from newsctl.analysis import fold_query_syntax, normalize


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fullwidth") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    assert Cli()("--root", root, "index", "--quiet").code == 0
    return root


def search_paths(root: Path, query: str) -> list[str]:
    result = Cli()("--root", root, "search", query, "--limit", "0", "--format", "paths")
    assert result.code in (0, 1), result
    return result.stdout.splitlines()


PAIRS = [
    ("title：信也", "title:信也"),
    ("ｔｉｔｌｅ：信也", "title:信也"),
    ("（信也 OR 茅台） 公司", "(信也 OR 茅台) 公司"),
    ("（信也 ＯＲ 茅台）　公司", "(信也 OR 茅台) 公司"),
    ("公司 －市场", "公司 -市场"),
    ("“北向资金”", '"北向资金"'),
    ("“走强”　北向资金", '"走强" 北向资金'),
    ("资金 ＯＲ 茅台", "资金 OR 茅台"),
    ("公司 ＮＯＴ 市场", "公司 NOT 市场"),
    ("资金 ＡＮＤ 流入", "资金 AND 流入"),
    ("category：emnews 公司", "category:emnews 公司"),
]


@pytest.mark.parametrize(("full", "half"), PAIRS)
def test_full_width_syntax_means_the_half_width_form(indexed: Path, full: str, half: str) -> None:
    expected = search_paths(indexed, half)
    assert expected, half  # the comparison must be able to fail
    assert search_paths(indexed, full) == expected


def test_full_width_operators_change_the_result(indexed: Path) -> None:
    """Not only equal: each operator does something (the forms are read as operators, not dropped)."""
    assert search_paths(indexed, "公司 －市场") != search_paths(indexed, "公司 市场")
    assert search_paths(indexed, "资金 ＯＲ 茅台") != search_paths(indexed, "资金 茅台")
    assert search_paths(indexed, "title：公司") != search_paths(indexed, "公司")


def test_full_width_query_errors_name_the_column(indexed: Path) -> None:
    result = Cli()("--root", indexed, "search", "（信也 OR 茅台")
    assert result.code == 2 and "column 1" in result.stderr, result
    result = Cli()("--root", indexed, "search", "“没有结束")
    assert result.code == 2 and "column 1" in result.stderr, result


def test_show_highlight_takes_full_width_syntax(indexed: Path) -> None:
    result = Cli()("--root", indexed, "show", "202206012398184598", "--highlight", "信也科技 ＯＲ （资金）")
    assert result.code == 0, result


# ---- traditional -> simplified without the ambiguous characters ----------------------------------------

def ambiguous_characters() -> list[str]:
    """Characters that OpenCC maps to a simplified form but also keeps as themselves (乾 -> 干 乾)."""
    opencc = pytest.importorskip("opencc")
    dictionary = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    found = []
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        candidates = targets.split()
        if len(source) == 1 and len(candidates) > 1 and source in candidates:
            found.append(source)
    return found


def test_ambiguous_characters_are_not_folded() -> None:
    ambiguous = ambiguous_characters()
    assert "乾" in ambiguous
    for char in ambiguous:
        assert normalize(char) == char, char
    assert normalize("乾隆年間") == "乾隆年间"
    assert normalize("幹部") == "干部" and normalize("資金") == "资金"  # unambiguous ones still fold


def test_searching_gan_does_not_find_qianlong(make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        "_posts/2022-06-01-202206010000000001.md": post_text(title="乾隆年间的瓷器拍卖", post_id="202206010000000001"),
        "_posts/2022-06-01-202206010000000002.md": post_text(title="基层干部培训", post_id="202206010000000002",
                                                             body="另一篇正文。"),
        "_posts/2022-06-01-202206010000000003.md": post_text(title="幹部的繁体写法", post_id="202206010000000003",
                                                             body="第三篇正文。"),
    })
    assert Cli()("--root", root, "index", "--quiet").code == 0
    assert {Path(p).name for p in search_paths(root, "干")} == {"2022-06-01-202206010000000002.md",
                                                               "2022-06-01-202206010000000003.md"}
    assert {Path(p).name for p in search_paths(root, "乾隆")} == {"2022-06-01-202206010000000001.md"}
    assert {Path(p).name for p in search_paths(root, "幹部")} == {"2022-06-01-202206010000000002.md",
                                                                "2022-06-01-202206010000000003.md"}


# ---- the folding itself -------------------------------------------------------------------------------

@given(st.text(alphabet="“”\"\\（）：－ＯＲ　 ab茅台", max_size=40))
def test_folding_keeps_one_character_per_character(query: str) -> None:
    assert len(fold_query_syntax(query)) == len(query)


def test_a_phrase_quoted_with_ascii_quotes_keeps_its_curly_quotes() -> None:
    assert fold_query_syntax('"他说“好”" 茅台（') == '"他说“好”" 茅台('
    assert fold_query_syntax("“走强 北向资金”") == '"走强 北向资金"'
    assert fold_query_syntax("“走强“") == '"走强"'
