"""A newsctl `Post` (already read by newsctl.post) seen through the model: `publication_of`.

`newsctl.post` reads front matter with the same Psych typing as Jekyll (psych.PsychResolution),
so the model reuses that reading instead of parsing the file again; only a post whose YAML
newsctl refuses (a duplicate key, an alias, a syntax error...) is read again here the way Jekyll
reads it, which is rare.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from newsctl.jekyll.model import FrontMatter, Publication, publish
from newsctl.jekyll.site import Site, read_site

if TYPE_CHECKING:
    from datetime import tzinfo

    from newsctl.post import Post

__all__ = ["jekyll_text", "publication_of", "relative_path", "site_for"]

_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t\r\f\v]*\n)+")
_HARMLESS = ("NC102", "NC104")  # BOM, CRLF: Jekyll reads such files as usual
_NO_TEXT = ("NC100", "NC101", "NC103", "NC105")  # unreadable, not UTF-8, NUL bytes, too large


@lru_cache(maxsize=8)
def site_for(root: Path, zone: tzinfo) -> Site:
    """The site at `root` (its _config.yml read once per process)."""
    return read_site(root, zone)


def relative_path(path: Path, root: Path) -> str:
    text, base = str(path), str(root).rstrip("/") + "/"
    if text.startswith(base):  # the usual case, without pathlib's parsing
        return text[len(base):].replace(os.sep, "/")
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


def jekyll_text(post: Post) -> str:
    """The text the model reads of a post whose front matter newsctl refused (LF line ends)."""
    return post.raw.replace("\r\n", "\n")


def publication_of(post: Post, root: Path, site: Site, now: datetime | None = None,
                   check_liquid: bool = True) -> Publication:
    """What Jekyll does with `post` (a file under `root`). A file outside the site (`add --dest`
    elsewhere, `validate` of a draft) is judged as the post it would be in `_posts/`: where it
    lies now, Jekyll never sees it, and where it will lie is the writer's choice."""
    rel = relative_path(post.path, root)
    if rel.startswith("../") or rel.startswith("/"):
        rel = f"_posts/{post.path.name}"
    codes = {problem.code for problem in post.problems}
    if codes & set(_NO_TEXT):
        return publish(rel, None, site, now, check_liquid)
    if codes - set(_HARMLESS):  # newsctl refused the front matter: read it as Jekyll does
        return publish(rel, jekyll_text(post), site, now, check_liquid)
    # Jekyll's closing `---[ \t]*$\n?` with Ruby's \s also swallows the blank lines after it
    body = _LEADING_BLANK_LINES.sub("", post.body)
    front_matter = FrontMatter(found=True, data=post.meta, body=body, body_offset=0,
                               closed_by_dots=False)
    return publish(rel, front_matter, site, now, check_liquid)
