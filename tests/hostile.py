"""Hostile inputs for newsctl, and a way to run newsctl on them with bounded time and memory.

The corpus is generated (deterministic, seeded), never stored: each case says where it lives in
an archive, what it holds, and what `validate` should say about it (acceptable rule codes and the
line, where there is one). `run_bounded` runs the real CLI in a child process with a timeout and
RLIMIT_AS; `run_batch` runs many invocations in one bounded child (`python tests/hostile.py batch`),
each under its own alarm, so that per-file checks stay fast and a hang still names its case.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import random
import resource
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 2 * 1024**3  # RLIMIT_AS of every child: a runaway parser must fail, not swap
HUGE_POST_BYTES = 50 * 1024 * 1024
POSTS = "_posts"
BASE_DAY = "2022-06-01"
CONFIG_YML = "title: hostile archive\ntimezone: Asia/Shanghai\n"
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "internal error")


# ---- well-formed posts (own text) ---------------------------------------------------------------

def post_text(title: str = "港口集装箱吞吐量稳步回升", date: str = "2022-06-01 12:00:32 +0800",
              body: str = "<p>五月份沿海主要港口货物吞吐量环比增长，外贸航线运力逐步恢复。</p>",
              post_id: str = "202206012399054634", category: str = "emnews", tag: str = "东财滚动新闻") -> str:
    """A well-formed post in the archive's format; title goes in double quotes as given."""
    return (f'---\nlayout: post\ntitle: "{title}"\ndate: {date}\ncategories: {category}\ntags: {tag}\n---\n'
            f"{body}\n\n<http://finance.eastmoney.com/news/1355,{post_id}.html>\n\n"
            f"[返回东财滚动新闻](//finews.withounder.com/category/{category}.html)｜"
            "[返回首页](//finews.withounder.com/)\n")


@dataclass(frozen=True)
class GoodPost:
    relpath: str
    marker: str  # a phrase only this post holds: searching it must find the post
    text: str


def good_posts() -> list[GoodPost]:
    """Valid posts that live beside the hostile ones and must stay indexed and searchable."""
    specs = [
        ("202206012399000101", "琥珀湾码头", "琥珀湾码头今年新增两条自动化岸桥，装卸效率明显提高。"),
        ("202206022399000202", "青石岭水库", "青石岭水库完成汛前检查，下游灌区用水计划已经下达。"),
        ("202206032399000303", "银杏路夜市", "银杏路夜市恢复营业首周客流回暖，商户租金减免继续执行。"),
    ]
    posts = []
    for post_id, marker, sentence in specs:
        day = f"2022-06-0{post_id[7]}"
        relpath = f"{POSTS}/{day}-{post_id}.md"
        text = post_text(title=f"{marker}最新动态", date=f"{day} 09:15:00 +0800", body=f"<p>{sentence}</p>",
                         post_id=post_id)
        posts.append(GoodPost(relpath, marker, text))
    # valid posts with only warnings (a BOM, CRLF line endings) are still posts: indexed and found
    bom = post_text(title="白鹭洲渡口恢复通航", body="<p>白鹭洲渡口检修完毕，今日起恢复通航。</p>",
                    date="2022-06-04 08:00:00 +0800", post_id="202206042399000404")
    crlf = post_text(title="紫荆山隧道夜间封闭", body="<p>紫荆山隧道本周夜间封闭养护。</p>",
                     date="2022-06-05 08:00:00 +0800", post_id="202206052399000505")
    posts.append(GoodPost(f"{POSTS}/2022-06-04-202206042399000404.md", "白鹭洲渡口", "\ufeff" + bom))
    posts.append(GoodPost(f"{POSTS}/2022-06-05-202206052399000505.md", "紫荆山隧道", crlf.replace("\n", "\r\n")))
    return posts


# ---- the hostile corpus ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Hostile:
    """One hostile post. `kind` says how to create it; `codes` are acceptable rule codes for its
    finding (empty: any code); `line` is the line the finding must name (None: no line to name);
    `fatal`: validate must fail on it (exit 1) and index must skip it."""

    name: str
    content: bytes = b""
    kind: str = "file"  # file | symlink_self | symlink_pair | symlink_dangling | socket | fifo | directory
    codes: tuple[str, ...] = ()
    line: int | None = None
    also: tuple[int, ...] = ()  # other acceptable lines (e.g. where YAML noticed the end of the stream)
    fatal: bool = True
    size: int = 0  # for kind "huge": bytes to write
    day: str = BASE_DAY  # each case gets a day of its own (see `hostile_cases`)

    @property
    def relpath(self) -> str:
        return f"{POSTS}/{self.day}-hostile-{self.name}.md"

    @property
    def lines(self) -> tuple[int, ...]:
        return () if self.line is None else (self.line, *self.also)

    @property
    def special(self) -> bool:
        """Not a regular file: hashing and per-file reading must go around it."""
        return self.kind not in ("file", "huge")


def _fm(*lines: str, body: str = "<p>正文一段。</p>\n") -> bytes:
    """Front matter made of `lines` (file line 2 onwards), closed, then a body."""
    return ("---\n" + "".join(line + "\n" for line in lines) + "---\n" + body).encode()


_STD = ("layout: post", 'title: "标题"', "date: 2022-06-01 12:00:32 +0800", "categories: emnews",
        "tags: 东财滚动新闻")


def _with(index: int, line: str) -> bytes:
    """The standard front matter with file line `index + 2` replaced (0: layout, 1: title, 2: date)."""
    lines = list(_STD)
    lines[index] = line
    return _fm(*lines)


def _alias_bomb() -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return _fm("layout: post", *lines, 'title: "炸弹"')


def _binary_junk(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(size))


def _date_cases() -> list[Hostile]:
    """Dates in every wrong shape; each finding must point at the date line (4)."""
    shapes = {
        "date-word": "date: yesterday",
        "date-month13": "date: 2022-13-45 10:00:00 +0800",
        "date-clock": "date: 2022-06-01 25:61:00 +0800",
        "date-us": "date: 06/01/2022",
        "date-epoch": "date: 1654056000",
        "date-empty": "date:",
        "date-list": "date: [2022, 6, 1]",
        "date-map": "date: {year: 2022}",
        "date-zone": "date: 2022-06-01 12:00:00 +9999",
        "date-zero": "date: 0000-00-00",
        "date-trailing": "date: 2022-06-01T12:00:00+08:00 garbage",
        "date-feb30": "date: 2022-02-30 08:00:00 +0800",
        "date-far-future": "date: 9999-12-31 23:59:59 +0800",
        "date-bool": "date: true",
        "date-chinese": "date: 2022年6月1日",
    }
    # 2022-02-30 is no error: Jekyll publishes it on 2022-03-02 (NC309, a warning)
    return [Hostile(name, _with(2, line), line=4, fatal=name != "date-feb30") for name, line in shapes.items()]


def hostile_cases(include_huge: bool = True) -> list[Hostile]:
    """The corpus: at least 40 defective posts, each a different way to break a parser."""
    fm_ok = _fm(*_STD)
    cases = [
        # front matter structure
        Hostile("unterminated", b"---\nlayout: post\ntitle: \"\xe6\xa0\x87\"\n<p>body</p>\n", codes=("NC202",)),
        Hostile("only-fence", b"---\n", codes=("NC202",)),
        Hostile("empty", b"", codes=("NC201",)),
        Hostile("whitespace", b"   \n\n\t\n", codes=("NC201",)),
        Hostile("no-front-matter", "<p>只有正文，没有头信息。</p>\n".encode(), codes=("NC201",)),
        Hostile("cr-only", b"---\rlayout: post\rtitle: a\r---\rbody\r", codes=("NC201",)),
        Hostile("empty-front-matter", b"---\n---\n<p>body</p>\n"),
        # YAML syntax and semantics
        Hostile("yaml-unclosed-quote", _with(1, 'title: "没有闭合的引号'), codes=("NC203",), line=3,
                also=(7,)),
        Hostile("yaml-mapping-in-value", _with(1, "title: a: b"), codes=("NC203",), line=3),
        Hostile("yaml-tab-indent", _fm("layout: post", 'title: "a"', "\tdate: 2022-06-01"),
                codes=("NC203",), line=4),
        Hostile("yaml-bad-flow", _with(4, "tags: [a, b"), codes=("NC203",), line=6, also=(7,)),
        # `...` closes the front matter for Jekyll, as `---` does: the date line is body text
        Hostile("yaml-second-document", _fm("layout: post", 'title: "a"', "...", "date: x"), codes=("NC301",),
                line=4),
        Hostile("yaml-complex-key", _fm("? [a, b]", ": c"), codes=("NC203",), line=2),
        Hostile("alias-bomb", _alias_bomb(), codes=("NC205",), line=4),
        Hostile("alias-merge", _fm("layout: post", "base: &b {x: 1}", "other:", "  <<: *b"), codes=("NC205",),
                line=5),
        Hostile("python-apply", _with(1, 'title: !!python/object/apply:os.system ["true"]'), codes=("NC204",),
                line=3),
        Hostile("python-name", _with(1, "title: !!python/name:os.system"), codes=("NC204",), line=3),
        Hostile("python-new", _with(1, "title: !!python/object/new:builtins.open [\"/etc/hostname\"]"),
                codes=("NC204",), line=3),
        Hostile("custom-tag", _with(1, "title: !secret 标题"), codes=("NC204",), line=3),
        Hostile("duplicate-key", _fm(*_STD, 'title: "第二个标题"'), codes=("NC206",), line=7),
        Hostile("list-front-matter", _fm("- layout", "- post"), codes=("NC207",), line=2),
        Hostile("scalar-front-matter", _fm("只是一句话"), codes=("NC207",), line=2),
        Hostile("deep-flow", _with(1, "title: " + "[" * 3000 + "]" * 3000), codes=("NC203", "NC208"), line=3),
        Hostile("deep-map", _with(1, "title: " + "{a: " * 2000 + "1" + "}" * 2000), codes=("NC203", "NC208"),
                line=3),
        Hostile("deep-block", _with(1, "title:\n" + "- " * 1500 + "x"), codes=("NC203", "NC208"), line=4),
        Hostile("huge-front-matter", _fm(*_STD, *(f"k{i}: {'值' * 60}" for i in range(2000))),
                codes=("NC208",)),
        # encodings and bytes
        Hostile("invalid-utf8-body", fm_ok + b"\n<p>\xff\xfe\xfd</p>\n", codes=("NC101",), line=10),
        Hostile("invalid-utf8-title", _with(1, 'title: "@@"').replace(b"@@", b"\xe6\xa0"), codes=("NC101",),
                line=3),
        Hostile("surrogate-utf8", _with(1, "title: @@").replace(b"@@", b"\xed\xa0\x80"), codes=("NC101",),
                line=3),
        Hostile("overlong-utf8", fm_ok + b"\xc0\xaf\n", codes=("NC101",), line=9),
        Hostile("utf16-le", b"\xff\xfe" + fm_ok.decode().encode("utf-16-le"), codes=("NC101",)),
        Hostile("utf16-be", b"\xfe\xff" + fm_ok.decode().encode("utf-16-be"), codes=("NC101",)),
        Hostile("utf16-no-bom", fm_ok.decode().encode("utf-16-le"), codes=("NC101", "NC103")),
        Hostile("bom", b"\xef\xbb\xbf" + fm_ok, codes=("NC102",), fatal=False),
        Hostile("crlf", fm_ok.replace(b"\n", b"\r\n"), codes=("NC104",), line=1, fatal=False),
        Hostile("nul-body", fm_ok + b"<p>a\x00b</p>\n", codes=("NC103",), line=9),
        Hostile("nul-title", _with(1, 'title: "a\x00b"'), codes=("NC103",), line=3),
        Hostile("binary-junk", _binary_junk(7, 4096), codes=("NC101", "NC103")),
        Hostile("png-header", b"\x89PNG\r\n\x1a\n" + _binary_junk(8, 512), codes=("NC101", "NC103", "NC201")),
        Hostile("ansi-escapes", _with(1, 'title: "\\e[31m红色\\e[0m"') + b"\x1b[2J\x1b]0;pwned\x07\n",
                fatal=False),
        # fields
        Hostile("title-10000", _with(1, f'title: "{"长" * 10000}"'), line=3, fatal=False),
        Hostile("title-mapping", _with(1, "title: {a: 1}"), line=3),
        Hostile("title-empty", _with(1, 'title: ""'), line=3),
        Hostile("categories-nested", _with(3, "categories: [[a, [b]], {c: d}]"), line=5, fatal=False),
        *_date_cases(),
        # the file system
        Hostile("symlink-self", kind="symlink_self", codes=("NC100",)),
        Hostile("symlink-pair", kind="symlink_pair", codes=("NC100",)),
        Hostile("symlink-dangling", kind="symlink_dangling", codes=("NC100",)),
        Hostile("socket", kind="socket", codes=("NC100",)),  # unreadable even for root (ENXIO)
        Hostile("fifo", kind="fifo", codes=("NC100",)),  # opening it for reading would block forever
        Hostile("directory", kind="directory", fatal=False),  # a folder named like a post
    ]
    if include_huge:
        cases.append(Hostile("huge-50mb", kind="huge", size=HUGE_POST_BYTES, codes=("NC105",)))
    if os.geteuid() != 0:  # root reads through chmod 000; the socket case covers root
        cases.append(Hostile("chmod-000", fm_ok, kind="chmod000", codes=("NC100",)))
    return [_on_own_day(case, number) for number, case in enumerate(cases)]


def _on_own_day(case: Hostile, number: int) -> Hostile:
    """Each case on its own day (file name and front matter alike): validating one file also reads
    the archive's posts of the same day, and a shared day would make every such run read them all."""
    day = (date(2021, 1, 1) + timedelta(days=number)).isoformat()
    return replace(case, day=day, content=case.content.replace(BASE_DAY.encode(), day.encode()))


def write_case(root: Path, case: Hostile) -> Path:
    """Create `case` in the archive at `root`; returns its path."""
    path = root / case.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if case.kind == "file":
        path.write_bytes(case.content)
    elif case.kind == "chmod000":
        path.write_bytes(case.content)
        path.chmod(0)
    elif case.kind == "huge":
        _write_huge_post(path, case.size)
    elif case.kind == "symlink_self":
        path.symlink_to(path.name)
    elif case.kind == "symlink_pair":
        partner = path.with_name(path.stem + "-partner.md")
        path.symlink_to(partner.name)
        partner.symlink_to(path.name)
    elif case.kind == "symlink_dangling":
        path.symlink_to("does-not-exist/nowhere.md")
    elif case.kind == "socket":
        _make_socket_file(path)
    elif case.kind == "fifo":
        os.mkfifo(path)
    elif case.kind == "directory":
        path.mkdir()
    else:
        raise ValueError(case.kind)
    return path


def _write_huge_post(path: Path, size: int) -> None:
    head = _fm(*_STD, body="")
    block = ("<p>" + "大文件测试段落。" * 40 + "</p>\n").encode() * 3000  # ~1 MB per write
    with path.open("wb") as handle:
        handle.write(head)
        for _ in range(size // len(block) + 1):
            handle.write(block)


def _make_socket_file(path: Path) -> None:
    # A bound Unix socket stays on disk as a file that open() refuses (ENXIO), even for root.
    # Bind through a short relative name: socket paths are limited to ~107 bytes.
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cwd = Path.cwd()
    try:
        os.chdir(path.parent)
        sock.bind(path.name)
    finally:
        os.chdir(cwd)
        sock.close()


def build_archive(root: Path, cases: Iterable[Hostile], goods: Iterable[GoodPost] = ()) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(CONFIG_YML, encoding="utf-8")
    (root / POSTS).mkdir(exist_ok=True)
    for good in goods:
        (root / good.relpath).write_bytes(good.text.encode("utf-8"))
    for case in cases:
        write_case(root, case)
    return root


# ---- hostile queries and feeds --------------------------------------------------------------------

HOSTILE_QUERIES: list[str] = [
    '"', '"信也科技', '信也"科技', '""', '"""', "(", ")", "((信也", "信也)", "(信也 OR", ")(",
    "OR", "AND", "NOT", "-", "--", "- -", "OR 信也", "信也 OR", "AND 信也", "信也 AND", "NOT 信也", "信也 NOT",
    "信也 -", "- 信也", "OR OR OR", "NOT NOT", "title:", "tag:", "category:", "stock:", "title:\"\"",
    "title:(", "unknown:field", ":", "::", "title::", "*", "?", "信*", "~", "^", "信也^", "\\", "\\\"", "{}",
    "[a TO b]", "date:[2022 TO]", "😀", "📈📉", "信也😀科技", "\x00", "\x07\x1b[31m", "\t\r\n", "\u200b",
    "\u202e信也", "！？。，", "!@#$%^&*()", "...", "   ", "", "\u3000", "x" * 10000, "信" * 10000,
    "OR " * 3000, '"' * 5001, "(" * 5000, "a:" * 3000, "-" * 10000,
]


def hostile_feed_lines() -> list[tuple[str, bytes, bool]]:
    """(name, line bytes, good): a scraper's JSON-lines feed with every kind of bad record."""
    def record(**fields: object) -> bytes:
        return json.dumps(fields, ensure_ascii=False).encode()

    good = {"date": "2022-06-01 10:00:00 +0800", "body": "<p>正文。</p>", "category": "emnews", "tag": "东财",
            "url": "http://example.com/feed"}
    return [
        ("good-1", record(title="饲料价格连续三周回落", id="feedgood1", **good), True),
        ("broken-json", b'{"title": "', False),
        ("json-array", b'["title", "x"]', False),
        ("json-string", b'"just a string"', False),
        ("json-number", b"42", False),
        ("json-null", b"null", False),
        ("missing-title", record(id="feedbad1", **good), False),
        ("title-newline", record(title="第一行\n第二行", id="feedbad2", **good), False),
        ("title-nul", record(title="a\x00b", id="feedbad3", **good), False),
        ("title-number", record(title=12345, id="feedbad4", **good), False),
        ("id-traversal", record(title="穿越目录", id="../../escape", **good), False),
        ("id-absolute", record(title="绝对路径", id="/tmp/newsctl-escape", **good), False),
        ("date-garbage", record(title="日期错误", id="feedbad5", **{**good, "date": "not a date"}), False),
        ("invalid-utf8", b'{"title": "\xff\xfe", "id": "feedbad6"}', False),
        ("deep-json", b"[" * 100000 + b"]" * 100000, False),
        ("huge-number", b'{"title": "x", "id": 1' + b"0" * 5000 + b"}", False),
        ("good-2", record(title="二手车交易量同比增长", id="feedgood2", **{**good, "body": "<p>成交活跃。</p>"}), True),
    ]


# ---- bounded runs ------------------------------------------------------------------------------

@dataclass
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float = 0.0

    def __repr__(self) -> str:
        return (f"Run(args={[a[:80] for a in self.args]}, code={self.code}, stdout={self.stdout[:1500]!r}, "
                f"stderr={self.stderr[:1500]!r})")

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def assert_clean(self, allowed: Sequence[int] = (0, 1, 2)) -> Run:
        """Exited by itself with a documented code and no traceback."""
        assert not any(marker in self.output for marker in TRACEBACK_MARKERS), self
        assert self.code in allowed, self
        return self


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSCTL_")}
    env.update({"PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1", "COLUMNS": "160", "TERM": "dumb",
                "PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1"})
    env.update(extra or {})
    return env


def limits(memory: int = MEMORY_LIMIT, fsize: int | None = None,
           umask: int | None = None) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        if umask is not None:
            os.umask(umask)

    return apply


def start(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
          preexec: Callable[[], None] | None = None, stdin: int | None = subprocess.DEVNULL,
          ) -> subprocess.Popen[bytes]:
    """newsctl in a child process of its own session (killable as a group), memory bounded."""
    return subprocess.Popen([sys.executable, "-m", "newsctl", *map(str, args)], cwd=cwd, env=child_env(env),
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=preexec or limits(), start_new_session=True)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def finish(proc: subprocess.Popen[bytes], args: Sequence[str | Path], timeout: float,
           input: bytes | None = None) -> Run:
    import time

    began = time.monotonic()
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        raise AssertionError(f"newsctl {[str(a)[:80] for a in args]} hung: no exit within {timeout} s; "
                             f"stderr={err[-1000:]!r}") from None
    return Run([str(a) for a in args], proc.returncode, out.decode("utf-8", "replace"),
               err.decode("utf-8", "replace"), time.monotonic() - began)


def run_bounded(*args: str | Path, cwd: Path | None = None, timeout: float = 60.0, input: bytes | None = None,
                env: dict[str, str] | None = None, memory: int = MEMORY_LIMIT, fsize: int | None = None,
                umask: int | None = None) -> Run:
    """Run newsctl to its end (or fail the test if it hangs), with RLIMIT_AS and optional RLIMIT_FSIZE."""
    proc = start(*args, cwd=cwd, env=env, preexec=limits(memory, fsize, umask),
                 stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
    return finish(proc, args, timeout, input)


def run_batch(invocations: list[list[str]], per_case: float = 20.0, timeout: float = 120.0,
              cwd: Path | None = None) -> list[Run]:
    """Many CLI invocations in one bounded child, each under its own alarm; see `_batch_main`."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "batch", str(per_case)], cwd=cwd,
                            env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=limits(), start_new_session=True)
    request = json.dumps(invocations).encode()
    try:
        out, err = proc.communicate(request, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
    runs = [Run(**json.loads(line)) for line in out.decode().splitlines() if line.startswith("{")]
    if len(runs) < len(invocations):
        stuck = invocations[len(runs)]
        raise AssertionError(f"batch stopped at {[a[:80] for a in stuck]} (exit {proc.returncode}): "
                             f"{err.decode('utf-8', 'replace')[-2000:]}")
    return runs


@functools.cache
def _click_command() -> Any:
    import typer

    from newsctl.cli import app

    return typer.main.get_command(app)  # built once: typer rebuilds it on every CliRunner.invoke


def invoke(args: Sequence[str | Path], input: str | bytes | None = None) -> Run:
    """The real CLI in this process, as typer's CliRunner runs it but with the command built once
    (for many fast calls); an escaped exception is a traceback in stderr and exit code 3."""
    import time
    import traceback

    from typer.testing import CliRunner

    began = time.monotonic()
    argv = [str(a) for a in args]
    code, trace = 0, ""
    with CliRunner().isolation(input=input) as (out, err, _):
        try:
            _click_command().main(args=argv, prog_name="newsctl")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            code, trace = 3, traceback.format_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = out.getvalue(), err.getvalue()
    return Run(argv, code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace") + trace,
               time.monotonic() - began)


class _Alarm(BaseException):
    """Raised by SIGALRM inside a batch; BaseException so that `except Exception` cannot swallow it."""


def _batch_main(per_case: float) -> None:
    """Child side of `run_batch`: one JSON line per invocation, flushed as soon as it is done."""
    def on_alarm(signum: int, frame: object) -> None:
        raise _Alarm()

    signal.signal(signal.SIGALRM, on_alarm)
    for args in json.loads(sys.stdin.read()):
        signal.setitimer(signal.ITIMER_REAL, per_case)
        try:
            run = invoke(args)
        except _Alarm:
            run = Run(args, -1, "", f"hung: no exit within {per_case} s", per_case)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        print(json.dumps(run.__dict__), flush=True)


# ---- archive snapshots ---------------------------------------------------------------------------

def snapshot(root: Path, skip: Iterable[str] = (".newsctl",)) -> dict[str, str]:
    """relative path -> digest of every file (symlinks by their target, special files by type)."""
    digests: dict[str, str] = {}
    skipped = set(skip)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        for name in [*filenames, *dirnames]:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            digests[rel] = _digest(path)
    return digests


def _digest(path: Path) -> str:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return "link:" + os.readlink(path)
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    if not stat.S_ISREG(info.st_mode):
        return f"special:{stat.S_IFMT(info.st_mode)}"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{oct(info.st_mode & 0o7777)}:{digest.hexdigest()}"


@dataclass
class Feed:
    """A written JSON-lines feed and which of its lines are good."""

    path: Path
    names: list[str] = field(default_factory=list)
    good: list[bool] = field(default_factory=list)


def write_feed(path: Path) -> Feed:
    lines = hostile_feed_lines()
    path.write_bytes(b"\n".join(line for _, line, _ in lines) + b"\n")
    return Feed(path, [name for name, _, _ in lines], [ok for _, _, ok in lines])


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "batch":
    _batch_main(float(sys.argv[2]) if len(sys.argv) > 2 else 20.0)
