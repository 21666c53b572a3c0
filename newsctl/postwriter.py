"""`newsctl add`, its writing side: where a draft goes, the duplicate checks against what the
archive holds, the validation rules as a gate, then a write that never clobbers (fsutil).

What happens is told to an `AddEvents` (render/add.py prints it): this module never prints.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from newsctl.add import AddOptions, Draft
from newsctl.config import Settings
from newsctl.discovery import glob_to_regex, list_archive_posts, walk_files
from newsctl.errors import NewsctlError, UsageError
from newsctl.fsutil import write_new_file
from newsctl.names import day_and_id
from newsctl.paths import shown_path
from newsctl.post import Post, parse_post, read_post, render_post
from newsctl.rules import ERROR, CheckContext, PostFacts, check_post, post_facts, resolve_selection, squash
from newsctl.validate import make_context

_INFOCODE_RE = re.compile(r"^[A-Za-z]{1,4}(\d{12,})$")


class AddEvents(Protocol):
    """Who hears what `add` does, as it happens (a feed of thousands of posts reports each)."""

    def written(self, path: Path, text: str) -> None:
        """A post was written to `path` (with --dry-run: would have been)."""

    def warning(self, message: str) -> None:
        """Something the user should know; the post was written anyway."""

    def record_refused(self, where: str, message: str) -> None:
        """A feed record (`where`: FILE:LINE) was not added, and why."""


class Refused(NewsctlError):
    """The post exists already (a duplicate or an existing file): exit 1."""

    def __init__(self, message: str, duplicate: bool) -> None:
        super().__init__(message)
        self.duplicate = duplicate


@dataclass
class Planned:
    day: str  # YYYY-MM-DD in the archive zone
    post_id: str
    title: str
    path: Path = Path()


def same_article_key(post_id: str) -> str:
    """`NW202206012399054634` and `202206012399054634` name the same eastmoney article."""
    infocode = _INFOCODE_RE.match(post_id)
    return infocode[1] if infocode else post_id


class KnownPosts:
    """Ids and days of the archive's posts from file names; a day's posts are read when needed.

    Titles and bodies are compared by validate's own keys (rules.post_facts), so that a post
    `add` accepts is never a duplicate that `validate` would report for the same day.
    """

    def __init__(self, paths: list[str], ctx: CheckContext) -> None:
        self.ctx = ctx
        self.by_id: dict[str, str] = {}  # paths stay strings: Path objects for 100k files cost seconds
        self.by_day: dict[str, list[str]] = {}
        self._facts: dict[str, list[PostFacts]] = {}
        for path in paths:
            name = path[path.rfind("/") + 1:]
            day, post_id = day_and_id(name)
            self.by_id.setdefault(same_article_key(post_id), path)
            if day:
                self.by_day.setdefault(day, []).append(path)

    def id_owner(self, post_id: str) -> Path | None:
        owner = self.by_id.get(same_article_key(post_id))
        return Path(owner) if owner else None

    def title_owner(self, day: str, title: str) -> Path | None:
        key = squash(title)
        return next((Path(f.path) for f in self.facts_of(day) if key and f.title_key == key), None)

    def body_owner(self, day: str, body_key: str | None) -> Path | None:
        return next((Path(f.path) for f in self.facts_of(day) if body_key and f.body_key == body_key), None)

    def facts_of(self, day: str) -> list[PostFacts]:
        if day not in self._facts:
            self._facts[day] = [post_facts(read_post(Path(path)), self.ctx) for path in self.by_day.get(day, [])]
        return self._facts[day]

    def remember(self, planned: Planned, facts: PostFacts) -> None:
        self.by_id.setdefault(same_article_key(planned.post_id), str(planned.path))
        self.facts_of(planned.day).append(facts)

    def new_id(self, day: str) -> str:
        while True:
            candidate = day.replace("-", "") + f"{secrets.randbelow(10**10):010d}"
            if candidate not in self.by_id:
                return candidate


class PostWriter:
    """Turns drafts into files in `dest`: duplicate checks, the validation rules, then an atomic write."""

    def __init__(self, settings: Settings, dest: Path, options: AddOptions, events: AddEvents) -> None:
        self.settings, self.dest, self.options, self.events = settings, dest, options, events
        self.tz = settings.tz
        self.ctx = make_context(settings)
        self.enabled = resolve_selection(settings.select, settings.ignore)
        self.covered = dest_is_covered(settings, dest)
        self._known: KnownPosts | None = None
        self.planned_paths: set[Path] = set()  # written, or shown by --dry-run

    @property
    def known(self) -> KnownPosts:
        if self._known is None:
            paths = list_archive_posts(self.settings)
            if not self.covered and self.dest.is_dir():
                paths += [str(p) for p in walk_files(self.dest) if p.suffix == ".md"]
            self._known = KnownPosts(paths, self.ctx)
        return self._known

    def write(self, draft: Draft) -> Path:
        return self.commit(self.plan(draft.title, draft.moment, draft.post_id), draft)

    def plan(self, title: str, moment: datetime, post_id: str | None) -> Planned:
        """Where the post goes, after refusing duplicates and existing files."""
        day = moment.astimezone(self.tz).date().isoformat()
        planned = Planned(day, post_id or self.known.new_id(day), title)
        planned.path = self.dest / f"{day}-{planned.post_id}.md"
        self.refuse_duplicates(planned)
        return planned

    def commit(self, planned: Planned, draft: Draft) -> Path:
        path = planned.path
        text = render_post(title=draft.title, moment=draft.moment, tz=self.tz, categories=draft.categories,
                           tags=draft.tags, body=draft.body)
        post = parse_post(text, path)
        self.apply_rules(post)
        facts = post_facts(post, self.ctx)
        if not self.options.force:
            self.refuse_same_body(planned, facts)
        if not self.options.dry_run:
            create_post_file(path, text.encode("utf-8"))
        self.events.written(path, text)
        if not self.options.dry_run:
            self.warn_if_uncovered(path)
        self.planned_paths.add(path)
        self.known.remember(planned, facts)
        return path

    def apply_rules(self, post: Post) -> None:
        """validate's per-file rules on the new text: an error refuses the post, a warning is shown."""
        findings = [f for f in check_post(post, self.ctx) if f.code in self.enabled]
        errors = [f for f in findings if f.severity == ERROR]
        if errors:
            raise UsageError("the post would not pass validate: "
                             + "; ".join(f"{f.code} {f.message}" for f in errors))
        for finding in findings:
            self.events.warning(f"{shown_path(post.path)}: {finding.code} {finding.message}")

    def refuse_duplicates(self, planned: Planned) -> None:
        path = planned.path
        if not self.options.force:
            self.refuse_same_article(planned)
        if path.exists() or path.is_symlink() or path in self.planned_paths:
            raise Refused(f"refused: {shown_path(path)} already exists; newsctl never overwrites a post "
                          "(not even with --force); choose another id", duplicate=False)

    def refuse_same_article(self, planned: Planned) -> None:
        post_id, day = planned.post_id, planned.day
        owner = self.known.id_owner(post_id)
        if owner is not None:
            raise Refused(f"refused: id {post_id} is already used by {shown_path(owner)} "
                          "(--force adds it anyway)", duplicate=True)
        owner = self.known.title_owner(day, planned.title)
        if owner is not None:
            raise Refused(f"refused: a post titled {planned.title!r} on {day} exists: {shown_path(owner)} "
                          "(--force adds it anyway)", duplicate=True)

    def refuse_same_body(self, planned: Planned, facts: PostFacts) -> None:
        owner = self.known.body_owner(planned.day, facts.body_key)
        if owner is not None:
            raise Refused(f"refused: {shown_path(owner)} of {planned.day} has the same body text "
                          "(--force adds it anyway)", duplicate=True)

    def warn_if_uncovered(self, path: Path) -> None:
        if not self.covered:
            self.events.warning(f"{shown_path(path)} is outside the archive's post folders "
                                f"(posts = {self.settings.posts}); validate and index will not see it")
            self.covered = True  # once per run is enough


def dest_is_covered(settings: Settings, dest: Path) -> bool:
    """True when a post written to `dest` matches the archive's `posts` globs."""
    try:
        rel = (dest.resolve() / "x.md").relative_to(settings.root.resolve()).as_posix()
    except ValueError:
        return False
    return any(glob_to_regex(pattern).match(rel) for pattern in settings.posts)


def create_post_file(path: Path, data: bytes) -> None:
    """fsutil.write_new_file, its failures told as `add` tells them: a file that appeared meanwhile
    is Refused (exit 1), any other failure stops the run, nothing written."""
    try:
        write_new_file(path, data)
    except FileExistsError as exc:  # another writer got there between the check and now
        raise Refused(f"refused: {shown_path(path)} appeared meanwhile; newsctl never overwrites a post",
                      duplicate=False) from exc
    except OSError as exc:
        raise NewsctlError(f"cannot write {shown_path(path)}: {exc.strerror or exc}; nothing was written") from exc
