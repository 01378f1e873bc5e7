"""Wait in the triggerer until a ConnectWise ticket is closed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_connectwise.core.tickets import is_closed
from airflow_provider_connectwise.exceptions import ApiError

TICKET_STATE_FIELDS = ("id", "closedFlag", "status/id", "status/name")


class ConnectWiseTicketClosedTrigger(BaseTrigger):
    """Poll a ticket until it is closed, the deadline passes, or ConnectWise refuses.

    Fires one event ``{"status": "closed" | "timeout" | "error", "message", "ticket_id",
    "ticket_status"}``.

    :param ticket_id: the ticket to watch.
    :param connectwise_conn_id: the ``connectwise`` connection.
    :param poll_interval: seconds between polls.
    :param deadline: absolute UNIX time after which a ``timeout`` event fires.
    :param closed_status_ids: extra statuses of the board that mean closed.
    """

    def __init__(
        self,
        *,
        ticket_id: int,
        connectwise_conn_id: str,
        poll_interval: float,
        deadline: float,
        closed_status_ids: list[int] | None = None,
    ) -> None:
        super().__init__()
        self.ticket_id = int(ticket_id)
        self.connectwise_conn_id = connectwise_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline)
        self.closed_status_ids = list(closed_status_ids or [])

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_connectwise.triggers.tickets.ConnectWiseTicketClosedTrigger",
            {
                "ticket_id": self.ticket_id,
                "connectwise_conn_id": self.connectwise_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "closed_status_ids": self.closed_status_ids,
            },
        )

    def _hook(self):
        from airflow_provider_connectwise.budget import configured_budget
        from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

        # triggers run outside every pool: all ConnectWise triggers of this triggerer share the
        # reserved [connectwise] trigger_requests_per_minute
        return ConnectWiseHook(
            self.connectwise_conn_id, requests_per_minute=configured_budget().trigger_share()
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        while True:
            try:
                ticket = await hook.aget_ticket(self.ticket_id, fields=TICKET_STATE_FIELDS)
            except (ApiError, ValueError) as exc:
                yield self._event("error", str(exc))
                return
            status_name = (ticket.get("status") or {}).get("name")
            if is_closed(ticket, self.closed_status_ids):
                yield self._event(
                    "closed", f"ticket #{self.ticket_id} is closed ({status_name})", status_name
                )
                return
            remaining = self.deadline - time.time()
            if remaining <= 0:
                yield self._event(
                    "timeout", f"ticket #{self.ticket_id} still open ({status_name})", status_name
                )
                return
            await asyncio.sleep(min(self.poll_interval, remaining))

    def _event(self, status: str, message: str, ticket_status: str | None = None) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "message": message,
                "ticket_id": self.ticket_id,
                "ticket_status": ticket_status,
            }
        )
