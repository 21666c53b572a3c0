"""The project's own archive generator, used when ../shared (and its gen_corpus.py) is absent.

It recombines sentences, titles and stock links found in real-looking sample posts (Markdown
digests and eastmoney HTML) and, for a share of the sentences, draws words from jieba's dict.txt
weighted by frequency, so that the vocabulary keeps growing with the archive size as a real news
vocabulary does. Output is deterministic for a given seed.

    python -m benchmarks.gencorpus --src sample_posts --out /tmp/arch -n 20000 --vocab auto
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import importlib.util
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.textnorm import body_text, split_post

SENTENCE_END = re.compile(r"(?<=[。！？!?；])")
CJK_WORD = re.compile(r"[\u4e00-\u9fff]+")
STOCK_LINK = re.compile(r'id="stock_(\d+)\.([A-Z0-9]+)"[^>]*>(?:<a[^>]*>)?([^<]{1,12})<')
MIN_SENTENCE_CHARS = 8
SPAN_DAYS = 5 * 365
FIRST_DAY = dt.datetime(2021, 12, 1)
RECENT_DAYS = 3  # the live archive keeps the last few days in _posts/, older ones in old_post/
OUTLETS = (
    ("emnews", "东财滚动新闻"),
    ("meirijingjixinwen", "每日经济新闻"),
    ("zhongguozhengquanbao", "中国证券报"),
    ("shanghaizhengquanbao", "上海证券报"),
    ("zhengquanshibao", "证券时报"),
    ("xinhuashe", "新华社"),
)
SITE = "//finews.withounder.com"


@dataclass
class SourceMaterial:
    titles: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    stocks: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Vocabulary:
    """Words with cumulative frequencies, for weighted draws."""

    words: list[str]
    cumulative: list[int]

    def draw(self, rng: random.Random, count: int) -> list[str]:
        total = self.cumulative[-1]
        return [self.words[bisect.bisect_right(self.cumulative, rng.randrange(total))] for _ in range(count)]


def collect_material(sources: Sequence[Path]) -> SourceMaterial:
    titles: set[str] = set()
    sentences: set[str] = set()
    stocks: set[tuple[str, str, str]] = set()
    for source in sources:
        for path in sorted(source.rglob("*.md")):
            title, markup = split_post(path.read_text(encoding="utf-8", errors="replace"))
            if title.strip():
                titles.add(title.strip().replace('"', "“"))
            stocks.update(STOCK_LINK.findall(markup))
            sentences.update(_sentences(body_text(markup)))
    return SourceMaterial(sorted(titles), sorted(sentences), sorted(stocks))


def _sentences(text: str) -> list[str]:
    pieces = (piece.strip().lstrip("> ").strip() for line in text.splitlines() for piece in SENTENCE_END.split(line))
    return [p for p in pieces if len(p) >= MIN_SENTENCE_CHARS]


def jieba_dict_path() -> Path | None:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    return path if path.exists() else None


def load_vocabulary(path: Path) -> Vocabulary:
    words: list[str] = []
    cumulative: list[int] = []
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and CJK_WORD.fullmatch(parts[0]) and parts[1].isdigit():
            total += int(parts[1])
            words.append(parts[0])
            cumulative.append(total)
    return Vocabulary(words, cumulative)


class PostWriter:
    """Makes one post at a time from the material, drawing every choice from one seeded RNG."""

    def __init__(
        self, material: SourceMaterial, vocab: Vocabulary | None, vocab_share: float, html_share: float, seed: int
    ) -> None:
        self.material, self.vocab = material, vocab
        self.vocab_share = vocab_share if vocab else 0.0
        self.html_share = html_share
        self.rng = random.Random(seed)

    def sentence(self) -> str:
        if self.vocab is None or self.rng.random() >= self.vocab_share:
            return self.rng.choice(self.material.sentences)
        words = self.vocab.draw(self.rng, self.rng.randint(6, 24))
        comma = self.rng.randint(2, len(words) - 2)
        return "".join(words[:comma]) + "，" + "".join(words[comma:]) + "。"

    def post(self) -> tuple[dt.datetime, str, str]:
        """Returns (publication time, file name, file text)."""
        when = FIRST_DAY + dt.timedelta(days=self.rng.randrange(SPAN_DAYS), seconds=self.rng.randrange(86400))
        post_id = when.strftime("%Y%m%d") + f"{self.rng.randrange(10**10):010d}"
        category, outlet = self.rng.choice(OUTLETS)
        title = self.rng.choice(self.material.titles) if self.material.titles else outlet + "快讯"
        if self.rng.random() < 0.5:
            title = title[: self.rng.randint(8, max(8, len(title)))]
        if self.rng.random() < self.html_share:
            body = self._html_body(post_id, outlet)
        else:
            body = self._digest_body(post_id, outlet)
        footer = f"[返回{outlet}新闻]({SITE}/category/{category}.html)｜[返回首页]({SITE}/)"
        front = (
            f'---\nlayout: post\ntitle: "{title.replace(chr(92), "")}"\n'
            f"date: {when:%Y-%m-%d %H:%M:%S} +0800\ncategories: {category}\ntags: {outlet}新闻\n---\n"
        )
        return when, f"{when:%Y-%m-%d}-{post_id}.md", front + body + footer

    def _digest_body(self, post_id: str, outlet: str) -> str:
        text = "".join(self.sentence() for _ in range(self.rng.choice((1, 1, 2, 3))))
        return f"\n{text}（{outlet}）\n\n<http://finance.eastmoney.com/a/{post_id}.html>\n\n"

    def _html_body(self, post_id: str, outlet: str) -> str:
        sentences = [self.sentence() for _ in range(self.rng.randint(6, 30))]
        paragraphs = [
            "<p>" + "".join(sentences[i : i + 3]) + self._maybe_stock() + "</p>" for i in range(0, len(sentences), 3)
        ]
        return (
            '<p style="display:none;height:1px;overflow:hidden;"><br /></p>'
            + " ".join(paragraphs)
            + f'<p class="em_media">（文章来源：{outlet}）</p>\n\n'
            + f"<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW{post_id}>\n\n"
        )

    def _maybe_stock(self) -> str:
        if not self.material.stocks or self.rng.random() >= 0.3:
            return ""
        market, code, name = self.rng.choice(self.material.stocks)
        return (
            f'<span id="stock_{market}.{code}"><a href="http://quote.eastmoney.com/unify/r/{market}.{code}" '
            f'class="keytip" data-code="{market},{code}">{name}</a></span>'
        )


def generate(
    sources: Sequence[Path],
    out: Path,
    count: int,
    seed: int = 684,
    vocab_path: Path | None = None,
    vocab_share: float = 0.5,
    html_share: float = 0.3,
) -> int:
    """Write `count` posts plus _config.yml under `out`; returns the number written."""
    material = collect_material(sources)
    if not material.sentences:
        raise SystemExit("no sentences found under " + ", ".join(map(str, sources)))
    vocab = load_vocabulary(vocab_path) if vocab_path else None
    writer = PostWriter(material, vocab, vocab_share, html_share, seed)
    newest = FIRST_DAY + dt.timedelta(days=SPAN_DAYS - 1)
    for sub in ("_posts", "old_post"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text("title: 金融消息\ntimezone: Asia/Shanghai\nlang: zh-CN\n", encoding="utf-8")
    for _ in range(count):
        when, name, text = writer.post()
        sub = "_posts" if (newest - when).days < RECENT_DAYS else "old_post"
        (out / sub / name).write_text(text, encoding="utf-8")
    return count


def _resolve_vocab(choice: str) -> Path | None:
    if choice == "none":
        return None
    if choice != "auto":
        return Path(choice)
    path = jieba_dict_path()
    if path is None:
        raise SystemExit("--vocab auto needs the jieba package installed")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--src", action="append", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--seed", type=int, default=684)
    parser.add_argument("--vocab", default="none", help="auto (jieba's dict.txt), none, or a dict.txt path")
    parser.add_argument("--vocab-share", type=float, default=0.5)
    parser.add_argument("--html-share", type=float, default=0.3)
    args = parser.parse_args(argv)
    written = generate(
        args.src, args.out, args.n, args.seed, _resolve_vocab(args.vocab), args.vocab_share, args.html_share
    )
    print(f"wrote {written} posts to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
