"""The settings catalogue ("Next"): boards, statuses, configuration types, priorities, classification.

What the settings name is resolved against; every read is one paged list with only the fields
the catalogue uses.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_connectwise.hooks._base import ConnectWiseBaseHook


class CatalogueMethods(ConnectWiseBaseHook):
    """The catalogue reads of :class:`~.connectwise.ConnectWiseHook`."""

    def list_boards(self) -> list[dict[str, Any]]:
        """Service boards (``id``, ``name``, ``inactiveFlag`` …)."""
        return self._list("service/boards", fields="id,name,inactiveFlag")

    def list_board_statuses(self, board_id: int) -> list[dict[str, Any]]:
        """Statuses of one board (``name``, ``closedStatus``, ``inactive``, ``defaultFlag`` …)."""
        return self._list(
            f"service/boards/{int(board_id)}/statuses",
            fields="id,name,board/id,closedStatus,inactive,defaultFlag,sortOrder",
        )

    def list_configuration_statuses(self) -> list[dict[str, Any]]:
        """Configuration statuses (``description``, ``closedFlag``, ``defaultFlag``)."""
        return self._list("company/configurations/statuses", fields="id,description,closedFlag,defaultFlag")

    def list_configuration_types(self) -> list[dict[str, Any]]:
        """Configuration types (``name``, ``inactiveFlag``, ``systemFlag``)."""
        return self._list("company/configurations/types", fields="id,name,inactiveFlag,systemFlag")

    def list_configuration_type_questions(self, type_id: int) -> list[dict[str, Any]]:
        """Questions of a configuration type (``requiredFlag``, ``inactiveFlag`` …)."""
        return self._list(
            f"company/configurations/types/{int(type_id)}/questions",
            fields="id,question,requiredFlag,inactiveFlag,fieldType,entryType",
        )

    def list_priorities(self) -> list[dict[str, Any]]:
        """Ticket priorities (``name``, ``level``, ``defaultFlag``)."""
        return self._list("service/priorities", fields="id,name,level,sortOrder,defaultFlag")

    def list_board_classification(self, board_id: int, kind: str) -> list[dict[str, Any]]:
        """The ticket ``types``, ``subtypes`` or ``items`` of a board (``name``, ``inactiveFlag``)."""
        if kind not in ("types", "subtypes", "items"):
            raise ValueError(f"kind must be types, subtypes or items, not {kind!r}")
        return self._list(f"service/boards/{int(board_id)}/{kind}", fields="id,name,inactiveFlag")
