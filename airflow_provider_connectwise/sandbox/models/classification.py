"""Ticket classification lookups: per board ``/types``, ``/subtypes`` and ``/items``.

Each is a child collection of a service board (``board/id``), read like the board statuses;
priorities (``/service/priorities``) are the backend's ``priorities`` collection. A ticket may
only reference a type, subtype or item of its own board (checked by :func:`check_ticket`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import field_error
from .resources import RefSpec, Resource

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend, Record

_BOARD = RefSpec("boards", info_key="board_href")


def _child(key: str, label: str, title: str, schema: str, path: str, first_id: int) -> Resource:
    return Resource(
        key,
        label,
        title,
        schema,
        f"service/boards/{{board}}/{path}/{{id}}",
        refs={"board": _BOARD},
        indexed=("board/id",),
        parent=("board/id", "Service Board"),
        first_id=first_id,
    )


BOARD_TYPES = _child("board_types", "boardType", "Service Type", "BoardType", "types", 400)
BOARD_SUBTYPES = _child("board_subtypes", "boardSubType", "Service SubType", "BoardSubType", "subtypes", 500)
BOARD_ITEMS = _child("board_items", "boardItem", "Service Item", "BoardItem", "items", 600)

RESOURCES = (BOARD_TYPES, BOARD_SUBTYPES, BOARD_ITEMS)
#: ticket reference field -> the collection it must name a record of (on the ticket's board)
TICKET_REFS = {"type": BOARD_TYPES, "subType": BOARD_SUBTYPES, "item": BOARD_ITEMS}


def check_ticket(backend: ConnectWiseBackend, record: Record, errors: list[dict[str, str]]) -> None:
    """A ticket's type, subtype and item must be records of the ticket's board."""
    board_id = (record.get("board") or {}).get("id")
    for name, resource in TICKET_REFS.items():
        ref = record.get(name)
        if not isinstance(ref, dict) or ref.get("id") is None:
            continue
        entity = backend.col(resource.key).get(ref["id"])
        if entity is not None and (entity.get("board") or {}).get("id") != board_id:
            errors.append(
                field_error(
                    "NotFound",
                    f"{resource.title} {ref['id']} not found for Service Board {board_id}",
                    "ticket",
                    f"{name}/id",
                )
            )
