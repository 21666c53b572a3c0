"""The one import of Whoosh (importing it takes ~0.1 s, more than a whole search may spend): only
the writer, and Whoosh's own API, come through here; newsctl's reader never does."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from types import SimpleNamespace
from typing import Any


@contextmanager
def _stand_ins_for_whoosh_imports() -> Iterator[None]:
    """Whoosh imports two modules for things newsctl never calls, and they cost ~0.1 s of every
    writer's start: the `cached_property` package (it imports asyncio) for one plain cached
    attribute of SegmentReader, which functools' cached_property serves alike, and urllib.request
    (http, email, ssl) for a download helper. Stand-ins are seen by Whoosh's import only: they
    leave sys.modules afterwards, so any later importer gets the real modules."""
    def urlretrieve(*args: Any, **kwargs: Any) -> Any:
        from urllib.request import urlretrieve as real

        return real(*args, **kwargs)

    stand_ins = {"cached_property": SimpleNamespace(cached_property=cached_property),
                 "urllib.request": SimpleNamespace(urlretrieve=urlretrieve)}
    added = [name for name in stand_ins if name not in sys.modules]
    sys.modules.update({name: stand_ins[name] for name in added})  # type: ignore[misc]
    try:
        yield
    finally:
        for name in added:
            if sys.modules.get(name) is stand_ins[name]:
                del sys.modules[name]


with _stand_ins_for_whoosh_imports():
    from whoosh import fields, formats, query
    from whoosh.analysis import Token as WhooshToken
    from whoosh.analysis import Tokenizer
    from whoosh.codec.base import TermsReader
    from whoosh.codec.whoosh3 import W3Codec
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC, clean_files
    from whoosh.matching import ListMatcher, ReadTooFar
    from whoosh.reading import TermInfo, TermNotFound

__all__ = ["TOC", "FileStorage", "ListMatcher", "ReadTooFar", "TermInfo", "TermNotFound", "TermsReader", "Tokenizer",
           "W3Codec", "WhooshToken", "clean_files", "fields", "formats", "query"]
