"""The catalogue's records: boards and their statuses, configuration statuses and types, companies, contacts.

Small frozen records, as :meth:`Catalogue.from_connectwise` reads them from ConnectWise's JSON.
:data:`NameOrId` is how the settings document refers to one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = [
    "Board",
    "BoardStatus",
    "CatalogueError",
    "Company",
    "ConfigurationStatus",
    "ConfigurationType",
    "Contact",
    "NameOrId",
    "NamedRecord",
    "check_name_or_id",
]


def check_name_or_id(value: Any) -> int | str:
    """Return a reference to a catalogue record as written: a positive id, or a trimmed name.

    :param value: what the settings document holds.
    :raises ValueError: anything else (a boolean, an empty name, a number that is not an id...).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a name or an id, got the boolean {str(value).lower()}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"an id is a positive integer, got {value}")
        return value
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("expected a name or an id, got an empty text")
        return value.strip()
    raise ValueError(f"expected a name or an id, got {'nothing' if value is None else type(value).__name__}")


#: A reference to a catalogue record in the settings document: its name (or identifier) or its id.
NameOrId = Annotated[int | str, BeforeValidator(check_name_or_id)]


class CatalogueError(ValueError):
    """A ConnectWise record that cannot be read (no id, a name that is not text...)."""


@dataclass(frozen=True)
class BoardStatus:
    """A ticket status of a service board (``/service/boards/{id}/statuses``)."""

    id: int
    name: str
    closed: bool = False
    inactive: bool = False
    default: bool = False

    @property
    def usable_as_open(self) -> bool:
        """Whether new tickets may be opened in this status (neither closed nor inactive)."""
        return not self.closed and not self.inactive

    @property
    def usable_as_closed(self) -> bool:
        """Whether tickets may be closed into this status (a closed, active status)."""
        return self.closed and not self.inactive


@dataclass(frozen=True)
class NamedRecord:
    """A ticket type, subtype, item or priority: a name that may be inactive (boards and
    configuration types are named records with more to them)."""

    id: int
    name: str
    inactive: bool = False


@dataclass(frozen=True)
class Board(NamedRecord):
    """A service board with its ticket statuses and (when read) its ticket types, subtypes and items."""

    statuses: tuple[BoardStatus, ...] = ()
    types: tuple[NamedRecord, ...] = ()
    subtypes: tuple[NamedRecord, ...] = ()
    items: tuple[NamedRecord, ...] = ()


@dataclass(frozen=True)
class Contact:
    """A contact of a company (``/company/contacts``) with its e-mail addresses."""

    id: int
    name: str
    company_id: int | None = None
    emails: tuple[str, ...] = ()
    inactive: bool = False


@dataclass(frozen=True)
class ConfigurationStatus:
    """A configuration status; ConnectWise names it by ``description`` (there is no ``name``)."""

    id: int
    description: str
    closed: bool = False
    default: bool = False


@dataclass(frozen=True)
class ConfigurationType(NamedRecord):
    """A configuration type and the names of its active required questions."""

    required_questions: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Whether devices can be linked with this type (seed: active, no required questions)."""
        return not self.inactive and not self.required_questions


@dataclass(frozen=True)
class Company:
    """A ConnectWise company (the "organization" a policy is linked to)."""

    id: int
    identifier: str
    name: str
    deleted: bool = False
