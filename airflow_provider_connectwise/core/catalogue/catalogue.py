"""The :class:`Catalogue`: everything "Next" fetched, read from ConnectWise's JSON, carried through XCom."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_connectwise.core.catalogue.readers import (
    by_id_key,
    read_board,
    read_configuration_type,
    read_contact,
    read_records,
)
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

__all__ = ["Catalogue"]


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
        statuses_by_board = by_id_key(board_statuses or {}, "board_statuses")
        questions_by_type = by_id_key(type_questions or {}, "type_questions")
        classification = by_id_key(board_classification or {}, "board_classification")
        return cls(
            tuple(
                read_board(raw, f"boards[{index}]", statuses_by_board, classification)
                for index, raw in enumerate(boards)
            ),
            read_records(ConfigurationStatus, configuration_statuses, "configuration_statuses"),
            tuple(
                read_configuration_type(raw, f"configuration_types[{index}]", questions_by_type)
                for index, raw in enumerate(configuration_types)
            ),
            read_records(Company, companies, "companies"),
            read_records(NamedRecord, priorities, "priorities"),
            tuple(read_contact(raw, f"contacts[{index}]") for index, raw in enumerate(contacts)),
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
