"""A builder for ConnectWise ``conditions`` strings that renders every value safely.

ConnectWise documents no escape for a ``"`` or ``\\`` inside a quoted string, and public clients
paste values raw. Device names, serials and alert ids come from outside, so this builder is the
only way conditions are made in this provider: integers and booleans are rendered bare,
datetimes in brackets (UTC), strings in double quotes — and a string it cannot quote safely is
refused with :class:`UnsafeConditionValue`. Callers then fetch by a safe condition and match in
Python (see ``ConnectWiseHook.find_configurations``).

    >>> str(Field("company/id").eq(12) & Field("deviceIdentifier").eq("abc-1"))
    'company/id = 12 AND deviceIdentifier = "abc-1"'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

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


def _no_wildcard(text: str) -> str:
    if "*" in text:
        raise UnsafeConditionValue(f"string {_preview(text)} contains '*', a ConnectWise wildcard")
    return text


def _preview(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")
