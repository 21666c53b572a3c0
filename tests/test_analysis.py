"""newsctl.analysis: normalisation and the two token streams (jieba words, bigrams)."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsctl._t2s import T2S_PAIRS
from newsctl.analysis import load_user_dict, ngram_tokens, normalize, query_ngrams, word_tokens
from newsctl.post import read_post
from newsctl.text import extract

REPO = Path(__file__).resolve().parents[1]


# ---- normalize --------------------------------------------------------------------------------

def test_normalize_required_examples() -> None:
    assert normalize("資金流入") == normalize("资金流入") == "资金流入"
    assert normalize("ＮＩＯ") == "nio"
    assert normalize("蔚來汽車（ＮＩＯ）：Ｑ１交付\u3000增長") == "蔚来汽车(nio):q1交付 增长"
    assert normalize("HFO-1234YF ΣΑΣ") == "hfo-1234yf σασ"  # no context-dependent final sigma


def test_normalize_applies_every_opencc_pair() -> None:
    traditional, simplified = T2S_PAIRS[0::2], T2S_PAIRS[1::2]
    assert len(traditional) > 4000
    assert normalize(traditional) == simplified.lower()
    # the same characters beside an astral one take the str.translate path: same answer
    assert normalize(traditional + "𠀀") == simplified.lower() + "𠀀"


def test_normalize_only_changes_what_it_must() -> None:
    text = "简体中文保持不变，数字123与符号“”《》。"
    assert normalize(text) == "简体中文保持不变,数字123与符号“”《》。"


@given(st.text())
def test_normalize_preserves_length_and_is_idempotent(text: str) -> None:
    norm = normalize(text)
    assert len(norm) == len(text)
    assert normalize(norm) == norm


@given(st.text(alphabet="İIiＩａＡ資资金ΣΣ \u3000,，𠀀漢語", max_size=60))
def test_normalize_is_the_same_for_short_and_long_text(text: str) -> None:
    """Short strings (queries) are translated, long ones (posts) go through a regex: same result."""
    padding = "资" * 300
    assert normalize(text + padding)[:len(text)] == normalize(text)
    assert normalize(padding + text)[300:] == normalize(text)


@given(st.text(alphabet="İIiＩａＡ資资金ΣΣ \u3000,，𠀀", max_size=30))
def test_normalize_offsets_match_the_original(text: str) -> None:
    norm = normalize(text)
    for i, char in enumerate(text):  # character i maps to character i
        assert norm[i] == normalize(char)


def test_t2s_table_is_what_the_generator_writes(tmp_path: Path) -> None:
    out = tmp_path / "_t2s.py"
    result = subprocess.run([sys.executable, str(REPO / "tools" / "gen_t2s.py"), "--out", str(out)],
                            capture_output=True, text=True, timeout=60)
    if "not found" in result.stderr:
        pytest.skip("opencc-python-reimplemented (the dictionary text) is not installed")
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == (REPO / "newsctl" / "_t2s.py").read_text(encoding="utf-8")


# ---- word tokens ------------------------------------------------------------------------------

def test_word_tokens_search_mode_words_and_subwords() -> None:
    norm = normalize("中華人民共和國的資金流入，增長 81.5%！")
    tokens = word_tokens(norm)
    terms = [term for term, _, _ in tokens]
    assert {"中华人民共和国", "共和国", "共和", "资金", "流入", "增长", "81.5%"} <= set(terms)
    assert not {"，", " ", "！", "%"} & set(terms)
    assert all(norm[start:end] == term for term, start, end in tokens)


def test_word_tokens_drop_only_punctuation_and_space() -> None:
    terms = [term for term, _, _ in word_tokens(normalize("“增持” -- ... ＨＦＯ-1234yf\r\n"))]
    assert terms == ["增持", "hfo", "1234yf", "hfo-1234yf"]


# ---- n-grams ----------------------------------------------------------------------------------

def test_ngram_tokens_example() -> None:
    assert ngram_tokens("ab cde  f") == [("ab", 0, 2), ("b", 1, 2), ("cd", 3, 5), ("de", 4, 6), ("e", 5, 6),
                                         ("f", 8, 9)]
    assert ngram_tokens("") == [] and ngram_tokens(" \n ") == []


def test_ngram_tokens_offsets() -> None:
    norm = normalize("蔚来汽车 宣布\n交付量增长 123")
    tokens = ngram_tokens(norm)
    assert all(norm[start:end] == term for term, start, end in tokens)
    assert len(tokens) == len(norm.replace(" ", "").replace("\n", ""))


@pytest.mark.parametrize(("query", "terms"), [
    ("abc", ["ab", "bc"]),
    ("ab", ["ab"]),
    ("a", ["a"]),
    ("ab cd", ["ab", "b", "cd"]),
    ("a bc", ["a", "bc"]),
    ("ab c", ["ab", "b", "c"]),
    ("ab  cde f", ["ab", "b", "cd", "de", "e", "f"]),
    ("  资金 ", ["资金"]),
    ("", []),
])
def test_query_ngrams(query: str, terms: list[str]) -> None:
    assert query_ngrams(query) == terms


def phrase_start(terms: list[str], tokens: list[tuple[str, int, int]], offset: int) -> bool:
    """Whether `terms` occur as consecutive tokens from the token that starts at `offset`.

    A one-character last term matches as a prefix, per query_ngrams' contract.
    """
    index = next((i for i, (_, start, _) in enumerate(tokens) if start == offset), None)
    if index is None or index + len(terms) > len(tokens):
        return False
    window = [term for term, _, _ in tokens[index:index + len(terms)]]
    last_is_prefix = len(terms[-1]) == 1
    head_ok = window[:-1] == terms[:-1]
    last_ok = window[-1].startswith(terms[-1]) if last_is_prefix else window[-1] == terms[-1]
    return head_ok and last_ok


def real_texts() -> list[str]:
    texts = [extract(read_post(path).body).text for path in sorted((REPO / "sample_posts").rglob("*.md"))]
    shared = REPO.parent / "shared" / "corpus"
    if shared.is_dir():
        texts += [extract(read_post(path).body).text for path in sorted(shared.rglob("*.md"))]
    return texts


def test_query_ngrams_phrase_is_found_for_random_substrings_of_real_text() -> None:
    rng = random.Random(684)
    checked = 0
    for text in real_texts():
        norm = normalize(text)
        tokens = ngram_tokens(norm)
        for _ in range(40):
            start = rng.randrange(len(norm))
            piece = norm[start:start + rng.randint(1, 12)]
            stripped = piece.strip()
            if not stripped:
                continue
            offset = start + piece.index(stripped[0])
            assert phrase_start(query_ngrams(stripped), tokens, offset), (stripped, norm[offset - 5:offset + 20])
            checked += 1
    assert checked > 1000


@given(st.text(alphabet="ab资金 \n", min_size=1, max_size=40), st.data())
def test_query_ngrams_phrase_is_found_for_any_substring(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        offset = start + piece.index(stripped[0])
        assert phrase_start(query_ngrams(stripped), ngram_tokens(text), offset)


def test_query_ngrams_phrase_does_not_match_other_text() -> None:
    tokens = ngram_tokens("资金流入 市场")
    assert not phrase_start(query_ngrams("资金 流入"), tokens, 0)  # the run does not end after 资金
    assert not phrase_start(query_ngrams("流入市场"), tokens, 2)  # whitespace splits the runs


# ---- user dictionary --------------------------------------------------------------------------

def test_load_user_dict_adds_normalised_words(tmp_path: Path) -> None:
    text = normalize("蓝鲸雲算发布新品，紫杉量子跟进")
    before = {term for term, _, _ in word_tokens(text)}
    assert "蓝鲸云算" not in before and "紫杉量子" not in before
    path = tmp_path / "user.dict"
    path.write_text("\ufeff# 自定义词\n藍鯨雲算 50 nz\n\n紫杉量子\n青松数联 7\n", encoding="utf-8")
    assert load_user_dict(path) == 3
    after = {term for term, _, _ in word_tokens(text)}
    assert {"蓝鲸云算", "紫杉量子"} <= after


@pytest.mark.parametrize("line", ["坏行 10 nz 多余", "坏行 十 nz", "坏行 -5", "坏行 12 n3"])
def test_load_user_dict_rejects_bad_line_with_file_and_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.dict"
    path.write_text(f"好词 3\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="^" + re.escape(f"{path}:2: ")):
        load_user_dict(path)


def test_load_user_dict_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.dict"):
        load_user_dict(tmp_path / "missing.dict")
