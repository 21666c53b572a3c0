"""The query language of `newsctl search`: lexer and parser.

The query is parsed into the engine-neutral nodes of engine.reader (TextQuery, ValueQuery,
AllOf, AnyOf, NotQuery), which runs them over the index files. See docs/search.md.

Grammar (AND binds tighter than OR; both are case-sensitive keywords):

    query   := or_expr
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*
    unary   := ("-" | "NOT") unary | primary
    primary := "(" or_expr ")" | [field ":"] (word | "quoted phrase")
    field   := title | tag | category | stock   (also tags, categories, stocks)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from newsctl.engine.reader import (
    AllOf,
    AnyOf,
    NotQuery,
    QueryNode,
    TextQuery,
    ValueQuery,
)
from newsctl.errors import UsageError

MAX_NESTING = 100  # parentheses and NOTs inside each other (the parser recurses)


class QueryError(UsageError):
    """A query that cannot be parsed; the message names the column."""


# ---- lexer ----------------------------------------------------------------------------------------

FIELD_NAMES = {"title": "title", "tag": "tags", "tags": "tags", "category": "categories",
               "categories": "categories", "stock": "stocks", "stocks": "stocks"}
_FIELD_PREFIX = re.compile(r"(?P<name>[A-Za-z]+):")
_WORD_END = re.compile(r'[\s"()]')


LexemeKind = Literal["word", "phrase", "lparen", "rparen", "or", "and", "not", "minus", "field"]
_OPERATORS: dict[str, LexemeKind] = {"OR": "or", "AND": "and", "NOT": "not"}


@dataclass(frozen=True)
class Lexeme:
    kind: LexemeKind
    text: str
    column: int  # 1-based, in the query as given


def tokenize_query(query: str) -> list[Lexeme]:
    lexemes: list[Lexeme] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            lexemes.append(Lexeme("lparen" if char == "(" else "rparen", char, i + 1))
            i += 1
        elif char == '"':
            text, i = _read_phrase(query, i)
            lexemes.append(Lexeme("phrase", text, i + 1 - len(text)))
        elif char == "-" and (i + 1 < len(query) and not query[i + 1].isspace()):
            lexemes.append(Lexeme("minus", "-", i + 1))
            i += 1
        else:
            field_match = _FIELD_PREFIX.match(query, i)
            if field_match and field_match["name"].lower() in FIELD_NAMES:
                lexemes.append(Lexeme("field", FIELD_NAMES[field_match["name"].lower()], i + 1))
                i = field_match.end()
                continue
            lexemes.append(_word(query, i))
            i += len(lexemes[-1].text)
    return lexemes


def _read_phrase(query: str, start: int) -> tuple[str, int]:
    """The text between double quotes (backslash escapes the next character); returns (text, end)."""
    chars: list[str] = []
    i = start + 1
    while i < len(query):
        char = query[i]
        if char == "\\" and i + 1 < len(query):
            chars.append(query[i + 1])
            i += 2
        elif char == '"':
            if not "".join(chars).strip():
                raise QueryError(f"empty phrase at column {start + 1}")
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise QueryError(f"unterminated quote: the '\"' at column {start + 1} is never closed")


def _word(query: str, start: int) -> Lexeme:
    end_match = _WORD_END.search(query, start)
    end = end_match.start() if end_match else len(query)
    text = query[start:end]
    kind = _OPERATORS.get(text, "word")
    return Lexeme(kind, text, start + 1)


# ---- parser ---------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, query: str) -> None:
        self.lexemes = tokenize_query(query)
        self.at = 0
        self.end_column = len(query) + 1
        self.depth = 0

    def peek(self) -> Lexeme | None:
        return self.lexemes[self.at] if self.at < len(self.lexemes) else None

    def take(self) -> Lexeme:
        lexeme = self.lexemes[self.at]
        self.at += 1
        return lexeme

    def parse(self) -> QueryNode:
        if not self.lexemes:
            raise QueryError("empty query: give at least one word")
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:  # only a stray ")" stops or_expr early
            raise QueryError(f"unmatched ')' at column {extra.column}")
        return node

    def or_expr(self) -> QueryNode:
        parts = [self.and_expr()]
        while (lexeme := self.peek()) is not None and lexeme.kind == "or":
            self.take()
            self._need_operand(lexeme)
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def and_expr(self) -> QueryNode:
        parts = [self.unary()]
        while (lexeme := self.peek()) is not None and lexeme.kind not in ("or", "rparen"):
            if lexeme.kind == "and":
                self.take()
                self._need_operand(lexeme)
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def unary(self) -> QueryNode:
        lexeme = self.peek()
        if lexeme is None:
            raise QueryError(f"the query ends where a term is expected (column {self.end_column})")
        if lexeme.kind in ("minus", "not"):
            self.take()
            self._need_operand(lexeme)
            with self._nested(lexeme):
                return NotQuery(self.unary())
        return self.primary()

    @contextmanager
    def _nested(self, lexeme: Lexeme) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(f"the query nests more than {MAX_NESTING} levels deep at column {lexeme.column}")
        yield
        self.depth -= 1

    def primary(self) -> QueryNode:
        lexeme = self.take()
        if lexeme.kind == "lparen":
            if (inner := self.peek()) is not None and inner.kind == "rparen":
                raise QueryError(f"empty parentheses at column {lexeme.column}")
            with self._nested(lexeme):
                node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise QueryError(f"unclosed '(' at column {lexeme.column}")
            self.take()
            return node
        if lexeme.kind == "field":
            return self.field_value(lexeme)
        if lexeme.kind in ("word", "phrase"):
            return TextQuery(lexeme.text)
        if lexeme.kind == "rparen":
            raise QueryError(f"unmatched ')' at column {lexeme.column}")
        raise QueryError(f"'{lexeme.text}' at column {lexeme.column} needs a term before it")

    def field_value(self, prefix: Lexeme) -> QueryNode:
        value = self.peek()
        name = next(k for k, v in FIELD_NAMES.items() if v == prefix.text)
        if value is None or value.kind not in ("word", "phrase", "or", "and", "not"):
            raise QueryError(f"'{name}:' at column {prefix.column} needs a value right after the colon")
        self.take()
        if prefix.text == "title":
            return TextQuery(value.text, title_only=True)
        return ValueQuery(prefix.text, value.text)

    def _need_operand(self, operator: Lexeme) -> None:
        following = self.peek()
        if following is None or following.kind in ("or", "and", "rparen"):
            raise QueryError(f"'{operator.text}' at column {operator.column} needs a term after it")


def parse_query(query: str) -> QueryNode:
    """The query as index nodes; raises QueryError (a UsageError) that names the column."""
    return _Parser(query).parse()
