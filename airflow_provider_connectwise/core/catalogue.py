"""What "Next" fetches (seed step 5): boards, statuses, configuration statuses, types, companies.

The hook returns ConnectWise's raw JSON; :meth:`Catalogue.from_connectwise` turns it into small
frozen records and :meth:`Catalogue.to_dict` / :meth:`Catalogue.from_dict` carry them through XCom.

Decisions:

- A flag ConnectWise leaves out (or sends as ``null``) is ``False``; a missing name is ``""``.
- A record without an integer ``id`` raises :class:`CatalogueError` naming the record: the
  catalogue is the ground truth of "the switch" and a half-parsed one would hide problems.
- ``required_questions`` lists the *active* questions with ``requiredFlag`` of a type. A type with
  no entry in ``type_questions`` is taken to have no questions: the caller fetches the questions of
  every type it offers (or at least of every type the settings name).
- Companies may be partial: only the companies the settings reference are usually fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator

from airflow_provider_connectwise.core import printable, text_table
from airflow_provider_connectwise.core.mapping import DEFAULT_FIELD_MAPPING, DEFAULT_MANAGEMENT_LINK_TEMPLATE

__all__ = [
    "Board",
    "BoardStatus",
    "Catalogue",
    "CatalogueError",
    "Company",
    "ConfigurationStatus",
    "ConfigurationType",
    "Contact",
    "NameOrId",
    "NamedRecord",
    "render_catalogue",
    "render_settings_template",
    "settings_template",
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
    """A ticket type, subtype, item or priority: a name that may be inactive."""

    id: int
    name: str
    inactive: bool = False


@dataclass(frozen=True)
class Board:
    """A service board with its ticket statuses and (when read) its ticket types, subtypes and items."""

    id: int
    name: str
    inactive: bool = False
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
class ConfigurationType:
    """A configuration type and the names of its active required questions."""

    id: int
    name: str
    inactive: bool = False
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


@dataclass(frozen=True)
class Catalogue:
    """Everything the settings are resolved against."""

    boards: tuple[Board, ...] = ()
    configuration_statuses: tuple[ConfigurationStatus, ...] = ()
    configuration_types: tuple[ConfigurationType, ...] = ()
    companies: tuple[Company, ...] = ()
    priorities: tuple[NamedRecord, ...] = ()
    contacts: tuple[Contact, ...] = ()

    @classmethod
    def from_connectwise(
        cls,
        *,
        boards: Iterable[Mapping[str, Any]] = (),
        board_statuses: Mapping[int | str, Iterable[Mapping[str, Any]]] | None = None,
        configuration_statuses: Iterable[Mapping[str, Any]] = (),
        configuration_types: Iterable[Mapping[str, Any]] = (),
        type_questions: Mapping[int | str, Iterable[Mapping[str, Any]]] | None = None,
        companies: Iterable[Mapping[str, Any]] = (),
        board_classification: Mapping[int | str, Mapping[str, Iterable[Mapping[str, Any]]]] | None = None,
        priorities: Iterable[Mapping[str, Any]] = (),
        contacts: Iterable[Mapping[str, Any]] = (),
    ) -> Catalogue:
        """Build the catalogue from ConnectWise's raw JSON records.

        :param boards: ``GET /service/boards`` records.
        :param board_statuses: board id (int, or its string form after a JSON round trip) ->
            ``GET /service/boards/{id}/statuses`` records.
        :param configuration_statuses: ``GET /company/configurations/statuses`` records.
        :param configuration_types: ``GET /company/configurations/types`` records.
        :param type_questions: type id -> ``GET /company/configurations/types/{id}/questions``.
        :param companies: ``GET /company/companies`` records (may be only the referenced ones).
        :param board_classification: board id -> ``{"types" | "subtypes" | "items": records}``.
        :param priorities: ``GET /service/priorities`` records.
        :param contacts: ``GET /company/contacts`` records (of the companies the settings name).
        :raises CatalogueError: a record has no usable id or a field of the wrong type.
        """
        statuses_by_board = _by_id_key(board_statuses or {}, "board_statuses")
        questions_by_type = _by_id_key(type_questions or {}, "type_questions")
        classification = _by_id_key(board_classification or {}, "board_classification")
        parsed_boards = []
        for index, raw in enumerate(boards):
            where = f"boards[{index}]"
            board_id = _id(raw, where)
            statuses = tuple(
                BoardStatus(
                    id=_id(status, f"board {board_id} statuses[{n}]"),
                    name=_text(status, "name", f"board {board_id} statuses[{n}]"),
                    closed=_flag(status, "closedStatus"),
                    inactive=_flag(status, "inactive"),
                    default=_flag(status, "defaultFlag"),
                )
                for n, status in enumerate(statuses_by_board.get(board_id, ()))
            )
            kinds = classification.get(board_id, {})
            parsed_boards.append(
                Board(
                    id=board_id,
                    name=_text(raw, "name", where),
                    inactive=_flag(raw, "inactiveFlag"),
                    statuses=statuses,
                    types=_named_records(kinds.get("types", ()), f"board {board_id} types"),
                    subtypes=_named_records(kinds.get("subtypes", ()), f"board {board_id} subtypes"),
                    items=_named_records(kinds.get("items", ()), f"board {board_id} items"),
                )
            )
        parsed_statuses = tuple(
            ConfigurationStatus(
                id=_id(raw, f"configuration_statuses[{index}]"),
                description=_text(raw, "description", f"configuration_statuses[{index}]"),
                closed=_flag(raw, "closedFlag"),
                default=_flag(raw, "defaultFlag"),
            )
            for index, raw in enumerate(configuration_statuses)
        )
        parsed_types = []
        for index, raw in enumerate(configuration_types):
            where = f"configuration_types[{index}]"
            type_id = _id(raw, where)
            required = tuple(
                _text(question, "question", f"type {type_id} questions[{n}]")
                for n, question in enumerate(questions_by_type.get(type_id, ()))
                if _flag(question, "requiredFlag") and not _flag(question, "inactiveFlag")
            )
            parsed_types.append(
                ConfigurationType(
                    id=type_id,
                    name=_text(raw, "name", where),
                    inactive=_flag(raw, "inactiveFlag"),
                    required_questions=required,
                )
            )
        parsed_companies = tuple(
            Company(
                id=_id(raw, f"companies[{index}]"),
                identifier=_text(raw, "identifier", f"companies[{index}]"),
                name=_text(raw, "name", f"companies[{index}]"),
                deleted=_flag(raw, "deletedFlag"),
            )
            for index, raw in enumerate(companies)
        )
        return cls(
            tuple(parsed_boards),
            parsed_statuses,
            tuple(parsed_types),
            parsed_companies,
            _named_records(priorities, "priorities"),
            tuple(_contact(raw, f"contacts[{index}]") for index, raw in enumerate(contacts)),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (lists and plain values only)."""
        # asdict turns nested dataclasses into dicts; json round-trips tuples into lists.
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Catalogue:
        """Rebuild a catalogue from :meth:`to_dict` output.

        :param data: the dict (e.g. pulled from XCom).
        """
        try:
            return cls(
                boards=tuple(
                    Board(
                        id=board["id"],
                        name=board["name"],
                        inactive=board.get("inactive", False),
                        statuses=tuple(BoardStatus(**status) for status in board.get("statuses", ())),
                        **{
                            kind: tuple(NamedRecord(**r) for r in board.get(kind, ()))
                            for kind in ("types", "subtypes", "items")
                        },
                    )
                    for board in data.get("boards", ())
                ),
                configuration_statuses=tuple(
                    ConfigurationStatus(**status) for status in data.get("configuration_statuses", ())
                ),
                configuration_types=tuple(
                    ConfigurationType(
                        **{**kind, "required_questions": tuple(kind.get("required_questions", ()))}
                    )
                    for kind in data.get("configuration_types", ())
                ),
                companies=tuple(Company(**company) for company in data.get("companies", ())),
                priorities=tuple(NamedRecord(**r) for r in data.get("priorities", ())),
                contacts=tuple(
                    Contact(**{**c, "emails": tuple(c.get("emails", ()))}) for c in data.get("contacts", ())
                ),
            )
        except (KeyError, TypeError) as exc:
            raise CatalogueError(f"not a catalogue dict: {exc}") from exc

    def board_of_status(self, status_id: int) -> Board | None:
        """Return the board a ticket status id belongs to, if any.

        :param status_id: a board status id.
        """
        for board in self.boards:
            if any(status.id == status_id for status in board.statuses):
                return board
        return None


# --- raw record readers -------------------------------------------------------------------------


def _by_id_key(mapping: Mapping[Any, Any], where: str) -> dict[int, Any]:
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


def _named_records(records: Iterable[Mapping[str, Any]], where: str) -> tuple[NamedRecord, ...]:
    return tuple(
        NamedRecord(
            id=_id(raw, f"{where}[{n}]"),
            name=_text(raw, "name", f"{where}[{n}]"),
            inactive=_flag(raw, "inactiveFlag"),
        )
        for n, raw in enumerate(records)
    )


def _contact(raw: Any, where: str) -> Contact:
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


# --- rendering ----------------------------------------------------------------------------------


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def render_catalogue(catalogue: Catalogue) -> str:
    """Render the catalogue as text tables for a task log (names are log-escaped).

    :param catalogue: the catalogue to show.
    """
    width = {1: 50}
    parts = ["Service boards and their ticket statuses"]
    rows: list[list[object]] = []
    for board in catalogue.boards:
        rows.append([board.id, board.name, "board", "", _yes(board.inactive)])
        for status in board.statuses:
            kind = "closed" if status.closed else "open"
            rows.append([status.id, f"  {status.name}", kind, _yes(status.default), _yes(status.inactive)])
    parts.append(text_table(["id", "name", "kind", "default", "inactive"], rows, max_widths=width))
    parts.append("\nConfiguration statuses")
    parts.append(
        text_table(
            ["id", "description", "closed", "default"],
            [
                [s.id, s.description, _yes(s.closed), _yes(s.default)]
                for s in catalogue.configuration_statuses
            ],
            max_widths=width,
        )
    )
    parts.append("\nConfiguration types")
    parts.append(
        text_table(
            ["id", "name", "inactive", "required questions"],
            [
                [t.id, t.name, _yes(t.inactive), ", ".join(t.required_questions)]
                for t in catalogue.configuration_types
            ],
            max_widths={1: 50, 3: 80},
        )
    )
    parts.append("\nCompanies")
    parts.append(
        text_table(
            ["id", "identifier", "name", "deleted"],
            [[c.id, c.identifier, c.name, _yes(c.deleted)] for c in catalogue.companies],
            max_widths={1: 30, 2: 50},
        )
    )
    return "\n".join(parts)


# --- settings template --------------------------------------------------------------------------


def _first(items: Iterable[Any]) -> Any:
    return next(iter(items), None)


def _named_like(items: Iterable[Any], *words: str, attr: str = "name") -> Any:
    """Return the first item whose name contains the first word that matches anything."""
    items = list(items)
    for word in words:
        found = _first(item for item in items if word in getattr(item, attr).casefold())
        if found is not None:
            return found
    return None


def _template_reference(item: Any, siblings: Iterable[Any], attr: str = "name") -> str | int | None:
    """Return an item's name, or its id when another sibling shares the name (a name must resolve)."""
    if item is None:
        return None
    name = getattr(item, attr)
    same = [other for other in siblings if getattr(other, attr).casefold() == name.casefold()]
    return name if name and len(same) == 1 else item.id


def _board_choice(catalogue: Catalogue, *words: str) -> dict[str, str | int | None]:
    active = [board for board in catalogue.boards if not board.inactive]
    board = _named_like(active, *words) or _first(active)
    if board is None:
        return {"board": None, "open_status": None, "closed_status": None}
    opens = [status for status in board.statuses if status.usable_as_open]
    closes = [status for status in board.statuses if status.usable_as_closed]
    open_status = _first(s for s in opens if s.default) or _first(opens)
    closed_status = _first(closes)
    return {
        "board": _template_reference(board, catalogue.boards),
        "open_status": _template_reference(open_status, board.statuses),
        "closed_status": _template_reference(closed_status, board.statuses),
    }


def settings_template(catalogue: Catalogue) -> dict[str, Any]:
    """Return a ready-to-edit settings document pre-filled with the catalogue's likeliest choices.

    Picks: a board named like "Monitoring" (else the first active board) with its default open
    status and its first closed status; a board named like "Self Service" or "Help Desk" for Self
    Service; the configuration statuses described "Active" and "Inactive" (else the default open
    one and the first closed one); the first usable configuration type. A choice the catalogue
    cannot offer is left ``None`` so that loading the document fails until someone fills it in.
    :func:`render_settings_template` shows the same document with every choice listed.

    :param catalogue: what "Next" fetched.
    """
    statuses = catalogue.configuration_statuses
    active = (
        _first(s for s in statuses if s.description.casefold() == "active")
        or _first(s for s in statuses if s.default and not s.closed)
        or _first(s for s in statuses if not s.closed)
    )
    inactive = (
        _first(s for s in statuses if s.description.casefold() == "inactive" and s is not active)
        or _first(s for s in statuses if s.closed and s is not active)
        or _first(s for s in statuses if s is not active)
    )
    usable_types = [kind for kind in catalogue.configuration_types if kind.usable]
    return {
        "monitoring": _board_choice(catalogue, "monitor"),
        "self_service": _board_choice(catalogue, "self service", "self-service", "help desk", "helpdesk"),
        "configuration_statuses": {
            "active": _template_reference(active, statuses, "description"),
            "inactive": _template_reference(inactive, statuses, "description"),
        },
        "configuration_types": {
            "default": _template_reference(_first(usable_types), catalogue.configuration_types),
            "conditional": [],
        },
        "policy_links": [],
        "use_mdm_links": True,
        "field_mapping": dict(DEFAULT_FIELD_MAPPING),
        "protected_fields": [],
        "adopt_by_serial": True,
        "management_link_template": DEFAULT_MANAGEMENT_LINK_TEMPLATE,
    }


def _classification_comments(boards: Iterable[Board], priorities: Iterable[NamedRecord]) -> list[str]:
    """Commented-out classification settings of a board section, with their choices."""
    lines = []
    for board in boards:
        for kind, records in (("type", board.types), ("subtype", board.subtypes), ("item", board.items)):
            active = [r for r in records if not r.inactive]
            if active:
                lines.append(f"  # {printable(board.name, 60)}: ticket {kind}s: {_choices(active)}")
    active_priorities = [p for p in priorities if not p.inactive]
    if active_priorities:
        lines.append(f"  # priorities: {_choices(active_priorities)}")
    lines.append("  # type: ..., subtype: ..., item: ..., priority: ..., source: ...")
    lines.append("  # priority_by_severity: {critical: ..., warning: ...}")
    lines.append("  # notes: internal  (or discussion: the customer sees the integration's notes)")
    lines.append("  # keep_touched_tickets_open: true  (a ticket a technician works is not closed)")
    return lines


def _choices(items: Iterable[Any], attr: str = "name") -> str:
    return "; ".join(f"{printable(getattr(item, attr), 60)} (id {item.id})" for item in items) or "none"


def render_settings_template(catalogue: Catalogue) -> str:
    """Render :func:`settings_template` as YAML, each setting preceded by its choices as comments.

    The result loads with :func:`~airflow_provider_connectwise.core.settings.load_settings` once
    saved to a ``.yaml`` file. Names are JSON-quoted (valid YAML) and comments are log-escaped, so a
    name holding ``#``, ``:`` or a newline cannot change the document.

    :param catalogue: what "Next" fetched.
    """
    doc = settings_template(catalogue)
    boards = [board for board in catalogue.boards if not board.inactive]

    def value(item: Any) -> str:
        return json.dumps(item, ensure_ascii=False)

    lines = ["# ConnectWise integration settings (seed steps 6-16). Names or ids are accepted."]
    for key, title in (("monitoring", "Monitoring"), ("self_service", "Self Service")):
        lines.append(f"{key}:  # {title} service board")
        lines.append(f"  # boards: {_choices(boards)}")
        lines.append(f"  board: {value(doc[key]['board'])}")
        for board in boards:
            opens = [s for s in board.statuses if s.usable_as_open]
            closes = [s for s in board.statuses if s.usable_as_closed]
            lines.append(f"  # {printable(board.name, 60)}: open statuses: {_choices(opens)}")
            lines.append(f"  # {printable(board.name, 60)}: closed statuses: {_choices(closes)}")
        lines.append(f"  open_status: {value(doc[key]['open_status'])}")
        lines.append(f"  closed_status: {value(doc[key]['closed_status'])}")
        lines += _classification_comments(boards, catalogue.priorities)
    statuses = catalogue.configuration_statuses
    lines.append("configuration_statuses:")
    lines.append(f"  # open: {_choices([s for s in statuses if not s.closed], 'description')}")
    lines.append(f"  active: {value(doc['configuration_statuses']['active'])}")
    lines.append(f"  # closed: {_choices([s for s in statuses if s.closed], 'description')}")
    lines.append(f"  inactive: {value(doc['configuration_statuses']['inactive'])}")
    lines.append("configuration_types:")
    usable = [kind for kind in catalogue.configuration_types if kind.usable]
    lines.append(f"  # usable types (active, no required questions): {_choices(usable)}")
    lines.append(f"  default: {value(doc['configuration_types']['default'])}")
    lines.append("  # rules: - {type: ..., fact: hardware_model, op: prefix, value: Macmini}")
    lines.append("  #   op: equals | one_of (value is a list) | contains | prefix | regex; first match wins")
    lines.append("  conditional: []")
    lines.append(
        "# policy_links: - {policy: <MDM policy id>, company: <ConnectWise company identifier or id>}"
    )
    lines.append("policy_links: []")
    lines.append("# use the company each MDM policy records itself (explicit policy_links win)")
    lines.append(f"use_mdm_links: {value(doc['use_mdm_links'])}")
    lines.append("# ConnectWise field: MDM fact identifier (null = do not sync the field)")
    lines.append("field_mapping:")
    for field, fact in doc["field_mapping"].items():
        lines.append(f"  {field}: {value(fact)}")
    lines.append("# fields set on create but never overwritten on update")
    lines.append("protected_fields: []")
    lines.append(f"adopt_by_serial: {value(doc['adopt_by_serial'])}")
    lines.append(f"management_link_template: {value(doc['management_link_template'])}")
    return "\n".join(lines) + "\n"
