"""NC1xx (the file itself) and NC2xx (front matter and YAML): found by `newsctl.post` while it
reads a post, reported as its `Problem`s under the codes below.

post.py imports this module, so it imports nothing of post.py (see rules/rule.py).
"""

from __future__ import annotations

from newsctl.rules.rule import ERROR, WARNING, FixContext, Rule, front_matter_line


def _strip_bom(text: str, fix: FixContext) -> str | None:
    return text[1:] if text.startswith("\ufeff") else None


def _lf_endings(text: str, fix: FixContext) -> str | None:
    return text.replace("\r\n", "\n") if "\r\n" in text else None


def requote_title(text: str, fix: FixContext) -> str | None:
    """`text` with a title that breaks the YAML re-quoted, when that makes the post parse."""
    span = front_matter_line(text, "title")
    if span is None:
        return None
    line = text[span[0]:span[1]]
    raw = line.split(":", 1)[1].strip()
    quoted = len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'"
    if not quoted and raw[:1] in ("\"", "'"):
        return None  # an unbalanced opening quote: whether it belongs to the title is a guess
    inner = raw[1:-1] if quoted else raw
    if not inner:
        return None
    candidate = text[:span[0]] + "title: " + fix.quote(inner) + text[span[1]:]
    reparsed = fix.parse(candidate.encode("utf-8"), fix.path)
    if bool(reparsed.raw) and reparsed.ok and reparsed.meta.get("title") == inner:
        return candidate
    return None


# ---- NC1xx: the file itself

UNREADABLE_FILE = Rule(
    "NC100", "unreadable-file", ERROR,
    what="The file cannot be read: permissions, a broken or looping symlink, or not a regular file.",
    why="Jekyll and newsctl skip a post they cannot read, so it silently disappears from the site.",
    how="Fix the permissions, replace the symlink by the real file, or remove the entry.",
    scope="reading")

NOT_UTF8_FILE = Rule(
    "NC101", "not-utf8", ERROR,
    what="The file is not valid UTF-8 (for example UTF-16, GBK, or damaged bytes).",
    why="The archive is UTF-8; Jekyll 4.3 skips a post that is not valid UTF-8, so it is not published.",
    how="Re-save the file as UTF-8 (e.g. `iconv -f GBK -t UTF-8`).",
    scope="reading")

BYTE_ORDER_MARK = Rule(
    "NC102", "byte-order-mark", WARNING,
    what="The file starts with a UTF-8 byte order mark (BOM).",
    why="The BOM is invisible and useless in UTF-8; tools that do not strip it miss the front matter.",
    how="Run `newsctl validate --fix`, or save the file as UTF-8 without BOM.",
    scope="reading", repair=_strip_bom, fix="always")

NUL_BYTES_IN_FILE = Rule(
    "NC103", "nul-bytes", ERROR,
    what="The file contains NUL bytes.",
    why="NUL bytes mean binary data or a damaged download, not a post.",
    how="Restore the post from its source, or delete the file.",
    scope="reading")

CRLF_LINE_ENDINGS = Rule(
    "NC104", "crlf-line-endings", WARNING,
    what="The file uses Windows line endings (CRLF).",
    why="Mixed line endings make diffs noisy; the archive uses LF.",
    how="Run `newsctl validate --fix`, or set your editor to LF line endings.",
    scope="reading", repair=_lf_endings, fix="always")

FILE_TOO_LARGE = Rule(
    "NC105", "file-too-large", ERROR,
    what="The file is larger than the limit for a post (5 MB).",
    why="No news post is that large; it is most likely a dump or a binary put in the wrong place.",
    how="Remove the file or move it out of the post folders.",
    scope="reading")

# ---- NC2xx: front matter and YAML

MISSING_FRONT_MATTER = Rule(
    "NC201", "missing-front-matter", ERROR,
    what="The file does not start with a `---` line that opens the front matter.",
    why="Jekyll 4.3 still publishes a file in `_posts/` without front matter, as a post titled from its slug "
        "(`2022-06-01-some-news.md` → \"Some News\"), dated at midnight of the file name's day, with no "
        "categories or tags; outside `_posts/` it copies the file as it is.",
    how="Start the file with `---`, the keys (layout, title, date, categories, tags), and `---`.",
    scope="reading")

UNTERMINATED_FRONT_MATTER = Rule(
    "NC202", "unterminated-front-matter", ERROR,
    what="The front matter is opened by `---` but never closed by a second `---` line.",
    why="Jekyll 4.3 finds no front matter: it publishes the whole file, the `---` and the keys included, as "
        "the body of a post titled from its slug.",
    how="Add a `---` line after the last front-matter key.",
    scope="reading")

YAML_SYNTAX_ERROR = Rule(
    "NC203", "yaml-syntax-error", ERROR,
    what="The front matter is not valid YAML; the finding gives the line and column.",
    why="Jekyll 4.3 logs the YAML error and still publishes the post, without its front matter: no title, "
        "dated at the build time; newsctl cannot read its title or date.",
    how="Correct the YAML at the reported position. A title with unescaped quotes or a `: ` inside is fixed "
        "by `--fix`, which puts the title in double quotes with the quotes escaped.",
    scope="reading", repair=requote_title, fix="sometimes")

UNSAFE_YAML_TAG = Rule(
    "NC204", "unsafe-yaml-tag", ERROR,
    what="The front matter uses a YAML tag such as `!!python/object` or a custom `!tag`.",
    why="Such tags can run code in unsafe loaders and are never needed in a post.",
    how="Remove the tag and write the value as plain text.",
    scope="reading")

YAML_ALIAS_USED = Rule(
    "NC205", "yaml-alias", ERROR,
    what="The front matter uses YAML anchors and aliases (`&name`, `*name`, `<<:`).",
    why="Jekyll 4.3 accepts them, but posts never need them, and nested aliases can blow up to gigabytes (an "
        "alias bomb): newsctl refuses to read them.",
    how="Write the values out in full.",
    scope="reading")

DUPLICATE_FRONT_MATTER_KEY = Rule(
    "NC206", "duplicate-key", ERROR,
    what="A key appears twice in the front matter.",
    why="YAML keeps only one of the values, silently: Jekyll 4.3 (Ruby's Psych) takes the last one.",
    how="Keep one line for the key and delete the other.",
    scope="reading")

FRONT_MATTER_NOT_MAPPING = Rule(
    "NC207", "front-matter-not-mapping", ERROR,
    what="The front matter is a list or a single value, not `key: value` lines.",
    why="Jekyll 4.3 merges nothing from such front matter: the post is published titled from its slug.",
    how="Write the front matter as `key: value` lines.",
    scope="reading")

FRONT_MATTER_TOO_COMPLEX = Rule(
    "NC208", "front-matter-too-complex", ERROR,
    what="The front matter is longer than 64 KiB or nested too deeply.",
    why="Real front matter is a few short lines; this is data put in the wrong place or an attack.",
    how="Shorten the front matter to the keys a post needs.",
    scope="reading")

READING_RULES = (UNREADABLE_FILE, NOT_UTF8_FILE, BYTE_ORDER_MARK, NUL_BYTES_IN_FILE, CRLF_LINE_ENDINGS,
                 FILE_TOO_LARGE, MISSING_FRONT_MATTER, UNTERMINATED_FRONT_MATTER, YAML_SYNTAX_ERROR,
                 UNSAFE_YAML_TAG, YAML_ALIAS_USED, DUPLICATE_FRONT_MATTER_KEY, FRONT_MATTER_NOT_MAPPING,
                 FRONT_MATTER_TOO_COMPLEX)

# The codes post.py raises its problems under (the names it has always used).
UNREADABLE = UNREADABLE_FILE.code
NOT_UTF8 = NOT_UTF8_FILE.code
BOM = BYTE_ORDER_MARK.code
NUL_BYTES = NUL_BYTES_IN_FILE.code
CRLF = CRLF_LINE_ENDINGS.code
TOO_LARGE = FILE_TOO_LARGE.code
NO_FRONT_MATTER = MISSING_FRONT_MATTER.code
UNTERMINATED = UNTERMINATED_FRONT_MATTER.code
YAML_SYNTAX = YAML_SYNTAX_ERROR.code
UNSAFE_TAG = UNSAFE_YAML_TAG.code
YAML_ALIAS = YAML_ALIAS_USED.code
DUPLICATE_KEY = DUPLICATE_FRONT_MATTER_KEY.code
NOT_MAPPING = FRONT_MATTER_NOT_MAPPING.code
TOO_COMPLEX = FRONT_MATTER_TOO_COMPLEX.code
