"""`newsctl show`: find one post by path or id and read it, for render.preview to show.

A path is tried relative to the working folder, then to the archive root; anything else that
could be an id is looked up by file name (the index is not needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsctl.config import Settings
from newsctl.errors import EXIT_FINDINGS, EXIT_OK, NewsctlError, UsageError
from newsctl.paths import archive_path
from newsctl.post import TOO_LARGE, UNREADABLE, Post, read_post


@dataclass
class ShowResult:
    """One post to show. `raw`: the file's bytes (--raw). Otherwise `post`, and for a post that is
    not readable (Post.ok) the text to show instead of a preview (None: nothing sensible to show)."""

    path: Path
    name: str  # the post's archive path (paths.archive_path)
    raw: bytes | None = None
    post: Post | None = None
    fallback_text: str | None = None
    highlight: str | None = None
    copies: list[str] = field(default_factory=list)  # every file of the id, when it has several
    publication: Any = None  # newsctl.jekyll.model.Publication: what Jekyll does with the post (`jekyll=True`)

    @property
    def exit_code(self) -> int:
        """0 when shown; 1 when the post could only be shown as its text (or not at all)."""
        return EXIT_FINDINGS if self.post is not None and not self.post.ok else EXIT_OK


def run(settings: Settings, post: str, *, highlight: str | None = None, raw: bool = False,
        jekyll: bool = False) -> ShowResult:
    path, *others = resolve_posts(settings, post)
    result = ShowResult(path=path, name=archive_path(settings.root, path), highlight=highlight)
    if others:
        result.copies = [archive_path(settings.root, copy) for copy in (path, *others)]
    if raw:
        result.raw = read_file(path)
        return result
    if highlight is not None:
        from newsctl.engine.querylang import parse_query

        parse_query(highlight)  # a bad query is a usage error, before anything is printed
    result.post = read_post(path)
    if not result.post.ok:
        result.fallback_text = unparsable_text(result.post)
    if jekyll:
        from newsctl.jekyll.view import publication_of, site_for

        result.publication = publication_of(result.post, settings.root.resolve(), site_for(settings.root, settings.tz))
    return result


def resolve_post(settings: Settings, argument: str) -> Path:
    """The one file `argument` names; an id the archive holds twice is a usage error listing both."""
    found = resolve_posts(settings, argument)
    if len(found) > 1:
        names = ", ".join(archive_path(settings.root, path) for path in found)
        raise UsageError(f"id {argument} is in {len(found)} files: {names}; give the path")
    return found[0]


def resolve_posts(settings: Settings, argument: str) -> list[Path]:
    """An existing file (relative to the working folder, then to the archive root), else every file
    of the id (several when the archive holds it twice, `_posts/` first)."""
    given = Path(argument).expanduser()
    for candidate in (given, settings.root / given):
        if candidate.is_file():
            return [candidate]
        if candidate.is_dir():
            raise NewsctlError(f"{argument} is a folder, not a post")
    from newsctl.engine.reader import find_post_paths

    found = find_post_paths(settings, argument) if looks_like_id(argument) else []
    if not found:
        raise NewsctlError(f"no post file {argument}" if looks_like_path(argument) else f"no post with id {argument}")
    return found


def looks_like_path(argument: str) -> bool:
    return "/" in argument or os.sep in argument or argument.endswith(".md")


def looks_like_id(argument: str) -> bool:
    return bool(argument) and "/" not in argument and os.sep not in argument


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NewsctlError(f"{path}: cannot read file: {exc.strerror or exc}") from exc


def unparsable_text(post: Post) -> str | None:
    """What can be shown of a post that is not readable: its text as it is (NULs replaced, as
    binary junk must not reach the terminal), or None for an unreadable or oversized file."""
    if any(problem.code in (TOO_LARGE, UNREADABLE) for problem in post.problems):
        return None
    text = post.raw or read_file(post.path).decode("utf-8", errors="replace")
    return text.replace("\x00", "\ufffd")
