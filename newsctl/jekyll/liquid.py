"""Liquid in a post body, as Jekyll 4.3 (Liquid 5.4, `error_mode: warn`) treats it.

Jekyll renders every post whose text holds `{{` or `{%` with Liquid before Markdown. Two things
matter to newsctl:

- **what aborts the build**: an unknown tag (`{% 错误 %}`), a block never closed, a `{{` or
  `{%` never terminated, a malformed tag (`{% if %}`), an `{% include %}` of a file that is not in
  `_includes/`, a `{% post_url %}` or `{% link %}` to nothing. Liquid raises; Jekyll stops.
- **what changes the text**: any markup at all (`{{ 1 | plus: 1 }}` is published as `2`,
  `{% raw %}` markers disappear). Jekyll's `warn` mode only warns about a malformed *output*
  (`{{ 1 | | }}`) and renders it leniently.

The parser is python-liquid (a maintained Liquid implementation) with Liquid 5.4's tag set and
Jekyll's tags added. This module is imported only for a body that holds `{{` or `{%`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from liquid import Environment, Mode
from liquid.ast import BlockNode, Node
from liquid.builtin.content import ContentNode
from liquid.exceptions import LiquidError, LiquidSyntaxError
from liquid.parser import get_parser
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, TOKEN_OUTPUT, TOKEN_TAG

from newsctl.jekyll.escape import without_raw_markers

if TYPE_CHECKING:
    from liquid.context import RenderContext
    from liquid.stream import TokenStream

__all__ = ["LiquidCheck", "check_liquid", "has_liquid"]


def has_liquid(text: str) -> bool:
    """Jekyll's `Utils.has_liquid_construct?`: only such text is rendered with Liquid."""
    return "{{" in text or "{%" in text


@dataclass(frozen=True)
class LiquidCheck:
    error: str | None  # Liquid's complaint when the build aborts on this text
    line: int | None  # 1-based line within the text where the problem or first markup is
    changes: bool  # Jekyll publishes different text than the file holds
    output: str | None  # the text as rendered (best effort: no site, no includes' own Liquid)
    only_raw: bool = False  # the only change is that `{% raw %}` markers disappear (protected text)
    lenient: bool = False  # `output` is approximate (a malformed output rendered leniently, highlight, include)


class MissingTarget(Exception):
    """A Jekyll tag names a file or post that does not exist: Jekyll stops the build."""

    def __init__(self, message: str, token: Any) -> None:
        super().__init__(message)
        self.token = token


class _JekyllNode(Node):
    """A Jekyll tag rendered to something other than its source; checks its target exists."""

    __slots__ = ("body", "kind", "markup", "root")

    def __init__(self, token: Any, kind: str, markup: str, root: Path | None, body: BlockNode | None = None):
        super().__init__(token)
        self.kind = kind
        self.markup = markup.strip()
        self.root = root
        self.body = body
        self.blank = False

    def __str__(self) -> str:
        return f"{{% {self.kind} {self.markup} %}}"

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        if self.kind == "highlight":
            inner = _render_block(self.body, context)
            lang = self.markup.split()[0] if self.markup else ""
            return buffer.write(f'<figure class="highlight"><pre><code class="language-{lang}" '
                                f'data-lang="{lang}">{escape(inner)}</code></pre></figure>')
        target = self.markup.split()[0] if self.markup else ""
        if "{{" in self.markup:  # a name computed at render time: Jekyll resolves it, newsctl cannot
            return 0
        found = _find_target(self.kind, target, self.root)
        if found is None:
            raise MissingTarget(_missing_message(self.kind, target), self.token)
        if self.kind in ("include", "include_relative"):
            return buffer.write(found.read_text(encoding="utf-8", errors="replace"))
        return buffer.write("/" + target.lstrip("/"))


def _render_block(block: BlockNode | None, context: RenderContext) -> str:
    from io import StringIO

    out = StringIO()
    if block is not None:
        block.render(context, out)
    return out.getvalue()


def _find_target(kind: str, target: str, root: Path | None) -> Path | None:
    if root is None or not target:
        return None
    if kind == "include":
        path = root / "_includes" / target
    elif kind == "post_url":
        matches = [p for p in (root / "_posts").rglob(f"{Path(target).name}.*") if p.is_file()]
        return matches[0] if matches else None
    else:  # include_relative and link: relative to the site (newsctl checks from the root)
        path = root / target
    return path if path.is_file() else None


def _missing_message(kind: str, target: str) -> str:
    return {
        "include": f"Could not locate the included file '{target}' in any of [\"_includes\"]",
        "include_relative": f"Could not locate the included file '{target}'",
        "post_url": f"Could not find post \"{target}\" in tag 'post_url'",
        "link": f"Could not find document '{target}' in tag 'link'",
    }[kind]


def _tag_class(tag_name: str, root: Path | None, block: bool = False) -> type[Tag]:
    class JekyllTag(Tag):
        name = tag_name
        end = f"end{tag_name}"

        def parse(self, stream: TokenStream) -> Node:
            token = stream.eat(TOKEN_TAG)
            markup = stream.current.value if stream.current.kind == TOKEN_EXPRESSION else ""
            if stream.current.kind == TOKEN_EXPRESSION:
                next(stream)
            body = None
            if block:
                body = get_parser(self.env).parse_block(stream, (self.end,))
                stream.expect(TOKEN_TAG, value=self.end)
            return _JekyllNode(token, tag_name, markup, root, body)

    JekyllTag.block = block
    return JekyllTag


# Liquid 5.4 (Debian's, under Jekyll 4.3) has no `doc` tag; python-liquid's `include` is
# Shopify's, where Jekyll has its own (`{% include file.html key=value %}`).
_NOT_IN_LIQUID_5_4 = ("doc",)


class _LenientFilters(dict[str, Any]):
    """Jekyll's `strict_filters: false`: an unknown filter passes its input through."""

    def __missing__(self, key: str) -> Any:
        return _pass_through

    def __contains__(self, key: object) -> bool:
        return True

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]


def _pass_through(value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


@cache
def _environment(root: Path | None, strict: bool) -> Environment:
    env = Environment(tolerance=Mode.STRICT if strict else Mode.LAX)
    env.filters = _LenientFilters(env.filters)
    for name in _NOT_IN_LIQUID_5_4:
        env.tags.pop(name, None)
    for name in ("include", "include_relative", "link", "post_url"):
        env.add_tag(_tag_class(name, root))
    env.add_tag(_tag_class("highlight", root, block=True))
    return env


def check_liquid(text: str, root: Path | None = None, page: dict[str, Any] | None = None) -> LiquidCheck:
    """Parse and render `text` as Jekyll would; `root` is the site (for include and post_url)."""
    if not has_liquid(text):
        return LiquidCheck(None, None, False, text)
    markup_line = _first_markup_line(text)
    lenient = False
    try:
        _environment(root, True).from_string(text)
    except LiquidSyntaxError:
        structural = _structural_error(text, root)
        if structural is not None:
            return LiquidCheck(_message(structural), _line(structural, text) or markup_line, True, None)
        lenient = True  # only outputs are malformed (`{{ 1 | | }}`): Jekyll's `warn` mode renders them leniently
    template = _environment(root, False).from_string(text)
    try:
        output = template.render(page=page or {}, site={}, content="")
    except (LiquidError, MissingTarget) as exc:
        return LiquidCheck(_message(exc), _line(exc, text) or markup_line, True, None)
    except (RecursionError, ValueError, TypeError, ArithmeticError) as exc:
        return LiquidCheck(f"Liquid error: {exc}", markup_line, True, None)
    changes = output != text or not all(isinstance(node, ContentNode) for node in template.nodes)
    approximate = lenient or any(isinstance(node, _JekyllNode) for node in _walk(template.nodes))
    only_raw = changes and output == without_raw_markers(text)
    return LiquidCheck(None, markup_line, changes, output, only_raw, approximate)



def _walk(nodes: list[Node]) -> list[Node]:
    found: list[Node] = []
    for node in nodes:
        found.append(node)
        try:
            found += _walk(list(node.children(cast(Any, None), include_partials=False)))
        except (AttributeError, TypeError):  # a node whose children need a render context
            continue
    return found


def _structural_error(text: str, root: Path | None) -> LiquidError | None:
    """The error a strict parse of the tags alone raises (outputs removed, lines kept), or the
    lexer's own for a `{{` or `{%` never terminated; None when only outputs were at fault."""
    env = _environment(root, True)
    try:
        tokens = list(env.tokenizer()(text))
    except LiquidSyntaxError as exc:
        return exc
    pieces, position = [], 0
    for token in tokens:
        if token.kind == TOKEN_OUTPUT and token.start_index >= position:
            pieces.append(text[position:token.start_index])
            pieces.append("\n" * token.value.count("\n"))
            position = token.start_index + len(token.value)
    pieces.append(text[position:])
    try:
        env.from_string("".join(pieces))
    except LiquidSyntaxError as exc:
        return exc
    return None


def _first_markup_line(text: str) -> int:
    found = [index for index in (text.find("{{"), text.find("{%")) if index >= 0]
    return text.count("\n", 0, min(found)) + 1 if found else 1


def _message(exc: Exception) -> str:
    first = str(exc.args[0]) if exc.args else str(exc)
    return first.splitlines()[0].strip() or type(exc).__name__


def _line(exc: Exception, text: str) -> int | None:
    token = getattr(exc, "token", None)
    return _token_line(token, text) if token is not None else None


def _token_line(token: Any, text: str) -> int | None:
    start = getattr(token, "start_index", -1)
    return text.count("\n", 0, start) + 1 if start is not None and start >= 0 else None
