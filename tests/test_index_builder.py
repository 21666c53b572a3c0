"""The index's two ways of taking a post's bigrams write the same index: as strings, token by
token (engine/builder.py), and, for long bodies, as numbers (analysis.ngram_columns, encoded
column by column: builder.column_entries)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text

import newsctl.analysis
from newsctl.analysis import ngram_columns, ngram_terms, normalize

SPACES = [chr(code) for code in range(0x10000) if chr(code).isspace()]


def body_from(vocabulary: list[str], rng: random.Random, sentences: int) -> str:
    parts = ["".join(rng.choice(vocabulary) for _ in range(rng.randint(3, 9))) + f"{rng.randint(1, 99)}。"
             for _ in range(sentences)]
    return "<p>" + "</p>\n<p>".join(parts) + "</p>"


def mixed_text(rng: random.Random, length: int) -> str:
    """Chinese, ASCII, astral characters and every kind of space, in runs of any length."""
    pools = [[chr(0x4E00 + n) for n in range(40)], list("abcXYZ019.-_%"), ["𠀀", "😀", "𝔸"], SPACES]
    return "".join(rng.choice(rng.choice(pools)) for _ in range(length))


@pytest.mark.parametrize("seed", range(8))
def test_ngram_columns_are_ngram_terms_as_numbers(seed: int) -> None:
    rng = random.Random(seed)
    for length in (0, 1, 2, 3, 50, 2000):
        text = normalize(mixed_text(rng, length))
        assert ngram_columns(text).terms() == ngram_terms(text)
    assert ngram_columns("  \u3000").terms() == [] == ngram_terms("  \u3000")


def index_files(cli: Cli, root: Path) -> dict[str, bytes]:
    """The one segment's files by suffix (the segment's name is random)."""
    result = cli("--root", root, "index", "--rebuild", "--quiet")
    assert result.code == 0, result
    folder = root / ".newsctl" / "index"
    [trm] = folder.glob("*.trm")
    segment = trm.name.removesuffix(".trm")
    return {path.name.removeprefix(segment): path.read_bytes() for path in folder.glob(f"{segment}*")}


def random_archive(make_archive: Callable[..., Path], seed: int, posts: int, sentences: tuple[int, ...]) -> Path:
    rng = random.Random(seed)
    chars = [chr(0x4E00 + rng.randrange(300)) for _ in range(60)]  # few characters: bigrams recur across posts
    vocabulary = ["".join(rng.choice(chars) for _ in range(rng.randint(1, 3))) for _ in range(80)] + ["AB", "x1"]
    files: dict[str, str | bytes] = {
        f"_posts/2022-06-{day:02d}-{day:04d}.md": post_text(
            title=f"第{day}篇" + rng.choice(vocabulary), date=f"2022-06-{day:02d} 10:00:00 +0800",
            body=body_from(vocabulary, rng, rng.choice(sentences)), post_id=f"{day:04d}")
        for day in range(1, posts + 1)
    }
    return make_archive(files, name=f"archive-{seed}")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_long_body_as_numbers_gives_the_same_segment(cli: Cli, make_archive: Callable[..., Path],
                                                      monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    root = random_archive(make_archive, seed, 1, (300,))
    monkeypatch.setattr(newsctl.analysis, "COLUMNAR_CHARS", 10**9)
    as_strings = index_files(cli, root)
    monkeypatch.setattr(newsctl.analysis, "COLUMNAR_CHARS", 100)
    assert index_files(cli, root) == as_strings


def hits(cli: Cli, root: Path, queries: list[str]) -> list[list[str]]:
    found = []
    for query in queries:
        result = cli("--root", root, "search", "--format", "json", "--limit", "1000", query)
        assert result.code in (0, 1), result
        found.append(sorted(hit["path"] for hit in json.loads(result.stdout)["results"]) if result.code == 0 else [])
    return found


def test_long_bodies_as_numbers_find_what_strings_find(cli: Cli, make_archive: Callable[..., Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = random_archive(make_archive, 6, 10, (3, 300))
    texts = [path.read_text(encoding="utf-8") for path in sorted(root.glob("_posts/*.md"))]
    rng = random.Random(6)
    queries = []
    for text in rng.sample(texts, 6):
        body = text.split("<p>", 1)[1]
        start = rng.randrange(len(body) // 2)
        queries += [body[start:start + size].strip("<>/p\n") or "第" for size in (1, 2, 3, 5)]
    monkeypatch.setattr(newsctl.analysis, "COLUMNAR_CHARS", 10**9)
    cli("--root", root, "index", "--rebuild", "--quiet")
    as_strings = hits(cli, root, queries)
    monkeypatch.setattr(newsctl.analysis, "COLUMNAR_CHARS", 500)  # the long posts get their own segments
    result = cli("--root", root, "index", "--rebuild", "--quiet")
    assert result.code == 0, result
    assert len(list((root / ".newsctl" / "index").glob("*.trm"))) > 1
    assert hits(cli, root, queries) == as_strings
    assert any(as_strings)


def test_a_post_added_after_one_held_as_numbers_turns_those_into_terms(
        make_archive: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SegmentSink gives a post held as numbers a segment of its own; a builder given more posts
    anyway (its own API) writes what it would have written from strings."""
    from newsctl.config import load_settings
    from newsctl.engine import codec
    from newsctl.engine.builder import SegmentBuilder
    from newsctl.engine.document import analyse_post, prepare_process
    from newsctl.engine.whooshlib import FileStorage

    root = random_archive(make_archive, 7, 3, (300,))
    prepare_process(load_settings(root))
    rels = [str(path.relative_to(root)) for path in sorted(root.glob("_posts/*.md"))]

    def segment_bytes(chars: int, name: str) -> bytes:
        monkeypatch.setattr(newsctl.analysis, "COLUMNAR_CHARS", chars)
        folder = tmp_path / name
        folder.mkdir()
        builder = SegmentBuilder(FileStorage(str(folder)), codec.build_schema(), 1 << 40)
        for rel in rels:
            doc = analyse_post(root, rel).doc
            assert doc is not None
            builder.add(doc)
        segment = builder.finish()
        return (folder / segment.make_filename(".trm")).read_bytes()

    assert segment_bytes(100, "numbers") == segment_bytes(10**9, "strings")
