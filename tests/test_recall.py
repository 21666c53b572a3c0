"""Exact substring recall on the real archive (../shared): every string taken from a post finds it.

For random substrings (2 to 8 characters, seeded) of each indexed post's normalised title and text,
`search "<substring>" --format paths --limit 0` must list that post, and every other post that holds
the string (recall 100%); of the posts listed, at least 98% must hold it exactly (a quoted string with
spaces matches any run of whitespace, so a few extra posts are allowed).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import Cli

SEED = 20220601
PER_POST = 4  # substrings per post: up to 2 from the title, the rest from the text


def indexed_texts(cli: Cli, root: Path) -> dict[str, tuple[str, str]]:
    """relative path -> (normalised title, normalised text) of every post the index holds."""
    from newsctl.analysis import normalize
    from newsctl.post import read_post
    from newsctl.text import extract

    result = cli("--root", root, "index")
    assert result.code == 0, result
    skipped = {line.split(": skipped: ")[0] for line in result.stderr.splitlines() if ": skipped: " in line}
    texts = {}
    for path in sorted([*root.glob("_posts/*.md"), *root.glob("old_post/*.md")]):
        rel = path.relative_to(root).as_posix()
        if rel not in skipped:
            post = read_post(path)
            texts[rel] = (normalize(post.title), normalize(extract(post.body).text))
    assert len(texts) > 100 and skipped, "the real archive has both good and defective posts"
    return texts


def pick(rng: random.Random, text: str) -> str | None:
    for _ in range(20):
        length = rng.randint(2, 8)
        if len(text) < length:
            return None
        start = rng.randrange(len(text) - length + 1)
        span = text[start:start + length]
        if span.strip() == span and span:  # the engine ignores leading and trailing spaces
            return span
    return None


def quoted(span: str) -> str:
    return '"' + span.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_random_substrings_find_their_post(cli: Cli, finews_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = indexed_texts(cli, finews_copy)
    monkeypatch.chdir(finews_copy)
    rng = random.Random(SEED)
    listed = exact = queries = 0
    misses: list[tuple[str, str, str]] = []
    for rel, (title, text) in texts.items():
        spans = [pick(rng, title), pick(rng, title)] + [pick(rng, text) for _ in range(PER_POST - 2)]
        for span in filter(None, spans):
            result = cli("search", quoted(span), "--format", "paths", "--limit", "0")
            assert result.code in (0, 1), (span, result)
            found = set(result.stdout.splitlines())
            truth = {other for other, (t, x) in texts.items() if span in t or span in x}
            if rel not in found or not truth <= found:
                misses.append((rel, span, "missing " + ", ".join(sorted(truth - found)[:3])))
            listed += len(found)
            exact += len(found & truth)
            queries += 1
    assert queries > 300
    assert not misses, f"{len(misses)} of {queries} substrings missed posts: {misses[:10]}"
    assert exact / listed >= 0.98, f"precision {exact / listed:.4f} over {queries} queries"
