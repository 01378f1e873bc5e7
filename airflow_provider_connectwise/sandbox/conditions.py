"""ConnectWise ``conditions``: a tokenizer, a recursive-descent parser and a compiler to predicates.

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

Semantics follow SQL Server with its default (case-insensitive) collation, because that is what
ConnectWise translates conditions into: string comparisons ignore case and trailing spaces, ``like``
takes ``*`` (and ``%``) as wildcards, and NULL propagates (three-valued logic: ``name != "x"`` does
not match a record whose ``name`` is null; only ``= null`` / ``!= null`` test for null).

Strings have NO escape: ConnectWise documents none, so a backslash is an ordinary character and the
next ``"`` always ends the string (``name="a\\"b"`` is the string ``a\\`` followed by a syntax error).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

KEYWORDS = {"and", "or", "not", "like", "contains", "in", "true", "false", "null"}
COMPARISON_OPS = ("=", "!=", "<", "<=", ">", ">=")
FIELD_TYPES = ("string", "integer", "number", "boolean", "datetime")


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
        elif ch == "(":
            tokens.append(Token("LPAREN", "(", i, "("))
            i += 1
        elif ch == ")":
            tokens.append(Token("RPAREN", ")", i, ")"))
            i += 1
        elif ch == ",":
            tokens.append(Token("COMMA", ",", i, ","))
            i += 1
        elif ch in "=!<>":
            two = text[i : i + 2]
            if two in ("!=", "<=", ">="):
                tokens.append(Token("OP", two, i, two))
                i += 2
            elif ch == "!":
                raise ConditionsError("unexpected '!' (did you mean '!='?)", i)
            elif two == "<>":
                raise ConditionsError("operator '<>' is not supported, use '!='", i)
            else:
                tokens.append(Token("OP", ch, i, ch))
                i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise ConditionsError("unterminated string", i)
            tokens.append(Token("STRING", text[i + 1 : end], i, text[i : end + 1]))
            i = end + 1
        elif ch == "'":
            raise ConditionsError("strings must be in double quotes", i)
        elif ch == "[":
            end = text.find("]", i + 1)
            if end < 0:
                raise ConditionsError("unterminated datetime '['", i)
            raw = text[i + 1 : end]
            value = parse_datetime(raw)
            if value is None:
                raise ConditionsError(f"invalid datetime [{raw}]", i)
            tokens.append(Token("DATETIME", value, i, text[i : end + 1]))
            i = end + 1
        elif ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            assert m is not None
            raw = m.group(0)
            end = m.end()
            if end < n and (text[end].isalpha() or text[end] == "_"):
                raise ConditionsError(f"invalid number '{text[i : end + 1]}'", i)
            tokens.append(Token("NUMBER", float(raw) if "." in raw else int(raw), i, raw))
            i = end
        else:
            m = _NAME.match(text, i)
            if not m:
                raise ConditionsError(f"unexpected character {ch!r}", i)
            word = m.group(0)
            low = word.lower()
            if low in KEYWORDS:
                tokens.append(Token("KEYWORD", low, i, word))
            else:
                tokens.append(Token("FIELD", word, i, word))
            i = m.end()
    tokens.append(Token("END", None, n, ""))
    return tokens


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
        items = [self.and_expr()]
        while self.is_keyword("or"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Any:
        items = [self.unary()]
        while self.is_keyword("and"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

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


# ------------------------------------------------------------------ compilation


@dataclass(frozen=True)
class FieldInfo:
    """How to read one condition field from a stored record."""

    path: str  # canonical spelling, e.g. "company/id"
    type: str  # one of FIELD_TYPES
    getter: Callable[[Any], Any]


Resolver = Callable[[str], "FieldInfo | None"]
Predicate3 = Callable[[Any], "bool | None"]


@dataclass
class CompiledConditions:
    """A compiled predicate plus equality hints (``path -> allowed values``) usable with indexes."""

    text: str
    predicate: Predicate3
    hints: dict[str, set[Any]] = field(default_factory=dict)

    def __call__(self, record: Any) -> bool:
        return self.predicate(record) is True

    def filter(self, records: Iterable[Any]) -> list[Any]:
        pred = self.predicate
        return [r for r in records if pred(r) is True]


def fold(value: str) -> str:
    """SQL Server's default collation for equality: case-insensitive, trailing spaces ignored."""
    return value.rstrip(" ").casefold()


def like_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"([*%])", pattern)
    body = "".join(".*" if p in ("*", "%") else re.escape(p) for p in parts)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def compile_conditions(text: str, resolve: Resolver) -> CompiledConditions:
    """Parse and type-check ``text`` against the fields ``resolve`` knows; raise ``ConditionsError``."""
    ast = parse(text)
    compiled = CompiledConditions(text, _compile(ast, resolve))
    compiled.hints = _hints(ast, resolve)
    return compiled


def _compile(node: Any, resolve: Resolver) -> Predicate3:
    if isinstance(node, And):
        parts = [_compile(i, resolve) for i in node.items]

        def and_(rec: Any) -> bool | None:
            unknown = False
            for p in parts:
                r = p(rec)
                if r is False:
                    return False
                if r is None:
                    unknown = True
            return None if unknown else True

        return and_
    if isinstance(node, Or):
        parts = [_compile(i, resolve) for i in node.items]

        def or_(rec: Any) -> bool | None:
            unknown = False
            for p in parts:
                r = p(rec)
                if r is True:
                    return True
                if r is None:
                    unknown = True
            return None if unknown else False

        return or_
    if isinstance(node, Not):
        inner = _compile(node.item, resolve)

        def not_(rec: Any) -> bool | None:
            r = inner(rec)
            return None if r is None else not r

        return not_
    return _compile_comparison(node, resolve)


_LITERAL_FOR_TYPE = {
    "string": "STRING",
    "integer": "NUMBER",
    "number": "NUMBER",
    "boolean": "BOOLEAN",
    "datetime": "DATETIME",
}
_KIND_NAMES = {
    "STRING": "a string",
    "NUMBER": "a number",
    "BOOLEAN": "a boolean",
    "DATETIME": "a [datetime]",
    "NULL": "null",
}


def _field(node: Comparison, resolve: Resolver) -> FieldInfo:
    info = resolve(node.field)
    if info is None:
        raise ConditionsError(f"unknown field '{node.field}'", node.pos)
    return info


def _check_literal(info: FieldInfo, lit: Literal, op: str) -> None:
    if lit.kind == "NULL":
        if op not in ("=", "!="):
            raise ConditionsError(f"null can only be compared with = or != ('{info.path}')", lit.pos)
        return
    expected = _LITERAL_FOR_TYPE[info.type]
    if lit.kind != expected:
        raise ConditionsError(
            f"'{info.path}' is a {info.type} field and cannot be compared with {_KIND_NAMES[lit.kind]}",
            lit.pos,
        )


def _normalise(info: FieldInfo, value: Any) -> Any:
    """Stored value -> comparable value (``None`` stays ``None``)."""
    if value is None:
        return None
    t = info.type
    if t == "string":
        return fold(value) if isinstance(value, str) else fold(str(value))
    if t in ("integer", "number"):
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if t == "boolean":
        return value if isinstance(value, bool) else None
    if t == "datetime":
        return parse_datetime(value) if isinstance(value, str) else None
    return value


def _compile_comparison(node: Comparison, resolve: Resolver) -> Predicate3:
    info = _field(node, resolve)
    getter = info.getter
    op = node.op
    negated = node.negated

    if op in ("like", "contains"):
        lit = node.value
        assert isinstance(lit, Literal)
        if info.type != "string":
            raise ConditionsError(f"'{op}' needs a string field, '{info.path}' is a {info.type}", node.pos)
        if lit.kind != "STRING":
            raise ConditionsError(f"'{op}' needs a quoted string value", lit.pos)
        if op == "like":
            rx = like_regex(lit.value)

            def match(v: str) -> bool:
                return rx.fullmatch(v) is not None
        else:
            needle = lit.value.casefold()

            def match(v: str) -> bool:
                return needle in v.casefold()

        def like_(rec: Any) -> bool | None:
            v = getter(rec)
            if v is None:
                return None
            r = match(v if isinstance(v, str) else str(v))
            return not r if negated else r

        return like_

    if op == "in":
        values = node.value
        assert isinstance(values, tuple)
        if info.type == "boolean":
            raise ConditionsError(f"'in' cannot be used with boolean field '{info.path}'", node.pos)
        allowed = set()
        for lit in values:
            if lit.kind == "NULL":
                raise ConditionsError("null is not allowed in an 'in' list", lit.pos)
            _check_literal(info, lit, "=")
            allowed.add(fold(lit.value) if info.type == "string" else lit.value)

        def in_(rec: Any) -> bool | None:
            v = _normalise(info, getter(rec))
            if v is None:
                return None
            r = v in allowed
            return not r if negated else r

        return in_

    lit = node.value
    assert isinstance(lit, Literal)
    _check_literal(info, lit, op)
    if info.type == "boolean" and op not in ("=", "!="):
        raise ConditionsError(f"boolean field '{info.path}' can only be compared with = or !=", node.pos)
    if lit.kind == "NULL":
        want_null = op == "="

        def null_(rec: Any) -> bool:
            return (getter(rec) is None) == want_null

        return null_

    target = fold(lit.value) if info.type == "string" else lit.value
    cmp = _OPS[op]

    def compare(rec: Any) -> bool | None:
        v = _normalise(info, getter(rec))
        if v is None:
            return None
        return cmp(v, target)

    return compare


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _hints(node: Any, resolve: Resolver) -> dict[str, set[Any]]:
    """Equality constraints every match must satisfy (top-level AND of ``=``/``in``), for index use."""
    items = node.items if isinstance(node, And) else (node,)
    hints: dict[str, set[Any]] = {}
    for item in items:
        if not isinstance(item, Comparison) or item.negated:
            continue
        info = resolve(item.field)
        if info is None:
            continue
        if item.op == "=" and isinstance(item.value, Literal) and item.value.kind != "NULL":
            values = {item.value.value}
        elif item.op == "in" and isinstance(item.value, tuple):
            values = {lit.value for lit in item.value}
        else:
            continue
        if info.type == "string":
            values = {fold(v) for v in values}
        if info.path in hints:
            hints[info.path] &= values
        else:
            hints[info.path] = values
    return hints
