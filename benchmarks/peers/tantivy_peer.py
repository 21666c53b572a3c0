"""Peer: tantivy-py over text pre-segmented by rjieba (cut_for_search), joined with spaces and indexed
with a whitespace tokenizer plus lowercasing; a query's tokens are ANDed, each over title or body.

    python -m benchmarks.peers.tantivy_peer index ARCHIVE INDEX_DIR
    python -m benchmarks.peers.tantivy_peer search INDEX_DIR TERM...   (prints matching paths; exit 1: none)
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path
from typing import Any

from benchmarks.peers.cli import print_paths, run

TOKENIZER = "ws_lower"
TEXT_FIELDS = ("title", "body")


def _register_tokenizer(index: Any) -> None:
    """Custom analyzers are not persisted in the index, so every process registers it again."""
    from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

    index.register_tokenizer(TOKENIZER, TextAnalyzerBuilder(Tokenizer.whitespace()).filter(Filter.lowercase()).build())


def _is_word(token: str) -> bool:
    """Drops whitespace and punctuation tokens, which the whitespace tokenizer would keep as terms."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def segment(text: str) -> list[str]:
    import rjieba

    return [t for t in rjieba.cut_for_search(text) if _is_word(t)]


def build_index(archive: Path, index_dir: Path) -> int:
    import tantivy

    from benchmarks.textnorm import list_posts, read_title_body

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("path", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name=TOKENIZER)
    builder.add_text_field("body", tokenizer_name=TOKENIZER)
    index_dir.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(builder.build(), path=str(index_dir))
    _register_tokenizer(index)
    writer = index.writer()
    posts = list_posts(archive)
    for path in posts:
        title, body = read_title_body(path)
        writer.add_document(
            tantivy.Document(path=str(path), title=" ".join(segment(title)), body=" ".join(segment(body)))
        )
    writer.commit()
    writer.wait_merging_threads()
    print(f"indexed {len(posts)} posts", file=sys.stderr)
    return 0


def search(index_dir: Path, terms: list[str]) -> int:
    import tantivy
    from tantivy import Occur, Query

    index = tantivy.Index.open(str(index_dir))
    _register_tokenizer(index)
    tokens = sorted({t.lower() for term in terms for t in segment(term)})
    if not tokens:
        return 1
    schema = index.schema
    query = Query.boolean_query(
        [
            (Occur.Must, Query.boolean_query([(Occur.Should, Query.term_query(schema, f, tok)) for f in TEXT_FIELDS]))
            for tok in tokens
        ]
    )
    searcher = index.searcher()
    hits = searcher.search(query, limit=max(1, searcher.num_docs)).hits
    paths = [searcher.doc(address)["path"][0] for _, address in hits]
    return print_paths(paths)


def main(argv: list[str]) -> int:
    return run(argv, build_index, search, __doc__)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
