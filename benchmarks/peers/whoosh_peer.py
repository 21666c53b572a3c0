"""Peer: the naive Whoosh recipe from jieba's docs (ChineseAnalyzer, one process, title and body stored).

python -m benchmarks.peers.whoosh_peer index ARCHIVE INDEX_DIR
python -m benchmarks.peers.whoosh_peer search INDEX_DIR TERM...   (prints matching paths; exit 1: none)
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.peers.cli import print_paths, run


def build_index(archive: Path, index_dir: Path) -> int:
    from jieba.analyse import ChineseAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.index import create_in

    from benchmarks.textnorm import list_posts, read_title_body

    analyzer = ChineseAnalyzer()
    schema = Schema(
        path=ID(stored=True, unique=True),
        title=TEXT(stored=True, analyzer=analyzer),
        body=TEXT(stored=True, analyzer=analyzer),
    )
    index_dir.mkdir(parents=True, exist_ok=True)
    writer = create_in(str(index_dir), schema).writer()
    posts = list_posts(archive)
    for path in posts:
        title, body = read_title_body(path)
        writer.add_document(path=str(path), title=title, body=body)
    writer.commit()
    print(f"indexed {len(posts)} posts", file=sys.stderr)
    return 0


def search(index_dir: Path, terms: list[str]) -> int:
    from whoosh.index import open_dir
    from whoosh.qparser import MultifieldParser

    index = open_dir(str(index_dir))
    query = MultifieldParser(["title", "body"], schema=index.schema).parse(" ".join(terms))
    with index.searcher() as searcher:
        paths = [hit["path"] for hit in searcher.search(query, limit=None)]
    return print_paths(paths)


def main(argv: list[str]) -> int:
    return run(argv, build_index, search, __doc__)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
