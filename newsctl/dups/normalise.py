"""The story a post tells, without what a repost changes: boilerplate out, then normalised.

A repost by another outlet keeps the story and changes its wrapping: a `【转载】` mark in the
title, another source line ("（来源：证券时报）"), an editor line ("责任编辑：…"), links,
footers, punctuation and spacing. Those are taken out here, so that two copies of one story
give the same sentences; what remains is half-width, lower-case, simplified and without
punctuation or spaces (analysis.normalize, then every non-word character dropped).

The figures a story states (numbers, with their decimals) are kept apart: a templated story
(a market close, an approval notice) is told again every day with other figures, and those
figures are what `compare` looks at.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from newsctl.analysis import normalize
from newsctl.boilerplate import CREDIT_LINE, OUTLET_MARK, TRAILING_CREDIT
from newsctl.rules import body_content

# 【转载】, [转载], (转) ... and a leading "转载：" in a title
_REPOST_MARK = re.compile(r"[【\[（(〔]\s*(?:转载|转发|转自[^】\]）)〕]{0,12}|转)\s*[】\]）)〕]"
                          r"|^\s*(?:转载|转发)\s*[:：]\s*")
# "（来源：证券时报）", "(文章来源：新华社)", "（本文来源于…）"
_SOURCE_NOTE = re.compile(r"[（(]\s*(?:文章|本文|信息|消息|稿件)?来源(?:于|自)?\s*[:：︰]?[^（）()\n]{0,40}[）)]")
_MD_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\([^()\s]*\)")
_URL = re.compile(r"<?(?:(?:https?|ftp):)?//[^\s<>（）()]+>?")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_NOT_WORD = re.compile(r"[\W_]+")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Story:
    title: str  # normalised, without repost marks
    sentences: tuple[str, ...]  # normalised sentences of the body, boilerplate removed
    title_figures: frozenset[str]  # the headline's numbers ("0.5", "60", "2022")

    @property
    def body(self) -> str:
        return "".join(self.sentences)

    @property
    def text(self) -> str:
        """What the shingles are taken from: the body (the title only when there is none: a
        headline recurs over other stories every day, "北向资金净流入…")."""
        return self.body or self.title


def story_of(title: str, body: str) -> Story:
    """The story of a post from its front-matter title and its raw body (Markdown or HTML)."""
    clean_title = strip_title_marks(title)
    # normalize maps character to character, and a sentence end only to a sentence end (！ to !),
    # so the body is normalised once, then split: the sentences `squash` would give one by one
    normal_body = normalize(strip_boilerplate(body))
    sentences = tuple(s for s in (_NOT_WORD.sub("", part) for part in _SENTENCE_END.split(normal_body)) if s)
    return Story(squash(clean_title), sentences, frozenset(figures_of(clean_title)))


_FIELD, _ITEM = "\x1f", "\x1e"  # a packed story's separators (squashed text has no such non-word character)


def pack(story: Story) -> str:
    """The story as one string (for the store and worker processes); unpack reverses it."""
    return _FIELD.join((story.title, _ITEM.join(sorted(story.title_figures)), _ITEM.join(story.sentences)))


def unpack(packed: str) -> Story:
    title, figures, sentences = packed.split(_FIELD)
    return Story(title, tuple(sentences.split(_ITEM)) if sentences else (),
                 frozenset(figures.split(_ITEM)) if figures else frozenset())


def story_key(story: Story) -> int:
    """A 64-bit key of everything a verdict reads (title, its figures, the sentences): two posts
    with these keys get the verdict that two stories with these keys got (compare.judge reads
    only the stories). Never 0 (0: no story)."""
    from hashlib import blake2b

    digest = blake2b(pack(story).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def strip_title_marks(title: str) -> str:
    return _REPOST_MARK.sub("", title).strip()


def strip_boilerplate(body: str) -> str:
    """The body's text without source link, footer, markup, credits, outlet marks and links."""
    text = body_content(body)
    if "](" in text:
        text = _MD_LINK.sub(r"\1", text)
    if "//" in text:
        text = _URL.sub("", text)
    text = _SOURCE_NOTE.sub("", text)
    kept = []
    for line in text.split("\n"):
        if CREDIT_LINE.fullmatch(line):
            continue
        line = TRAILING_CREDIT.sub("", line)
        line = OUTLET_MARK.sub("", line.rstrip())
        kept.append(line)
    return "\n".join(kept)


def squash(text: str) -> str:
    """Half-width, lower-case, simplified, without spaces or punctuation."""
    return _NOT_WORD.sub("", normalize(text))


def figures_of(text: str) -> list[str]:
    """The numbers a text states, half-width, thousands separators dropped ("1,234.5" -> "1234.5")."""
    return [match.group().replace(",", "") for match in _FIGURE.finditer(unicodedata.normalize("NFKC", text))]
