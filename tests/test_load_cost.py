"""Cost under load (issue 11), measured as work, never as wall time (the timings are in the benchmarks):

- a feed's cost is linear in its records: the Python lines newsctl runs for a feed of one day grow with the
  records, not with their square (an all-pairs duplicate check was quadratic);
- `index` memory stays bounded for a huge post: a 4.8 MB post adds at most 300 MB to the peak RSS.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from faultkit import copy_sample, empty_archive, write_feed
from hostile import child_env, post_text

NEWSCTL_SOURCES = str(Path(__file__).resolve().parents[1] / "newsctl")

COUNT_LINES = r"""
import sys
from typer.testing import CliRunner
from newsctl.cli import app

source = sys.argv[1]
lines = 0

def local(frame, event, arg):
    global lines
    if event == "line":
        lines += 1
    return local

def tracer(frame, event, arg):
    # only newsctl's own frames (generator expressions included) are traced line by line
    return local if frame.f_code.co_filename.startswith(source) else None

args = sys.argv[2:]
sys.settrace(tracer)
result = CliRunner().invoke(app, args)
sys.settrace(None)
print(lines, result.exit_code)
"""


def traced_lines(root: Path, feed: Path) -> int:
    done = subprocess.run([sys.executable, "-c", COUNT_LINES, NEWSCTL_SOURCES, "--root", str(root), "add",
                           "--from-jsonl", str(feed)], capture_output=True, timeout=600, env=child_env())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    lines, code = map(int, done.stdout.split()[-2:])
    assert code == 0, done.stdout
    return lines


@pytest.fixture
def fast_dir(tmp_path: Path) -> Path:
    """A tmpfs folder when there is one (the feeds fsync every post), else tmp_path."""
    shm = Path("/dev/shm")
    if shm.is_dir():
        import tempfile

        path = Path(tempfile.mkdtemp(dir=shm, prefix="newsctl-test-"))
        yield path
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        yield tmp_path


def test_feed_work_is_linear_in_records(fast_dir: Path) -> None:
    """8x the records of one day must cost at most 10x the lines (linear: about 8x; the quadratic
    duplicate check of the issue: about 15x at these sizes)."""
    small, large = 200, 1600
    works = []
    for count in (small, large):
        root = empty_archive(fast_dir / f"archive{count}")
        feed = write_feed(fast_dir / f"feed{count}.jsonl", count, tag=f"lin{count}", body_chars=60)
        works.append(traced_lines(root, feed))
        assert len(list((root / "_posts").glob("*.md"))) == count
    ratio = works[1] / works[0]
    assert ratio <= 10, f"{large} records cost {ratio:.1f}x the work of {small} ({works})"


# ---- memory of a huge post --------------------------------------------------------------------------

PEAK_RSS = r"""
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_kib(*args: str | Path) -> int:
    """The peak RSS (KiB) of the largest process of one newsctl run (workers included), from a fresh
    parent whose only children are that run's."""
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "newsctl", *map(str, args)],
                          capture_output=True, timeout=300, env=child_env())
    code, peak = map(int, done.stdout.split()[-2:])
    assert code == 0, done.stderr.decode(errors="replace")
    return peak


def huge_body(size: int, seed: int = 7) -> str:
    """Many distinct bigrams: a worst case for the index's term tables (the benchmark's text)."""
    from benchmarks.hugepost import worst_case_body

    return worst_case_body(size, seed)


def test_index_memory_is_bounded_for_a_huge_post(tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "archive")
    usual = peak_rss_kib("--root", root, "index", "--quiet", "--rebuild")
    text = post_text(title="超长公告全文", body=huge_body(4_800_000), post_id="202206019999000001")
    (root / "_posts" / "2022-06-01-202206019999000001.md").write_text(text, encoding="utf-8")
    assert 4_500_000 < len(text.encode()) < 5_000_000
    with_huge = peak_rss_kib("--root", root, "index", "--quiet", "--rebuild")
    assert with_huge - usual <= 300 * 1024, f"a 4.8 MB post raised index's peak by {(with_huge - usual) / 1024:.0f} MB"
    done = subprocess.run([sys.executable, "-m", "newsctl", "--root", str(root), "search", "--format", "json",
                           "超长公告全文"], capture_output=True, timeout=120, env=child_env())
    assert done.returncode == 0 and json.loads(done.stdout), done.stderr


def test_index_terms_are_the_token_streams_terms() -> None:
    """The builder takes bare terms (memory); they are exactly the terms of the token streams."""
    from conftest import SAMPLE_POSTS

    from newsctl.analysis import ngram_terms, ngram_tokens, normalize, word_terms, word_tokens

    texts = [normalize(p.read_text(encoding="utf-8")) for p in sorted(SAMPLE_POSTS.rglob("*.md"))]
    texts += ["", " \n ", normalize("ab cde  f"), normalize("“增持” -- ... ＨＦＯ-1234yf\r\n")]
    for text in texts:
        assert word_terms(text) == [term for term, _, _ in word_tokens(text)]
        assert ngram_terms(text) == [term for term, _, _ in ngram_tokens(text)]


def test_huge_text_words_are_cut_in_chunks_to_the_same_terms() -> None:
    """document.words_of gives jieba a chunk of a huge text at a time (memory); the chunks end at
    whitespace, so the terms are exactly those of the whole text at once, wherever the cuts fall."""
    from newsctl.analysis import normalize, word_terms
    from newsctl.engine import document

    body = huge_body(400_000, seed=3).replace("</p>\n<p>", "\n").replace("。", "。 ", 50)
    text = normalize(body + "\r\n结尾　ＡＢＣ-123 hfo-1234yf \t最后一句")
    assert len(text) > 2 * document.WORDS_CHUNK
    whole = word_terms(text)
    assert document.words_of(text) == whole
    no_space = normalize(huge_body(300_000, seed=4).replace("</p>\n<p>", ""))
    assert not any(ch.isspace() for ch in no_space[1:-1]) and len(no_space) > document.WORDS_CHUNK
    assert document.words_of(no_space) == word_terms(no_space)  # no whitespace: one chunk
