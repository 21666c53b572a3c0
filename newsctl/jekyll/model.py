"""For one file of the archive, what Jekyll 4.3 does with it: `publish()` -> `Publication`.

The rules below are Jekyll's own (document.rb, post_reader.rb, publisher.rb, url.rb, utils.rb),
each checked against a real `jekyll build` by tests/test_jekyll_differential.py:

- A file is a **post** when it sits in a `_posts` folder and its name matches
  `DATE_FILENAME_MATCHER` (`YYYY-MM-DD-slug.ext`, also `22-6-1-slug.md`); a file in `_posts`
  whose name does not match is not read at all. Anything else with front matter is a **page**
  (`old_post/` files are pages: published at `/old_post/<name>`, without post dates or
  categories); without front matter it is a static file, copied as is.
- Front matter is `---` ... `---` or `...`; none at all is fine for a post (the whole file is the
  body, the title comes from the slug).
- The date: see `dates.py`. A post with a date Jekyll cannot read **aborts the build**.
- Title: the front-matter value as Liquid prints it; none (or null/false) gives the slug
  titleized (`Utils.titleize_slug`). Categories: the folders above `_posts`, `categories`
  (a text is split on spaces) and `category`, each as text, once; Psych-typed entries are kept
  beside their text (`[emnews, 2022]` gives `emnews, 2022, "2022"`). Tags: `tag` if present,
  else `tags`; a value that is neither text nor list gives no tags.
- Published: not when `published` is false or null (unless `unpublished: true`), not when dated
  after the build time (unless `future: true`).
- A front-matter `categories:` that is a number, a boolean or a mapping makes Jekyll's read fail
  half way: the post is still published, at the build time, without its title or tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import yaml

from newsctl.jekyll.dates import DateReading, read_post_date
from newsctl.jekyll.defaults import deep_merge
from newsctl.jekyll.psych import PsychDate, PsychTime, load_psych, ruby_to_s
from newsctl.jekyll.site import Site

__all__ = ["FrontMatter", "Publication", "publish", "split_front_matter"]

# Document::YAML_FRONT_MATTER_REGEXP and DATE_FILENAME_MATCHER (Ruby's `m` is Python's DOTALL)
_FRONT_MATTER = re.compile(r"\A(---[ \t\r\n\f\v]*\n.*?\n?)^((---|\.\.\.)[ \t\r\n\f\v]*$\n?)", re.S | re.M)
_DATE_NAME = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^./]+)$")
_SPECIAL = (".", "_", "#", "~")
_OUTPUT_EXT_SAME = (".html", ".htm")


@dataclass(frozen=True)
class FrontMatter:
    """The front matter as Jekyll reads it."""

    found: bool
    data: dict[str, Any]
    body: str
    body_offset: int  # characters before the body in the text
    error: str | None = None  # Psych's complaint: Jekyll logs it and keeps going without the data
    closed_by_dots: bool = False


def split_front_matter(text: str) -> FrontMatter:
    """Jekyll's split of a file into front matter and body, and Psych's reading of the YAML."""
    if text.startswith("\ufeff"):  # Jekyll opens files with "bom|utf-8"
        text = text[1:]
    match = _FRONT_MATTER.match(text)
    if match is None:
        return FrontMatter(False, {}, text, 0)
    body = text[match.end():]
    dots = match[3] == "..."
    try:
        data = load_psych(match[1])
    except yaml.YAMLError as exc:
        return FrontMatter(True, {}, body, match.end(), error=_yaml_message(exc), closed_by_dots=dots)
    except RecursionError:
        return FrontMatter(True, {}, body, match.end(), error="nested too deeply", closed_by_dots=dots)
    if not isinstance(data, dict):  # a list or a scalar: Jekyll merges nothing
        data = {}
    return FrontMatter(True, {str(k): v for k, v in data.items()}, body, match.end(), closed_by_dots=dots)


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem or exc).splitlines()[0]


@dataclass(frozen=True)
class Publication:
    """What Jekyll does with one file."""

    path: str  # relative to the site root, with "/"
    kind: str  # "post", "page", "static" (copied as is) or "ignored" (not read at all)
    published: bool  # written to the site (at `url`)
    reason: str | None = None  # why not published, or why ignored
    aborts: str | None = None  # Jekyll stops the whole build on this file (its message)
    instant: datetime | None = None  # a post's date, in the site zone
    date_rule: str | None = None  # how the instant was read (see DateReading.rule)
    date_unknown: bool = False  # a date form newsctl does not emulate
    title: str = ""  # as `{{ page.title }}` shows it
    title_value: Any = None  # the Psych-typed value (or None)
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    url: str | None = None
    slug: str | None = None
    future: bool = False  # not published only because it is dated after the build time
    front_matter: FrontMatter | None = None
    read_error: str | None = None  # Jekyll logged an error reading this file and published it anyway
    liquid: Any = None  # LiquidCheck, when the body holds Liquid and Jekyll renders it
    date_error: str | None = None  # a page's date Ruby cannot read (pages do not stop the build on it)
    notes: tuple[str, ...] = field(default=())

    @property
    def url_day(self) -> str | None:
        moment = self.instant
        return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}" if moment else None


def publish(relpath: str, text: str | FrontMatter | None, site: Site, now: datetime | None = None,
            check_liquid: bool = True) -> Publication:
    """What Jekyll does with the file at `relpath` (relative to the site root, "/"-separated)
    holding `text` (None: not valid UTF-8, which Jekyll skips). `now` is the build time.

    `text` may also be a FrontMatter already read (newsctl.post reads front matter with the
    same Psych typing; reading it twice would halve `validate`'s speed)."""
    now = now or datetime.now(timezone.utc)
    parts = relpath.split("/")
    if site.excluded(relpath):
        return Publication(relpath, "ignored", False, reason="excluded by `exclude` in _config.yml")
    if "_posts" in parts[:-1]:
        return _post(relpath, parts, text, site, now, check_liquid)
    if any(part.startswith(_SPECIAL) for part in parts) or parts[-1].endswith("~"):
        return Publication(relpath, "ignored", False,
                           reason="Jekyll skips names starting with '.', '_', '#' or '~' (outside _posts)")
    return _page(relpath, parts, text, site, check_liquid)


def _post(relpath: str, parts: list[str], text: str | FrontMatter | None, site: Site, now: datetime,
          check_liquid: bool) -> Publication:
    posts_at = len(parts) - 1 - parts[::-1].index("_posts")
    inside = parts[posts_at + 1:]
    if inside[0].startswith(_SPECIAL) or inside[-1].startswith(_SPECIAL) or inside[-1].endswith("~"):
        return Publication(relpath, "ignored", False,
                           reason="Jekyll skips names starting with '.', '_', '#' or '~'")
    name = _DATE_NAME.match(inside[-1])
    if name is None:
        return Publication(relpath, "ignored", False,
                           reason="the file name does not start with a date (YYYY-MM-DD-slug.ext): "
                                  "Jekyll does not read it as a post")
    if text is None:
        return Publication(relpath, "ignored", False, reason="not valid UTF-8: Jekyll skips it")
    file_day, slug, ext = name.groups()
    slug = slug.rstrip(".")
    fm = text if isinstance(text, FrontMatter) else split_front_matter(text)
    defaults = site.defaults_for(relpath, "posts")  # merged first, the front matter over them
    read_error = f"YAML Exception: {fm.error}" if fm.error else None
    data = deep_merge(defaults, fm.data) if defaults and not read_error else defaults if defaults else fm.data
    categories: list[Any] = [p for p in parts[:posts_at] if p]
    for source in [defaults] + ([] if read_error else [fm.data]):  # merge_categories!: joined
        value = source.get("categories")
        if value is None:
            continue
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list):  # Array | Integer: TypeError half way through the read
            read_error = f"could not read file: no implicit conversion of {_ruby_class(value)} into Array"
            break
        categories = _union(categories, value)
    if read_error:  # the read stopped before the title, categories and the file-name date were set
        reading = (read_post_date(defaults["date"], True, None, site.zone, now) if "date" in defaults
                   else DateReading(now.astimezone(site.zone), "build-time"))
        title_value = defaults.get("title")
        return _finish(relpath, site, now, check_liquid, fm, data=defaults, reading=reading, title_value=title_value,
                       title=ruby_to_s(title_value, site.zone) if title_value is not None else None,
                       categories=categories, tags=(), slug=None, ext=ext, read_error=read_error)
    reading = read_post_date(data.get("date"), "date" in data, file_day, site.zone, now)
    title_value = data.get("title")
    title = ruby_to_s(title_value, site.zone) if title_value not in (None, False) else _titleize(slug)
    texts = [_text(c, site) for c in _flatten([*categories, *_pluralized(data, "category", "categories")])]
    categories = _union(categories, list(dict.fromkeys(texts)))
    tags = tuple(_text(t, site) for t in _flatten(_pluralized(data, "tag", "tags")) if t is not None)
    return _finish(relpath, site, now, check_liquid, fm, data=data, reading=reading, title_value=title_value,
                   title=title, categories=categories, tags=tags, slug=str(data.get("slug") or slug),
                   ext=ext, read_error=None)


def _finish(relpath: str, site: Site, now: datetime, check_liquid: bool, fm: FrontMatter, *, data: dict[str, Any],
            reading: DateReading, title_value: Any, title: str | None, categories: list[Any], tags: tuple[str, ...],
            slug: str | None, ext: str, read_error: str | None) -> Publication:
    basename = relpath.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    category_texts = tuple(_text(c, site) for c in categories)
    common = dict(path=relpath, kind="post", instant=reading.instant, date_rule=reading.rule,
                  date_unknown=reading.unknown, title=title if title is not None else "",
                  title_value=title_value, categories=category_texts, tags=tags, slug=slug,
                  front_matter=fm, read_error=read_error)
    if reading.error:
        where = "filename" if reading.rule == "file-name" else "YAML front matter"
        return Publication(**common, published=False, aborts=f"{reading.error}: Document '{relpath}' does not "
                           f"have a valid date in the {where}.")
    published_value = data.get("published", True)
    if (published_value is False or published_value is None) and not site.unpublished:
        shown = ruby_to_s(published_value, site.zone) or "null"
        return Publication(**common, published=False, reason=f"published: {shown}")
    is_future = reading.instant is not None and not site.future and reading.instant.timestamp() > now.timestamp()
    url = _post_url(site, reading, category_texts, slug or basename, basename, ext, data) if reading.instant else None
    liquid = _liquid(fm.body, data, site, check_liquid, title or "", url)
    aborts = liquid.error if liquid is not None and liquid.error else None
    if is_future:
        return Publication(**common, published=False, future=True, url=url, liquid=liquid, aborts=None,
                           reason=f"dated {reading.instant:%Y-%m-%d %H:%M:%S %z}, after the build time "
                                  "(Jekyll's `future: false`)")
    return Publication(**common, published=aborts is None, url=url, liquid=liquid, aborts=aborts)


def _page_url_name(stem: str, out_ext: str, permalink: str) -> str:
    """Page#template's last part: `/:path/:basename` with Utils.add_permalink_suffix for the
    site's permalink (a trailing "/", ":output_ext", or neither), index pages as their folder."""
    if out_ext != ".html":
        return stem + out_ext
    if stem == "index":
        return ""
    return stem + ("/" if permalink.endswith("/") else "") + (".html" if permalink.endswith(":output_ext") else "")


def _page(relpath: str, parts: list[str], text: str | FrontMatter | None, site: Site,
          check_liquid: bool) -> Publication:
    if text is None:
        return Publication(relpath, "static", True, reason="not valid UTF-8: copied as a static file")
    fm = text if isinstance(text, FrontMatter) else split_front_matter(text)
    if not fm.found:
        return Publication(relpath, "static", True, url="/" + relpath, reason="no front matter: copied as is")
    # A page falls back to the defaults for a key it lacks (data.default_proc), but `published`
    # is fetched without them (Publisher#can_be_published?).
    data = {**site.defaults_for(relpath, "pages"), **fm.data}
    if fm.data.get("published", True) in (False, None) and not site.unpublished:
        return Publication(relpath, "page", False, reason="published: false", front_matter=fm)
    title_value = data.get("title")
    stem, _, ext = parts[-1].rpartition(".")
    out_ext = ".html" if site.is_markdown("." + ext) or ("." + ext) in _OUTPUT_EXT_SAME else "." + ext
    folder = "/".join(parts[:-1])
    url = "/" + (f"{folder}/" if folder else "") + _page_url_name(stem, out_ext, site.permalink)
    reading = read_post_date(data["date"], True, None, site.zone) if "date" in data else None
    instant = reading.instant if reading else None
    title = ruby_to_s(title_value, site.zone)
    liquid = _liquid(fm.body, data, site, check_liquid, title, url)
    return Publication(relpath, "page", liquid is None or not liquid.error, instant=instant,
                       date_rule=reading.rule if reading else None, date_unknown=bool(reading and reading.unknown),
                       date_error=reading.error if reading else None,
                       title=title, title_value=title_value,
                       categories=tuple(ruby_to_s(c, site.zone) for c in _as_array(data.get("categories"))),
                       tags=tuple(ruby_to_s(t, site.zone) for t in _as_array(data.get("tags"))),
                       url=url, front_matter=fm, liquid=liquid,
                       aborts=liquid.error if liquid is not None else None)


def _liquid(body: str, data: dict[str, Any], site: Site, check: bool, title: str, url: str | None) -> Any:
    if not check or not site.render_liquid or data.get("render_with_liquid") is False:
        return None
    if "{{" not in body and "{%" not in body:
        return None
    from newsctl.jekyll.liquid import check_liquid  # only for bodies holding Liquid: python-liquid is not free

    return check_liquid(body, site.root, page={"title": title, "url": url or ""})


def _post_url(site: Site, reading: DateReading, categories: tuple[str, ...], slug: str, basename: str,
              ext: str, data: dict[str, Any]) -> str:
    moment = reading.instant
    assert moment is not None
    template = data.get("permalink")
    template = str(template) if isinstance(template, str) and template else site.permalink
    out_ext = ".html" if site.is_markdown(ext) or ext.lower() in _OUTPUT_EXT_SAME else ext
    seen: dict[str, None] = {}
    for category in categories:
        seen.setdefault(category.lower(), None)
    values: dict[str, Any] = {
        "categories": lambda: "/".join(seen),
        "year": lambda: f"{moment.year:04d}", "month": lambda: f"{moment.month:02d}",
        "day": lambda: f"{moment.day:02d}", "hour": lambda: f"{moment.hour:02d}",
        "minute": lambda: f"{moment.minute:02d}", "second": lambda: f"{moment.second:02d}",
        "i_day": lambda: str(moment.day), "i_month": lambda: str(moment.month),
        "short_year": lambda: f"{moment.year % 100:02d}", "y_day": lambda: f"{moment:%j}",
        "week": lambda: f"{moment:%V}", "short_day": lambda: f"{moment:%a}",
        "title": lambda: _slugify(slug, pretty=True), "slug": lambda: _slugify(slug, pretty=False),
        "name": lambda: _slugify(basename), "output_ext": lambda: out_ext,
    }

    def replace(match: re.Match[str]) -> str:
        key = match[1]
        for candidate in (key, key.rstrip("_")):
            if candidate in values:
                return _escape_path(values[candidate]()) + key[len(candidate):]
        return match[0]

    url = re.sub(r":([a-z_]+)", replace, template)
    url = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", url)




_SLUG_PRETTY = re.compile(r"(?:[^\w._~!$&'()+,;=@]|_)+")
_SLUG_PLAIN = re.compile(r"(?:[^\w]|_)+")
_ASCII_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9.]*(?:-[A-Za-z0-9.]+)*")


def _slugify(text: str, pretty: bool = False) -> str:
    """Utils.slugify (modes "pretty", cased, and "default"): runs of other characters become one
    `-`, none at either end (Ruby's \\p{L}\\p{M}\\p{Nd} read as Python's \\w without `_`)."""
    if _ASCII_SLUG.fullmatch(text) and (pretty or "." not in text):
        return text if pretty else text.lower()
    slug = (_SLUG_PRETTY if pretty else _SLUG_PLAIN).sub("-", text)
    slug = re.sub(r"^-|-$", "", slug)
    return slug if pretty else slug.lower()


_URL_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/")


def _escape_path(path: str) -> str:
    """URL.escape_path: Addressable::URI.encode, then '#' as %23."""
    if not path or re.fullmatch(r"[a-zA-Z0-9./-]+", path):
        return path
    out = []
    for char in path:
        if char in _URL_SAFE or char == "#":
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out).replace("#", "%23", 1)


def _text(value: Any, site: Site) -> str:
    """Ruby's to_s of a category or tag (a Psych Time prints in the site zone)."""
    if isinstance(value, str) and not isinstance(value, (PsychTime, PsychDate)):
        return str(value)
    return ruby_to_s(value, site.zone)


def _titleize(slug: str) -> str:
    return " ".join(word[:1].upper() + word[1:].lower() for word in slug.split("-"))


def _pluralized(data: dict[str, Any], singular: str, plural: str) -> list[Any]:
    """Utils.pluralized_array_from_hash: the singular key's value, else the plural's (text split,
    list without nulls, anything else nothing)."""
    value: Any = data.get(singular) if singular in data else None
    if value is None and plural in data:
        raw = data[plural]
        value = raw.split() if isinstance(raw, str) else ([v for v in raw if v is not None]
                                                          if isinstance(raw, list) else None)
    return [v for v in _flatten([value]) if v is not None]


def _as_array(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [[k, v] for k, v in value.items()]
    return [value]


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(_flatten(value))
        else:
            out.append(value)
    return out


def _union(first: list[Any], second: list[Any]) -> list[Any]:
    """Ruby's Array#| : order kept, duplicates dropped by eql? (1 and "1" are both kept)."""
    out: list[Any] = []
    seen: set[tuple[type, Any]] = set()
    for value in [*first, *second]:
        key = (type(value) if not isinstance(value, str) else str, value if _hashable(value) else repr(value))
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _ruby_class(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return {int: "Integer", float: "Float", dict: "Hash"}.get(type(value), type(value).__name__)
