"""The CLI's argument helpers: the output format choice, and how a query's words and the
command's options share one command line (`search`, `trend`).

The query language negates with a leading '-' (`公司 -市场`), which is also how options start.
The rule, as in grep and git:

- an argument that can be an option (`-x…` or `--x…` with an ASCII letter or digit after the
  dashes) is one; an unknown one is a usage error (exit 2) with a suggestion, never a query word;
- any other argument starting with '-' cannot be an option (`-市场`, `-"短语"`, `-(a OR b)`):
  it is a query word, the negation it reads as;
- after `--` every argument is a query word (`search -- -finv`); `-e QUERY` / `--query QUERY`
  gives a query (or part of it) as an option value, which may start with '-'.
"""

from __future__ import annotations

import re
import sys
from enum import Enum
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from newsctl import completion

# Marks an argument that starts with '-' but is a query word, so that click's parser leaves it
# alone; a NUL cannot occur in a real argv, so the mark cannot meet a user's text.
_QUERY_WORD = "\x00"
_OPTION_LIKE = re.compile(r"--?[A-Za-z0-9]")
HOW_TO_DASH = "a query word starting with '-'? put the query after `--` (newsctl search -- -word) or give it " \
              "with -e (newsctl search -e -word)"


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def pick_format(requested: Enum | None, terminal: str, piped: str) -> str:
    """The explicit --format, else the terminal or the piped default."""
    if requested is not None:
        return str(requested.value)
    return terminal if stdout_is_terminal() else piped


def _usage_error(message: str, ctx: Any) -> Exception:
    """click's UsageError (exit 2, usage line and hint), found through typer's public BadParameter:
    typer may vendor click."""
    import typer

    usage_error = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError")
    return usage_error(message, ctx)


class QueryCommand(TyperCommand):
    """A command whose positional words form a query: see the module docstring."""

    query_param = "query"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, self._mark_query_words(ctx, args))
        words = ctx.params.get(self.query_param)
        if words:
            ctx.params[self.query_param] = [word.removeprefix(_QUERY_WORD) for word in words]
        return rest

    def _mark_query_words(self, ctx: Any, args: list[str]) -> list[str]:
        long_names, short_names, takes_value = self._option_names(ctx)
        marked: list[str] = []
        at = 0
        while at < len(args):
            arg = args[at]
            at += 1
            if arg == "--":
                marked += args[at - 1:]
                break
            if not arg.startswith("-") or arg == "-":
                marked.append(arg)
                continue
            if not _OPTION_LIKE.match(arg):
                marked.append(_QUERY_WORD + arg)  # `-市场`: cannot be an option, so a negation
                continue
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg[:2]
            if name not in long_names and name not in short_names:
                raise _usage_error(self._unknown_option_message(arg, name, long_names, ctx), ctx)
            marked.append(arg)
            attached = "=" in arg if arg.startswith("--") else len(arg) > 2
            if name in takes_value and not attached and at < len(args):
                marked.append(args[at])  # the option's value, even if it starts with '-'
                at += 1
        return marked

    def _option_names(self, ctx: Any) -> tuple[set[str], set[str], set[str]]:
        long_names: set[str] = set()
        short_names: set[str] = set()
        takes_value: set[str] = set()
        for param in self.get_params(ctx):
            if getattr(param, "param_type_name", "") != "option":
                continue
            names = [*param.opts, *param.secondary_opts]
            for name in names:
                (long_names if name.startswith("--") else short_names).add(name)
            if not getattr(param, "is_flag", False) and not getattr(param, "count", False):
                takes_value.update(names)
        return long_names, short_names, takes_value

    def _unknown_option_message(self, arg: str, name: str, long_names: set[str], ctx: Any) -> str:
        suggestion = _suggest(name, sorted(long_names), self._choices(ctx))
        message = f"no such option {arg}" + (f" (did you mean {suggestion}?)" if suggestion else "")
        if suggestion and name.startswith("--"):
            return message  # surely a mistyped option, not a word
        return f"{message}; {HOW_TO_DASH}"

    def _choices(self, ctx: Any) -> dict[str, list[str]]:
        """Option -> the values it takes, for `--jsno` -> `--format json`."""
        found: dict[str, list[str]] = {}
        for param in self.get_params(ctx):
            choices = getattr(param.type, "choices", None)
            if choices and param.opts:
                found[max(param.opts, key=len)] = [str(getattr(c, "value", c)) for c in choices]
        return found


def _suggest(name: str, long_names: list[str], choices: dict[str, list[str]]) -> str | None:
    """The closest option (`--limt` -> `--limit`) or option value (`--jsno` -> `--format json`),
    compared without the dashes, which every name shares; a short option gets the long ones that
    start with its letter (`-l` -> `--limit`)."""
    import difflib

    if not name.startswith("--"):
        starting = [option for option in long_names if option[2:3] == name[1:2]]
        return " or ".join(starting) if starting else None
    bare = name[2:]
    candidates = {option[2:]: option for option in long_names}
    candidates |= {value: f"{option} {value}" for option, values in choices.items() for value in values}
    close = difflib.get_close_matches(bare, list(candidates), n=1, cutoff=0.6)
    return candidates[close[0]] if close else None


# The post filters `search` and `trend` share (one definition, one help text)
CategoryFilter = Annotated[list[str] | None, typer.Option(
    "--category", help="Only this category.", autocompletion=completion.categories)]
TagFilter = Annotated[list[str] | None, typer.Option("--tag", help="Only this tag.", autocompletion=completion.tags)]
StockFilter = Annotated[list[str] | None, typer.Option("--stock", help="Only posts naming this stock code.")]
SinceFilter = Annotated[str | None, typer.Option("--since", help="From this date (2022-06-01, 7d, 2w).")]
UntilFilter = Annotated[str | None, typer.Option("--until", help="Up to this date (inclusive).")]
