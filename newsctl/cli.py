"""The newsctl command line: arguments, output choice and exit codes; the work is elsewhere.

Each command calls its `newsctl.commands.<name>.run` for a result and hands that to `render/`.
Imports of the commands and of the heavy stages (YAML, Whoosh, rjieba, Rich) stay inside the
command functions, so that `newsctl --help` and `newsctl validate FILE` (run by pre-commit) start
fast (tests/test_fast_paths.py guards both; docs/architecture.md has the rules). No
`from __future__ import annotations` here: Typer reads every command's annotations at each
start, and evaluating them from strings costs `--help` about 12 ms more than real objects.
"""

import codecs
import io
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import typer
from typer.core import TyperGroup

from newsctl import __version__, completion
from newsctl.cli_support import (
    CategoryFilter,
    QueryCommand,
    SinceFilter,
    StockFilter,
    TagFilter,
    UntilFilter,
    pick_format,
    stdout_is_terminal,
)
from newsctl.cli_tools import register as register_tools
from newsctl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, NewsctlError, UsageError

if TYPE_CHECKING:
    from newsctl.config import Settings
    from newsctl.render import FindingFormat, InfoFormat

# click's own errors (usage errors: exit 2) pass through; typer may vendor click, so find the
# base class through typer's public BadParameter instead of importing click.
PASS_THROUGH: tuple[type[BaseException], ...] = (
    typer.Exit, typer.Abort, KeyboardInterrupt, BrokenPipeError,
    *(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"))


class NewsctlGroup(TyperGroup):
    """Turns user-facing errors into one line on stderr and their exit code, for every command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Typer's --show-completion detects the shell it runs in; given a shell name, print that
        # shell's script instead (`newsctl --show-completion zsh` from bash).
        if len(args) >= 2 and args[0] == "--show-completion" and args[1] in ("bash", "zsh", "fish"):
            args = ["completion", *args[1:]]
        return list(super().parse_args(ctx, args))

    def invoke(self, ctx: Any) -> object:  # click's Context; typer vendors click in some versions
        try:
            return super().invoke(ctx)
        except NewsctlError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:  # Ctrl-C: one line, never a traceback (click would say "Aborted!")
            typer.echo("newsctl: interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except PASS_THROUGH:
            raise
        except Exception as exc:  # a bug: one line for the user, the traceback on request
            if os.environ.get("NEWSCTL_DEBUG"):
                raise
            fail(f"internal error: {type(exc).__name__}: {exc} (set NEWSCTL_DEBUG=1 for details)",
                 EXIT_INTERNAL)


app = typer.Typer(
    name="newsctl",
    cls=NewsctlGroup,
    help="Manage a Jekyll archive of Chinese news posts: add, validate, index, search, show.\n\n"
    "Exit codes: 0 ok; 1 findings, no results or a busy index; 2 usage error; 3 internal error; "
    "4 no index, or a damaged one; 130 interrupted.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion; also `newsctl completion SHELL`
    rich_markup_mode=None,  # plain help: Rich is not imported on the start-up path
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class CliState:
    """What the global options decided, shared with the commands (not the index's store.State)."""

    root: Path | None = None
    _settings: "Settings | None" = None

    def settings(self) -> "Settings":
        if self._settings is None:
            from newsctl.config import find_root, load_settings

            root, origin = find_root(self.root)
            self._settings = load_settings(root, origin)
        return self._settings


STATE = CliState()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"newsctl {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    root: Annotated[Path | None, typer.Option(
        "--root", help="Archive root (default: $NEWSCTL_ROOT, else the nearest folder above with "
        "_config.yml or newsctl.toml).", show_default=False)] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    STATE.root = root
    STATE._settings = None
    _print_undecodable_names_as_bytes()


def _print_undecodable_names_as_bytes() -> None:
    """A file name that is not UTF-8 reaches output as lone surrogates (os.fsdecode). Under a
    strict locale (en_US.UTF-8: Python's default) printing one failed; write its bytes back as
    they are instead, as Python's UTF-8 mode does (a non-UTF-8 terminal gets escapes)."""
    stream = sys.stdout
    if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
        utf8 = codecs.lookup(stream.encoding).name == "utf-8"
        stream.reconfigure(errors="surrogateescape" if utf8 else "backslashreplace")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    from newsctl.paths import printable  # a message may quote a file name: never a raw control

    typer.echo(f"newsctl: error: {printable(message)}", err=True)
    raise typer.Exit(code)


# ---- config, rules ---------------------------------------------------------------------------

class InfoFormatChoice(str, Enum):
    text = "text"
    json = "json"


@app.command("config")
def config_command(
    output: Annotated[InfoFormatChoice | None, typer.Option("--format", help="text or json.")] = None,
) -> None:
    """Print the resolved settings and where each came from."""
    from newsctl.commands import config
    from newsctl.render.info import print_settings

    print_settings(config.run(STATE.settings()), info_format(output))


@app.command("rules")
def rules_command(
    codes: Annotated[list[str] | None, typer.Argument(
        help="Only rules with these codes or prefixes (e.g. NC3).", show_default=False)] = None,
    output: Annotated[InfoFormatChoice | None, typer.Option("--format", help="text or json.")] = None,
) -> None:
    """List the validation rules: code, severity, fixable, what, why and how to fix."""
    from newsctl.commands import rules
    from newsctl.render.info import print_rules

    print_rules(rules.run(_split_codes(codes)), info_format(output))


def info_format(requested: Enum | None) -> "InfoFormat":
    return cast("InfoFormat", pick_format(requested, "text", "text"))


# ---- validate ----------------------------------------------------------------------------------

class FindingFormatChoice(str, Enum):
    text = "text"
    concise = "concise"
    json = "json"
    github = "github"
    sarif = "sarif"


@app.command("validate")
def validate_command(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Posts or folders to check (default: the whole archive).", show_default=False)] = None,
    output: Annotated[FindingFormatChoice | None, typer.Option(
        "--format", "--output-format",
        help="text (terminal default), concise (piped default), json, github or sarif.")] = None,
    select: Annotated[list[str] | None, typer.Option(
        "--select", help="Only these rule codes or prefixes (comma-separated, repeatable).")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", help="Skip these rule codes or prefixes (comma-separated, repeatable).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    fix: Annotated[bool, typer.Option("--fix", help="Rewrite fixable problems in place, atomically.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show what --fix would change; write nothing.")] = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="List and read every neighbour of the given posts; no .newsctl/cache.")] = False,
    statistics: Annotated[bool, typer.Option(
        "--statistics", help="Count the findings per code instead of listing them.")] = False,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when findings fail.")] = False,
    date_fix: Annotated[str | None, typer.Option(
        "--date-fix", help="NC306's fix: keep (the instant Jekyll publishes; default) or zone (the archive "
        "zone after the clock as written).", show_default=False)] = None,
) -> None:
    """Check posts for defects. Exit 0 when clean, 1 when errors were found."""
    from newsctl.commands import validate

    settings = _settings_for_paths(paths)
    if date_fix is not None:
        if date_fix not in ("keep", "zone"):
            fail(f"--date-fix must be keep or zone, not {date_fix!r}")
        settings.date_fix = date_fix
    report = validate.run(settings, paths=paths or [], select=_split_codes(select),
                          ignore=_split_codes(ignore), fix=fix, diff=diff, use_cache=not no_cache)
    from newsctl.render.findings import print_findings, print_statistics

    fmt = cast("FindingFormat", pick_format(output, "text", "concise"))
    (print_statistics if statistics and not diff else print_findings)(report, fmt)
    raise typer.Exit(0 if exit_zero else report.exit_code(strict=strict))


def _split_codes(values: list[str] | None) -> list[str]:
    return [code.strip().upper() for value in values or [] for code in value.split(",") if code.strip()]


def _settings_for_paths(paths: list[Path] | None) -> "Settings":
    """The archive above the working directory, else the one above the first path (pre-commit runs
    at the top of a repository that may keep the archive in a sub-folder); explicit files may also
    be checked outside any archive (defaults apply)."""
    try:
        return STATE.settings()
    except UsageError:
        if not paths or STATE.root is not None or os.environ.get("NEWSCTL_ROOT"):
            raise
        from newsctl.config import Settings, find_root, load_settings

        start = paths[0] if paths[0].is_dir() else paths[0].parent
        try:
            root, origin = find_root(start=start)
        except UsageError:
            return Settings(root=Path.cwd())
        return load_settings(root, origin)


# ---- add ----------------------------------------------------------------------------------------

@app.command("add")
def add_command(
    title: Annotated[str | None, typer.Option("--title", help="Post title.")] = None,
    date: Annotated[str | None, typer.Option(
        "--date", help="Publication time, e.g. '2022-06-01 12:00:32 +0800' (default: now).")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="Category (repeatable).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeatable).")] = None,
    post_id: Annotated[str | None, typer.Option(
        "--id", help="Post id (default: date digits plus a unique suffix).")] = None,
    source_url: Annotated[str | None, typer.Option("--source-url", help="Original article URL.")] = None,
    body_file: Annotated[str | None, typer.Option(
        "--body-file", help="Body from FILE, or '-' for stdin (default: $VISUAL/$EDITOR on a terminal).")] = None,
    from_jsonl: Annotated[str | None, typer.Option(
        "--from-jsonl", help="Add many posts from a JSON-lines feed FILE, or '-' for stdin.")] = None,
    dest: Annotated[Path | None, typer.Option("--dest", help="Folder for new posts (default: _posts/).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write even if the post seems to exist already.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the post(s) instead of writing.")] = False,
    print_path: Annotated[bool, typer.Option("--print-path", help="Print only the new path(s).")] = False,
) -> None:
    """Write new posts in the archive's format (one from options, or many from a feed)."""
    from newsctl.commands import add
    from newsctl.render.add import AddPrinter

    options = add.AddOptions(title=title, date=date, categories=category or [], tags=tag or [], post_id=post_id,
                             source_url=source_url, body_file=body_file, from_jsonl=from_jsonl, dest=dest,
                             force=force, dry_run=dry_run, print_path=print_path,
                             interactive=sys.stdin.isatty() and stdout_is_terminal())
    printer = AddPrinter(dry_run=dry_run, print_path=print_path, feed=from_jsonl is not None)
    result = add.run(STATE.settings(), options, printer)
    printer.finished(result)
    if result.interrupted:
        raise KeyboardInterrupt
    if result.error is not None:
        raise result.error
    raise typer.Exit(result.exit_code)


# ---- index, search, show, stats ----------------------------------------------------------------

@app.command("index")
def index_command(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start over instead of updating.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")] = 0,
    wait: Annotated[float, typer.Option(
        "--wait", min=0, help="Seconds to wait for another running index.")] = 5.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Create or update the full-text index (only new, changed and deleted posts)."""
    from newsctl.commands import index as command
    from newsctl.engine.updater import IndexOptions
    from newsctl.render.progress import index_progress, print_index_summary

    options = IndexOptions(rebuild=rebuild, jobs=jobs, wait=wait, progress=index_progress(quiet))
    summary = command.run(STATE.settings(), options)
    if not quiet:
        print_index_summary(summary)
    raise typer.Exit(0)


class SearchFormatChoice(str, Enum):
    table = "table"
    plain = "plain"
    json = "json"
    jsonl = "jsonl"
    paths = "paths"
    csv = "csv"
    line = "line"


class SortOrderChoice(str, Enum):
    relevance = "relevance"
    date = "date"
    newest = "-date"


QUERY_HELP = ("Words, \"phrases\", OR, -word/NOT, title:/tag:/category:/stock: prefixes. A word that could be "
              "an option (-x, --x) must follow `--` or be given with -e.")


def query_text(words: list[str] | None, given: list[str] | None) -> str:
    """-e/--query values first, then the positional words; a usage error when there are none."""
    parts = [*(given or []), *(words or [])]
    if not parts:
        raise UsageError("no query: give words, or -e QUERY (see newsctl help search)")
    return " ".join(parts)


@app.command("search", cls=QueryCommand)
def search_command(
    query: Annotated[list[str] | None, typer.Argument(help=QUERY_HELP, show_default=False)] = None,
    expression: Annotated[list[str] | None, typer.Option(
        "-e", "--query", help="The query (or part of it) as a value: it may start with '-' (repeatable).",
        show_default=False)] = None,
    category: CategoryFilter = None,
    tag: TagFilter = None,
    stock: StockFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    sort: Annotated[SortOrderChoice, typer.Option("--sort", help="relevance, date or -date.")] = (
        SortOrderChoice.relevance),
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Results to show (0: all).")] = 20,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many results.")] = 0,
    output: Annotated[SearchFormatChoice | None, typer.Option(
        "--format", help="table (terminal default), plain (piped default), json, jsonl, paths, csv or line "
        "(id, date, title, path; tab-separated).")] = None,
    absolute: Annotated[bool, typer.Option("--absolute", help="Absolute paths in the output.")] = False,
    update: Annotated[bool, typer.Option("--update", help="Update the index first.")] = False,
    null: Annotated[bool, typer.Option(
        "--null", "-0", help="With --format paths (implied): exact paths, each ended by NUL (xargs -0).")] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Never page a long result list.")] = False,
    include_unpublished: Annotated[bool, typer.Option(
        "--include-unpublished", help="Also posts Jekyll does not publish (published: false, dated in the "
        "future, not read by Jekyll).")] = False,
) -> None:
    """Search the archive. Exit 0 with results, 1 with none, 2 for a bad query, 4 without a usable index.

    A word starting with '-' negates (公司 -市场) unless it could be an option: then write it after
    `--` (newsctl search 公司 -- -finv) or give the query with -e (newsctl search -e -finv).
    """
    from newsctl.commands import search as command
    from newsctl.render.results import print_search

    options = command.SearchOptions(query=query_text(query, expression), categories=category or [],
                                    tags=tag or [], stocks=stock or [], since=since, until=until,
                                    sort=cast(command.SortOrder, sort.value), limit=limit, offset=offset,
                                    output=cast(command.SearchFormat, _search_format(output, null)),
                                    absolute=absolute, update=update,
                                    include_unpublished=include_unpublished)
    result = command.run(STATE.settings(), options)
    print_search(result, pager=not no_pager and stdout_is_terminal(), null=null)
    raise typer.Exit(result.exit_code)


def _search_format(output: "SearchFormatChoice | None", null: bool) -> str:
    if null and output is not None and output.value != "paths":
        raise UsageError("--null/-0 goes with --format paths")
    return "paths" if null else pick_format(output, "table", "plain")


@app.command("show")
def show_command(
    post: Annotated[str, typer.Argument(help="A post id or path.", autocompletion=completion.post_ids)],
    highlight: Annotated[str | None, typer.Option("--highlight", help="Highlight this query's matches.")] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Print the file as it is.")] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Never page long articles.")] = False,
    output: Annotated[InfoFormatChoice | None, typer.Option(
        "--format", help="text (the preview) or json: the post as the file says and as Jekyll publishes it.")] = None,
) -> None:
    """Preview one article in the terminal."""
    from newsctl.commands import show

    settings = STATE.settings()
    as_json = output is not None and output.value == "json"
    result = show.run(settings, post, highlight=highlight, raw=raw and not as_json, jekyll=as_json)
    if as_json:
        from newsctl.render.showjson import print_show_json

        print_show_json(result)
        raise typer.Exit(0)
    from newsctl.render.preview import print_show

    print_show(result, settings, pager=not no_pager and stdout_is_terminal())
    raise typer.Exit(result.exit_code)


class DupsFormatChoice(str, Enum):
    table = "table"
    plain = "plain"
    json = "json"
    csv = "csv"


@app.command("dups")
def dups_command(
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0, help="Similarity from which two posts are copies (default 0.6).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Posts from this date (2022-06-01, 7d, 2w).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Posts up to this date (inclusive).")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="Only posts of this category.")] = None,
    output: Annotated[DupsFormatChoice | None, typer.Option(
        "--format", help="table (terminal default), plain (piped default), json or csv.")] = None,
) -> None:
    """Groups of copies of one story (exact, and near: reposts). Exit 1 when there are some, 0 when none."""
    from newsctl.commands import dups as command
    from newsctl.render.dups import render

    options = command.DupsOptions(since=since, until=until, categories=category or [])
    if threshold is not None:
        options.threshold = threshold
    result = command.run(STATE.settings(), options)
    render(result, pick_format(output, "table", "plain"))
    raise typer.Exit(result.exit_code)


@app.command("stats")
def stats_command(
    output: Annotated[InfoFormatChoice | None, typer.Option("--format", help="text or json.")] = None,
) -> None:
    """Posts per category, tag and month, invalid posts, index size and freshness."""
    from newsctl.commands import stats
    from newsctl.render.stats import counting_progress, print_stats

    settings = STATE.settings()
    with counting_progress() as progress:
        result = stats.run(settings, progress)
    print_stats(result, settings.tz, info_format(output))


register_tools(app, STATE.settings, query_text, QUERY_HELP)


def main() -> None:
    """Entry point: user-facing errors become one line on stderr and an exit code."""
    import signal

    try:
        try:
            app()
        finally:
            # drain the output here, inside the handlers: a Ctrl-C (or a closed pipe) while a long
            # output is still being written would otherwise strike at the interpreter's exit
            sys.stdout.flush()
    except KeyboardInterrupt:
        typer.echo("newsctl: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # `newsctl search … | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # leaving: a late Ctrl-C changes nothing
