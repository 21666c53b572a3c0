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
                 "max_title_length", "future_tolerance_hours", "date_fix", "userdict", "feed_fields"]
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
        raise ConfigError(f"{settings.origins.get('timezone', 'default')}: {exc}") from exc
    return settings


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
        table = _read_toml(pyproject).get("tool", {}).get("newsctl", {})
        if table:
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
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


_KNOWN_TYPES: dict[str, type | tuple[type, ...]] = {
    "timezone": str, "posts": list, "index_dir": str, "dest": str, "select": list,
    "ignore": list, "layouts": list, "max_title_length": int,
    "future_tolerance_hours": (int, float), "date_fix": str, "userdict": str, "feed_fields": dict,
}


def _apply_table(settings: Settings, table: dict[str, Any], origin: str) -> None:
    for key, value in table.items():
        name = key.replace("-", "_")
        expected = _KNOWN_TYPES.get(name)
        if expected is None:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        if not isinstance(value, expected):
            raise ConfigError(f"{origin}: setting {key!r} has the wrong type ({type(value).__name__})")
        if name == "date_fix" and value not in ("keep", "zone"):
            raise ConfigError(f"{origin}: setting {key!r} must be \"keep\" or \"zone\" (docs/jekyll.md)")
        if name == "feed_fields":
            value = {**settings.feed_fields, **_as_mapping(value)}
        setattr(settings, name, value)
        settings.origins[name] = origin


def _as_mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
