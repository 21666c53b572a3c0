"""The verdict on one candidate pair: a repost of the same story, or the same template told with
other figures (or of another company).

A repost keeps the story's sentences: after normalise, what differs between the copies is
whole sentences or paragraphs dropped or added. A templated story (a daily market close, an
approval or results notice) keeps the wording and changes the figures, or the company's name,
inside otherwise equal sentences. So the two bodies are aligned sentence by sentence, and every
changed stretch is compared character by character: a short stretch replaced by another short
one is a substitution; one holding digits is another figure. A headline whose figures differ
("沪指收涨0.5%" / "沪指收跌1.2%", "不超60亿元" / "不超40亿元") is another day's story too.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from newsctl.dups.normalise import Story
from newsctl.dups.signature import jaccard, shingles

SAME_ID = "same id"  # the reasons a group of copies gives: exact ones first
SAME_TITLE_DATE = "same title and date"
SAME_BODY = "same body"
NEAR = "near duplicate"
TEMPLATE = "same template, other figures"
DEFAULT_THRESHOLD = 0.6
HEADLINE_WEIGHT = 0.25
NAME_LENGTH = 12  # characters: a substitution this short on both sides is a name or a figure


@dataclass(frozen=True)
class Verdict:
    similarity: float
    reason: str  # NEAR or TEMPLATE
    detail: str  # what made it so: "a paragraph dropped", "other figures: 60 / 40", ...


def similarity(first: AbstractSet[str], second: AbstractSet[str], same_title: bool = False) -> float:
    """How much of one story the other tells: the Jaccard similarity of the shingle sets, raised
    towards their containment when one copy is the other with paragraphs dropped or added: under
    the same headline (which then counts for HEADLINE_WEIGHT), or when the smaller copy holds
    half of the larger's shingles (so that one shared sentence does not make a short post a copy
    of a long one)."""
    return similarity_from(jaccard(first, second), len(first), len(second), same_title)


def similarity_from(jaccard_value: float, size: int, other_size: int, same_title: bool) -> float:
    """`similarity` from the Jaccard similarity and the two set sizes (which give the shared part:
    |A ∩ B| = J (|A| + |B|) / (1 + J)); with a MinHash estimate of J, an estimate of it."""
    if not size or not other_size:
        return jaccard_value
    small, large = sorted((size, other_size))
    contained = min(1.0, jaccard_value * (size + other_size) / (1 + jaccard_value) / small)
    if same_title:  # the headline counts for a quarter: reposts keep it
        return max(jaccard_value, HEADLINE_WEIGHT + (1 - HEADLINE_WEIGHT) * contained)
    if small < large / 2:
        return jaccard_value
    return max(jaccard_value, contained * (0.5 + 0.5 * small / large))


def judge(first: Story, second: Story, shingle_sets: tuple[AbstractSet[str], AbstractSet[str]] | None = None,
          threshold: float = 0.0) -> Verdict:
    """The similarity of two stories and whether they are one story or one template (not looked
    into below `threshold`: the verdict is then only the similarity)."""
    first_set, second_set = shingle_sets or (shingles(first.text), shingles(second.text))
    score = round(similarity(first_set, second_set, bool(first.title) and first.title == second.title), 3)
    if score < threshold:
        return Verdict(score, NEAR, "below the threshold")
    alignment = sentence_alignment(first, second)  # read by both: aligning is most of a verdict's cost
    other = template_difference(first, second, alignment)
    if other:
        return Verdict(score, TEMPLATE, other)
    return Verdict(score, NEAR, _edit_summary(alignment))


Opcodes = Sequence[tuple[str, int, int, int, int]]


def sentence_alignment(first: Story, second: Story) -> Opcodes:
    """difflib's opcodes turning the first story's sentences into the second's."""
    return _opcodes(first.sentences, second.sentences)


def _opcodes(first: tuple[str, ...], second: tuple[str, ...]) -> Opcodes:
    if first == second:  # (the common case among copies, and difflib's slowest way to say so)
        return [("equal", 0, len(first), 0, len(second))] if first else []
    if len(first) == len(second) == 1:  # two headlines
        return [("replace", 0, 1, 0, 1)]
    from difflib import SequenceMatcher  # local: ~5 ms of every pre-commit run otherwise

    return SequenceMatcher(None, first, second, autojunk=False).get_opcodes()


def template_difference(first: Story, second: Story, alignment: Opcodes | None = None) -> str:
    """"" when the stories differ only by whole sentences; else what a template would change.
    `alignment`: sentence_alignment(first, second), when known."""
    if first.title_figures and second.title_figures and first.title_figures != second.title_figures:
        return "other figures in the headline: " + _figures_pair(first.title_figures, second.title_figures)
    if alignment is None:
        alignment = sentence_alignment(first, second)
    figures, names = _substitutions(first.sentences, second.sentences, alignment)
    if figures:
        return "other figures: " + "; ".join(f"{a} / {b}" for a, b in figures[:3])
    titles = (first.title,), (second.title,)
    title_figures, title_names = _substitutions(*titles, _opcodes(*titles))
    if title_figures and not names:
        return "other figures in the headline: " + "; ".join(f"{a} / {b}" for a, b in title_figures[:3])
    if names:  # a repost drops or adds, it does not reword: another name, or other facts
        return "other names or wording: " + "; ".join(f"{a} / {b}" for a, b in (names + title_names)[:3])
    return ""


def _substitutions(first: tuple[str, ...], second: tuple[str, ...], alignment: Opcodes,
                   ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Short stretches replaced by other short stretches inside changed sentences: (with digits,
    without). `alignment`: the opcodes from `first` to `second`."""
    from difflib import SequenceMatcher

    figures: list[tuple[str, str]] = []
    names: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in alignment:
        if tag != "replace":
            continue
        left, right = "".join(first[i1:i2]), "".join(second[j1:j2])
        matcher = SequenceMatcher(None, left, right, autojunk=False)
        if matcher.ratio() < 0.5:  # a sentence rewritten or replaced, not a template filled in
            continue
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op != "replace":
                continue
            old, new = left[a1:a2], right[b1:b2]
            if len(old) > NAME_LENGTH or len(new) > NAME_LENGTH:
                continue
            if _has_digit(old) and _has_digit(new):
                figures.append((old, new))
            else:
                names.append((old, new))
    return figures, names


def _has_digit(text: str) -> bool:
    return any(char.isdigit() for char in text)


def _figures_pair(first: frozenset[str], second: frozenset[str]) -> str:
    return ", ".join(sorted(first - second)) + " / " + ", ".join(sorted(second - first))


def _edit_summary(alignment: Opcodes) -> str:
    """What the sentence alignment drops and adds."""
    if all(tag == "equal" for tag, *_ in alignment):
        return "same text apart from title, punctuation, spacing or boilerplate"
    dropped = added = 0
    for tag, i1, i2, j1, j2 in alignment:
        if tag in ("delete", "replace"):
            dropped += i2 - i1
        if tag in ("insert", "replace"):
            added += j2 - j1
    parts = []
    if dropped:
        parts.append(f"{dropped} sentence{'s' if dropped > 1 else ''} only in the first")
    if added:
        parts.append(f"{added} sentence{'s' if added > 1 else ''} only in the second")
    return ", ".join(parts)
