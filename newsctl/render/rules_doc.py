"""docs/rules.md, generated from the registry: `python -m newsctl.render.rules_doc --write` rewrites it,
`--check` exits 1 when it is stale (tests/test_rules.py runs it). The prose that is not about one
rule (selection, output, fixing, duplicates, caches, speed) is the template below; each rule's
section comes from its `Rule` entry in the rule modules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from newsctl.rules.registry import RULE_LIST
from newsctl.rules.rule import Rule

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

# Everything before the rules' own sections.
TEMPLATE = """\
# Validation rules

<!-- Generated from newsctl/rules/ by `python -m newsctl.render.rules_doc --write`;
     edit the rules or the template in newsctl/render/rules_doc.py, not this file. -->

`newsctl validate [PATHS...]` checks posts for the defects below. Without PATHS it checks the
whole archive (every file matching the `posts` globs, by default `_posts/**/*.md` and
`old_post/**/*.md`); folders given as PATHS are searched for `*.md` files; file names are
taken as pre-commit passes them. `newsctl rules [CODE...]` prints the same list in the
terminal (`--format json` for tools).

## Codes, selection, severity

Every rule has a stable code: NC1xx the file itself, NC2xx front matter and YAML, NC3xx
fields, NC4xx the file name, NC5xx the body, NC6xx duplicates, NC7xx style. Choose rules as
in ruff, by codes or prefixes:

    newsctl validate --select NC3,NC4      # only field and file-name rules
    newsctl validate --ignore NC504        # everything but "no source link"
    newsctl validate --select NC306 --ignore NC3   # the more specific code wins: NC306 runs

The archive's settings (`newsctl.toml`, or `[tool.newsctl]` in `pyproject.toml`) take the
same lists: `select = ["NC"]`, `ignore = ["NC504"]`. As in ruff, `--select` on the command
line starts the selection afresh (the configured `select` and `ignore` no longer apply),
while `--ignore` alone removes codes from the configured selection. Within one pair of
lists the longer (more specific) prefix wins and a tie goes to `ignore`; `ALL` selects
everything. An unknown code or prefix is a usage error (exit 2).

An **error** fails the run (exit 1); a **warning** is reported but fails only with
`--strict`. Exit 0 means no errors.

## Output

- `--format text` (the default on a terminal): a table per file and a summary line.
- `--format concise` (the default when piped, e.g. under pre-commit): one line per finding,
  `path:line:col: CODE message`; the summary goes to stderr.
- `--format json`: a list of findings, each `{"path", "line", "column", "code", "severity",
  "message", "fixable"}`.
- `--format github`: GitHub Actions annotations, `::error file=…,line=…,col=…,title=CODE::message`.

Lines and columns are 1-based and count in the file (the front matter starts on line 2).
Paths are relative to the working directory when the file is below it, else absolute.

## Fixing

`--fix` repairs what can be repaired without guessing (rules marked *fixable* below): a
missing zone on the date (the archive zone's offset for that date, from `timezone:` in
`_config.yml`), a title whose unescaped quotes or `: ` break the YAML (re-quoted when that
makes the front matter parse and read back the same text), a BOM, CRLF line endings and
trailing whitespace. Only the bytes of those problems change; the file is replaced
atomically (a temporary file in the same folder, then a rename) and keeps its permissions.
The run then reports what remains. `--diff` prints the unified diff `--fix` would apply
(`git apply` accepts it) and writes nothing; it exits 1 when there would be changes.

## Duplicates across the archive

NC601-NC603 compare a post with the rest of the archive, `_posts/` and `old_post/` alike,
even when PATHS are given (a new file that copies an old one must fail at pre-commit time):

- without PATHS every post is read: ids, titles with dates, and body texts are compared
  across the whole archive;
- with PATHS the given files are compared by id with every file name in the archive (no
  reading needed), and by title, date and body with the posts of the same day (file-name
  prefix `YYYY-MM-DD-`, and the day of the front-matter date in the archive zone). This keeps
  a pre-commit run on a few files fast on archives of 100,000 posts; a copy filed under
  another day is found by a run over the whole archive (run it in CI).

With PATHS, two caches in `<root>/.newsctl/cache/` (like ruff's cache) spare a pre-commit run
most of its work on a large archive:

- the file names of each post folder, trusted while the folder's mtime is the one recorded
  (creating, deleting or renaming an entry changes it; git's untracked cache relies on the
  same signal). `old_post/` rarely changes, so its 100k names are not listed again;
- the facts compared (title, date, body hash, their lines) of the posts of each day, one small
  JSON file per day, trusted while a post's size and mtime are unchanged.

A folder or post changed in the last 3 seconds is not recorded, so a change within the same
mtime tick is not missed (git's "racy" rule). An edit that puts back both size and mtime
(`touch -r`, some restore tools), or a file system that does not update a folder's mtime, is
not seen: `--no-cache` lists and reads everything and neither reads nor writes the caches.
Nothing is written outside an archive (no `_config.yml` or `newsctl.toml`), a cache that
cannot be read or written is ignored, and a new newsctl version (or time zone, for the facts)
starts afresh. Add `.newsctl/` to `.gitignore`.

Bodies are compared by a hash of their text without the source-link line, the `[返回…](…)`
footer, HTML tags and whitespace, so copies that differ only in footer or markup are caught.
Near-duplicates (rewritten text) are not.

## Speed

The validate path imports neither the search stack nor Rich (unless `--format text`).
Archives larger than 2,000 posts are checked by one worker process per core.

With PATHS (pre-commit), the archive's file names are listed and searched for the given
posts' days and ids by a forked child while the parent imports the rules and checks the
given files: listing a folder of 100k names costs ~0.07 s of system time (reading it from
the cache ~0.01 s), as much as the imports. The facts of the same-day posts come from the
cache described above; the benchmark (docs/benchmarks.md) times the run with warm caches and
with `--no-cache`.

## Rules

"""


def rule_section(rule: Rule) -> str:
    return (f"### {rule.code} {rule.name}\n\n*{rule.severity}, {rule.fix_label}*\n\n"
            f"- **What:** {rule.what}\n- **Why:** {rule.why}\n- **Fix:** {rule.how}\n")


def render() -> str:
    return TEMPLATE + "\n".join(rule_section(rule) for rule in RULE_LIST)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newsctl.render.rules_doc", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the file")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is not what --write writes")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the file (default: the repository's docs/rules.md)")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        args.docs.write_text(text, encoding="utf-8")
        return 0
    if args.check:
        current = args.docs.read_text(encoding="utf-8") if args.docs.is_file() else ""
        if current != text:
            sys.stderr.write(f"{args.docs} is stale: run `python -m newsctl.render.rules_doc --write`\n")
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
