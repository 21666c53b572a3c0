"""What `validate` says about a post from the model of what Jekyll publishes.

Each finding states what Jekyll 4.3 will do: the instant it publishes, the URL day, the title
it shows, or that it stops the build. Severity follows issue 10: a post that aborts the build
or is dropped is an error; a post published differently from what its file says is a warning.
The rule texts for docs/rules.md are in `RULE_TEXTS` (code -> name, severity, fix, what, why, how).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsctl.jekyll.model import Publication
from newsctl.jekyll.psych import PsychDate, PsychTime

__all__ = ["RULE_TEXTS", "JekyllFinding", "describe_instant", "jekyll_findings"]

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class JekyllFinding:
    code: str
    message: str
    key: str | None = None  # the front-matter key the finding points at (None: body_line or line 1)
    body_offset_line: int | None = None  # 1-based line within the body


def describe_instant(pub: Publication) -> str:
    """`2021-12-08 18:46:18 +0800 (URL day 2021-12-08)`: how a finding names what Jekyll publishes."""
    if pub.instant is None:
        return "an instant newsctl cannot tell"
    return f"{pub.instant:%Y-%m-%d %H:%M:%S %z} (URL day {pub.url_day})"


def jekyll_findings(pub: Publication, meta: dict[str, Any], now: datetime | None = None,
                    zone: Any = None) -> list[JekyllFinding]:
    """The Jekyll findings for one post file (`meta`: its front matter, Psych-typed; `zone`: the
    site zone)."""
    if pub.kind == "ignored":
        if pub.reason and pub.reason.startswith("the file name") and "date" in meta:
            return _unread_date(meta["date"], zone)
        if pub.reason and pub.reason.startswith(("the file name", "not valid UTF-8")):
            return []  # NC401 and NC101 say so, with what Jekyll does
        return [JekyllFinding("NC403", f"Jekyll does not publish this file: {pub.reason}")]
    if pub.kind == "page":  # outside _posts (old_post/): Jekyll reads no post rules, but shows the date
        return [*_date_findings(pub, meta), *_title_findings(pub, meta), *_liquid_findings(pub)]
    if pub.kind != "post":
        return _liquid_findings(pub)
    found: list[JekyllFinding] = []
    if pub.read_error:
        found.append(JekyllFinding("NC314", f"Jekyll fails reading the front matter ({pub.read_error}) and "
                                   f"publishes the post without its title, dated at the build time",
                                   "categories" if "categories" in meta else None))
        return found + _liquid_findings(pub)  # Jekyll still renders the body, and its Liquid
    found += _date_findings(pub, meta)
    found += _title_findings(pub, meta)
    found += _word_findings(pub, meta)
    if pub.reason and not pub.future and not pub.aborts and pub.reason.startswith("published"):
        found.append(JekyllFinding("NC310", f"Jekyll does not publish this post ({pub.reason}); newsctl leaves "
                                   "it out of search unless asked", "published"))
    found += _liquid_findings(pub)
    return found


def _unread_date(value: Any, zone: Any) -> list[JekyllFinding]:
    """A post Jekyll does not read (its name has no date) whose date would stop the build once named."""
    from newsctl.jekyll.dates import read_post_date

    if zone is None:
        return []
    reading = read_post_date(value, True, None, zone)
    if reading.error:
        return [JekyllFinding("NC305", f"{reading.error}: once the file is named YYYY-MM-DD-<id>.md, Jekyll "
                              "stops the whole build on this date", "date")]
    return []


def _date_findings(pub: Publication, meta: dict[str, Any]) -> list[JekyllFinding]:
    value = meta.get("date")
    if (pub.aborts or "").startswith("Invalid date"):
        return [JekyllFinding("NC305", f"Jekyll stops the whole build: {pub.aborts}", "date")]
    if pub.date_error:
        return [JekyllFinding("NC305", f"{pub.date_error} (a page outside _posts: Jekyll publishes it, but its "
                              "date cannot be shown or sorted)", "date")]
    if pub.date_unknown:
        return [JekyllFinding("NC305", f"date {_shown(value)!r} is in a form newsctl cannot read the way Jekyll "
                              "does (Ruby's Time.parse); write YYYY-MM-DD HH:MM:SS +0800", "date")]
    found = []
    if pub.date_rule == "utc-timestamp" and isinstance(value, PsychTime) and _zone_matters(value, pub):
        found.append(JekyllFinding("NC306", f"date {str(value)!r} has no zone: Jekyll (Ruby's YAML) reads it as "
                                   f"UTC and publishes it at {describe_instant(pub)}", "date"))
    if _rolled_over(value, pub):
        found.append(JekyllFinding("NC309", f"date {str(value)!r} does not exist: Jekyll rolls it over and "
                                   f"publishes it at {describe_instant(pub)}", "date"))
    if pub.future:
        found.append(JekyllFinding("NC307", f"date is after the build time: Jekyll (future: false) does not "
                                   f"publish it before {describe_instant(pub)}", "date"))
    if pub.date_rule == "file-name" and "date" not in meta:
        pass  # a missing key is NC301's; Jekyll takes the file name's day at midnight
    file_day = _file_day(pub.path)
    moved = file_day and pub.url_day and pub.date_rule not in ("file-name", "build-time") and file_day != pub.url_day
    if moved and found:  # the zone or the roll-over is why: one finding, which names both days
        first = found[0]
        found[0] = JekyllFinding(first.code, f"{first.message}, not the file name's day {file_day}", first.key)
    elif moved:
        found.append(JekyllFinding("NC402", f"file name says {file_day} but Jekyll uses the front-matter date: "
                                   f"published at {describe_instant(pub)}", "date"))
    return found


def _zone_matters(value: PsychTime, pub: Publication) -> bool:
    """Reading the clock as UTC publishes another instant than reading it in the site zone."""
    if pub.instant is None:
        return False
    zone = pub.instant.tzinfo
    return value.instant.replace(tzinfo=None).replace(tzinfo=zone) != pub.instant


def _rolled_over(value: Any, pub: Publication) -> bool:
    """The written day is not the published day for a reason other than the zone (2022-02-30)."""
    from newsctl.jekyll.dates import _PARSE

    if pub.instant is None or value is None:
        return False
    match = _PARSE.fullmatch(str(value))
    if match is None:
        return False
    mday, month = int(match["d"]), int(match["m"])
    try:
        datetime(2000 if len(match["y"]) == 2 else int(match["y"]), month, mday)
    except ValueError:
        return True
    return int(match["H"] or 0) == 24


def _file_day(path: str) -> str | None:
    from newsctl.jekyll.model import _DATE_NAME

    match = _DATE_NAME.match(path.rsplit("/", 1)[-1])
    if match is None:
        return None
    parts = match[1].split("-")
    year = int(parts[0])
    if len(parts[0]) == 2:
        year += 1900 if year >= 69 else 2000
    try:
        return datetime(year, int(parts[1]), int(parts[2])).date().isoformat()
    except ValueError:
        return None


def _title_findings(pub: Publication, meta: dict[str, Any]) -> list[JekyllFinding]:
    if "title" not in meta:
        return []
    value = meta["title"]
    if isinstance(value, str) and not isinstance(value, (PsychTime, PsychDate)):
        return []
    if value is None:
        return []  # NC303's (empty title), which names the title Jekyll shows instead
    if value is False:
        return [JekyllFinding("NC311", f"title {_shown(value)!r} is not text: Jekyll shows the title "
                              f"{pub.title!r} (made from the file name)", "title")]
    if isinstance(value, (list, dict)):
        return []  # NC302's: a list or mapping is no title at all
    return [JekyllFinding("NC311", f"title is read as {_kind(value)}: Jekyll shows {pub.title!r}; write it in "
                          "double quotes", "title")]


def _word_findings(pub: Publication, meta: dict[str, Any]) -> list[JekyllFinding]:
    found = []
    if "category" in meta:
        found.append(JekyllFinding("NC312", "Jekyll merges `category:` into the categories: it publishes "
                                   f"categories {list(pub.categories)} (URL {pub.url})", "category"))
    if "tag" in meta:
        found.append(JekyllFinding("NC312", f"Jekyll takes `tag:` instead of `tags:`: it publishes tags "
                                   f"{list(pub.tags)}", "tag"))
    categories = meta.get("categories")
    if isinstance(categories, list) and any(not isinstance(c, str) or isinstance(c, (PsychTime, PsychDate))
                                            for c in categories if c is not None):
        found.append(JekyllFinding("NC313", f"categories hold values YAML reads as numbers, dates or booleans: "
                                   f"Jekyll publishes categories {list(pub.categories)} (URL {pub.url}); "
                                   "write them in double quotes", "categories"))
    tags = meta.get("tags")
    if tags is not None and not isinstance(tags, (str, list)) and "tag" not in meta:
        found.append(JekyllFinding("NC313", f"tags is read as {_kind(tags)}: Jekyll publishes no tags", "tags"))
    return found


def _liquid_findings(pub: Publication) -> list[JekyllFinding]:
    check = pub.liquid
    if check is None:
        return []
    if check.error:
        return [JekyllFinding("NC505", f"Liquid error: Jekyll stops the whole build ({check.error}); wrap "
                              "the text in {% raw %}…{% endraw %}", None, check.line)]
    if check.changes and not check.only_raw:
        shown = (check.output or "").strip().replace("\n", " ")
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        return [JekyllFinding("NC506", f"Jekyll renders the Liquid here and publishes different text "
                              f"(“{shown}”); wrap it in {{% raw %}}…{{% endraw %}}", None, check.line)]
    return []


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, PsychTime):
        return "a timestamp"
    if isinstance(value, PsychDate):
        return "a date"
    return f"a {type(value).__name__}"


# code -> (name, severity, fix, what, why, how); "why" states what Jekyll 4.3 does, as the
# differential suite (tests/test_jekyll_differential.py) shows it.
RULE_TEXTS: dict[str, tuple[str, str, str, str, str, str]] = {
    "NC309": ("date-rolls-over", WARNING, "never",
              "The date names a day that does not exist, such as `2022-02-30`.",
              "Jekyll 4.3 reads it with Ruby's Time.parse, which rolls the day over: `2022-02-30` is published "
              "as 2022-03-02, at that URL day.",
              "Write the real date."),
    "NC310": ("unpublished", WARNING, "never",
              "The front matter says `published: false` (or `published:` with no value).",
              "Jekyll 4.3 does not publish the post (unless `unpublished: true` in _config.yml); newsctl leaves "
              "it out of `search` unless `--include-unpublished` is given, and `stats` counts it apart.",
              "Remove the key to publish the post."),
    "NC311": ("title-not-text", WARNING, "never",
              "The title is written without quotes and YAML reads it as a number, a boolean, a date or "
              "nothing (`title: 1,000`, `title: 12:30`, `title: Off`).",
              "Jekyll 4.3 reads front matter with Ruby's YAML (Psych): `1,000` is shown as `1000`, `12:30` as "
              "`45000` (base 60), `Off` as no title at all, so the title made from the file name is shown.",
              "Write the title in double quotes."),
    "NC312": ("singular-key", WARNING, "never",
              "The front matter uses `category:` or `tag:`.",
              "Jekyll 4.3 merges `category:` into the categories (and the URL), and takes `tag:` instead of "
              "`tags:`.",
              "Use `categories:` and `tags:` only."),
    "NC313": ("typed-categories", WARNING, "never",
              "Categories or tags hold values YAML reads as numbers, dates or booleans (`[emnews, 2022]`), or "
              "`tags:` is a single number.",
              "Jekyll 4.3 keeps the typed value beside its text: `[emnews, 2022]` gives the categories "
              "`emnews, 2022, 2022`; `tags: 2022` gives no tags at all.",
              "Write such values in double quotes: `[emnews, \"2022\"]`."),
    "NC314": ("front-matter-read-fails", ERROR, "never",
              "`categories:` is a number, a boolean or a mapping.",
              "Jekyll 4.3 fails half way through reading the post, logs an error and publishes it anyway: "
              "without its title and tags, dated at the build time.",
              "Write the categories as a word or `[word, word]`."),
    "NC403": ("not-read-by-jekyll", ERROR, "never",
              "A post file that Jekyll does not read: excluded by `exclude:` in _config.yml, a name starting "
              "with `_`, `.`, `#` or `~`, or a file in `_posts/` whose name does not start with a date.",
              "Jekyll 4.3 never publishes it, so the post silently disappears from the site.",
              "Rename the file to `YYYY-MM-DD-<id>.md`, or remove the `exclude` entry."),
    "NC505": ("liquid-error", ERROR, "never",
              "The body holds Liquid that does not parse: an unknown tag (`{% 错误 %}`), a `{{` or `{%` never "
              "closed, a block never ended, a malformed tag, or an `{% include %}` of a missing file.",
              "Jekyll 4.3 renders every post holding `{{` or `{%` with Liquid, even one whose front matter "
              "it fails to read (it logs the YAML error and renders the body); such an error stops the whole "
              "site build, not only this post.",
              "Wrap the text in `{% raw %}`…`{% endraw %}` (what `newsctl add` writes), or correct the Liquid."),
    "NC506": ("liquid-changes-text", WARNING, "never",
              "The body holds Liquid markup that Jekyll renders: `{{ 1 | plus: 1 }}` is published as `2`, "
              "`{% raw %}` markers disappear.",
              "Jekyll 4.3 publishes the rendered text, not the text of the file; newsctl indexes what the "
              "file says.",
              "Wrap literal text in `{% raw %}`…`{% endraw %}`; leave intended Liquid as it is."),
}
