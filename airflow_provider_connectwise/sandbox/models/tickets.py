"""Service tickets (``/service/tickets``): create, patch, and the technician's status changes.

A new ticket gets the first active board, the default priority and its board's default open
status. ``closedFlag`` follows the status (``closedDate``/``closedBy`` are set when it closes and
cleared when it reopens) and cannot be patched; ``initialDescription`` & co. are taken on POST only
and kept aside (:func:`ticket_initial_text`; ``notes.py`` makes the first note of them). A
ticket's type/subtype/item and contact must belong to its board and company
(``classification.py``, ``contacts.py``). Plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..conditions import fold
from ..exceptions import InvalidObject, field_error
from . import classification, contacts
from . import resources as R
from .patch import patch
from .rendering import render
from .validation import check_active_refs, check_common, read_body, stamp

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend

Record = dict[str, Any]
FieldErrors = list[dict[str, str]]

#: Ticket fields a PATCH cannot change, and why.
_FIXED = {
    **{name: f"{name} is only available on POST." for name in R.TICKET_POST_ONLY},
    "closedFlag": "closedFlag follows the ticket's status: patch 'status' with a closed status of the board.",
}


def create_ticket(
    backend: ConnectWiseBackend, body: Mapping[str, Any], *, actor: str | None = None
) -> Record:
    """POST /service/tickets."""
    with backend.lock:
        record, changed, errors = read_body(backend, R.TICKETS, body)
        post_only = {k: body[k] for k in R.TICKET_POST_ONLY if isinstance(body.get(k), str)}
        for k in R.TICKET_POST_ONLY:
            record.pop(k, None)
        check_common(R.TICKETS, record, errors)
        _finish_ticket(backend, record, None, changed, errors, actor)
        changed |= {k for k in ("board", "status", "company", "priority") if record.get(k)}
        check_active_refs(backend, R.TICKETS, record, changed, errors)
        if errors:
            raise InvalidObject(R.TICKETS.label, errors)
        record["id"] = backend.tickets.new_id()
        stamp(backend, record, creating=True, actor=actor)
        backend.tickets.add(record)
        if post_only:
            backend.ticket_post_only[record["id"]] = post_only
        return render(backend, R.TICKETS, record)


def update_ticket(
    backend: ConnectWiseBackend, rid: int, operations: Any, *, actor: str | None = None
) -> Record:
    """PATCH /service/tickets/{id}."""
    return patch(backend, R.TICKETS, rid, operations, actor, fixed=_FIXED, finish=_finish_ticket)


def ticket_initial_text(backend: ConnectWiseBackend, ticket_id: int) -> dict[str, str]:
    """``initialDescription`` & co. as posted (the API never returns them; tests may look)."""
    with backend.lock:
        backend.get("tickets", ticket_id)
        return dict(backend.ticket_post_only.get(ticket_id, {}))


# ------------------------------------------------------------ what the server derives


def _finish_ticket(
    backend: ConnectWiseBackend,
    record: Record,
    previous: Record | None,
    changed: set[str],
    errors: FieldErrors,
    actor: str | None,
) -> None:
    """Defaults (on create), the board's default status, ``closedFlag``; the board/company rules."""
    creating = previous is None
    if creating:
        _set_defaults(backend, record)
    _follow_status(backend, record, previous, changed, errors, actor or backend.member_identifier)
    classification.check_ticket(backend, record, errors)
    contacts.check_ticket(backend, record, errors)


def _set_defaults(backend: ConnectWiseBackend, record: Record) -> None:
    record.setdefault("recordType", "ServiceTicket")
    record.setdefault("severity", "Medium")
    record.setdefault("impact", "Medium")
    if record.get("board") is None:
        board = next((b for b in backend.boards if not b.get("inactiveFlag")), None)
        if board is not None:
            record["board"] = {"id": board["id"]}
    if record.get("priority") is None:
        prio = next((p for p in backend.priorities if p.get("defaultFlag")), None)
        if prio is not None:
            record["priority"] = {"id": prio["id"]}


def _follow_status(
    backend: ConnectWiseBackend,
    record: Record,
    previous: Record | None,
    changed: set[str],
    errors: FieldErrors,
    actor: str,
) -> None:
    board_id = (record.get("board") or {}).get("id")
    if board_id is None:
        return
    if record.get("status") is None and (previous is None or "board" in changed):
        default = _default_status(backend, board_id)
        if default is not None:
            record["status"] = {"id": default["id"]}
            changed.add("status")
    status_id = (record.get("status") or {}).get("id")
    status = backend.board_statuses.get(status_id) if status_id is not None else None
    if status is not None and (status.get("board") or {}).get("id") != board_id:
        errors.append(
            field_error(
                "NotFound",
                f"Service Status {status_id} not found for Service Board {board_id}",
                R.TICKETS.label,
                "status/id",
            )
        )
        return
    if status is None:
        return
    closed = bool(status.get("closedStatus"))
    was_closed = bool(previous and previous.get("closedFlag"))
    record["closedFlag"] = closed
    if closed and not was_closed:
        record["closedDate"] = backend.now()
        record["closedBy"] = actor
    elif not closed:
        record.pop("closedDate", None)
        record.pop("closedBy", None)


def _by_sort_order(status: Record) -> tuple[int, int]:
    return (status.get("sortOrder") or 0, status["id"])


def _default_status(backend: ConnectWiseBackend, board_id: int) -> Record | None:
    statuses = [
        s
        for s in backend.board_statuses.matching(None, parent=("board/id", board_id))
        if not s.get("inactive") and not s.get("closedStatus")
    ]
    for s in statuses:
        if s.get("defaultFlag"):
            return s
    statuses.sort(key=_by_sort_order)
    return statuses[0] if statuses else None


# ------------------------------------------------------------ technician-driven transitions


def close_ticket(
    backend: ConnectWiseBackend, ticket_id: int, status_name: str | None = None, *, technician: str = "jtech"
) -> Record:
    """Simulate a technician closing a ticket in the ConnectWise UI.

    :param ticket_id: the ticket.
    :param status_name: a closed status of the ticket's board; default: the first closed one.
    :param technician: member identifier recorded as ``closedBy`` / ``updatedBy``.
    """
    return _technician_status(backend, ticket_id, status_name, technician, closed=True)


def reopen_ticket(
    backend: ConnectWiseBackend, ticket_id: int, status_name: str | None = None, *, technician: str = "jtech"
) -> Record:
    """Simulate a technician reopening a ticket (default: the board's default open status)."""
    return _technician_status(backend, ticket_id, status_name, technician, closed=False)


def _technician_status(
    backend: ConnectWiseBackend, ticket_id: int, status_name: str | None, technician: str, *, closed: bool
) -> Record:
    with backend.lock:
        ticket = backend.get("tickets", ticket_id)
        board_id = (ticket.get("board") or {}).get("id")
        statuses = [
            s
            for s in backend.board_statuses.matching(None, parent=("board/id", board_id))
            if bool(s.get("closedStatus")) == closed
        ]
        if status_name is not None:
            chosen = next((s for s in statuses if fold(s.get("name", "")) == fold(status_name)), None)
            if chosen is None:
                kind = "closed" if closed else "open"
                raise ValueError(f"board {board_id} has no {kind} status named {status_name!r}")
        else:
            active = sorted((s for s in statuses if not s.get("inactive")), key=_by_sort_order)
            defaults = [s for s in active if s.get("defaultFlag")]
            if not active:
                raise ValueError(f"board {board_id} has no {'closed' if closed else 'open'} status")
            chosen = defaults[0] if defaults and not closed else active[0]
        ops = [{"op": "replace", "path": "status", "value": {"id": chosen["id"]}}]
        return update_ticket(backend, ticket_id, ops, actor=technician)
