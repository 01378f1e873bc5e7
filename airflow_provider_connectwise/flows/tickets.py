"""Open, reopen and close tickets idempotently (the seed's ticket flow).

:func:`open_ticket` runs in small steps: the device and its company, the decision (an open
ticket of the reference, a recently closed one to reopen, or a new one), the body and the
create, the repeats' note, the device's configuration attached. :func:`close_tickets` writes the
resolution note, then the closed status (or a note only when a technician works the ticket).
The monitoring alerts' side (which alerts become tickets, the two-way sync) lives in
:mod:`~airflow_provider_connectwise.flows.alert_tickets`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_connectwise.core.mapping import render_management_link
from airflow_provider_connectwise.core.settings import ResolvedBoard, ResolvedSettings
from airflow_provider_connectwise.core.tickets import (
    TicketDecision,
    TicketInputError,
    clean_text,
    closed_at,
    cycle_key,
    decide_ticket,
    external_ref_text,
    is_closed,
    repeats_text,
    touched_reason,
)
from airflow_provider_connectwise.flows.notes import add_note, ticket_body
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

BOARD_KINDS = ("monitoring", "self_service")


@dataclass(frozen=True)
class TicketOutcome:
    """What happened to one ticket request (the operators' XCom).

    :param action: ``created``, ``reopened``, ``existing``, ``closed``, ``already_closed``,
        ``kept_open`` (a technician works the ticket: a note instead of closing) or ``not_found``.
    :param notes: the notes written on the ticket by this call (their first line each).
    """

    action: str
    ticket_id: int | None
    ticket_url: str | None
    company_id: int | None = None
    board_id: int | None = None
    configuration_id: int | None = None
    external_ref: str | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def board_of(settings: ResolvedSettings, kind: str) -> ResolvedBoard:
    """The monitoring or self-service board of the settings (steps 6-11)."""
    if kind not in BOARD_KINDS:
        raise TicketInputError(f"board: must be one of {', '.join(BOARD_KINDS)}, not {kind!r}")
    return settings.monitoring if kind == "monitoring" else settings.self_service


def locate_device(cw: ConnectWiseHook, settings: ResolvedSettings, agentid: str) -> dict[str, Any] | None:
    """The device's configuration written by the binding (ours, active first), or None.

    Its company is the company the device's policy is linked to, so tickets need no other
    look-up.
    """
    ours = [
        c
        for c in cw.find_configurations(None, agentid)
        if c.get("managementLink") == render_management_link(settings.management_link_template, agentid)
    ]
    ours.sort(key=lambda c: ((c.get("status") or {}).get("id") != settings.active_status_id, c["id"]))
    return ours[0] if ours else None


def resolve_company(cw: ConnectWiseHook, company: int | str) -> int:
    """A company id from an id or an identifier; refuses deleted or unknown companies."""
    if isinstance(company, int) or (isinstance(company, str) and company.strip().isdigit()):
        found = cw.find_companies(ids=[int(company)])
    else:
        found = [
            c
            for c in cw.find_companies(identifiers=[str(company)])
            if str(c.get("identifier", "")).casefold() == str(company).strip().casefold()
        ]
    found = [c for c in found if not c.get("deletedFlag")]
    if not found:
        raise TicketInputError(f"company: {company!r} is not an active ConnectWise company")
    return int(found[0]["id"])


def open_ticket(
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    *,
    board: str,
    summary: Any,
    description: Any = None,
    external_ref: Any = None,
    agentid: str | None = None,
    company: int | str | None = None,
    priority: str | None = None,
    service_type: str | None = None,
    subtype: str | None = None,
    severity: Any = None,
    repeats: list[dict[str, Any]] | None = None,
    requester_email: Any = None,
    reopen_window: dt.timedelta = dt.timedelta(hours=24),
    now: dt.datetime | None = None,
) -> TicketOutcome:
    """Open a ticket on the settings' board, or return/reopen the one the reference already has.

    :param cw: the ConnectWise hook.
    :param settings: resolved settings (board and open status).
    :param board: ``monitoring`` (alerts) or ``self_service`` (requests from the Self Service app).
    :param summary: the summary (trimmed to 100 characters).
    :param description: the initial description.
    :param external_ref: the alert id or request id (``externalXRef``): the idempotency key.
    :param agentid: the device; its configuration is attached and gives the company.
    :param company: the ConnectWise company (id or identifier) when the device has none.
    :param priority: priority name, e.g. ``Priority 3 - Normal Response`` (default: the board's
        priority for ``severity`` from the settings).
    :param service_type: service type name of the board (default: the settings').
    :param subtype: service subtype name of the board (default: the settings').
    :param severity: the alert's severity (``level``): picks the priority from the settings.
    :param repeats: alerts that repeated this one inside the window (one consolidated note).
    :param requester_email: the requesting user's e-mail: their contact is set when one matches.
    :param reopen_window: a ticket with the same reference closed this recently is reopened.
    :param now: the current time (tests).
    """
    target = board_of(settings, board)
    ref = external_ref_text(external_ref) if external_ref is not None else None
    configuration = locate_device(cw, settings, agentid) if agentid else None
    company_id = _company_of(cw, company, configuration, agentid)
    reused, found = None, None
    if ref is not None:
        decision = _decide(cw, target, ref, now=now, reopen_window=reopen_window)
        reused, found = _reuse(cw, target, decision, ref, summary, description, now), decision.ticket
    if reused is not None:
        ticket_id, action, message, written = reused
    else:
        body = ticket_body(
            cw,
            settings,
            target,
            company_id=company_id,
            summary=summary,
            description=description,
            ref=ref,
            overrides={"priority": priority, "type": service_type, "subType": subtype},
            severity=severity,
            requester_email=requester_email,
        )
        ticket_id = _create(cw, target, body, ref)
        action, message = "created", f"ticket #{ticket_id} opened on {target.board_name or target.board_id}"
        written = []
    written += _note_repeats(cw, target, ticket_id, ref, repeats)
    return TicketOutcome(
        action=action,
        ticket_id=ticket_id,
        ticket_url=cw.ticket_url(ticket_id),
        company_id=company_id,
        board_id=target.board_id,
        configuration_id=_attach_device(cw, ticket_id, configuration, company_id, found),
        external_ref=ref,
        message=message,
        notes=written,
    )


def _company_of(
    cw: ConnectWiseHook,
    company: int | str | None,
    configuration: Mapping[str, Any] | None,
    agentid: str | None,
) -> int:
    """The ticket's company: the one given, else the company of the device's configuration."""
    if company is not None:
        return resolve_company(cw, company)
    if configuration is not None:
        return int(configuration["company"]["id"])
    raise TicketInputError(
        f"company: device {agentid!r} has no ConnectWise configuration yet and no company was given"
        if agentid
        else "company: give a company or a device (agentid) whose configuration names it"
    )


def _decide(
    cw: ConnectWiseHook,
    target: ResolvedBoard,
    ref: str,
    *,
    now: dt.datetime | None,
    reopen_window: dt.timedelta,
) -> TicketDecision:
    """Return the open ticket of the reference, reopen a recently closed one, or create one."""
    return decide_ticket(
        cw.find_tickets(board_id=target.board_id, external_ref=ref),
        now=now or dt.datetime.now(dt.timezone.utc),
        reopen_window=reopen_window,
        closed_status_ids=[target.closed_status_id],
    )


def _reuse(
    cw: ConnectWiseHook,
    target: ResolvedBoard,
    decision: TicketDecision,
    ref: str,
    summary: Any,
    description: Any,
    now: dt.datetime | None,
) -> tuple[int, str, str, list[str]] | None:
    """The ticket the reference already has (open, or reopened now): its id, the action, the
    message and the notes written; None when a new ticket is to be created."""
    if decision.ticket is None or decision.action not in ("existing", "reopen"):
        return None
    ticket_id = int(decision.ticket["id"])
    if decision.action == "existing":
        return ticket_id, "existing", decision.reason, []
    message, written = _reopen(cw, target, decision.ticket, ref, summary, description, now)
    return ticket_id, "reopened", f"{decision.reason}: {message}", written


def _create(cw: ConnectWiseHook, target: ResolvedBoard, body: dict[str, Any], ref: str | None) -> int:
    """Create the ticket; after a lost answer the hook finds it again by its reference."""

    def find_existing() -> dict[str, Any] | None:
        tickets = cw.find_tickets(board_id=target.board_id, external_ref=ref)
        open_ones = sorted((t for t in tickets if not is_closed(t)), key=lambda t: t["id"])
        return open_ones[0] if open_ones else None

    created = cw.create_ticket(body, find_existing=find_existing if ref is not None else None)
    return int(created["id"])


def _note_repeats(
    cw: ConnectWiseHook,
    target: ResolvedBoard,
    ticket_id: int,
    ref: str | None,
    repeats: list[dict[str, Any]] | None,
) -> list[str]:
    """Write the one consolidated note of the alerts that repeated this one (its first line)."""
    consolidated = repeats_text(repeats or ())
    if consolidated is None or ref is None:
        return []
    text, event = consolidated
    if add_note(cw, ticket_id, ref=ref, event=event, text=text, visibility=target.notes):
        return [text.splitlines()[0]]
    return []


def _attach_device(
    cw: ConnectWiseHook,
    ticket_id: int,
    configuration: Mapping[str, Any] | None,
    company_id: int,
    found: Mapping[str, Any] | None,
) -> int | None:
    """Attach the device's configuration to the ticket unless it belongs to another company.

    Returns the configuration's id, or None when none is attached.

    :param found: the ticket found again by its reference (None when just created).
    """
    if configuration is None:
        return None
    device_company = int(configuration["company"]["id"])
    if device_company != company_id:
        return None  # a device of another company is not attached to this ticket
    # A ticket found again keeps its company: the device may have moved to another since.
    ticket_company = ((found or {}).get("company") or {}).get("id")
    if ticket_company is not None and device_company != int(ticket_company):
        return None
    configuration_id = int(configuration["id"])
    # "existing" too: an earlier try may have created the ticket, then lost the answer or failed
    # before attaching; the look-up keeps a re-delivery to one read.
    if configuration_id not in {c.get("id") for c in cw.list_ticket_configurations(ticket_id)}:
        cw.attach_configuration(ticket_id, configuration_id)
    return configuration_id


def _reopen(
    cw: ConnectWiseHook,
    target: ResolvedBoard,
    ticket: Mapping[str, Any],
    ref: str,
    summary: Any,
    description: Any,
    now: dt.datetime | None,
) -> tuple[str, list[str]]:
    """Reopen a recently closed ticket after a note saying the alert recurred (when, what)."""
    ticket_id = int(ticket["id"])
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    closed = closed_at(ticket)
    # The note before the status: a retry finds the ticket still closed, with the same closing
    # time, so the same marker (and no second note).
    text = (
        f"The alert recurred at {stamp}: {clean_text(summary, single_line=True)}\n{clean_text(description)}"
    )
    event = f"recurred:{closed.isoformat() if closed else ''}"
    written = add_note(cw, ticket_id, ref=ref, event=event, text=text, visibility=target.notes)
    cw.patch_ticket(ticket_id, {"status": {"id": target.open_status_id}})
    return f"{ref} recurred at {stamp}", [f"recurred at {stamp}"] if written else []


def close_tickets(
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    *,
    board: str,
    ticket_id: int | None = None,
    external_ref: Any = None,
    resolution: Any = None,
    keep_touched_open: bool | None = None,
) -> list[TicketOutcome]:
    """Set the board's closed status on a ticket (by id) or on every open ticket of a reference,
    after a resolution note saying what resolved it.

    Closing an already closed ticket is a success (``already_closed``); a reference with no
    ticket gives ``not_found``. A ticket a technician has worked (moved off the open status, a
    note or time of theirs) is not closed under them when the board keeps touched tickets open:
    a note says the alert was resolved instead (``kept_open``).

    :param cw: the ConnectWise hook.
    :param settings: resolved settings (closed status).
    :param board: ``monitoring`` or ``self_service``.
    :param ticket_id: the ticket to close.
    :param external_ref: or: close the tickets carrying this alert/request id.
    :param resolution: what resolved it (the resolution note's text).
    :param keep_touched_open: the touched-ticket rule (default: the board's setting).
    """
    target = board_of(settings, board)
    if ticket_id is None and external_ref is None:
        raise TicketInputError("ticket_id or external_ref: one of them is needed to close a ticket")
    ref = external_ref_text(external_ref) if external_ref is not None else None
    if ticket_id is not None:
        tickets = [cw.get_ticket(int(ticket_id))]
    else:
        tickets = sorted(cw.find_tickets(board_id=target.board_id, external_ref=ref), key=lambda t: t["id"])
    if not tickets:
        return [
            TicketOutcome(
                "not_found",
                None,
                None,
                board_id=target.board_id,
                external_ref=ref,
                message=f"no ticket carries {ref!r}",
            )
        ]
    keep = target.keep_touched_tickets_open if keep_touched_open is None else keep_touched_open
    outcomes = []
    for ticket in tickets:
        tid = int(ticket["id"])
        if is_closed(ticket, [target.closed_status_id]):
            outcomes.append(_closed(cw, ticket, "already_closed", ref, f"ticket #{tid} was already closed"))
            continue
        closed_status = _closed_status_for(ticket, target)
        outcomes.append(_close_one(cw, ticket, target, closed_status, ref, resolution, keep))
    return outcomes


def _close_one(
    cw: ConnectWiseHook,
    ticket: Mapping[str, Any],
    target: ResolvedBoard,
    closed_status: int,
    ref: str | None,
    resolution: Any,
    keep_touched_open: bool,
) -> TicketOutcome:
    """Close one open ticket after its resolution note, or leave a note when a technician works it."""
    tid = int(ticket["id"])
    key = ref or clean_text(ticket.get("externalXRef"), single_line=True) or f"ticket-{tid}"
    what = clean_text(resolution) or "Closed by the integration."
    notes = cw.list_ticket_all_notes(tid)
    cycle = cycle_key(notes)
    touched = (
        touched_reason(ticket, notes, open_status_id=target.open_status_id) if keep_touched_open else None
    )
    if touched is not None:
        text = f"{what}\nThe ticket stays open because {touched}: close it when the work is done."
        wrote = add_note(
            cw, tid, ref=key, event=f"kept-open:{cycle}", text=text, visibility=target.notes, notes=notes
        )
        message = f"ticket #{tid} left open: {touched}"
        return _closed(cw, ticket, "kept_open", ref, message, [text.splitlines()[0]] if wrote else [])
    # The note before the status: a retry finds the ticket still open and the note written.
    wrote = add_note(
        cw,
        tid,
        ref=key,
        event=f"resolved:{cycle}",
        text=what,
        visibility=target.notes,
        resolution=True,
        notes=notes,
    )
    cw.patch_ticket(tid, {"status": {"id": closed_status}})
    return _closed(
        cw, ticket, "closed", ref, f"ticket #{tid} closed: {what}", [what.splitlines()[0]] if wrote else []
    )


def _closed_status_for(ticket: Mapping[str, Any], target: ResolvedBoard) -> int:
    board_id = (ticket.get("board") or {}).get("id")
    if board_id not in (None, target.board_id):
        raise TicketInputError(
            f"ticket #{ticket['id']} is on board {board_id}, not on the configured board {target.board_id}: "
            "its closed status would not belong to its board"
        )
    return target.closed_status_id


def _closed(
    cw: ConnectWiseHook,
    ticket: Mapping[str, Any],
    action: str,
    ref: str | None,
    message: str,
    notes: list[str] | None = None,
) -> TicketOutcome:
    tid = int(ticket["id"])
    return TicketOutcome(
        action=action,
        ticket_id=tid,
        ticket_url=cw.ticket_url(tid),
        company_id=(ticket.get("company") or {}).get("id"),
        board_id=(ticket.get("board") or {}).get("id"),
        external_ref=ref or ticket.get("externalXRef"),
        message=message,
        notes=list(notes or []),
    )


#: Names that moved to :mod:`~airflow_provider_connectwise.flows.alert_tickets`, still
#: importable from here (that module imports this one, so they are looked up on first use).
_MOVED_TO_ALERT_TICKETS = ("agents_without_tickets", "alert_ticket_requests", "sync_alert_tickets")


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_ALERT_TICKETS:
        from airflow_provider_connectwise.flows import alert_tickets

        return getattr(alert_tickets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
