"""Wait until a ConnectWise ticket is closed (a technician resolved it)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout, AirflowSkipException

from airflow_provider_connectwise.budget import ConnectWisePoolMixin
from airflow_provider_connectwise.core.tickets import is_closed
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.triggers.tickets import TICKET_STATE_FIELDS, ConnectWiseTicketClosedTrigger


class ConnectWiseTicketClosedSensor(ConnectWisePoolMixin, BaseSensorOperator):
    """Wait until a ticket reaches a closed status.

    With ``deferrable=True`` the wait is handed to the triggerer, which polls without blocking
    its event loop; the worker slot is freed meanwhile.

    :param ticket_id: the ticket to watch (templated; e.g. the create operator's XCom); empty:
        nothing to wait for, the task skips.
    :param connectwise_conn_id: the ``connectwise`` connection.
    :param closed_status_ids: statuses that mean closed besides ConnectWise's ``closedFlag``.
    :param deferrable: wait in the triggerer instead of a worker slot.
    """

    template_fields: Sequence[str] = ("ticket_id",)
    ui_color = "#2f6fb3"

    def __init__(
        self,
        *,
        ticket_id: int | str,
        connectwise_conn_id: str = ConnectWiseHook.default_conn_name,
        closed_status_ids: Sequence[int] = (),
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ticket_id = ticket_id
        self.connectwise_conn_id = connectwise_conn_id
        self.closed_status_ids = list(closed_status_ids)
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> ConnectWiseHook:
        return ConnectWiseHook(
            self.connectwise_conn_id, requests_per_minute=self.connectwise_requests_per_minute()
        )

    def poke(self, context: Any) -> bool:
        ticket = self.hook.get_ticket(int(self.ticket_id), fields=TICKET_STATE_FIELDS)
        closed = is_closed(ticket, self.closed_status_ids)
        self.log.info(
            "ticket #%s is %s (%s)",
            self.ticket_id,
            "closed" if closed else "open",
            (ticket.get("status") or {}).get("name"),
        )
        return closed

    def execute(self, context: Any) -> Any:
        if self.ticket_id in (None, ""):  # a template that chose not to wait (e.g. a form's switch)
            raise AirflowSkipException("no ticket to wait for")
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):  # already closed: no need to occupy the triggerer
            return None
        self.defer(
            trigger=ConnectWiseTicketClosedTrigger(
                ticket_id=int(self.ticket_id),
                connectwise_conn_id=self.connectwise_conn_id,
                poll_interval=self.poke_interval,
                deadline=time.time() + self.timeout,
                closed_status_ids=self.closed_status_ids,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: succeed when closed, fail with its message otherwise."""
        status = event.get("status")
        if status == "closed":
            self.log.info(event.get("message"))
            return event
        if status == "timeout":
            raise AirflowSensorTimeout(event.get("message"))
        raise AirflowException(event.get("message") or f"unexpected trigger event {event!r}")
