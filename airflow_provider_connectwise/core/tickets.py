"""Ticket decisions: one ticket per external reference, reopen on recurrence, close once.

The seed: tickets created for a device land on the right board and status, linked to the
device's configuration; closing the alert closes the ticket. An alert id (or a self-service
request id) is the ticket's ``externalXRef``, so a retry, a rerun or a second delivery finds the
ticket it already opened instead of opening another. These functions decide; the operators
read and write through the hook.
"""

from __future__ import annotations

import datetime as dt
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
    recent = [(closed_at(t), t) for t in tickets]
    recent = [(when, t) for when, t in recent if when is not None]
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
    return {
        "summary": summary_text(f"[{clean_text(alert.get('level'), single_line=True) or 'alert'}] {name}"),
        "description": "\n".join(details),
        "external_ref": reference,
        "agentid": str(alert["agentid"]),
    }
