"""Archive root discovery, the archive time zone and newsctl's own settings.

Settings come from, in order of precedence: command-line options (applied by the CLI),
`newsctl.toml` at the archive root, `[tool.newsctl]` in a `pyproject.toml` there, and
the defaults below. The time zone is Jekyll's own `timezone:` in `_config.yml`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from functools import cache, cached_property, partial
from pathlib import Path
from typing import Any

from newsctl.errors import ConfigError, UsageError
from newsctl.names import day_and_id, is_neighbour, neighbour_names

ROOT_MARKERS = ("_config.yml", "newsctl.toml")
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_POST_GLOBS = ("_posts/**/*.md", "old_post/**/*.md")

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
                 "max_title_length", "future_tolerance_hours", "userdict", "feed_fields"]
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
    "future_tolerance_hours": (int, float), "userdict": str, "feed_fields": dict,
}


def _apply_table(settings: Settings, table: dict[str, Any], origin: str) -> None:
    for key, value in table.items():
        name = key.replace("-", "_")
        expected = _KNOWN_TYPES.get(name)
        if expected is None:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        if not isinstance(value, expected):
            raise ConfigError(f"{origin}: setting {key!r} has the wrong type ({type(value).__name__})")
        if name == "feed_fields":
            value = {**settings.feed_fields, **_as_mapping(value)}
        setattr(settings, name, value)
        settings.origins[name] = origin


def _as_mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


# ---- post discovery -------------------------------------------------------------------------

def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob with `**` (any depth), `*` and `?` into a regex over posix paths."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def literal_prefix(pattern: str) -> str:
    parts = []
    for part in pattern.split("/")[:-1]:
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return "/".join(parts)


def walk_files(base: Path) -> Iterator[Path]:
    """Files under `base`, sorted, never following directory symlinks (no loops)."""
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath, name)


def iter_post_paths(settings: Settings) -> Iterator[Path]:
    """Every post file of the archive, each once, in a stable order."""
    return (Path(path) for path in list_archive_posts(settings))


def list_archive_posts(settings: Settings) -> list[str]:
    """Absolute paths of every post, as strings (Path objects for 100k files cost too much on the
    pre-commit path). Directory symlinks are not followed (no loops)."""
    return [f"{folder}/{name}" for folder, names in archive_names(settings, trust_md_names=False)
            for name in names]


def archive_names(settings: Settings, trust_md_names: bool,
                  listdir: Callable[[str], list[str]] = os.listdir) -> list[tuple[str, list[str]]]:
    """(absolute folder, file names) of the posts, folder by folder. With `trust_md_names`, names
    ending in .md are taken for files without asking the file system (enough for comparing names),
    and `listdir` lists a folder (cache.NameCache.listdir may answer from its cache)."""
    root = str(settings.root)
    folders: dict[str, list[str]] = {}
    for pattern in settings.posts:
        base = literal_prefix(pattern)
        suffix, keep = _name_filter(pattern, base)
        for rel_dir, names, all_md in _walk(root, base, trust_md_names, listdir):
            folder = f"{root}/{rel_dir}" if rel_dir else root
            # names all ending in .md end in a suffix such as ".md" too: no second look at 100k names
            kept = names if all_md and suffix is not None and ".md".endswith(suffix) else keep(rel_dir, names)
            if folder in folders:  # two patterns reach the same folder: keep each name once
                known = set(folders[folder])
                folders[folder] += [name for name in kept if name not in known]
            elif kept:
                folders[folder] = kept
    return list(folders.items())


Listing = list[tuple[str, list[str]]]  # (absolute folder, file names), as archive_names gives it
FindNeighbours = Callable[[set[str], set[str]], Listing]  # (days, ids) -> the names names.is_neighbour accepts


def find_neighbours(settings: Settings, days: set[str], ids: set[str],
                    listdir: Callable[[str], list[str]] = os.listdir) -> Listing:
    """The archive's post names of one of the days or with one of the ids (see names.is_neighbour)."""
    return _with_names((folder, neighbour_names("\0".join(names), days, ids))
                       for folder, names in archive_names(settings, trust_md_names=True, listdir=listdir))


def _with_names(listing: Iterable[tuple[str, list[str]]]) -> Listing:
    return [(folder, names) for folder, names in listing if names]


@contextmanager
def neighbours_in_background(settings: Settings, paths: Iterable[Path], use_cache: bool) -> Iterator[FindNeighbours]:
    """find_neighbours for the days and ids that the names of `paths` give, computed by a forked
    child while the body of the `with` runs: listing a folder of 100k names takes ~0.07 s of
    system time (unless cache.NameCache has them), and searching them ~0.03 s, about what
    importing the rules takes. Days or ids the names did not give (a front-matter date of another
    day, a folder argument) are searched here, as is everything when the child failed."""
    from newsctl.background import in_child
    from newsctl.cache import folder_lister

    listdir = folder_lister(settings, use_cache)
    days: set[str] = set()
    ids: set[str] = set()
    for path in paths:
        if path.name.endswith(".md"):  # (a folder's posts are known only once it is walked)
            day, post_id = day_and_id(path.name)
            ids.add(post_id)
            if day:
                days.add(day)
    work = partial(find_neighbours, settings, days, ids, listdir)
    with in_child(lambda send: send(pack_listing(work()))) as child:
        @cache
        def received() -> Listing | None:
            data = child.receive()
            return None if data is None else unpack_listing(data)

        def find(wanted_days: set[str], wanted_ids: set[str]) -> Listing:
            listing = received() if wanted_days <= days and wanted_ids <= ids else None
            if listing is None:
                return find_neighbours(settings, wanted_days, wanted_ids, listdir)
            return _with_names((folder, [name for name in names if is_neighbour(name, wanted_days, wanted_ids)])
                               for folder, names in listing)

        yield find


def pack_listing(listing: Listing) -> bytes:
    """A listing as one byte string: each folder NUL-joined with its names, folders separated by
    two NULs (no name is empty or holds a NUL). Undecodable names survive (surrogateescape)."""
    return "\0\0".join("\0".join([folder, *names]) for folder, names in listing).encode(
        "utf-8", "surrogateescape")


def unpack_listing(data: bytes) -> Listing:
    text = data.decode("utf-8", "surrogateescape")
    return [(folder, names) for folder, *names in (part.split("\0") for part in text.split("\0\0")) if folder]


def _name_filter(pattern: str, base: str) -> tuple[str | None, Callable[[str, list[str]], list[str]]]:
    """The names of one folder that the glob selects, and the suffix that alone decides that if
    there is one: `<base>/**/*.md` needs no regex."""
    tail = pattern[len(base):].lstrip("/")
    if tail.startswith("**/*") and not any(ch in tail[4:] for ch in "*?[/"):
        suffix = tail[4:]
        return suffix, lambda rel_dir, names: ending_with(names, suffix)
    regex = glob_to_regex(pattern)
    return None, lambda rel_dir, names: [name for name in names
                                         if regex.match(f"{rel_dir}/{name}" if rel_dir else name)]


def _walk(root: str, base: str, trust_md_names: bool,
          listdir: Callable[[str], list[str]]) -> Iterator[tuple[str, list[str], bool]]:
    """(relative folder, file names, whether all of them are known to end in .md) under root/base;
    directory symlinks are not followed."""
    stack = [base]
    while stack:
        rel_dir = stack.pop()
        folder = f"{root}/{rel_dir}" if rel_dir else root
        prefix = f"{rel_dir}/" if rel_dir else ""
        try:
            if trust_md_names:
                names = listdir(folder)
                files = ending_with(names, ".md")
                all_md = files is names
                subdirs: list[str] = []
                if not all_md:  # only names without .md are asked whether they are folders
                    others = [name for name in names if not name.endswith(".md")]
                    subdirs = [name for name in others if _is_real_dir(f"{folder}/{name}")]
                    files = files + [name for name in others if name not in subdirs]
            else:
                entries = list(os.scandir(folder))
                all_md = False  # not looked at
                subdirs = [entry.name for entry in entries if _is_real_dir(entry)]
                files = [entry.name for entry in entries if entry.name not in subdirs] if subdirs else \
                    [entry.name for entry in entries]
        except OSError:
            continue
        stack += [prefix + name for name in subdirs]
        yield rel_dir, files, all_md


def ending_with(names: list[str], suffix: str) -> list[str]:
    """The names that end with `suffix`, in order: `names` itself when all do (the usual post folder).
    That is checked in C, not name by name: no file name holds NUL, so in the names joined by NUL
    each occurrence of suffix + NUL ends a different name (all but the last)."""
    if not names:
        return names
    if ("\0" not in suffix and names[-1].endswith(suffix)
            and "\0".join(names).count(suffix + "\0") == len(names) - 1):
        return names
    return [name for name in names if name.endswith(suffix)]


def _is_real_dir(item: str | os.DirEntry[str]) -> bool:
    try:
        if isinstance(item, str):
            return os.path.isdir(item) and not os.path.islink(item)
        return item.is_dir() and not item.is_symlink()
    except OSError:
        return False


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Paths as a user or pre-commit gives them: files as they are, folders recursed for *.md."""
    for path in paths:
        if path.is_dir():
            yield from (p for p in walk_files(path) if p.suffix == ".md")
        else:
            yield path
