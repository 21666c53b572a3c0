"""Normalisation and tokens, identical at index and at query time.

`normalize` maps character to character, so an offset in the normalised text is the same
offset in the original (highlighting relies on it). Two token streams are built from the
normalised text: jieba words (`word_tokens`, precise and ranked) and overlapping bigrams
(`ngram_tokens`, so that any substring is found even where jieba cuts differently).
See docs/analysis.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import chain
from operator import add
from pathlib import Path
from sys import intern
from typing import Any

from newsctl._t2s import T2S_PAIRS

Token = tuple[str, int, int]  # (term, startchar, endchar); the position is the list index


def _build_table() -> dict[int, int]:
    """Full-width ASCII -> half-width, U+3000 -> space, and OpenCC t2s, in one table."""
    table: dict[int, int] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
    table[0x3000] = ord(" ")
    # U+0130 (İ) is the only character whose str.lower() is two characters long; folding it
    # here keeps the .lower() that follows the translation length-preserving.
    table[0x130] = ord("i")
    # Σ is the only character str.lower() maps by context (final ς); fix it to σ so that a
    # character normalises the same wherever it stands.
    table[0x3A3] = ord("σ")
    table.update(str.maketrans(T2S_PAIRS[0::2], T2S_PAIRS[1::2]))
    return table


_TABLE = _build_table()
# A character class of BMP characters compiles to a bitmap, so scanning is ~40x faster than
# `str.translate`, which raises and clears a KeyError for every character it leaves alone.
# Astral characters would turn the class into a slow range list; texts holding any take the
# plain `str.translate` path instead (rare in news text).
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


@cache  # ~5 ms: only commands that normalise long texts pay it
def _mapped_chars() -> dict[str, str]:
    return {chr(key): chr(value) for key, value in _TABLE.items()}


@cache  # compiling takes ~8 ms: only commands that normalise long texts pay it
def _needs_mapping() -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(_mapped_chars()) if ord(c) < 0x10000) + "]")


def _mapped(match: re.Match[str]) -> str:
    return _mapped_chars()[match.group()]


_SHORT = 200  # characters: below this, `str.translate` costs less than compiling the regex once


def normalize(text: str) -> str:
    """Half-width, lower-case, simplified; len(normalize(t)) == len(t) for every t."""
    if text.isascii():
        return text.lower()
    if len(text) < _SHORT or _ASTRAL.search(text):
        return text.translate(_TABLE).lower()
    return _needs_mapping().sub(_mapped, text).lower()


# ---- query syntax as input methods type it ------------------------------------------------------

_OPENING_QUOTE, _CLOSING_QUOTE = "\u201c", "\u201d"  # “ ”
_SYNTAX_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: ord(" ")}


def fold_query_syntax(query: str) -> str:
    """The query with the full-width forms a Chinese input method types read as the query
    language's own: `title：x` is `title:x`, `（a ＯＲ b）` is `(a OR b)`, `－x` is `-x`, a
    U+3000 space is a space, and “…” quotes a phrase as "…" does. Inside a phrase quoted with
    '"' nothing changes (a phrase may hold curly quotes); one character stays one character, so
    columns in error messages still point into the query as typed."""
    out: list[str] = []
    closing: str | None = None  # the quote that ends the phrase being read
    escaped = False
    for char in query:
        if closing == '"':
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                closing = None
        elif closing == _CLOSING_QUOTE:  # either curly quote ends it: some input methods type “ twice
            curly = char in (_OPENING_QUOTE, _CLOSING_QUOTE)
            out.append('"' if curly else char)
            closing = None if curly else closing
        elif char in (_OPENING_QUOTE, _CLOSING_QUOTE, '"'):
            out.append('"')
            closing = '"' if char == '"' else _CLOSING_QUOTE
        else:
            out.append(char.translate(_SYNTAX_WIDTH))
    return "".join(out)


# ---- jieba words ------------------------------------------------------------------------------

def load_tokenizer() -> None:
    """Load jieba's dictionary and the normalisation regex now (an indexer loads them while it
    waits for something else; they cost ~0.2 s)."""
    import rjieba  # noqa: F401

    _needs_mapping()


_HAS_WORD_CHAR = re.compile(r"[^\W_]")  # a letter or digit of any script


def word_tokens(norm: str) -> list[Token]:
    """jieba search-mode words and sub-words of normalised text, without punctuation/space tokens."""
    # Most tokens are plain words, for which the C-level isalnum() decides; only the rest
    # ("81.5", "hfo-1234yf", "，") need the regex.
    import rjieba  # loading its dictionary takes ~0.1 s: only commands that tokenise pay it

    return [tok for tok in rjieba.tokenize(norm, mode="search")
            if tok[0].isalnum() or _HAS_WORD_CHAR.search(tok[0])]


def word_terms(norm: str) -> list[str]:
    """The terms of `word_tokens` alone (what the index stores of them), interned: a huge post's
    million tokens then cost a pointer each, not a tuple, two ints and a string."""
    import rjieba

    return list(map(intern, filter(_is_word, rjieba.cut_for_search(norm))))


def _is_word(term: str) -> bool:
    return term.isalnum() or _HAS_WORD_CHAR.search(term) is not None


# ---- bigrams ----------------------------------------------------------------------------------

_RUN = re.compile(r"\S+")
_SPACE = re.compile(r"\s+")


def ngram_tokens(norm: str) -> list[Token]:
    """For each whitespace-free run, run[i:i+2] for every i (the run's last character alone)."""
    tokens: list[Token] = []
    for match in _RUN.finditer(norm):
        run, base = match.group(), match.start()
        end = base + len(run)
        terms = list(map(add, run, run[1:]))  # C-level loops: ~2.5x faster than a comprehension
        terms.append(run[-1])
        tokens += zip(terms, range(base, end), chain(range(base + 2, end + 1), (end,)), strict=True)
    return tokens


def ngram_terms(norm: str) -> list[str]:
    """The terms of `ngram_tokens` alone, in order (a term's position is its index), interned."""
    terms: list[str] = []
    for match in _RUN.finditer(norm):
        run = match.group()
        terms += map(intern, map(add, run, run[1:]))
        terms.append(intern(run[-1]))
    return terms


# A long text's bigrams as numbers (ngram_columns): `first << 21 | second`, the second code point
# 0 for a run's last character alone (no text holds NUL: such a post is refused). Code points are
# below 2^21, so the numbers sort as the terms do (code point order, the index's key order).
COLUMNAR_CHARS = 50_000  # a normalised body this long gets ngram_columns instead of ngram_terms
_SECOND = (1 << 21) - 1


@dataclass(frozen=True)
class NgramColumns:
    """ngram_terms(norm) as one array of numbers, one per position (a huge post's 1.7 million
    bigrams are then not 1.7 million strings; the index encodes them column by column)."""

    codes: Any  # numpy int64 array

    def __len__(self) -> int:
        return len(self.codes)

    def terms(self) -> list[str]:
        """The terms themselves: ngram_terms(norm)."""
        return [intern(chr(code >> 21) + chr(code & _SECOND)) if code & _SECOND else intern(chr(code >> 21))
                for code in self.codes.tolist()]


def ngram_columns(norm: str) -> NgramColumns:
    """ngram_terms(norm), as numbers: every character not a space gives one term, with the next
    character when that one is in the same run of non-space characters."""
    import numpy as np

    points = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    space = np.isin(points, _space_points())
    second = np.zeros(len(points), dtype=np.int64)
    second[:-1] = np.where(space[1:], 0, points[1:])
    return NgramColumns(((points << 21) | second)[~space])


@cache
def _space_points() -> list[int]:
    """What `\\s` matches (str.isspace, as for _RUN): no character beyond the BMP is a space."""
    return [code for code in range(0x10000) if chr(code).isspace()]


def query_ngrams(term_norm: str) -> list[str]:
    """The terms whose consecutive occurrence in `ngram_tokens` output is exactly `term_norm`.

    Contract for the caller: when the LAST term has one character, match it as a prefix
    (a run may go on after it, so the indexer may have emitted a bigram starting with it).
    Every other term is exact. Leading/trailing whitespace is ignored; inner whitespace
    stands for the run boundary, where the indexer emitted the run's last character alone.
    """
    segments = _SPACE.split(term_norm.strip())
    if segments == [""]:
        return []
    terms: list[str] = []
    for seg in segments[:-1]:  # followed by whitespace: the run ends here
        terms += [seg[i:i + 2] for i in range(len(seg))]
    last = segments[-1]  # the run may continue past the query: no end-of-run unigram
    terms += [last[i:i + 2] for i in range(max(len(last) - 1, 1))]
    return terms


# ---- user dictionary --------------------------------------------------------------------------

_TAG = re.compile(r"[A-Za-z]+")


def load_user_dict(path: Path) -> int:
    """Add jieba userdict lines (`word [freq] [tag]`) to rjieba; returns the number of words.

    Words are normalised first, as the text they must match is. Blank lines and lines
    starting with '#' are skipped. A bad line raises ValueError naming file:line.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read user dictionary: {exc}") from exc
    entries = [_parse_dict_line(line, f"{path}:{number}")
               for number, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]
    import rjieba

    for word, freq, tag in entries:  # all lines checked before any is added
        rjieba.add_word(word, freq, tag)
    return len(entries)


def _parse_dict_line(line: str, where: str) -> tuple[str, int | None, str | None]:
    fields = line.split()
    word, rest = normalize(fields[0]), fields[1:]
    freq: int | None = None
    tag: str | None = None
    if rest and rest[0].isascii() and rest[0].isdigit():
        freq = int(rest.pop(0))
    if rest and _TAG.fullmatch(rest[0]):
        tag = rest.pop(0)
    if rest:
        raise ValueError(f"{where}: expected 'word [freq] [tag]' (freq a whole number, tag letters), "
                         f"got {line.strip()!r}")
    return word, freq, tag
