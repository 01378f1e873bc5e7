"""ConnectWise ``conditions``: compiled to three-valued predicates over stored records.

``condition_syntax.py`` reads the text (tokens, syntax tree; the grammar is there); this module
checks it against a resource's fields and compiles it.

Semantics follow SQL Server with its default (case-insensitive) collation, because that is what
ConnectWise translates conditions into: string comparisons ignore case and trailing spaces, ``like``
takes ``*`` (and ``%``) as wildcards, and NULL propagates (three-valued logic: ``name != "x"`` does
not match a record whose ``name`` is null; only ``= null`` / ``!= null`` test for null).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .condition_syntax import (
    COMPARISON_OPS,
    KEYWORDS,
    And,
    Comparison,
    ConditionsError,
    Literal,
    Not,
    Or,
    Token,
    parse,
    parse_datetime,
    tokenize,
)

__all__ = [
    "COMPARISON_OPS",
    "FIELD_TYPES",
    "KEYWORDS",
    "And",
    "Comparison",
    "CompiledConditions",
    "ConditionsError",
    "FieldInfo",
    "Literal",
    "Not",
    "Or",
    "Token",
    "compile_conditions",
    "fold",
    "like_regex",
    "parse",
    "parse_datetime",
    "tokenize",
]

FIELD_TYPES = ("string", "integer", "number", "boolean", "datetime")


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
        return _connective([_compile(i, resolve) for i in node.items], decisive=False)
    if isinstance(node, Or):
        return _connective([_compile(i, resolve) for i in node.items], decisive=True)
    if isinstance(node, Not):
        inner = _compile(node.item, resolve)

        def not_(rec: Any) -> bool | None:
            r = inner(rec)
            return None if r is None else not r

        return not_
    return _compile_comparison(node, resolve)


def _connective(parts: list[Predicate3], *, decisive: bool) -> Predicate3:
    """AND (``decisive=False``: one False decides) or OR (one True decides) in three-valued logic:
    otherwise unknown (``None``) if any part is unknown."""

    def combined(rec: Any) -> bool | None:
        unknown = False
        for p in parts:
            r = p(rec)
            if r is decisive:
                return decisive
            if r is None:
                unknown = True
        return None if unknown else not decisive

    return combined


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
    if node.op in ("like", "contains"):
        return _compile_match(node, info)
    if node.op == "in":
        return _compile_in(node, info)
    return _compile_compare(node, info)


def _compile_match(node: Comparison, info: FieldInfo) -> Predicate3:
    """``[not] like`` / ``[not] contains`` on a string field."""
    getter, op, negated = info.getter, node.op, node.negated
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

    return _tested(getter, lambda v: match(v if isinstance(v, str) else str(v)), negated)


def _compile_in(node: Comparison, info: FieldInfo) -> Predicate3:
    """``[not] in (a, b, ...)``: no booleans, no null."""
    getter, negated = info.getter, node.negated
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

    return _tested(lambda rec: _normalise(info, getter(rec)), lambda v: v in allowed, negated)


def _compile_compare(node: Comparison, info: FieldInfo) -> Predicate3:
    """``= != < <= > >=`` against a literal of the field's type, or ``= null`` / ``!= null``."""
    getter, op = info.getter, node.op
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

    return _tested(lambda rec: _normalise(info, getter(rec)), lambda v: cmp(v, target), False)


def _tested(read: Callable[[Any], Any], test: Callable[[Any], bool], negated: bool) -> Predicate3:
    """``test`` of the value ``read`` from a record (``not`` it when ``negated``); unknown (``None``)
    when the value is null, as in SQL."""

    def predicate(rec: Any) -> bool | None:
        v = read(rec)
        if v is None:
            return None
        r = test(v)
        return not r if negated else r

    return predicate


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
