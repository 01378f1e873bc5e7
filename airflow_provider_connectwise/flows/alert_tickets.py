"""Monitoring alerts and their tickets: which alerts ask for a ticket, and the two-way sync.

:func:`alert_ticket_requests` turns the MDM's alerts of a data interval into ticket requests for
:func:`~airflow_provider_connectwise.flows.tickets.open_ticket` (repeats folded into one);
:func:`sync_alert_tickets` closes the tickets whose alert was resolved in the MDM and, when the
settings ask, resolves in the MDM the alerts whose ticket a technician closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from airflow_provider_connectwise.core.links import policy_allows
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.core.tickets import (
    TicketInputError,
    alert_ticket_request,
    clean_text,
    group_repeats,
    is_resolved,
    wants_ticket,
)
from airflow_provider_connectwise.flows.tickets import close_tickets
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook


def alert_ticket_requests(
    addigy: Any, *, start: dt.datetime, end: dt.datetime, modes: Mapping[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The ticket requests for the alerts raised in ``[start, end]`` whose monitoring item asks
    for a ticket, plus one problem line per alert that cannot become a ticket (the others go on).

    :param addigy: the MDM hook.
    :param start: the data interval's start (a backfill catches up on missed alerts).
    :param end: its end.
    :param modes: policy id -> link mode: alerts of devices in a policy linked "inventory only"
        or "paused" open no ticket.

    Alerts of one monitoring item on one device inside the window are one ticket request: the
    earliest opens the ticket, the others are its ``repeats`` (one consolidated note).
    """
    requests, problems = [], []
    held = agents_without_tickets(addigy, modes or {})
    wanted = [
        alert
        for alert in addigy.iter_alerts(start=start, end=end)
        if wants_ticket(alert) and str(alert.get("agentid") or "") not in held
    ]
    for alert, repeats in group_repeats(wanted):
        try:
            request = alert_ticket_request(alert)
        except TicketInputError as exc:
            problems.append(str(exc))
            continue
        if repeats:
            request["repeats"] = [
                {key: clean_text(r.get(key), single_line=True) for key in ("id", "created_date", "value")}
                for r in repeats
            ]
        requests.append(request)
    return requests, problems


def agents_without_tickets(addigy: Any, modes: Mapping[str, str]) -> set[str]:
    """The agent ids of devices in policies whose link does not allow tickets (inventory only, paused).

    Only those policies' devices are read (usually none or a few policies).

    :param addigy: the MDM hook.
    :param modes: policy id -> its link's mode (policies not named allow tickets).
    """
    held = sorted(policy for policy, mode in modes.items() if not policy_allows(mode, "tickets"))
    return {
        str(device.get("agentid"))
        for policy in held
        for device in addigy.list_policy_devices(policy, [])
        if device.get("agentid")
    }


def sync_alert_tickets(
    cw: ConnectWiseHook,
    addigy: Any,
    settings: ResolvedSettings,
    *,
    closed_since: dt.datetime | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Close the monitoring tickets whose alert is resolved in the MDM; with the setting
    ``resolve_alerts_in_mdm``, resolve in the MDM the alerts whose ticket a technician closed
    (since ``closed_since``).

    Reads the open monitoring tickets that carry a reference once, and their alerts once.
    """
    board = settings.monitoring
    open_tickets = [
        t for t in cw.find_tickets(board_id=board.board_id, open_only=True) if t.get("externalXRef")
    ]
    alerts = _alerts_by_id(addigy, [t["externalXRef"] for t in open_tickets])
    closed: list[dict[str, Any]] = []
    for ticket in open_tickets:
        alert = alerts.get(ticket["externalXRef"])
        if alert is not None and is_resolved(alert):
            closed += [
                o.to_dict()
                for o in close_tickets(
                    cw,
                    settings,
                    board="monitoring",
                    ticket_id=ticket["id"],
                    resolution="The alert was resolved in Addigy.",
                )
            ]
    resolved: list[dict[str, Any]] = []
    if settings.resolve_alerts_in_mdm:
        done = [
            t
            for t in cw.find_tickets(board_id=board.board_id, closed_only=True, updated_since=closed_since)
            if t.get("externalXRef")
        ]
        pending = [
            a for a in _alerts_by_id(addigy, [t["externalXRef"] for t in done]).values() if not is_resolved(a)
        ]
        if pending:
            addigy.resolve_alerts([a.get("id") or a.get("_id") for a in pending])
            resolved = [
                {"alert_id": a.get("id") or a.get("_id"), "agentid": a.get("agentid")} for a in pending
            ]
    return {"closed": closed, "resolved_in_mdm": resolved}


def _alerts_by_id(addigy: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        for alert in addigy.iter_alerts(ids=ids[start : start + 100]):
            found[str(alert.get("id") or alert.get("_id"))] = alert
    return found
