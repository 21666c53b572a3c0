"""Build a site with the real Jekyll and read back what it published, post by post.

The site gets a test-only plugin (tests/jekyll/newsctl_dump.rb) that writes, after rendering,
every post's and page's title, date, categories, tags, URL and Liquid output as JSON, and a
Markdown "converter" that leaves the Liquid output as it is (so a body is compared as text).

A file that would abort the build is recorded by the plugin, which lets the build go on (one
build finds them all; a breaker it cannot catch is found from Jekyll's own error, which names
the file, and the rest built again). Each such file is then built alone, by an unmodified
Jekyll, to confirm that it really stops the build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

JEKYLL = shutil.which("jekyll")
PLUGIN = Path(__file__).parent / "jekyll" / "newsctl_dump.rb"
SITE_CONFIG_EXTRA = "\nmarkdown: NewsctlVerbatim\n"
MAX_BREAKERS = 40


@dataclass
class JekyllBuild:
    published: dict[str, dict]  # relative path -> what Jekyll published
    aborts: dict[str, str] = field(default_factory=dict)  # relative path -> Jekyll's error line
    log: str = ""


def _write_site(site: Path, files: dict[str, bytes], config_text: str) -> None:
    if site.exists():
        shutil.rmtree(site)
    (site / "_plugins").mkdir(parents=True)
    (site / "_layouts").mkdir()
    shutil.copy(PLUGIN, site / "_plugins" / PLUGIN.name)
    (site / "_layouts" / "post.html").write_text("{{ content }}", encoding="utf-8")
    (site / "_config.yml").write_text(config_text + SITE_CONFIG_EXTRA, encoding="utf-8")
    for rel, data in files.items():
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _run(site: Path, work: Path, catch: bool = False) -> tuple[bool, str, Path]:
    dump = work / "dump.json"
    work.mkdir(parents=True, exist_ok=True)
    dump.unlink(missing_ok=True)
    dump.with_name(dump.name + ".aborts").unlink(missing_ok=True)
    env = {**os.environ, "NEWSCTL_DUMP": str(dump), "JEKYLL_ENV": "production", "NO_COLOR": "1"}
    env.pop("NEWSCTL_CATCH", None)
    if catch:
        env["NEWSCTL_CATCH"] = "1"
    done = subprocess.run([JEKYLL or "jekyll", "build", "--quiet", "-s", str(site),
                           "-d", str(work / "_site")], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    return done.returncode == 0 and dump.exists(), done.stdout + done.stderr, dump


def _breaker(log: str, candidates: list[str]) -> str | None:
    """The file Jekyll's last error names (the longest path that appears in it)."""
    lines = [line for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        named = [rel for rel in candidates if rel in line]
        if named:
            return max(named, key=len)
    return None


def jekyll_build(files: dict[str, bytes], config_text: str, work: Path) -> JekyllBuild:
    """Build `files` (relative path -> bytes) with `config_text` as _config.yml, in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    remaining = dict(files)
    aborts: dict[str, str] = {}
    for _ in range(MAX_BREAKERS):
        _write_site(work / "site", remaining, config_text)
        ok, log, dump = _run(work / "site", work, catch=True)
        if ok:
            answer = json.loads(dump.read_text(encoding="utf-8"))
            published = {row["path"]: row for row in answer["rows"]}
            aborts.update(answer["aborts"])
            _confirm_alone(aborts, files, config_text, work)
            return JekyllBuild(published, aborts, log)
        caught = dump.with_name(dump.name + ".aborts")
        if caught.exists():  # breakers the plugin already recorded are not to blame for this one
            aborts.update(json.loads(caught.read_text(encoding="utf-8")))
            for rel in aborts:
                remaining.pop(rel, None)
        culprit = _breaker(log, list(remaining))
        if culprit is None:
            raise AssertionError(f"jekyll build failed without naming a file:\n{log[-3000:]}")
        aborts[culprit] = next((line.strip() for line in reversed(log.splitlines()) if culprit in line), log)
        del remaining[culprit]
    raise AssertionError(f"more than {MAX_BREAKERS} files abort the build")


def _confirm_alone(aborts: dict[str, str], files: dict[str, bytes], config_text: str, work: Path) -> None:
    """Each file blamed for an abort must abort a build of its own (else the blame was wrong)."""
    from concurrent.futures import ThreadPoolExecutor

    def alone(item: tuple[int, str]) -> tuple[str, bool]:
        number, rel = item
        _write_site(work / f"alone-{number}", {rel: files[rel]}, config_text)
        ok, _, _ = _run(work / f"alone-{number}", work / f"alone-{number}-out")
        return rel, ok

    with ThreadPoolExecutor(max_workers=2) as pool:
        for rel, ok in pool.map(alone, enumerate(aborts)):
            assert not ok, f"{rel} was blamed for an abort ({aborts[rel]}) but builds alone"


def read_tree(root: Path, folders: tuple[str, ...] = ("_posts", "old_post")) -> dict[str, bytes]:
    """Every file under `folders` of `root`, by path relative to `root`."""
    files: dict[str, bytes] = {}
    for folder in folders:
        base = root / folder
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files
