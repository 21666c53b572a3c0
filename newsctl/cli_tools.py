"""The analyst's and the shell's commands of the CLI: `trend`, `edit`, `help`, `completion`.

Registered on cli.py's app by `register` (cli.py stays within its size; this module imports
nothing of cli.py, so there is no cycle). Arguments, output choice and exit codes only, as in
cli.py: the work is in commands/, the printing in render/.
"""

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import typer

from newsctl import completion
from newsctl.cli_support import (
    CategoryFilter,
    QueryCommand,
    SinceFilter,
    StockFilter,
    TagFilter,
    UntilFilter,
    stdout_is_terminal,
)

if TYPE_CHECKING:
    from newsctl.config import Settings
    from newsctl.render import TrendFormat


class TrendFormatChoice(str, Enum):
    chart = "chart"
    json = "json"
    csv = "csv"


class IntervalChoice(str, Enum):
    auto = "auto"
    day = "day"
    week = "week"
    month = "month"


class ShellChoice(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def register(app: typer.Typer, settings: Callable[[], "Settings"], query_text: Callable[..., str],
             query_help: str) -> None:
    """Add the commands to `app`; `settings` gives the archive the global options chose."""

    @app.command("trend", cls=QueryCommand)
    def trend_command(
        query: Annotated[list[str] | None, typer.Argument(help=query_help, show_default=False)] = None,
        expression: Annotated[list[str] | None, typer.Option(
            "-e", "--query", help="The query (or part of it) as a value: it may start with '-'.",
            show_default=False)] = None,
        by: Annotated[IntervalChoice, typer.Option(
            "--by", help="day, week (ISO, from Monday), month, or auto (by the span).")] = IntervalChoice.auto,
        category: CategoryFilter = None,
        tag: TagFilter = None,
        stock: StockFilter = None,
        since: SinceFilter = None,
        until: UntilFilter = None,
        output: Annotated[TrendFormatChoice | None, typer.Option(
            "--format", help="chart (bars; plain text when piped), json or csv.")] = None,
    ) -> None:
        """Posts matching a query per day, week or month. Exit 0 with hits, 1 without, 4 without an index."""
        from newsctl.commands import trend
        from newsctl.render.trend import print_trend

        options = trend.TrendOptions(query=query_text(query, expression), by=cast("trend.Interval", by.value),
                                     categories=category or [], tags=tag or [], stocks=stock or [],
                                     since=since, until=until)
        result = trend.run(settings(), options)
        print_trend(result, cast("TrendFormat", output.value if output else "chart"))
        raise typer.Exit(0 if result.total else 1)

    @app.command("edit")
    def edit_command(
        post: Annotated[str, typer.Argument(help="A post id or path.", autocompletion=completion.post_ids)],
    ) -> None:
        """Open a post in $VISUAL/$EDITOR, then validate it as saved (exit 1 when it has errors)."""
        from newsctl.commands import edit
        from newsctl.render.findings import print_findings

        result = edit.run(settings(), post)
        print_findings(result.report, "text" if stdout_is_terminal() else "concise")
        raise typer.Exit(result.report.exit_code())

    @app.command("help")
    def help_command(
        ctx: typer.Context,
        command: Annotated[str | None, typer.Argument(help="The command to explain.", show_default=False)] = None,
        man: Annotated[bool, typer.Option("--man", help="Print the whole manual as a man page (roff).")] = False,
    ) -> None:
        """A command's help with examples, or the manual as a man page; both generated from the CLI."""
        from newsctl import __version__
        from newsctl.render.manual import print_help, print_man_page

        group = ctx.parent.command if ctx.parent is not None else None
        if man:
            print_man_page(group, ctx.parent, __version__)
        else:
            print_help(group, ctx.parent, command)

    @app.command("completion")
    def completion_command(
        shell: Annotated[ShellChoice, typer.Argument(help="bash, zsh or fish.")],
    ) -> None:
        """Print the shell completion script (e.g. `source <(newsctl completion bash)` in ~/.bashrc)."""
        from newsctl.render.manual import print_completion_script

        print_completion_script("newsctl", shell.value)
