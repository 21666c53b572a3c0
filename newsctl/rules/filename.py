"""NC401: the file name must be `YYYY-MM-DD-<id>.md` with a real date and a safe id."""

from __future__ import annotations

from newsctl.names import FILENAME_RE
from newsctl.post import SAFE_ID_RE, Post
from newsctl.rules.rule import ERROR, CheckContext, Finding, Rule


def _bad_file_name(post: Post, ctx: CheckContext) -> list[Finding]:
    name = post.path.name
    match = FILENAME_RE.match(name)
    if not match:
        return [BAD_FILE_NAME.finding(post, f"file name {name!r} is not YYYY-MM-DD-<id>.md")]
    if post.file_date is None:
        return [BAD_FILE_NAME.finding(post, f"file name {name!r} starts with an impossible date {match['date']}")]
    if not SAFE_ID_RE.match(match["id"]):
        return [BAD_FILE_NAME.finding(post, f"id {match['id']!r} in the file name has characters other than "
                                            "letters, digits, '-', '_' and '.'")]
    return []


BAD_FILE_NAME = Rule(
    "NC401", "bad-file-name", ERROR,
    what="The file name is not `YYYY-MM-DD-<id>.md` with a real date and an id of letters, digits, `-`, `_` or `.`.",
    why="Jekyll only publishes files in `_posts/` named this way; the id is how newsctl finds a post.",
    how="Rename the file, e.g. `git mv _posts/-123.md _posts/2022-05-26-123.md`.",
    scope="file", check=_bad_file_name)
