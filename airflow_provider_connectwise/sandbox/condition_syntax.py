"""ConnectWise ``conditions`` text -> tokens -> syntax tree (``conditions.py`` compiles the tree).

Grammar (the documented subset; keywords are case-insensitive)::

    expr       := and_expr ( OR and_expr )*
    and_expr   := unary ( AND unary )*
    unary      := NOT unary | '(' expr ')' | comparison
    comparison := FIELD op literal
                | FIELD [NOT] LIKE string | FIELD [NOT] CONTAINS string
                | FIELD [NOT] IN '(' literal ( ',' literal )* ')'
    op         := '=' | '!=' | '<' | '<=' | '>' | '>='
    literal    := "double-quoted string" | number | True | False | null | [datetime]
    FIELD      := name ( '/' name )*          e.g. company/id, status/name, _info/lastUpdated

Strings have NO escape: ConnectWise documents none, so a backslash is an ordinary character and the
next ``"`` always ends the string (``name="a\\"b"`` is the string ``a\\`` followed by a syntax error).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

KEYWORDS = {"and", "or", "not", "like", "contains", "in", "true", "false", "null"}
COMPARISON_OPS = ("=", "!=", "<", "<=", ">", ">=")


class ConditionsError(ValueError):
    """The text is not a condition ConnectWise would accept; ``position`` is a 0-based offset."""

    def __init__(self, message: str, position: int | None = None):
        self.reason = message
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where}")


# ------------------------------------------------------------------ tokens


@dataclass(frozen=True)
class Token:
    kind: str  # FIELD, KEYWORD, OP, STRING, NUMBER, DATETIME, LPAREN, RPAREN, COMMA, END
    value: Any
    pos: int
    text: str = ""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raise ``ConditionsError`` on anything ConnectWise would not read."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[ch], ch, i, ch))
            i += 1
        else:
            token, i = _read_token(text, i)
            tokens.append(token)
    tokens.append(Token("END", None, n, ""))
    return tokens


_PUNCTUATION = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}


def _read_token(text: str, i: int) -> tuple[Token, int]:
    """The token starting at ``i`` (not space or punctuation) and the offset after it."""
    ch = text[i]
    if ch in "=!<>":
        return _read_operator(text, i)
    if ch == '"':
        end = text.find('"', i + 1)
        if end < 0:
            raise ConditionsError("unterminated string", i)
        return Token("STRING", text[i + 1 : end], i, text[i : end + 1]), end + 1
    if ch == "'":
        raise ConditionsError("strings must be in double quotes", i)
    if ch == "[":
        return _read_datetime(text, i)
    if ch.isdigit() or (ch == "-" and i + 1 < len(text) and text[i + 1].isdigit()):
        return _read_number(text, i)
    m = _NAME.match(text, i)
    if not m:
        raise ConditionsError(f"unexpected character {ch!r}", i)
    word = m.group(0)
    low = word.lower()
    if low in KEYWORDS:
        return Token("KEYWORD", low, i, word), m.end()
    return Token("FIELD", word, i, word), m.end()


def _read_operator(text: str, i: int) -> tuple[Token, int]:
    ch, two = text[i], text[i : i + 2]
    if two in ("!=", "<=", ">="):
        return Token("OP", two, i, two), i + 2
    if ch == "!":
        raise ConditionsError("unexpected '!' (did you mean '!='?)", i)
    if two == "<>":
        raise ConditionsError("operator '<>' is not supported, use '!='", i)
    return Token("OP", ch, i, ch), i + 1


def _read_datetime(text: str, i: int) -> tuple[Token, int]:
    end = text.find("]", i + 1)
    if end < 0:
        raise ConditionsError("unterminated datetime '['", i)
    raw = text[i + 1 : end]
    value = parse_datetime(raw)
    if value is None:
        raise ConditionsError(f"invalid datetime [{raw}]", i)
    return Token("DATETIME", value, i, text[i : end + 1]), end + 1


def _read_number(text: str, i: int) -> tuple[Token, int]:
    m = _NUMBER.match(text, i)
    assert m is not None
    raw = m.group(0)
    end = m.end()
    if end < len(text) and (text[end].isalpha() or text[end] == "_"):
        raise ConditionsError(f"invalid number '{text[i : end + 1]}'", i)
    return Token("NUMBER", float(raw) if "." in raw else int(raw), i, raw), end


@lru_cache(maxsize=4096)
def parse_datetime(raw: str) -> str | None:
    """Normalise an ISO-8601 datetime to ConnectWise's ``YYYY-MM-DDTHH:MM:SSZ`` (UTC); ``None`` if invalid."""
    s = raw.strip()
    if not s:
        return None
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ AST


@dataclass(frozen=True)
class Literal:
    kind: str  # STRING, NUMBER, DATETIME, BOOLEAN, NULL
    value: Any
    pos: int


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str  # = != < <= > >= like contains in
    value: Literal | tuple[Literal, ...]
    negated: bool
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    item: Any


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def is_keyword(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "KEYWORD" and tok.value == word

    def parse(self) -> Any:
        if self.peek().kind == "END":
            raise ConditionsError("empty conditions", 0)
        node = self.expr()
        tok = self.peek()
        if tok.kind != "END":
            raise ConditionsError(f"unexpected {describe(tok)}", tok.pos)
        return node

    def expr(self) -> Any:
        return self._joined("or", self.and_expr, Or)

    def and_expr(self) -> Any:
        return self._joined("and", self.unary, And)

    def _joined(
        self, keyword: str, operand: Callable[[], Any], node: Callable[[tuple[Any, ...]], Any]
    ) -> Any:
        """``operand ( keyword operand )*``: the one operand, or ``node`` of them all."""
        items = [operand()]
        while self.is_keyword(keyword):
            self.take()
            items.append(operand())
        return items[0] if len(items) == 1 else node(tuple(items))

    def unary(self) -> Any:
        tok = self.peek()
        if tok.kind == "KEYWORD" and tok.value == "not":
            self.take()
            return Not(self.unary())
        if tok.kind == "LPAREN":
            self.take()
            node = self.expr()
            close = self.take()
            if close.kind != "RPAREN":
                raise ConditionsError(f"expected ')' but found {describe(close)}", close.pos)
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        tok = self.take()
        if tok.kind != "FIELD":
            raise ConditionsError(f"expected a field name but found {describe(tok)}", tok.pos)
        negated = False
        op_tok = self.take()
        if op_tok.kind == "KEYWORD" and op_tok.value == "not":
            negated = True
            op_tok = self.take()
            if not (op_tok.kind == "KEYWORD" and op_tok.value in ("like", "contains", "in")):
                raise ConditionsError(
                    f"expected like, contains or in after 'not' but found {describe(op_tok)}", op_tok.pos
                )
        if op_tok.kind == "OP":
            return Comparison(tok.value, op_tok.value, self.literal(), negated, tok.pos)
        if op_tok.kind == "KEYWORD" and op_tok.value in ("like", "contains"):
            return Comparison(tok.value, op_tok.value, self.literal(), negated, tok.pos)
        if op_tok.kind == "KEYWORD" and op_tok.value == "in":
            open_tok = self.take()
            if open_tok.kind != "LPAREN":
                raise ConditionsError(f"expected '(' after 'in' but found {describe(open_tok)}", open_tok.pos)
            values = [self.literal()]
            while self.peek().kind == "COMMA":
                self.take()
                values.append(self.literal())
            close = self.take()
            if close.kind != "RPAREN":
                raise ConditionsError(
                    f"expected ',' or ')' in the 'in' list but found {describe(close)}", close.pos
                )
            return Comparison(tok.value, "in", tuple(values), negated, tok.pos)
        raise ConditionsError(
            f"expected an operator after '{tok.value}' but found {describe(op_tok)}", op_tok.pos
        )

    def literal(self) -> Literal:
        tok = self.take()
        if tok.kind in ("STRING", "NUMBER", "DATETIME"):
            return Literal(tok.kind, tok.value, tok.pos)
        if tok.kind == "KEYWORD" and tok.value in ("true", "false"):
            return Literal("BOOLEAN", tok.value == "true", tok.pos)
        if tok.kind == "KEYWORD" and tok.value == "null":
            return Literal("NULL", None, tok.pos)
        if tok.kind == "FIELD":
            raise ConditionsError(f"unquoted value '{tok.value}' (strings must be in double quotes)", tok.pos)
        raise ConditionsError(f"expected a value but found {describe(tok)}", tok.pos)


def describe(tok: Token) -> str:
    if tok.kind == "END":
        return "end of conditions"
    return f"'{tok.text}'"


@lru_cache(maxsize=1024)
def parse(text: str) -> Any:
    """Parse ``text`` into an AST (``And``/``Or``/``Not``/``Comparison``); cached."""
    return _Parser(text).parse()
