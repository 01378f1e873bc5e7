"""Open and close ConnectWise tickets from alerting pipelines and Self Service requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from airflow_provider_connectwise.budget import ConnectWisePoolMixin
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.flows.alert_tickets import (
    alert_ticket_requests,
    sync_alert_tickets,
)
from airflow_provider_connectwise.flows.link_store import read_links
from airflow_provider_connectwise.flows.tickets import close_tickets, open_ticket
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.links import TICKET_URL_KEY, ConnectWiseTicketLink
from airflow_provider_connectwise.xcom import codebase_of, resolved_settings


class _TicketOperator(ConnectWisePoolMixin, BaseOperator):
    ui_color = "#2f6fb3"

    def __init__(
        self,
        *,
        settings: Mapping[str, Any] | str,
        board: str = "monitoring",
        connectwise_conn_id: str = ConnectWiseHook.default_conn_name,
        requests_per_minute: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.board = board
        self.connectwise_conn_id = connectwise_conn_id
        self.requests_per_minute = requests_per_minute  # default: the pool's share

    @cached_property
    def hook(self) -> ConnectWiseHook:
        return ConnectWiseHook(
            self.connectwise_conn_id,
            codebase=codebase_of(self.settings),
            requests_per_minute=self.connectwise_requests_per_minute(),
        )

    def resolved_settings(self) -> ResolvedSettings:
        return resolved_settings(self.settings)


class ConnectWiseCreateTicketOperator(_TicketOperator):
    """Open a ticket for a device on the monitoring or self-service board (idempotently).

    The board and its open status come from the validated settings, the company from the
    device's configuration (or ``company``), and the device's configuration is attached. With an
    ``external_ref`` (alert id, request id) a retry, a rerun or a second delivery returns the
    open ticket instead of opening another, and a recurrence within ``reopen_window`` reopens
    the last ticket.

    :param settings: the validated settings (``ConnectWiseValidateSettingsOperator``'s XCom).
    :param summary: ticket summary (templated; trimmed to 100 characters).
    :param description: initial description (templated).
    :param external_ref: the alert or request id stored in ``externalXRef`` (templated).
    :param agentid: the device's agent id (templated).
    :param company: ConnectWise company id or identifier, when the device gives none (templated).
    :param board: ``monitoring`` (alerts) or ``self_service`` (Self Service app requests).
    :param priority: priority name (templated).
    :param service_type: service type name (templated).
    :param subtype: service subtype name (templated).
    :param severity: the alert's severity; the settings map it to a priority (templated).
    :param repeats: alerts that repeated this one inside the window: one consolidated note.
    :param requester_email: the requesting user's e-mail; their contact is set on a new ticket
        when one of the company matches (templated).
    :param reopen_window: how recently a closed ticket may be reopened instead of a new one.
    :param connectwise_conn_id: the ``connectwise`` connection.
    """

    operator_extra_links = (ConnectWiseTicketLink(),)
    template_fields: Sequence[str] = (
        "settings",
        "summary",
        "description",
        "external_ref",
        "agentid",
        "company",
        "priority",
        "service_type",
        "subtype",
        "severity",
        "requester_email",
    )

    def __init__(
        self,
        *,
        summary: str,
        description: str | None = None,
        external_ref: str | None = None,
        agentid: str | None = None,
        company: int | str | None = None,
        priority: str | None = None,
        service_type: str | None = None,
        subtype: str | None = None,
        severity: str | None = None,
        repeats: list[dict[str, Any]] | None = None,
        requester_email: str | None = None,
        reopen_window: dt.timedelta = dt.timedelta(hours=24),
        # a signature default: .partial() reads it at parse time, so mapped tickets are named
        map_index_template: str | None = "{{ connectwise_ticket }}",
        **kwargs: Any,
    ) -> None:
        super().__init__(map_index_template=map_index_template, **kwargs)
        self.severity = severity
        self.repeats = repeats
        self.requester_email = requester_email
        self.summary = summary
        self.description = description
        self.external_ref = external_ref
        self.agentid = agentid
        self.company = company
        self.priority = priority
        self.service_type = service_type
        self.subtype = subtype
        self.reopen_window = reopen_window

    def execute(self, context: Any) -> dict[str, Any]:
        context["connectwise_ticket"] = self.external_ref or self.summary
        outcome = open_ticket(
            self.hook,
            self.resolved_settings(),
            board=self.board,
            summary=self.summary,
            description=self.description,
            external_ref=self.external_ref or None,
            agentid=self.agentid or None,
            company=self.company or None,
            priority=self.priority,
            service_type=self.service_type,
            subtype=self.subtype,
            severity=self.severity or None,
            repeats=self.repeats or None,
            requester_email=self.requester_email or None,
            reopen_window=self.reopen_window,
        )
        self.log.info("%s: %s", outcome.message, outcome.ticket_url)
        for note in outcome.notes:
            self.log.info("note written on ticket #%s: %s", outcome.ticket_id, note)
        context["ti"].xcom_push(key=TICKET_URL_KEY, value=outcome.ticket_url)
        return outcome.to_dict()


class ConnectWiseCloseTicketOperator(_TicketOperator):
    """Close a ticket (by id, or every open ticket of an alert/request id) with the board's closed status.

    Closing an already closed ticket is a success; a reference with no ticket is logged.

    :param settings: the validated settings (``ConnectWiseValidateSettingsOperator``'s XCom).
    :param ticket_id: the ticket to close (templated).
    :param external_ref: or the alert/request id whose tickets to close (templated).
    :param resolution: a resolution note (templated).
    :param board: ``monitoring`` or ``self_service``.
    :param connectwise_conn_id: the ``connectwise`` connection.
    """

    operator_extra_links = (ConnectWiseTicketLink(),)
    template_fields: Sequence[str] = ("settings", "ticket_id", "external_ref", "resolution")

    def __init__(
        self,
        *,
        ticket_id: int | str | None = None,
        external_ref: str | None = None,
        resolution: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ticket_id = ticket_id
        self.external_ref = external_ref
        self.resolution = resolution

    def execute(self, context: Any) -> list[dict[str, Any]]:
        outcomes = close_tickets(
            self.hook,
            self.resolved_settings(),
            board=self.board,
            ticket_id=int(self.ticket_id) if self.ticket_id not in (None, "") else None,
            external_ref=self.external_ref or None,
            resolution=self.resolution,
        )
        for outcome in outcomes:
            self.log.info("%s", outcome.message)
        urls = [o.ticket_url for o in outcomes if o.ticket_url]
        if urls:
            context["ti"].xcom_push(key=TICKET_URL_KEY, value=urls[0])
        return [o.to_dict() for o in outcomes]


class AddigyAlertTicketRequestsOperator(BaseOperator):
    """List the monitoring alerts of a time window that should open a ticket, as ticket requests.

    Only alerts whose monitoring item asks for a ticket and that are not resolved; each becomes
    ``{summary, description, external_ref, agentid}`` for ``ConnectWiseCreateTicketOperator``
    (``.expand_kwargs``). An alert that cannot become a ticket is logged; the others go on.

    :param start: window start (templated; default the run's data interval, so a backfill
        catches up on alerts missed during an outage — and from the end of the last successful
        run when later, so a run that left an alert without its ticket is finished by the next).
    :param end: window end (templated; default the data interval's end).
    :param lookback: the window when the data interval is empty (a manual run): the last ``lookback``.
    :param max_catch_up: how far back the window may reach to finish failed runs.
    :param settings: the validated settings (templated, optional): with them, alerts of devices
        in a policy linked "inventory only" or "paused" (the settings' ``policy_links`` or the
        links saved on the ConnectWise page) open no ticket.
    :param addigy_conn_id: the ``addigy`` connection.
    """

    template_fields: Sequence[str] = ("start", "end", "settings")
    ui_color = "#2f6fb3"

    def __init__(
        self,
        *,
        start: str | dt.datetime | None = None,
        end: str | dt.datetime | None = None,
        lookback: dt.timedelta = dt.timedelta(minutes=15),
        max_catch_up: dt.timedelta = dt.timedelta(hours=24),
        settings: Mapping[str, Any] | str | None = None,
        addigy_conn_id: str = AddigyHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.start = start
        self.end = end
        self.lookback = lookback
        self.max_catch_up = max_catch_up
        self.addigy_conn_id = addigy_conn_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        start, end = _window(context, self.start, self.end, self.lookback)
        if self.start is None:
            start = _catch_up(context, start, end, self.max_catch_up)
        requests, problems = alert_ticket_requests(
            AddigyHook(self.addigy_conn_id), start=start, end=end, modes=self._link_modes()
        )
        for problem in problems:
            self.log.warning("alert skipped: %s", problem)
        self.log.info("%d alerts between %s and %s ask for a ticket", len(requests), start, end)
        return requests

    def _link_modes(self) -> dict[str, str]:
        """Policy id -> link mode: the links saved in Airflow, then the settings' own (which win)."""
        if not self.settings:
            return {}
        stored, _ = read_links()
        modes = {policy: link.mode for policy, link in stored.items()}
        modes.update({link.policy_id: link.mode for link in resolved_settings(self.settings).policy_links})
        return modes


class ConnectWiseSyncAlertTicketsOperator(_TicketOperator):
    """Close monitoring tickets whose alert was resolved in the MDM ("closing an alert closes the
    ticket"); with the setting ``resolve_alerts_in_mdm``, resolve in the MDM the alerts whose ticket
    a technician closed.

    :param settings: the validated settings.
    :param closed_since: look at tickets closed since then (templated; default the data
        interval's start, or ``lookback`` before its end when the interval is empty).
    :param lookback: see ``closed_since``.
    :param addigy_conn_id: the ``addigy`` connection.
    """

    template_fields: Sequence[str] = ("settings", "closed_since")

    def __init__(
        self,
        *,
        closed_since: str | dt.datetime | None = None,
        lookback: dt.timedelta = dt.timedelta(minutes=15),
        addigy_conn_id: str = AddigyHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.closed_since = closed_since
        self.lookback = lookback
        self.addigy_conn_id = addigy_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        since, _ = _window(context, self.closed_since, None, self.lookback)
        outcome = sync_alert_tickets(
            self.hook, AddigyHook(self.addigy_conn_id), self.resolved_settings(), closed_since=since
        )
        for ticket in outcome["closed"]:
            self.log.info("%s (alert %s resolved)", ticket["message"], ticket["external_ref"])
        for alert in outcome["resolved_in_mdm"]:
            self.log.info("alert %s resolved in the MDM: its ticket was closed", alert["alert_id"])
        return outcome


def _window(
    context: Any, start: str | dt.datetime | None, end: str | dt.datetime | None, lookback: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    """The run's data interval (or the given bounds); an empty interval (a manual run) becomes
    the last ``lookback``."""
    end_at = _datetime(end or context.get("data_interval_end") or dt.datetime.now(dt.timezone.utc))
    start_at = _datetime(start or context.get("data_interval_start") or end_at)
    if start_at >= end_at:
        start_at = end_at - lookback
    return start_at, end_at


def _catch_up(context: Any, start: dt.datetime, end: dt.datetime, limit: dt.timedelta) -> dt.datetime:
    """Reach back to the end of the last successful run (at most ``limit`` before ``end``): the
    windows of failed runs in between are read again, so their alerts get their tickets (and an
    existing ticket its configuration)."""
    try:
        last_success = context.get("prev_data_interval_end_success")
        last_success = _datetime(last_success) if last_success else None
    except Exception:  # the lazy proxy asks the API server: no previous run known, own window
        last_success = None
    if last_success is None or last_success >= start:
        return start
    return max(last_success, end - limit)


def _datetime(value: str | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    import pendulum

    parsed = pendulum.parse(str(value))
    if not isinstance(parsed, dt.datetime):  # an ISO duration or interval parses, but is no time
        raise TypeError(f"{value!r} is not a date and time")
    return parsed
