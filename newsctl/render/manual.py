"""`newsctl help COMMAND` and `newsctl help --man`: the help and a man page built from the click
command tree itself (usage, options, their help) plus the examples below, so neither can drift
from the CLI. tests/test_help.py parses every example with the command's own parser."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# (command line, what it does). Runnable as written in an archive (the read-only ones are run by
# the tests); `$ ` is added when printed.
EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "add": [
        ("newsctl add --title '华澜化工公告' --category emnews --tag 东财滚动新闻 "
         "--source-url https://news.example.com/a/1.html --body-file body.html",
         "one post from options (the body from a file; - for stdin)"),
        ("newsctl add --from-jsonl feed.jsonl", "many posts from a scraper's JSON-lines feed"),
        ("newsctl add --from-jsonl feed.jsonl --dry-run", "print what would be written"),
    ],
    "validate": [
        ("newsctl validate", "the whole archive"),
        ("newsctl validate --fix", "rewrite what is fixable, atomically"),
        ("newsctl validate --statistics", "findings counted per code"),
        ("newsctl validate --select NC3 --ignore NC306 --format json", "only some rules, as JSON"),
        ("newsctl validate --format sarif --exit-zero", "for a code-scanning dashboard"),
    ],
    "index": [
        ("newsctl index", "create the index, or update it with new, changed and deleted posts"),
        ("newsctl index --rebuild --jobs 2", "start over with two worker processes"),
    ],
    "search": [
        ("newsctl search 信也科技", "every post holding the string, ranked"),
        ("newsctl search 'title:茅台 (白酒 OR 酱香)' --since 30d --sort -date", "the query language, newest first"),
        ("newsctl search 公司 -- -市场", "after --, words may start with '-' (here: NOT 市场)"),
        ("newsctl search -e -市场 --category emnews", "-e QUERY: the same, beside options"),
        ("newsctl search 资金流入 --format line | cut -f1", "ids for scripts (id, date, title, path per line)"),
        ("newsctl search 资金流入 --format csv --limit 0", "every hit as CSV"),
    ],
    "show": [
        ("newsctl show 202206012398184598", "one article by id (or by path)"),
        ("newsctl show 202206012398184598 --highlight 信也科技", "with the matches marked"),
        ("newsctl show 202206012398184598 --raw", "the file as it is"),
    ],
    "stats": [
        ("newsctl stats", "posts per category, tag and month; the index's state"),
        ("newsctl stats --format json", "the same as JSON"),
    ],
    "config": [
        ("newsctl config", "each setting and where it came from"),
        ("newsctl config --format json", "as JSON"),
    ],
    "rules": [
        ("newsctl rules", "every rule"),
        ("newsctl rules NC3 NC701", "rules by code or prefix"),
    ],
    "trend": [
        ("newsctl trend 北向资金", "posts matching the query per day, week or month (chosen by the span)"),
        ("newsctl trend 茅台 --by month --since 1y", "per month over the last year"),
        ("newsctl trend 茅台 --by week --format csv", "as CSV for a spreadsheet"),
    ],
    "edit": [
        ("newsctl edit 202206012398184598", "open the post in $VISUAL/$EDITOR, then validate it"),
    ],
    "help": [
        ("newsctl help search", "a command's help with examples"),
        ("newsctl help --man", "this manual as a man page (newsctl help --man > newsctl.1)"),
    ],
    "completion": [
        ("newsctl completion bash", "the bash completion script (source it from ~/.bashrc)"),
    ],
}

EXIT_STATUS = [
    (0, "success: no errors (validate), results found (search, trend), post written (add)"),
    (1, "findings: validation errors, no search results, a refused duplicate, a busy index, an unknown post id"),
    (2, "usage error: bad option or argument, unknown rule code, unparsable query, bad configuration"),
    (3, "internal error (a bug); NEWSCTL_DEBUG=1 shows the traceback"),
    (4, "no index, or the index is unusable or damaged: run newsctl index (--rebuild)"),
]

ENVIRONMENT = [
    ("NEWSCTL_ROOT", "the archive root when --root is not given"),
    ("VISUAL, EDITOR", "the editor of add and edit"),
    ("PAGER", "the pager of show and search on a terminal"),
    ("NO_COLOR", "no colours (matches stay marked by reverse video and underline)"),
    ("NEWSCTL_DEBUG", "print the traceback of an internal error"),
]


def examples_text(command: str) -> str:
    rows = EXAMPLES.get(command, [])
    if not rows:
        return ""
    return "Examples:\n" + "".join(f"  $ {line}\n      {what}\n" for line, what in rows)


def print_help(group: Any, ctx: Any, name: str | None) -> None:
    """`newsctl help [COMMAND]`: the group's help, or one command's help and examples."""
    import sys

    if name is None:
        sys.stdout.write(str(group.get_help(ctx)).rstrip("\n") + "\n\nSee `newsctl help COMMAND` for examples.\n")
        return
    command = group.get_command(ctx, name)
    if command is None:
        raise _unknown_command(name, group.list_commands(ctx))
    sub_ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
    sys.stdout.write(command_help(command, sub_ctx, name))


def _unknown_command(name: str, known: list[str]) -> Exception:
    import difflib

    from newsctl.errors import UsageError

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return UsageError(f"no command {name!r}{hint}; the commands: {', '.join(known)}")


def print_man_page(group: Any, ctx: Any, version: str) -> None:
    import sys

    sys.stdout.write(man_page(group, ctx, version))


def print_completion_script(prog_name: str, shell: str) -> None:
    """Typer's completion script for `shell` (the one `--show-completion` prints)."""
    import sys

    from typer.completion import get_completion_script

    complete_var = f"_{prog_name.replace('-', '_').upper()}_COMPLETE"
    sys.stdout.write(get_completion_script(prog_name=prog_name, complete_var=complete_var, shell=shell).rstrip()
                     + "\n")


def command_help(command: Any, ctx: Any, name: str) -> str:
    """What `newsctl NAME --help` prints, then the examples."""
    text = str(command.get_help(ctx)).rstrip("\n") + "\n"
    extra = examples_text(name)
    return text + ("\n" + extra if extra else "")


# ---- man page --------------------------------------------------------------------------------

SYNOPSIS = "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]..."


def man_page(group: Any, ctx: Any, version: str) -> str:
    """A roff man page (man 7 man) of the whole CLI."""
    lines = [f'.TH NEWSCTL 1 "" "newsctl {version}" "User Commands"',
             ".SH NAME", "newsctl \\- " + _roff(_first_line(group.help or "")),
             ".SH SYNOPSIS", ".B newsctl", SYNOPSIS,
             ".SH DESCRIPTION", *_paragraphs(group.help or ""),
             ".SH GLOBAL OPTIONS", *_options(group.params, ctx),
             ".SH COMMANDS"]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub_ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        pieces = command.collect_usage_pieces(sub_ctx)
        lines += [f".SS newsctl {_roff(name)} {_roff(' '.join(pieces))}".rstrip(), *_paragraphs(command.help or ""),
                  *_options(command.params, sub_ctx)]
    lines.append(".SH EXAMPLES")
    for rows in EXAMPLES.values():
        for line, what in rows:
            lines += [".TP", f"\\fB{_roff(line)}\\fR", _roff(what)]
    lines.append(".SH EXIT STATUS")
    for code, meaning in EXIT_STATUS:
        lines += [".TP", f"\\fB{code}\\fR", _roff(meaning)]
    lines.append(".SH ENVIRONMENT")
    for variable, meaning in ENVIRONMENT:
        lines += [".TP", f"\\fB{_roff(variable)}\\fR", _roff(meaning)]
    lines += [".SH SEE ALSO", "The documentation in docs/ of the newsctl repository: rules.md, search.md, "
              "analysis.md, reliability.md."]
    return "\n".join(lines) + "\n"


def _options(params: Sequence[Any], ctx: Any) -> list[str]:
    lines: list[str] = []
    for param in params:
        if getattr(param, "hidden", False):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, text = record
        lines += [".TP", f"\\fB{_roff(names)}\\fR", _roff(text) if text else ""]
    return [line for line in lines if line]


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        if paragraph.strip():
            out += [".PP", _roff(" ".join(paragraph.split()))]
    return out


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].rstrip(".") if text.strip() else "newsctl"


def _roff(text: str) -> str:
    """Text safe in a roff line: backslashes and hyphens escaped, no request at the line start."""
    escaped = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + escaped if escaped[:1] in (".", "'") else escaped
