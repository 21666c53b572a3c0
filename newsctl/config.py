"""Archive root discovery, the archive time zone and newsctl's own settings (listing the
archive's post files is discovery.py's).

Settings come from, in order of precedence: command-line options (applied by the CLI),
`newsctl.toml` at the archive root, `[tool.newsctl]` in a `pyproject.toml` there, and
the defaults below. The time zone is Jekyll's own `timezone:` in `_config.yml`.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any

from newsctl.errors import ConfigError, UsageError

ROOT_MARKERS = ("_config.yml", "newsctl.toml")
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Jekyll publishes a post in _posts with any of its markdown_ext extensions, and .html posts too
DEFAULT_POST_GLOBS = ("_posts/**/*.md", "old_post/**/*.md", "_posts/**/*.markdown", "_posts/**/*.mkdown",
                      "_posts/**/*.mkdn", "_posts/**/*.mkd", "_posts/**/*.html")

# Which JSON keys of a scraper's record feed each post field, first match wins.
DEFAULT_FEED_FIELDS: dict[str, list[str]] = {
    "title": ["title", "Title", "art_title"],
    "date": ["date", "showtime", "showTime", "publish_time", "time"],
    "body": ["body", "content", "digest", "summary"],
    "url": ["url", "link", "source_url", "Art_Url"],
    "id": ["id", "infoCode", "code", "art_code"],
    "category": ["category", "categories"],
    "tag": ["tag", "tags", "from", "source", "media"],
}


@dataclass
class Settings:
    """Resolved settings of one archive; `origins` says where each value came from."""

    root: Path
    timezone: str = DEFAULT_TIMEZONE
    posts: list[str] = field(default_factory=lambda: list(DEFAULT_POST_GLOBS))
    index_dir: str = ".newsctl/index"
    dest: str = "_posts"
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    layouts: list[str] = field(default_factory=lambda: ["post"])
    max_title_length: int = 200
    future_tolerance_hours: float = 24.0
    date_fix: str = "keep"  # NC306's --fix: "keep" the instant Jekyll publishes, or write the "zone" (docs/jekyll.md)
    userdict: str = "userdict.txt"
    feed_fields: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_FEED_FIELDS))
    add_categories: list[str] = field(default_factory=list)  # [add] category: when `add` is given none
    add_tags: list[str] = field(default_factory=list)  # [add] tag
    origins: dict[str, str] = field(default_factory=dict)

    @cached_property
    def tz(self) -> tzinfo:
        return load_zone(self.timezone)

    @property
    def future_tolerance(self) -> timedelta:
        return timedelta(hours=self.future_tolerance_hours)

    @property
    def index_path(self) -> Path:
        return self.root / self.index_dir

    @property
    def userdict_path(self) -> Path | None:
        path = self.root / self.userdict
        return path if path.is_file() else None

    def public_items(self) -> list[tuple[str, Any, str]]:
        """(name, value, origin) for `newsctl config`."""
        names = ["root", "timezone", "posts", "index_dir", "dest", "select", "ignore", "layouts",
                 "max_title_length", "future_tolerance_hours", "date_fix", "userdict", "feed_fields",
                 "add_categories", "add_tags"]
        return [(name, getattr(self, name), self.origins.get(name, "default")) for name in names]


def load_zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # local: `newsctl --help` needs no zones

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)") from exc


def find_root(explicit: Path | None = None, start: Path | None = None) -> tuple[Path, str]:
    """The archive root and how it was found: --root, NEWSCTL_ROOT, or a marker file above `start`."""
    if explicit is not None:
        return _existing_dir(explicit, "--root"), "--root"
    env_root = os.environ.get("NEWSCTL_ROOT")
    if env_root:
        return _existing_dir(Path(env_root), "NEWSCTL_ROOT"), "NEWSCTL_ROOT"
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).is_file() for marker in ROOT_MARKERS):
            return folder, f"found {next(m for m in ROOT_MARKERS if (folder / m).is_file())}"
    raise UsageError(
        f"no archive found: neither _config.yml nor newsctl.toml in {here} or above; "
        "pass --root DIR or set NEWSCTL_ROOT"
    )


def _existing_dir(path: Path, origin: str) -> Path:
    if not path.is_dir():
        raise UsageError(f"{origin}: {path} is not a directory")
    return path.resolve()


def load_settings(root: Path, root_origin: str = "--root") -> Settings:
    settings = Settings(root=root)
    settings.origins["root"] = root_origin
    timezone = read_jekyll_timezone(root / "_config.yml")
    if timezone:
        settings.timezone = timezone
        settings.origins["timezone"] = "_config.yml"
    table, origin = read_newsctl_table(root)
    _apply_table(settings, table, origin)
    try:
        settings.tz  # noqa: B018 - fail early on a bad zone name, with the file that named it
    except ConfigError as exc:
        origin = settings.origins.get("timezone", "default")
        key = "" if origin == "_config.yml" else "setting 'timezone': "
        raise ConfigError(f"{origin}: {key}{exc}") from exc
    if "posts" not in settings.origins:
        _posts_of_markdown_ext(settings)
    return settings


def _posts_of_markdown_ext(settings: Settings) -> None:
    """The default `posts` globs follow `markdown_ext` in _config.yml, as Jekyll does: a post in
    _posts with any of those extensions (and .html) is published. Only a _config.yml that names
    markdown_ext is parsed for it, so the usual start-up reads no YAML here."""
    config = settings.root / "_config.yml"
    try:
        if "markdown_ext" not in config.read_text(encoding="utf-8"):
            return
    except (OSError, UnicodeDecodeError):
        return  # read_jekyll_timezone has reported an unreadable file already
    from newsctl.jekyll.site import read_site

    extensions = read_site(settings.root, settings.tz).markdown_ext
    settings.posts = [*(f"_posts/**/*{ext}" for ext in extensions), "_posts/**/*.html", "old_post/**/*.md"]
    settings.origins["posts"] = "_config.yml (markdown_ext)"


def read_jekyll_timezone(config_file: Path) -> str | None:
    if not config_file.is_file():
        return None
    try:
        text = config_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_file}: cannot read: {exc}") from exc
    quick = quick_timezone(text)
    if quick is not None:
        return quick[0]
    import yaml  # local: only a _config.yml that quick_timezone cannot vouch for needs PyYAML

    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{config_file}{where}: invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{config_file}: cannot read: {exc}") from exc
    if isinstance(data, dict) and data.get("timezone"):
        return str(data["timezone"])
    return None


# A _config.yml read without PyYAML (its import is most of a small command's start-up) must be
# one whose meaning is beyond doubt. quick_timezone vouches only for a file whose EVERY line is
# printable (str.isprintable: no tab, CR, BOM, other line breaks or controls) and is blank, a
# comment, or a top-level `key: value` at column 0 with a one-line value: a plain scalar that
# cannot start a YAML construct (nor be the `<<` or `=` that SafeLoader refuses) and holds no
# ": " (nor ends in ":"), or a quoted scalar without escapes, then an optional ` # comment`.
# Such a file is valid YAML and a flat mapping. Anything else (indented or continued lines,
# directives (%), document markers (--- ...), flow collections, block scalars, sequences,
# anchors, aliases, tags, `<<` merges, quoted or complex keys) is left to yaml.safe_load, which
# also reports invalid YAML. `timezone` must appear at most once, and a plain value must be text
# to YAML 1.1 too (a zone name such as Asia/Shanghai; not yes/off/null, a number or a date).
_QUICK_LINE = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_-]{0,127}):"
    r"(?: +(?:\"(?P<dq>[^\"\\]*)\"|'(?P<sq>[^']*)'|(?P<plain>[^ \-?:,\[\]{}#&*!|>'\"%@`<=].*?)))?"
    r"(?: +#.*)? *"
)
_QUICK_IGNORED = re.compile(r" *(?:#.*)?")  # blank or comment lines
_QUICK_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")
_YAML11_WORDS = frozenset(  # plain words PyYAML reads as booleans or null (YAML 1.1)
    word for base in ("yes", "no", "true", "false", "on", "off", "null")
    for word in (base, base.capitalize(), base.upper()))


def quick_timezone(text: str) -> tuple[str | None] | None:
    """(what `read_jekyll_timezone` would return,) for a _config.yml simple enough to read without
    PyYAML (see the rule above), or None when yaml.safe_load must decide."""
    found: list[str | None] = []
    for line in text.split("\n"):
        if not line.isprintable():  # tabs, CR, BOM, other line breaks, controls (and unusual spaces)
            return None
        entry = _QUICK_LINE.fullmatch(line)
        if entry is None:
            if _QUICK_IGNORED.fullmatch(line):
                continue
            return None
        plain = entry["plain"]
        if plain is not None and (": " in plain or plain.endswith(":")):
            return None
        if entry["key"] != "timezone":
            continue
        if plain is not None and (not _QUICK_ZONE.fullmatch(plain) or plain in _YAML11_WORDS):
            return None
        found.append(next((value for value in (plain, entry["dq"], entry["sq"]) if value is not None), None))
    if len(found) > 1:
        return None
    return (found[0] or None,) if found else (None,)


def read_newsctl_table(root: Path) -> tuple[dict[str, Any], str]:
    own = root / "newsctl.toml"
    if own.is_file():
        return _read_toml(own), "newsctl.toml"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        tool = _read_toml(pyproject).get("tool", {})
        table = tool.get("newsctl", {}) if isinstance(tool, dict) else {}
        if table and isinstance(table, dict):
            return table, "pyproject.toml [tool.newsctl]"
    return {}, "default"


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):  # local: most archives have no TOML settings at all
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 (byte {exc.start + 1} cannot be decoded)") from exc
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


# ---- checking each setting: its type, its range, and paths that stay inside the archive ----------------

_CODE = re.compile(r"NC\d{0,3}", re.IGNORECASE)  # a rule code or a prefix of one (the registry checks more)
MAX_TITLE_LIMIT = 100_000
MAX_TOLERANCE_HOURS = 24 * 366 * 100


def _text_list(value: Any, what: str) -> str | None:
    if not isinstance(value, list):
        return f"must be a list of {what} (got {_kind(value)})"
    bad = next((item for item in value if not isinstance(item, str) or not item.strip()), None)
    if bad is not None or any(isinstance(item, str) and not item.strip() for item in value):
        return f"must be a list of {what} (got {_kind(bad)} in the list)"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__)


def _check_codes(value: Any) -> str | None:
    problem = _text_list(value, "rule codes or prefixes (NC3, NC306)")
    if problem:
        return problem
    bad = next((code for code in value if not _CODE.fullmatch(code.strip())), None)
    return f"holds {bad!r}, which is not a rule code or prefix (see `newsctl rules`)" if bad is not None else None


def _check_count(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be a whole number (got {_kind(value)})"
    if not 1 <= value <= MAX_TITLE_LIMIT:
        return f"must be between 1 and {MAX_TITLE_LIMIT} (got {value})"
    return None


def _check_hours(value: Any) -> str | None:
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number of hours (got {_kind(value)})"
    if not math.isfinite(value) or not 0 <= value <= MAX_TOLERANCE_HOURS:
        return f"must be between 0 and {MAX_TOLERANCE_HOURS} hours (got {value})"
    return None


def _check_text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else f"must be a non-empty string (got {_kind(value)})"


def _check_feed_fields(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"must be a table of post fields (got {_kind(value)})"
    for name, keys in value.items():
        if name not in DEFAULT_FEED_FIELDS:
            return f"has the unknown field {name!r} (known: {', '.join(DEFAULT_FEED_FIELDS)})"
        problem = _text_list(keys, "JSON keys")
        if problem:
            return f"{name}: {problem}"
    return None


def _check_date_fix(value: Any) -> str | None:
    return None if value in ("keep", "zone") else f'must be "keep" or "zone" (got {value!r}; docs/jekyll.md)'


_CHECKS: dict[str, Any] = {
    "timezone": _check_text, "posts": lambda v: _text_list(v, "glob strings"), "index_dir": _check_text,
    "dest": _check_text, "select": _check_codes, "ignore": _check_codes,
    "layouts": lambda v: _text_list(v, "layout names"), "max_title_length": _check_count,
    "future_tolerance_hours": _check_hours, "userdict": lambda v: None if isinstance(v, str) else
    f"must be a string (got {_kind(v)})", "feed_fields": _check_feed_fields, "date_fix": _check_date_fix,
}


def _apply_table(settings: Settings, table: dict[str, Any], origin: str) -> None:
    for key, value in table.items():
        name = key.replace("-", "_")
        if name == "add":
            _apply_add_table(settings, value, origin)
            continue
        check = _CHECKS.get(name)
        if check is None:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        problem = check(value)
        if problem:
            raise ConfigError(f"{origin}: setting {key!r} {problem}")
        if name == "feed_fields":
            value = {**settings.feed_fields, **value}
        setattr(settings, name, value)
        settings.origins[name] = origin
    _confine(settings)


def _confine(settings: Settings) -> None:
    """Paths in the settings name places inside the archive root (symlinks resolved): newsctl never
    reads or writes elsewhere because of a setting. (An explicit `--dest` may point anywhere.)"""
    root = os.path.realpath(settings.root)
    for name in ("index_dir", "dest", "userdict"):
        if name == "userdict" and not settings.userdict:
            continue  # no user dictionary
        problem = _outside(root, getattr(settings, name), allow_root=name == "dest")
        if problem:
            raise ConfigError(f"{settings.origins.get(name, 'default')}: setting {name!r} {problem}")
    for pattern in settings.posts:
        problem = _outside(root, literal_prefix(pattern), allow_root=True) or (
            "must not use `..`" if ".." in pattern.split("/") else None)
        if problem:
            raise ConfigError(f"{settings.origins.get('posts', 'default')}: setting 'posts': {pattern!r} {problem}")


def _outside(root: str, value: str, allow_root: bool) -> str | None:
    if os.path.isabs(value) or value.startswith("~"):
        return f"must be a path relative to the archive root (got {value!r})"
    resolved = os.path.realpath(os.path.join(root, value))
    if resolved == root:
        return None if allow_root else f"must name a folder or file below the archive root (got {value!r})"
    if not resolved.startswith(root.rstrip(os.sep) + os.sep):
        return f"leads outside the archive root ({value!r} resolves to {resolved})"
    return None


def literal_prefix(pattern: str) -> str:
    """The folders of a glob before its first wildcard (`_posts/**/*.md` -> `_posts`)."""
    parts = []
    for part in pattern.split("/")[:-1]:
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return "/".join(parts)


_ADD_KEYS = {"category": "add_categories", "categories": "add_categories", "tag": "add_tags", "tags": "add_tags",
             "dest": "dest"}


def _apply_add_table(settings: Settings, table: Any, origin: str) -> None:
    """`[add]`: defaults of `newsctl add` (category, tag: a word or a list of words; dest: a folder)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: [add] must be a table")
    for key, value in table.items():
        name = _ADD_KEYS.get(key)
        if name is None:
            raise ConfigError(f"{origin}: unknown setting 'add.{key}' (known: category, tag, dest)")
        if name == "dest":
            if not isinstance(value, str):
                raise ConfigError(f"{origin}: setting 'add.dest' has the wrong type ({type(value).__name__})")
        else:
            words = [value] if isinstance(value, str) else value
            if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
                raise ConfigError(f"{origin}: setting 'add.{key}' must be a word or a list of words")
            value = words
        setattr(settings, name, value)
        settings.origins[name] = f"{origin} [add]"
