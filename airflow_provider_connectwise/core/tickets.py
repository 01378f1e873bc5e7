"""Ticket decisions: one ticket per external reference, reopen on recurrence, close once.

The seed: tickets created for a device land on the right board and status, linked to the
device's configuration; closing the alert closes the ticket. An alert id (or a self-service
request id) is the ticket's ``externalXRef``, so a retry, a rerun or a second delivery finds the
ticket it already opened instead of opening another. These functions decide; the operators
read and write through the hook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

SUMMARY_MAX = 100
EXTERNAL_REF_MAX = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

TicketAction = Literal["existing", "reopen", "create"]


class TicketInputError(ValueError):
    """A ticket request cannot be sent as given; the message names the field."""


@dataclass(frozen=True)
class TicketDecision:
    """What to do for one ticket request.

    :param action: ``existing`` (an open ticket already carries the reference), ``reopen`` (the
        last one closed within the reopen window), or ``create``.
    :param ticket: the ticket acted upon (None for ``create``).
    :param reason: one sentence for the task log.
    """

    action: TicketAction
    ticket: Mapping[str, Any] | None
    reason: str


def is_closed(ticket: Mapping[str, Any], closed_status_ids: Iterable[int] = ()) -> bool:
    """Whether a ticket is closed: ConnectWise's ``closedFlag``, or a status known to be closed.

    Shared by the sensor's poke and the trigger so both decide the same way.
    """
    if ticket.get("closedFlag"):
        return True
    status = ticket.get("status") or {}
    return isinstance(status, Mapping) and status.get("id") in set(closed_status_ids)


def closed_at(ticket: Mapping[str, Any]) -> dt.datetime | None:
    """When a closed ticket was closed (``closedDate``, else its last update), UTC."""
    raw = ticket.get("closedDate") or (ticket.get("_info") or {}).get("lastUpdated")
    return parse_datetime(raw) if raw else None


def parse_datetime(raw: str) -> dt.datetime | None:
    """Parse ConnectWise's ``YYYY-MM-DDTHH:MM:SSZ`` (UTC); None when unreadable."""
    try:
        value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def decide_ticket(
    existing: Iterable[Mapping[str, Any]],
    *,
    now: dt.datetime,
    reopen_window: dt.timedelta,
    closed_status_ids: Iterable[int] = (),
) -> TicketDecision:
    """Decide between returning an open ticket, reopening a recent one, or creating one.

    :param existing: tickets already carrying the external reference (same board).
    :param now: the current time (UTC).
    :param reopen_window: a ticket closed at most this long ago is reopened instead of a new one.
    :param closed_status_ids: statuses of the board that mean closed.
    """
    tickets = list(existing)
    closed_ids = list(closed_status_ids)
    open_tickets = sorted((t for t in tickets if not is_closed(t, closed_ids)), key=lambda t: t["id"])
    if open_tickets:
        first = open_tickets[0]
        extra = (
            f" ({len(open_tickets) - 1} more open with the same reference)" if len(open_tickets) > 1 else ""
        )
        return TicketDecision("existing", first, f"ticket #{first['id']} is already open{extra}")
    recent = [(when, t) for t in tickets if (when := closed_at(t)) is not None]
    if recent and reopen_window > dt.timedelta(0):
        when, last = max(recent, key=lambda pair: (pair[0], pair[1]["id"]))
        if now - when <= reopen_window:
            return TicketDecision(
                "reopen", last, f"ticket #{last['id']} closed {_ago(now - when)} ago: reopening it"
            )
    return TicketDecision("create", None, "no open ticket carries this reference")


def summary_text(text: Any, *, prefix: str = "") -> str:
    """A ticket summary: one line, no control characters, at most 100 characters.

    :param text: the summary as received (alert name, request subject).
    :param prefix: put in front (e.g. the device name), trimmed first if needed.
    :raises TicketInputError: when nothing printable is left.
    """
    line = clean_text(text, single_line=True)
    if prefix:
        line = (
            f"{clean_text(prefix, single_line=True)}: {line}"
            if line
            else clean_text(prefix, single_line=True)
        )
    if not line:
        raise TicketInputError("summary: empty after removing control characters")
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1].rstrip() + "…"


def external_ref_text(ref: Any) -> str:
    """Validate an external reference (alert id, request id) for ``externalXRef``.

    :raises TicketInputError: empty, over 100 characters, or holding control characters.
    """
    text = str(ref if ref is not None else "").strip()
    if not text:
        raise TicketInputError("external_ref: empty")
    if len(text) > EXTERNAL_REF_MAX:
        raise TicketInputError(f"external_ref: {len(text)} characters, ConnectWise allows {EXTERNAL_REF_MAX}")
    if _CONTROL.search(text) or "\n" in text or "\r" in text:
        raise TicketInputError(f"external_ref: {text[:40]!r} holds control characters")
    return text


def clean_text(text: Any, *, single_line: bool = False) -> str:
    """Normalise untrusted text: NFC, no control characters, trimmed (one line if asked)."""
    value = unicodedata.normalize("NFC", "" if text is None else str(text))
    value = _CONTROL.sub("", value)
    if single_line:
        value = " ".join(value.split())
    return value.strip()


def _ago(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


# --- monitoring alerts ---------------------------------------------------------------------------

RESOLVED = "resolved"


def wants_ticket(alert: Mapping[str, Any]) -> bool:
    """Whether an alert should open a ticket: its monitoring item asks for one, and it is not resolved."""
    return bool(alert.get("send_ticket")) and str(alert.get("status") or "").casefold() != RESOLVED


def is_resolved(alert: Mapping[str, Any]) -> bool:
    """Whether the MDM reports the alert resolved."""
    return str(alert.get("status") or "").casefold() == RESOLVED


def alert_ticket_request(alert: Mapping[str, Any]) -> dict[str, Any]:
    """The create-ticket arguments for one monitoring alert (untrusted text cleaned, id as reference).

    :param alert: an Addigy alert (``id``/``_id``, ``agentid``, ``name``, ``level``, ``category``,
        ``fact_identifier``, ``value``, ``created_date``).
    :raises TicketInputError: naming the alert and the field when the id or device is missing.
    """
    alert_id = alert.get("id") or alert.get("_id")
    if not alert_id:
        raise TicketInputError(f"alert {clean_text(alert.get('name'), single_line=True)!r}: id is missing")
    if not alert.get("agentid"):
        raise TicketInputError(f"alert {alert_id}: agentid is missing")
    name = clean_text(alert.get("name"), single_line=True) or "Monitoring alert"
    try:
        reference = external_ref_text(alert_id)
    except TicketInputError as exc:  # say which alert: the message only names the field
        device = clean_text(str(alert["agentid"]), single_line=True)
        raise TicketInputError(f"alert {name!r} on device {device}: {exc}") from None
    details = [
        f"Addigy monitoring alert: {name}",
        f"Level: {clean_text(alert.get('level'), single_line=True) or '-'}",
        f"Category: {clean_text(alert.get('category'), single_line=True) or '-'}",
        f"Fact: {clean_text(alert.get('fact_identifier'), single_line=True) or '-'}",
        f"Value: {clean_text(alert.get('value'), single_line=True) or '-'}",
        f"Raised: {clean_text(alert.get('created_date'), single_line=True) or '-'}",
        f"Alert id: {clean_text(alert_id, single_line=True)}",
    ]
    level = clean_text(alert.get("level"), single_line=True)
    return {
        "summary": summary_text(f"[{level or 'alert'}] {name}"),
        "description": "\n".join(details),
        "external_ref": reference,
        "agentid": str(alert["agentid"]),
        "severity": level or None,
    }


# --- notes on the ticket -------------------------------------------------------------------------

NoteVisibility = Literal["internal", "discussion"]
NOTE_VISIBILITIES = ("internal", "discussion")
_MARKER = re.compile(r"\[airflow-connectwise:([a-z-]+):([0-9a-f]{16})\]")


def note_marker(ref: str, event: str) -> str:
    """The line that makes a note findable again: its kind and a digest of the reference + event.

    A retry or a rerun reads the ticket's notes and writes a note only when no note carries its
    marker; the digest keeps untrusted reference text out of the note's last line.

    :param ref: the ticket's external reference (alert id, request id, notifier key).
    :param event: ``kind:key``, e.g. ``recurred:2025-01-06T09:00:00Z``; ``kind`` is lower-case.
    """
    kind = event.split(":", 1)[0]
    digest = hashlib.sha256(f"{ref}\x00{event}".encode()).hexdigest()[:16]
    return f"[airflow-connectwise:{kind}:{digest}]"


def markers_of(note: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``(kind, digest)`` markers a note's text carries (none for a technician's note)."""
    text = note.get("text")
    return _MARKER.findall(text) if isinstance(text, str) else []


def has_marker(notes: Iterable[Mapping[str, Any]], marker: str) -> bool:
    """Whether a note already carries ``marker`` (the note was written before)."""
    return any(isinstance(n.get("text"), str) and marker in n["text"] for n in notes)


def cycle_key(notes: Iterable[Mapping[str, Any]]) -> str:
    """Which open period of the ticket this is: the digest of its latest recurrence note, else
    ``first``. A resolution note is written once per period, however often the run repeats."""
    latest = "first"
    for note in sorted(notes, key=_note_order):
        for kind, digest in markers_of(note):
            if kind == "recurred":
                latest = digest
    return latest


def _note_order(note: Mapping[str, Any]) -> int:
    rid = note.get("id")
    return rid if isinstance(rid, int) and not isinstance(rid, bool) else 0


def note_body(text: str, visibility: str, *, resolution: bool = False) -> dict[str, Any]:
    """A ``ServiceNote`` body: internal (technicians only) or discussion (the customer sees it).

    :param text: the note, marker included.
    :param visibility: ``internal`` or ``discussion`` (a board setting).
    :param resolution: flag the note as the ticket's resolution.
    """
    if visibility not in NOTE_VISIBILITIES:
        raise TicketInputError(f"notes: must be one of {', '.join(NOTE_VISIBILITIES)}, not {visibility!r}")
    return {
        "text": text,
        "detailDescriptionFlag": visibility == "discussion",
        "internalAnalysisFlag": visibility == "internal",
        "resolutionFlag": resolution,
    }


def touched_reason(
    ticket: Mapping[str, Any], all_notes: Iterable[Mapping[str, Any]], *, open_status_id: int
) -> str | None:
    """Why a technician has worked the ticket, or None: it left the open status, or carries a
    note or a time entry the integration did not write.

    :param ticket: the ticket (``status/id``).
    :param all_notes: ``/allNotes`` of the ticket (``noteType``, ``text``, ``member``).
    :param open_status_id: the board's open status from the settings.
    """
    status = ticket.get("status") or {}
    if isinstance(status, Mapping) and status.get("id") not in (None, open_status_id):
        name = clean_text(status.get("name"), single_line=True) or f"id {status.get('id')}"
        return f"it was moved to status {name!r}"
    for note in all_notes:
        member = note.get("member")
        who = clean_text(member.get("identifier") if isinstance(member, Mapping) else None, single_line=True)
        who = who or "someone"
        if note.get("noteType") == "TimeEntryNote":
            return f"{who} logged time on it"
        if not markers_of(note):
            return f"{who} added a note"
    return None


def repeats_text(repeats: Iterable[Mapping[str, Any]]) -> tuple[str, str] | None:
    """The consolidated note for alerts that repeated inside the window, and its event key.

    :param repeats: the repeated alerts (``id``, ``created_date``, ``value``).
    """
    rows = sorted(
        (
            clean_text(r.get("created_date"), single_line=True) or "-",
            clean_text(r.get("value"), single_line=True)[:80] or "-",
            clean_text(r.get("id"), single_line=True),
        )
        for r in repeats
    )
    if not rows:
        return None
    key = hashlib.sha256("\x00".join(row[2] for row in rows).encode()).hexdigest()[:16]
    lines = [
        f"The alert repeated {len(rows)} more time{'s' if len(rows) > 1 else ''} ({rows[0][0]} to {rows[-1][0]}):"
    ]
    lines += [f"- {when}: value {value} (alert {aid})" for when, value, aid in rows[:50]]
    if len(rows) > 50:
        lines.append(f"- and {len(rows) - 50} more")
    return "\n".join(lines), f"repeats:{key}"


def group_repeats(
    alerts: Iterable[Mapping[str, Any]],
) -> list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]]:
    """Group alerts of one monitoring item on one device: the earliest opens the ticket, the
    others are its repeats (one consolidated note instead of a ticket or a note each).

    :param alerts: the alerts of a window that ask for a ticket, in any order.
    """
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for alert in alerts:
        key = (
            clean_text(alert.get("agentid"), single_line=True),
            clean_text(alert.get("name"), single_line=True).casefold(),
            clean_text(alert.get("fact_identifier"), single_line=True),
        )
        groups.setdefault(key, []).append(alert)
    out = []
    for members in groups.values():
        members = sorted(members, key=lambda a: (str(a.get("created_date") or ""), str(a.get("id") or "")))
        out.append((members[0], members[1:]))
    return out
