"""A builder for ConnectWise ``conditions`` strings that renders every value safely.

ConnectWise documents no escape for a ``"`` or ``\\`` inside a quoted string, and public clients
paste values raw. Device names, serials and alert ids come from outside, so this builder is the
only way conditions are made in this provider: integers and booleans are rendered bare,
datetimes in brackets (UTC), strings in double quotes — and a string it cannot quote safely is
refused with :class:`UnsafeConditionValue`.

Values from outside go through :class:`SafeQuery`, the one "quote it or match in Python" rule:
it gives the clause to send when the value can be quoted, says so when it cannot (the caller
then reads a wider page), and checks every returned record in Python either way.

    >>> str(Field("company/id").eq(12) & Field("deviceIdentifier").eq("abc-1"))
    'company/id = 12 AND deviceIdentifier = "abc-1"'
    >>> SafeQuery.equal("externalXRef", 'say "hi"').clause is None
    True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
# Anything with no documented meaning inside a ConnectWise string literal.
_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f\u2028\u2029]')


class UnsafeConditionValue(ValueError):
    """A value cannot be put into a ConnectWise condition without changing its meaning."""


def render_value(value: object) -> str:
    """Render one value as a ConnectWise condition literal.

    :param value: ``str``, ``int``, ``float``, ``bool``, timezone-aware ``datetime`` or ``None``.
    :raises UnsafeConditionValue: for a string holding ``"``, ``\\`` or a control character,
        a naive datetime, a non-finite float or any other type.
    """
    if isinstance(value, bool):  # before int: bool is an int
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise UnsafeConditionValue(f"{value!r} is not a finite number")
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise UnsafeConditionValue("datetimes in conditions must be timezone-aware (UTC is sent)")
        return "[" + value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") + "]"
    if isinstance(value, str):
        bad = _UNSAFE.search(value)
        if bad:
            raise UnsafeConditionValue(
                f"string {_preview(value)} contains {bad.group()!r}, which ConnectWise conditions "
                "have no documented escape for"
            )
        return f'"{value}"'
    raise UnsafeConditionValue(f"{type(value).__name__} values cannot be used in conditions")


@dataclass(frozen=True)
class Condition:
    """A rendered condition; combine with ``&`` (AND) and ``|`` (OR)."""

    text: str
    compound: bool = False

    def __and__(self, other: Condition) -> Condition:
        return Condition(f"{self._wrapped()} AND {other._wrapped()}", compound=True)

    def __or__(self, other: Condition) -> Condition:
        return Condition(f"{self._wrapped()} OR {other._wrapped()}", compound=True)

    def _wrapped(self) -> str:
        return f"({self.text})" if self.compound else self.text

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Field:
    """A field path such as ``name`` or ``company/id``.

    :param path: letters, digits and ``_``, segments joined by ``/``.
    """

    path: str

    def __post_init__(self) -> None:
        if not _FIELD.match(self.path):
            raise UnsafeConditionValue(f"{self.path!r} is not a ConnectWise field path")

    def _op(self, op: str, value: object) -> Condition:
        return Condition(f"{self.path} {op} {render_value(value)}")

    def eq(self, value: object) -> Condition:
        return self._op("=", value)

    def ne(self, value: object) -> Condition:
        return self._op("!=", value)

    def lt(self, value: object) -> Condition:
        return self._op("<", value)

    def le(self, value: object) -> Condition:
        return self._op("<=", value)

    def gt(self, value: object) -> Condition:
        return self._op(">", value)

    def ge(self, value: object) -> Condition:
        return self._op(">=", value)

    def contains(self, text: str) -> Condition:
        """``field contains "text"``; ``*`` is refused because it would act as a wildcard."""
        return self._op("contains", _no_wildcard(text))

    def startswith(self, prefix: str) -> Condition:
        """``field like "prefix*"``; a ``*`` inside ``prefix`` is refused."""
        return Condition(f"{self.path} like {render_value(_no_wildcard(prefix) + '*')}")

    def in_(self, values: Iterable[object]) -> Condition:
        """``field in (a, b, c)``; an empty list is refused (ConnectWise answers 400)."""
        return self._list("in", values)

    def not_in(self, values: Iterable[object]) -> Condition:
        """``field not in (a, b, c)``; an empty list is refused."""
        return self._list("not in", values)

    def _list(self, op: str, values: Iterable[object]) -> Condition:
        rendered = [render_value(v) for v in values]
        if not rendered:
            raise UnsafeConditionValue(f"{self.path} {op} (): at least one value is needed")
        return Condition(f"{self.path} {op} ({', '.join(rendered)})")


def chunked_in(field: Field, values: Iterable[object], *, max_chars: int = 1500) -> list[Condition]:
    """Split ``field in (...)`` so each condition stays well under ConnectWise's ~2000-char URLs.

    :param field: the field to test.
    :param values: the values (rendered safely, duplicates dropped, order kept).
    :param max_chars: budget for one rendered condition.
    """
    chunks: list[list[object]] = [[]]
    size = 0
    for value in dict.fromkeys(values):
        width = len(render_value(value)) + 2
        if chunks[-1] and size + width > max_chars:
            chunks.append([])
            size = 0
        chunks[-1].append(value)
        size += width
    return [field.in_(chunk) for chunk in chunks if chunk]


def joined(*parts: Condition | None) -> Condition | None:
    """AND the given conditions left to right, skipping ``None``; ``None`` when none is left."""
    present = [part for part in parts if part is not None]
    if not present:
        return None
    condition = present[0]
    for part in present[1:]:
        condition = condition & part
    return condition


def value_at(record: Mapping[str, Any], path: str) -> Any:
    """The value at a field path of a record (``company/id`` reads ``record["company"]["id"]``)."""
    value: Any = record
    for segment in path.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(segment)
    return value


@dataclass(frozen=True)
class SafeQuery:
    """One test of values from outside: what to send, and what every returned record must pass.

    Build it with :meth:`equal`, :meth:`one_of` or :meth:`contains`. ``clauses`` hold the tests
    of the values that can be quoted safely (one read each); ``unquoted`` lists the values that
    cannot: for those the caller reads a wider page (without this test) and :meth:`keep` matches
    in Python. An equality's :meth:`keep` is meant for every returned record, the server's
    matches included, so a server that matches loosely (LIKE, folding case, trimming) never
    hands over the wrong record; a ``contains`` search trusts the server's matches.

    :param paths: the field path(s) tested (several only for ``contains``: any of them).
    :param values: the wanted values.
    :param kind: ``eq`` (one value), ``in`` (any of the values) or ``contains`` (a fragment).
    :param fold: compare case-insensitively in Python (identifiers, agent ids).
    """

    paths: tuple[str, ...]
    values: tuple[object, ...]
    kind: Literal["eq", "in", "contains"] = "eq"
    fold: bool = False
    clauses: tuple[Condition, ...] = dataclass_field(init=False)
    unquoted: tuple[object, ...] = dataclass_field(init=False)
    refusal: str | None = dataclass_field(init=False)

    @classmethod
    def equal(cls, path: str, value: object, *, fold: bool = False) -> SafeQuery:
        """Records whose ``path`` equals ``value``."""
        return cls((path,), (value,), "eq", fold)

    @classmethod
    def one_of(cls, path: str, values: Iterable[object], *, fold: bool = False) -> SafeQuery:
        """Records whose ``path`` equals one of ``values`` (``in`` clauses kept short)."""
        return cls((path,), tuple(dict.fromkeys(values)), "in", fold)

    @classmethod
    def contains(cls, paths: Iterable[str], text: str) -> SafeQuery:
        """Records where any of ``paths`` contains ``text`` (case-insensitively)."""
        return cls(tuple(paths), (text,), "contains", True)

    def __post_init__(self) -> None:
        fields = [Field(path) for path in self.paths]
        quoted, unquoted, refusal = _quote_each(fields, self.values, self.kind)
        if self.kind == "in":
            clauses = tuple(chunked_in(fields[0], quoted)) if quoted else ()
        else:
            clauses = (_or_any(fields, self.kind, quoted[0]),) if quoted else ()
        object.__setattr__(self, "clauses", clauses)
        object.__setattr__(self, "unquoted", tuple(unquoted))
        object.__setattr__(self, "refusal", refusal)

    @property
    def clause(self) -> Condition | None:
        """The one clause of an ``eq`` or ``contains`` test, or ``None``: read wider, match here."""
        return self.clauses[0] if self.clauses else None

    def reads(self) -> list[Condition | None]:
        """The reads to make: one per clause, and ``None`` (read without this test, let :meth:`keep`
        match) when some value could not be quoted."""
        return [*self.clauses, *([None] if self.unquoted else [])]

    def keep(self, record: Mapping[str, Any]) -> bool:
        """Whether a returned record passes the test (checked here, never left to the server)."""
        if self.kind == "contains":
            if self.clauses:
                return True
            needle = str(self.values[0]).casefold()
            return any(needle in str(value_at(record, p) or "").casefold() for p in self.paths)
        found = value_at(record, self.paths[0])
        if self.fold:
            return isinstance(found, str) and found.casefold() in {str(v).casefold() for v in self.values}
        return any(type(found) is type(v) and found == v for v in self.values)


def _quote_each(
    fields: list[Field], values: Iterable[object], kind: str
) -> tuple[list[object], list[object], str | None]:
    quoted: list[object] = []
    unquoted: list[object] = []
    refusal = None
    for value in values:
        try:
            _or_any(fields, kind, value)
        except UnsafeConditionValue as exc:
            unquoted.append(value)
            refusal = refusal or str(exc)
        else:
            quoted.append(value)
    return quoted, unquoted, refusal


def _or_any(fields: list[Field], kind: str, value: object) -> Condition:
    if kind == "contains":
        text = str(value)
        condition = fields[0].contains(text)
        for other in fields[1:]:
            condition = condition | other.contains(text)
        return condition
    return fields[0].eq(value)


def _no_wildcard(text: str) -> str:
    if "*" in text:
        raise UnsafeConditionValue(f"string {_preview(text)} contains '*', a ConnectWise wildcard")
    return text


def _preview(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")
