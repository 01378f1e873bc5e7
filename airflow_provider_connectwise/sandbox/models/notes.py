"""Ticket notes (``/service/tickets/{id}/notes``) and the merged ``/allNotes`` view.

Plain Python over the ConnectWise backend's collections. A note needs a text and one of the
Discussion / Internal / Resolution flags (ConnectWise refuses a note that shows nowhere). The
``initialDescription`` of a ticket becomes its first Discussion note, as on ConnectWise; it is
materialised the first time the ticket's notes are read. ``/allNotes`` also holds the time-entry
notes a technician logs (:func:`log_time`), so a client can see that someone worked a ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import BadRequest, InvalidObject, NotFound, field_error
from .patch import patch
from .resources import RefSpec, Resource
from .validation import read_body

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend, Record

MEMBER_REF = RefSpec(None, (("identifier", "identifier"), ("name", "name")), None, "member_href")

TICKET_NOTES = Resource(
    "ticket_notes",
    "serviceNote",
    "Service Note",
    "ServiceNote",
    "service/tickets/{ticket}/notes/{id}",
    refs={"member": MEMBER_REF, "contact": RefSpec(None, info_key="contact_href")},
    indexed=("ticketId",),
    parent=("ticketId", "Ticket"),
    display="text",
    first_id=300000,
)

ALL_NOTES = Resource(
    "ticket_all_notes",
    "ticketNote",
    "Ticket Note",
    "ServiceTicketNote",
    "service/tickets/{ticket}/allNotes/{id}",
    refs={
        "ticket": RefSpec("tickets", (("summary", "summary"),), None, "ticket_href"),
        "member": MEMBER_REF,
        "contact": RefSpec(None, info_key="contact_href"),
    },
    indexed=("ticket/id",),
    parent=("ticket/id", "Ticket"),
    display="text",
    first_id=300000,
)

RESOURCES = (TICKET_NOTES, ALL_NOTES)
FLAGS = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")
_MIRRORED = ("text", *FLAGS, "issueFlag", "member", "contact", "_info")


def _ticket(backend: ConnectWiseBackend, ticket_id: int) -> Record:
    ticket = backend.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket with id {ticket_id} not found.")
    return ticket


def materialise_initial(backend: ConnectWiseBackend, ticket_id: int) -> None:
    """Turn the ticket's ``initialDescription`` into its first Discussion note (once)."""
    ticket = _ticket(backend, ticket_id)
    done: set[int] = backend.__dict__.setdefault("initial_notes_made", set())
    text = backend.ticket_post_only.get(ticket_id, {}).get("initialDescription")
    if not text or ticket_id in done:
        return
    done.add(ticket_id)
    info = ticket.get("_info") or {}
    record: Record = {
        "id": backend.col(TICKET_NOTES.key).new_id(),
        "ticketId": ticket_id,
        "text": text,
        "detailDescriptionFlag": True,
        "internalAnalysisFlag": False,
        "resolutionFlag": False,
        "dateCreated": info.get("dateEntered") or backend.now(),
        "createdBy": info.get("enteredBy") or backend.member_identifier,
        "member": {"identifier": info.get("enteredBy") or backend.member_identifier},
    }
    record["_info"] = {"dateEntered": record["dateCreated"], "lastUpdated": record["dateCreated"]}
    _store(backend, record)


def _store(backend: ConnectWiseBackend, record: Record) -> None:
    backend.col(TICKET_NOTES.key).add(record)
    mirror = {k: record.get(k) for k in _MIRRORED}
    backend.col(ALL_NOTES.key).add(
        {"id": record["id"], "noteType": "TicketNote", "ticket": {"id": record["ticketId"]}, **mirror}
    )


def _check(record: Record, errors: list[dict[str, str]]) -> None:
    label = TICKET_NOTES.label
    if not isinstance(record.get("text"), str) or not record["text"].strip():
        errors.append(field_error("MissingRequiredField", "text is required.", label, "text"))
    if not any(record.get(flag) is True for flag in FLAGS):
        errors.append(
            field_error(
                "InvalidField",
                "At least one of detailDescriptionFlag, internalAnalysisFlag or resolutionFlag must be true.",
                label,
                "detailDescriptionFlag",
            )
        )


def create_note(
    backend: ConnectWiseBackend, ticket_id: int, body: Any, *, actor: str | None = None
) -> Record:
    """POST /service/tickets/{id}/notes."""
    if not isinstance(body, Mapping):
        raise BadRequest("The request body must be a JSON object.")
    with backend.lock:
        materialise_initial(backend, ticket_id)
        record, _, errors = read_body(backend, TICKET_NOTES, body)
        _check(record, errors)
        if errors:
            raise InvalidObject(TICKET_NOTES.label, errors)
        who = actor or backend.member_identifier
        now = backend.now()
        record.update(
            id=backend.col(TICKET_NOTES.key).new_id(),
            ticketId=ticket_id,
            dateCreated=now,
            createdBy=who,
            member={"identifier": who},
            _info={"dateEntered": now, "enteredBy": who, "lastUpdated": now, "updatedBy": who},
        )
        _store(backend, record)
        return backend.render(TICKET_NOTES, record)


def get_note(backend: ConnectWiseBackend, ticket_id: int, note_id: int) -> Record:
    """GET /service/tickets/{id}/notes/{noteId}."""
    with backend.lock:
        materialise_initial(backend, ticket_id)
        return backend.render(TICKET_NOTES, backend.get(TICKET_NOTES.key, note_id, parent_id=ticket_id))


def patch_note(
    backend: ConnectWiseBackend, ticket_id: int, note_id: int, operations: Any, *, actor: str | None = None
) -> Record:
    """PATCH /service/tickets/{id}/notes/{noteId} (JSON Patch); the flags rule still holds."""
    with backend.lock:
        materialise_initial(backend, ticket_id)
        backend.get(TICKET_NOTES.key, note_id, parent_id=ticket_id)
        rendered = patch(backend, TICKET_NOTES, note_id, operations, actor)
        record = backend.col(TICKET_NOTES.key).records[note_id]
        errors: list[dict[str, str]] = []
        _check(record, errors)
        if errors:
            raise InvalidObject(TICKET_NOTES.label, errors)
        mirror = dict(backend.col(ALL_NOTES.key).records[note_id])
        mirror.update({k: record.get(k) for k in _MIRRORED})
        backend.col(ALL_NOTES.key).put(mirror)
        return rendered


def delete_note(backend: ConnectWiseBackend, ticket_id: int, note_id: int) -> None:
    """DELETE /service/tickets/{id}/notes/{noteId}."""
    with backend.lock:
        materialise_initial(backend, ticket_id)
        backend.get(TICKET_NOTES.key, note_id, parent_id=ticket_id)
        backend.col(TICKET_NOTES.key).remove(note_id)
        backend.col(ALL_NOTES.key).remove(note_id)


# ---- technician-driven transitions (tests, the demo)


def add_technician_note(
    backend: ConnectWiseBackend,
    ticket_id: int,
    text: str,
    *,
    technician: str = "jtech",
    internal: bool = True,
) -> Record:
    """Simulate a technician writing a note on the ticket in the ConnectWise UI."""
    flag = "internalAnalysisFlag" if internal else "detailDescriptionFlag"
    return create_note(backend, ticket_id, {"text": text, flag: True}, actor=technician)


def log_time(backend: ConnectWiseBackend, ticket_id: int, text: str, *, technician: str = "jtech") -> Record:
    """Simulate a technician logging time on the ticket (a ``TimeEntryNote`` in ``/allNotes``)."""
    with backend.lock:
        _ticket(backend, ticket_id)
        now = backend.now()
        record: Record = {
            "id": backend.col(TICKET_NOTES.key).new_id(),
            "noteType": "TimeEntryNote",
            "ticket": {"id": ticket_id},
            "text": text,
            "detailDescriptionFlag": True,
            "timeStart": now,
            "timeEnd": now,
            "member": {"identifier": technician},
            "_info": {"dateEntered": now, "enteredBy": technician, "lastUpdated": now},
        }
        backend.col(ALL_NOTES.key).add(record)
        return backend.render(ALL_NOTES, record)


def notes_of(backend: ConnectWiseBackend, ticket_id: int) -> list[Record]:
    """Every note of a ticket as the API renders it (tests)."""
    with backend.lock:
        materialise_initial(backend, ticket_id)
        col = backend.col(TICKET_NOTES.key)
        return [backend.render(TICKET_NOTES, r) for r in col if r.get("ticketId") == ticket_id]
