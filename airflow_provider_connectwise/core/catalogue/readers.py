"""Reading ConnectWise's raw JSON records into the catalogue's records.

- A flag ConnectWise leaves out (or sends as ``null``) is ``False``; a missing name is ``""``.
- A record without an integer ``id`` raises :class:`CatalogueError` naming the record: the
  catalogue is the ground truth of "the switch" and a half-parsed one would hide problems.
- ``required_questions`` lists the *active* questions with ``requiredFlag`` of a type.
- A contact's e-mail addresses come from its ``communicationItems`` of type Email.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, TypeVar

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.catalogue.records import (
    Board,
    BoardStatus,
    CatalogueError,
    Company,
    ConfigurationStatus,
    ConfigurationType,
    Contact,
    NamedRecord,
)

__all__ = ["by_id_key", "read_board", "read_configuration_type", "read_contact", "read_records"]

R = TypeVar("R")

#: Record -> (its text fields -> ConnectWise key, its flags -> ConnectWise key), read in this order.
_FIELDS: Mapping[Callable[..., Any], tuple[Mapping[str, str], Mapping[str, str]]] = MappingProxyType(
    {
        BoardStatus: (
            {"name": "name"},
            {"closed": "closedStatus", "inactive": "inactive", "default": "defaultFlag"},
        ),
        NamedRecord: ({"name": "name"}, {"inactive": "inactiveFlag"}),
        Board: ({"name": "name"}, {"inactive": "inactiveFlag"}),
        ConfigurationStatus: (
            {"description": "description"},
            {"closed": "closedFlag", "default": "defaultFlag"},
        ),
        ConfigurationType: ({"name": "name"}, {"inactive": "inactiveFlag"}),
        Company: ({"identifier": "identifier", "name": "name"}, {"deleted": "deletedFlag"}),
    }
)


def by_id_key(mapping: Mapping[Any, Any], where: str) -> dict[int, Any]:
    """Re-key a mapping by integer id (JSON object keys come back as strings after XCom).

    :param mapping: id (int, or its string form) -> anything.
    :param where: the argument's name, for the error.
    :raises CatalogueError: a key is not an id.
    """
    out: dict[int, Any] = {}
    for key, value in mapping.items():
        try:
            out[_as_id(key)] = value
        except ValueError:
            raise CatalogueError(f"{where}: key {printable(repr(key), 60)} is not an id") from None
    return out


def _as_id(value: Any) -> int:
    # JSON object keys are strings, so a board id can come back as "12" after XCom.
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(value)


def _id(raw: Any, where: str) -> int:
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    value = raw.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogueError(f"{where}: 'id' must be an integer, got {printable(repr(value), 60)}")
    return value


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CatalogueError(
            f"{where} (id {raw.get('id')}): {key!r} must be text, got {type(value).__name__}"
        )
    return value.strip()


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    return raw.get(key) is True


def _read_record(cls: Callable[..., R], raw: Any, where: str, **extra: Any) -> R:
    """Read one record of a kind listed in ``_FIELDS``: its id, its texts and its flags."""
    record_id = _id(raw, where)
    texts, flags = _FIELDS[cls]
    return cls(
        id=record_id,
        **{name: _text(raw, key, where) for name, key in texts.items()},
        **{name: _flag(raw, key) for name, key in flags.items()},
        **extra,
    )


def read_records(cls: Callable[..., R], records: Iterable[Any], where: str) -> tuple[R, ...]:
    """Read a list of records of one kind; ``where`` names the list in errors (``where[n]``).

    :param cls: the record class (a key of ``_FIELDS``).
    :param records: ConnectWise's raw records.
    :param where: e.g. ``"companies"`` or ``"board 7 statuses"``.
    """
    return tuple(_read_record(cls, raw, f"{where}[{n}]") for n, raw in enumerate(records))


def read_board(
    raw: Any,
    where: str,
    statuses: Mapping[int, Iterable[Any]],
    classification: Mapping[int, Mapping[str, Iterable[Any]]],
) -> Board:
    """Read a service board with its ticket statuses and its ticket types, subtypes and items.

    :param raw: a ``GET /service/boards`` record.
    :param where: its place, for errors.
    :param statuses: board id -> its raw ticket statuses.
    :param classification: board id -> ``{"types" | "subtypes" | "items": records}``.
    """
    board_id = _id(raw, where)
    board_statuses = read_records(BoardStatus, statuses.get(board_id, ()), f"board {board_id} statuses")
    board = _read_record(Board, raw, where, statuses=board_statuses)
    kinds = classification.get(board_id, {})
    return replace(
        board,
        types=read_records(NamedRecord, kinds.get("types", ()), f"board {board_id} types"),
        subtypes=read_records(NamedRecord, kinds.get("subtypes", ()), f"board {board_id} subtypes"),
        items=read_records(NamedRecord, kinds.get("items", ()), f"board {board_id} items"),
    )


def read_configuration_type(
    raw: Any, where: str, questions: Mapping[int, Iterable[Any]]
) -> ConfigurationType:
    """Read a configuration type with the names of its active required questions.

    :param raw: a ``GET /company/configurations/types`` record.
    :param where: its place, for errors.
    :param questions: type id -> its raw questions.
    """
    type_id = _id(raw, where)
    required = tuple(
        _text(question, "question", f"type {type_id} questions[{n}]")
        for n, question in enumerate(questions.get(type_id, ()))
        if _flag(question, "requiredFlag") and not _flag(question, "inactiveFlag")
    )
    return _read_record(ConfigurationType, raw, where, required_questions=required)


def read_contact(raw: Any, where: str) -> Contact:
    """A contact; its e-mail addresses come from ``communicationItems`` of type Email (any
    other item, or one that is not an object, is ignored: contacts are people's data)."""
    contact_id = _id(raw, where)
    first = raw.get("firstName") if isinstance(raw.get("firstName"), str) else ""
    last = raw.get("lastName") if isinstance(raw.get("lastName"), str) else ""
    items = raw.get("communicationItems")
    emails = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
            continue
        kind = item.get("communicationType")
        if kind is None and isinstance(item.get("type"), Mapping):
            kind = item["type"].get("name")
        if isinstance(kind, str) and kind.casefold() == "email" and item["value"].strip():
            emails.append(item["value"].strip())
    company = raw.get("company") if isinstance(raw.get("company"), Mapping) else {}
    company_id = company.get("id") if isinstance(company.get("id"), int) else None
    return Contact(
        id=contact_id,
        name=" ".join(f"{first} {last}".split()),
        company_id=company_id,
        emails=tuple(emails),
        inactive=_flag(raw, "inactiveFlag"),
    )
