"""What the integration writes on a ticket besides its status: notes (once each) and the body of
a new ticket (board, status, company, classification and contact from the settings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_connectwise.core.catalogue import Catalogue, CatalogueError, Contact
from airflow_provider_connectwise.core.settings import ResolvedBoard, ResolvedSettings
from airflow_provider_connectwise.core.tickets import (
    clean_text,
    has_marker,
    note_body,
    note_marker,
    summary_text,
)
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook


def add_note(
    cw: ConnectWiseHook,
    ticket_id: int,
    *,
    ref: str,
    event: str,
    text: str,
    visibility: str,
    resolution: bool = False,
    notes: list[dict[str, Any]] | None = None,
) -> bool:
    """Write a note once: nothing when a note already carries its marker (a retry, a rerun, an
    answer lost after the write). Returns whether a note was written.

    :param cw: the ConnectWise hook.
    :param ticket_id: the ticket.
    :param ref: the ticket's external reference.
    :param event: ``kind:key`` (see :func:`~..core.tickets.note_marker`).
    :param text: the note (cleaned here; the marker is appended).
    :param visibility: ``internal`` or ``discussion``.
    :param resolution: flag it as the resolution.
    :param notes: the ticket's ``/allNotes`` when already read.
    """
    marker = note_marker(ref, event)
    if has_marker(notes if notes is not None else cw.list_ticket_all_notes(ticket_id), marker):
        return False

    def find_existing() -> dict[str, Any] | None:
        return next((n for n in cw.list_ticket_notes(ticket_id) if has_marker([n], marker)), None)

    body = note_body(f"{clean_text(text)}\n\n{marker}", visibility, resolution=resolution)
    cw.create_ticket_note(ticket_id, body, find_existing=find_existing)
    return True


def _contact_for(
    cw: ConnectWiseHook, settings: ResolvedSettings, company_id: int, requester_email: Any
) -> int | None:
    """The requesting user's contact when one of the company matches the e-mail, else the
    company's default contact from the settings."""
    email = clean_text(requester_email, single_line=True).casefold() if requester_email else ""
    if email and "@" in email:
        matches = [
            c
            for c in _contacts(cw.find_contacts([company_id]))
            if not c.inactive and any(e.casefold() == email for e in c.emails)
        ]
        if len(matches) == 1:
            return matches[0].id
    return settings.default_contacts.get(company_id)


def _contacts(records: list[dict[str, Any]]) -> list[Contact]:
    """The contacts that can be read; a malformed record is skipped (it is not this ticket's)."""
    out: list[Contact] = []
    for record in records:
        try:
            out += Catalogue.from_connectwise(contacts=[record]).contacts
        except CatalogueError:
            continue
    return out


def ticket_body(
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    target: ResolvedBoard,
    *,
    company_id: int,
    summary: Any,
    description: Any,
    ref: str | None,
    overrides: Mapping[str, Any],
    severity: Any,
    requester_email: Any,
) -> dict[str, Any]:
    """The POST body of a new ticket: board, open status, company, classification, contact."""
    body: dict[str, Any] = {
        "summary": summary_text(summary),
        "board": {"id": target.board_id},
        "status": {"id": target.open_status_id},
        "company": {"id": company_id},
    }
    text = clean_text(description) if description is not None else ""
    if text:
        # ConnectWise turns the description into the first note: the marker says it is ours, so
        # the touched-ticket rule does not take it for a technician's note.
        body["initialDescription"] = f"{text}\n\n{note_marker(ref or '', 'opened:')}"
    if ref is not None:
        body["externalXRef"] = ref
    resolved = {
        "priority": target.priority_for(severity),
        "type": target.type_id,
        "subType": target.subtype_id,
        "item": target.item_id,
    }
    for key, value in resolved.items():
        if overrides.get(key):  # a name given to the operator wins over the settings
            body[key] = {"name": clean_text(overrides[key], single_line=True)}
        elif value is not None:
            body[key] = {"id": value}
    if isinstance(target.source, int):
        body["source"] = {"id": target.source}
    elif target.source:
        body["source"] = {"name": clean_text(target.source, single_line=True)}
    contact = _contact_for(cw, settings, company_id, requester_email)
    if contact is not None:
        body["contact"] = {"id": contact}
    return body
