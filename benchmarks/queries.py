"""Search queries drawn from the archive itself (seeded, not hand-picked) and their ground truth.

Ground truth is exact substring matching over each post's normalised title + body text; a query of
several terms matches a post that contains every term; a traditional-Chinese query is judged by its
simplified form.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.textnorm import display_text, normalise

KINDS = ("word", "span", "and", "traditional", "code")
KIND_SHARES = {"word": 0.25, "span": 0.25, "and": 0.2, "traditional": 0.15, "code": 0.15}
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
CODE = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z]{2,6}|[A-Za-z]*\d[A-Za-z0-9]*)(?![A-Za-z0-9])")
MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class Query:
    kind: str
    terms: tuple[str, ...]  # what each engine is asked
    truth_terms: tuple[str, ...]  # normalised, simplified: what ground truth looks for

    @property
    def text(self) -> str:
        return " ".join(self.terms)


Tokenizer = Callable[[str], list[tuple[str, int, int]]]


def default_tokenizer() -> Tokenizer:
    """rjieba (newsctl's own segmenter) when present, else jieba; both follow jieba's dictionary."""
    try:
        import rjieba

        return lambda text: [(w, s, e) for w, s, e in rjieba.tokenize(text)]
    except ImportError:
        import jieba

        return lambda text: [(w, s, e) for w, s, e in jieba.tokenize(text)]


def traditional_converters() -> tuple[Callable[[str], str], Callable[[str], str]] | None:
    """(simplified→traditional, traditional→simplified), or None when OpenCC is not installed."""
    try:
        import opencc
    except ImportError:
        return None
    to_trad: Any = _opencc(opencc, "s2t")
    to_simp: Any = _opencc(opencc, "t2s")
    return to_trad.convert, to_simp.convert


def _opencc(module: Any, config: str) -> Any:
    try:
        return module.OpenCC(config + ".json")
    except Exception:  # the pure-Python reimplementation names configs without ".json"
        return module.OpenCC(config)


class QueryMaker:
    """Draws queries of each kind from random posts of one archive."""

    def __init__(
        self,
        posts: Sequence[Path],
        seed: int,
        tokenize: Tokenizer | None = None,
        reader: Callable[[Path], str] = display_text,
    ) -> None:
        if not posts:
            raise ValueError("archive has no posts to draw queries from")
        self.posts, self.reader = list(posts), reader
        self.rng = random.Random(seed)
        self.tokenize = tokenize or default_tokenizer()
        self.converters = traditional_converters()

    def make(self, count: int) -> list[Query]:
        kinds = self._kind_plan(count)
        return [q for q in (self._attempt(kind) for kind in kinds) if q is not None]

    def _kind_plan(self, count: int) -> list[str]:
        """Kinds in proportion to their shares, every kind at least once when count allows."""
        shares = dict(KIND_SHARES)
        if self.converters is None:
            shares["word"] += shares.pop("traditional")
        floor = 1 if count >= len(shares) else 0
        plan = [kind for kind, share in shares.items() for _ in range(max(floor, round(count * share)))]
        plan = (plan + list(shares) * count)[:count]  # rounding may leave it short
        self.rng.shuffle(plan)
        return plan

    def _attempt(self, kind: str) -> Query | None:
        makers: dict[str, Callable[[str], Query | None]] = {
            "word": self._word,
            "span": self._span,
            "and": self._and,
            "traditional": self._traditional,
            "code": self._code,
        }
        for _ in range(MAX_ATTEMPTS):
            query = makers[kind](self.reader(self.rng.choice(self.posts)))
            if query is not None:
                return query
        return None

    def _words(self, text: str) -> list[str]:
        return [w for w, _, _ in self.tokenize(text) if len(w) >= 2 and CJK_RUN.fullmatch(w)]

    def _word(self, text: str) -> Query | None:
        words = self._words(text)
        return _plain("word", self.rng.choice(words)) if words else None

    def _span(self, text: str) -> Query | None:
        """2-4 Chinese characters at a random offset whose ends do not both sit on word boundaries."""
        length = self.rng.randint(2, 4)
        if len(text) <= length:
            return None
        start = self.rng.randrange(len(text) - length)
        span = text[start : start + length]
        if not CJK_RUN.fullmatch(span):
            return None
        bounds = {b for _, s, e in self.tokenize(text) for b in (s, e)}
        inner = any(start < b < start + length for b in bounds)
        aligned = start in bounds and start + length in bounds
        return _plain("span", span) if inner and not aligned else None

    def _and(self, text: str) -> Query | None:
        words = sorted(set(self._words(text)))
        count = self.rng.choice((2, 3))
        if len(words) < count:
            return None
        picked = tuple(self.rng.sample(words, count))
        return Query("and", picked, tuple(normalise(w) for w in picked))

    def _traditional(self, text: str) -> Query | None:
        assert self.converters is not None
        to_trad, to_simp = self.converters
        words = self._words(text)
        if not words:
            return None
        word = self.rng.choice(words)
        trad = to_trad(word)
        if trad == word:
            return None
        return Query("traditional", (trad,), (normalise(to_simp(trad)),))

    def _code(self, text: str) -> Query | None:
        codes = [c for c in CODE.findall(text) if len(c) >= 3]
        return _plain("code", self.rng.choice(codes)) if codes else None


def _plain(kind: str, term: str) -> Query:
    return Query(kind, (term,), (normalise(term),))


def make_queries(posts: Sequence[Path], count: int, seed: int) -> list[Query]:
    return QueryMaker(posts, seed).make(count)


def ground_truth(query: Query, texts: dict[Path, str]) -> set[Path]:
    terms = query.truth_terms
    return {path for path, text in texts.items() if all(term in text for term in terms)}
