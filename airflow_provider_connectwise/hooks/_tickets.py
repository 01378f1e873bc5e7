"""Tickets and their notes: creates, reads, patches, the look-up by ``externalXRef``, the async read.

An alert's reference comes from outside: :class:`~airflow_provider_connectwise.core.conditions.SafeQuery`
quotes it into ``conditions`` when it can, and every ticket the server returns is checked here to
carry exactly that reference, so a server that folds case, trims or treats it as a pattern never
hands over another alert's ticket. :meth:`~TicketMethods.aget_ticket` is the triggers' read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_provider_connectwise.core.conditions import (
    Condition,
    Field,
    SafeQuery,
    UnsafeConditionValue,
    joined,
)
from airflow_provider_connectwise.hooks._base import ConnectWiseBaseHook

TICKET_FIELDS = (
    "id",
    "summary",
    "board/id",
    "status/id",
    "status/name",
    "company/id",
    "externalXRef",
    "closedFlag",
    "closedDate",
    "_info/lastUpdated",
)
NOTE_FIELDS = "id,text,detailDescriptionFlag,internalAnalysisFlag,resolutionFlag,dateCreated,createdBy"
ALL_NOTE_FIELDS = "id,noteType,text,member/identifier,_info/dateEntered"


class TicketMethods(ConnectWiseBaseHook):
    """The ticket and note methods of :class:`~.connectwise.ConnectWiseHook`."""

    def create_ticket(
        self, body: Mapping[str, Any], *, find_existing: Callable[[], dict | None] | None = None
    ) -> dict[str, Any]:
        """Create a service ticket (``summary`` and ``company`` are required).

        :param body: the ticket; references as ``{"id": n}``.
        :param find_existing: looks the ticket up (e.g. by ``externalXRef``) if an earlier
            attempt's answer was lost.
        """
        return self._post("service/tickets", dict(body), find_existing)

    def get_ticket(self, ticket_id: int, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """One ticket by id (optionally only ``fields``)."""
        params = {"fields": ",".join(fields)} if fields else {}
        return self._get(f"service/tickets/{int(ticket_id)}", **params)

    async def aget_ticket(self, ticket_id: int, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """One ticket by id, without blocking the event loop."""
        params = {"fields": ",".join(fields)} if fields else {}
        return await self._aget(f"service/tickets/{int(ticket_id)}", **params)

    def patch_ticket(self, ticket_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the given top-level fields of a ticket (one JSON Patch)."""
        return self._patch(f"service/tickets/{int(ticket_id)}", changes)

    def find_tickets(
        self,
        *,
        board_id: int | None = None,
        company_id: int | None = None,
        external_ref: str | None = None,
        open_only: bool = False,
        closed_only: bool = False,
        updated_since: dt.datetime | None = None,
        fields: Iterable[str] = TICKET_FIELDS,
    ) -> list[dict[str, Any]]:
        """Tickets by board, company, ``externalXRef``, open/closed and last update (all pages).

        An external reference that cannot be quoted safely is matched in Python over the
        board/company query instead; a server-side match is re-checked in Python too, so a server
        that folds case or treats the value as a pattern never hands over another alert's ticket.

        :raises UnsafeConditionValue: for such a reference with nothing else to narrow the read.
        """
        parts: list[Condition | None] = [
            Field("board/id").eq(int(board_id)) if board_id is not None else None,
            Field("company/id").eq(int(company_id)) if company_id is not None else None,
            Field("closedFlag").eq(not open_only) if open_only or closed_only else None,
            Field("lastUpdated").ge(updated_since) if updated_since is not None else None,
        ]
        by_ref = SafeQuery.equal("externalXRef", external_ref) if external_ref is not None else None
        condition = joined(*parts, by_ref.clause if by_ref else None)
        if by_ref is not None and condition is None:
            raise UnsafeConditionValue(
                "an external reference holding quotes or backslashes needs a board or company "
                "to narrow the search"
            )
        params: dict[str, Any] = {"fields": ",".join(fields)}
        if condition is not None:
            params["conditions"] = str(condition)
        tickets = self._list("service/tickets", forward_only=True, **params)
        return [t for t in tickets if by_ref.keep(t)] if by_ref else tickets

    def attach_configuration(self, ticket_id: int, configuration_id: int) -> dict[str, Any]:
        """Link a configuration to a ticket."""
        wanted = int(configuration_id)
        return self._post(
            f"service/tickets/{int(ticket_id)}/configurations",
            {"id": wanted},
            lambda: next(
                (c for c in self.list_ticket_configurations(ticket_id) if c.get("id") == wanted), None
            ),
        )

    def list_ticket_configurations(self, ticket_id: int) -> list[dict[str, Any]]:
        """Configurations linked to a ticket."""
        return self._list(f"service/tickets/{int(ticket_id)}/configurations")

    # -- notes --------------------------------------------------------------------------------

    def list_ticket_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        """The notes of a ticket (text and flags), all pages."""
        return self._list(f"service/tickets/{int(ticket_id)}/notes", forward_only=True, fields=NOTE_FIELDS)

    def list_ticket_all_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every note of a ticket, time-entry and meeting notes included (``noteType``), all pages."""
        return self._list(
            f"service/tickets/{int(ticket_id)}/allNotes", forward_only=True, fields=ALL_NOTE_FIELDS
        )

    def create_ticket_note(
        self,
        ticket_id: int,
        body: Mapping[str, Any],
        *,
        find_existing: Callable[[], dict | None] | None = None,
    ) -> dict[str, Any]:
        """Add a note to a ticket (``text`` and a Discussion, Internal or Resolution flag).

        :param ticket_id: the ticket.
        :param body: the ``ServiceNote``.
        :param find_existing: looks the note up if an earlier attempt's answer was lost.
        """
        return self._post(f"service/tickets/{int(ticket_id)}/notes", dict(body), find_existing)
