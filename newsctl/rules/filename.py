"""NC401: the file name must be `YYYY-MM-DD-<id>.md` with a real date and a safe id."""

from __future__ import annotations

from newsctl.names import FILENAME_RE
from newsctl.post import SAFE_ID_RE, Post
from newsctl.rules.jekyll import publication
from newsctl.rules.rule import ERROR, CheckContext, Finding, Rule


def _bad_file_name(post: Post, ctx: CheckContext) -> list[Finding]:
    name = post.path.name
    match = FILENAME_RE.match(name)
    if not match:
        problem = f"file name {name!r} is not YYYY-MM-DD-<id>.md"
    elif post.file_date is None:
        problem = f"file name {name!r} starts with an impossible date {match['date']}"
    elif not SAFE_ID_RE.match(match["id"]):
        problem = (f"id {match['id']!r} in the file name has characters other than letters, digits, "
                   "'-', '_' and '.'")
    else:
        return []
    return [BAD_FILE_NAME.finding(post, problem + _what_jekyll_does(post, ctx))]


def _what_jekyll_does(post: Post, ctx: CheckContext) -> str:
    pub = publication(post, ctx)
    if pub is None:
        return ""
    if pub.kind == "ignored" and pub.reason and pub.reason.startswith("the file name"):
        return ": Jekyll does not read it as a post, so it is not published"
    if pub.kind == "post" and pub.published and pub.url_day:
        return f" (the archive's convention; Jekyll publishes it, URL day {pub.url_day})"
    return ""


BAD_FILE_NAME = Rule(
    "NC401", "bad-file-name", ERROR,
    what="The file name is not `YYYY-MM-DD-<id>.md` with a real date and an id of letters, digits, `-`, `_` or `.`.",
    why="The archive's convention: the id is how newsctl finds a post. Jekyll 4.3 itself reads any name in "
        "`_posts/` that starts with a date (`22-6-1-x.md`, a non-ASCII slug, even `2022-13-45-x.md` when the front "
        "matter has a date) and does not read one without a date, which is then not published.",
    how="Rename the file, e.g. `git mv _posts/-123.md _posts/2022-05-26-123.md`.",
    scope="file", check=_bad_file_name)
