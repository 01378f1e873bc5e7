"""The settings with every name resolved to its id: what the sync reads and XCom carries.

:class:`ResolvedSettings` (with its :class:`ResolvedBoard` per service board and its explicit
:class:`ResolvedPolicyLink` entries) is the contract between "the switch" and every task after
it: ``to_dict()``/``from_dict()`` is the XCom form. ``resolution`` builds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_connectwise.core.links import DEFAULT_MODE
from airflow_provider_connectwise.core.mapping import DEFAULT_FIELD_MAPPING, DEFAULT_MANAGEMENT_LINK_TEMPLATE
from airflow_provider_connectwise.core.settings.document import is_number
from airflow_provider_connectwise.core.type_rules import ResolvedTypeRule

__all__ = ["ResolvedBoard", "ResolvedPolicyLink", "ResolvedSettings"]


@dataclass(frozen=True)
class ResolvedBoard:
    """A service board, its open and closed ticket statuses and its tickets' classification, by
    id (names for logs); ``priority_by_severity`` maps a case-folded severity to a priority id."""

    board_id: int
    open_status_id: int
    closed_status_id: int
    board_name: str = ""
    open_status_name: str = ""
    closed_status_name: str = ""
    type_id: int | None = None
    subtype_id: int | None = None
    item_id: int | None = None
    priority_id: int | None = None
    priority_by_severity: dict[str, int] = field(default_factory=dict)
    source: int | str | None = None
    notes: str = "internal"
    keep_touched_tickets_open: bool = True

    def priority_for(self, severity: Any) -> int | None:
        """The priority id for an alert severity (the board's priority when none is mapped)."""
        key = str(severity).strip().casefold() if severity not in (None, "") else None
        return self.priority_by_severity.get(key, self.priority_id) if key else self.priority_id


@dataclass(frozen=True)
class ResolvedPolicyLink:
    """An explicit policy -> company link, by company id (identifier and name for logs)."""

    policy_id: str
    company_id: int
    company_identifier: str = ""
    company_name: str = ""
    #: a site of the company (checked to be the company's when the links are listed)
    site_id: int | None = None
    mode: str = DEFAULT_MODE


def _board_dict(board: ResolvedBoard) -> dict[str, Any]:
    return {**vars(board), "priority_by_severity": dict(board.priority_by_severity)}


def _mdm_company_id(value: Any) -> int | None:
    # Addigy's Policy.connectwise_account_id: an integer, 0 or absent when the policy is not linked.
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and is_number(value.strip()):
        value = int(value.strip())
    return value if isinstance(value, int) and value > 0 else None


@dataclass(frozen=True)
class ResolvedSettings:
    """The settings with every name resolved to its id: what the sync reads (and XCom carries)."""

    monitoring: ResolvedBoard
    self_service: ResolvedBoard
    active_status_id: int
    inactive_status_id: int
    default_type_id: int
    type_rules: tuple[ResolvedTypeRule, ...] = ()
    policy_links: tuple[ResolvedPolicyLink, ...] = ()
    use_mdm_links: bool = True
    #: ConnectWise field -> fact identifier, defaults applied, switched-off fields left out
    field_mapping: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELD_MAPPING))
    protected_fields: tuple[str, ...] = ()
    adopt_by_serial: bool = True
    management_link_template: str = DEFAULT_MANAGEMENT_LINK_TEMPLATE
    resolve_alerts_in_mdm: bool = False
    #: company id -> contact id set on the company's new tickets
    default_contacts: dict[int, int] = field(default_factory=dict)
    active_status_name: str = ""
    inactive_status_name: str = ""
    default_type_name: str = ""
    #: things that work but deserve a look (logged by the caller)
    warnings: tuple[str, ...] = ()

    def explicit_link(self, policy_id: str) -> ResolvedPolicyLink | None:
        """The settings' own ``policy_links`` entry for a policy (``None`` when there is none).

        :param policy_id: the MDM policy id.
        """
        return next((link for link in self.policy_links if link.policy_id == str(policy_id)), None)

    def company_for_policy(self, policy_id: str, mdm_company_id: Any = None) -> int | None:
        """Return the ConnectWise company id a policy is linked to, ``None`` when it is not linked.

        An explicit ``policy_links`` entry wins; otherwise, with ``use_mdm_links``, the company the
        MDM records on the policy (``Policy.connectwise_account_id``) when it is a positive id.

        :param policy_id: the MDM policy id.
        :param mdm_company_id: the policy's ``connectwise_account_id`` as the MDM returned it.
        """
        for link in self.policy_links:
            if link.policy_id == str(policy_id):
                return link.company_id
        return _mdm_company_id(mdm_company_id) if self.use_mdm_links else None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (the XCom shape)."""
        return {
            "monitoring": _board_dict(self.monitoring),
            "self_service": _board_dict(self.self_service),
            "active_status_id": self.active_status_id,
            "active_status_name": self.active_status_name,
            "inactive_status_id": self.inactive_status_id,
            "inactive_status_name": self.inactive_status_name,
            "default_type_id": self.default_type_id,
            "default_type_name": self.default_type_name,
            "type_rules": [rule.to_dict() for rule in self.type_rules],
            "policy_links": [vars(link).copy() for link in self.policy_links],
            "use_mdm_links": self.use_mdm_links,
            "field_mapping": dict(self.field_mapping),
            "protected_fields": list(self.protected_fields),
            "adopt_by_serial": self.adopt_by_serial,
            "management_link_template": self.management_link_template,
            "resolve_alerts_in_mdm": self.resolve_alerts_in_mdm,
            "default_contacts": {str(k): v for k, v in self.default_contacts.items()},
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResolvedSettings:
        """Rebuild resolved settings from :meth:`to_dict` output.

        :param data: the dict (e.g. pulled from XCom).
        """
        return cls(
            monitoring=ResolvedBoard(**data["monitoring"]),
            self_service=ResolvedBoard(**data["self_service"]),
            active_status_id=data["active_status_id"],
            active_status_name=data.get("active_status_name", ""),
            inactive_status_id=data["inactive_status_id"],
            inactive_status_name=data.get("inactive_status_name", ""),
            default_type_id=data["default_type_id"],
            default_type_name=data.get("default_type_name", ""),
            type_rules=tuple(ResolvedTypeRule.from_dict(rule) for rule in data.get("type_rules", ())),
            policy_links=tuple(ResolvedPolicyLink(**link) for link in data.get("policy_links", ())),
            use_mdm_links=data.get("use_mdm_links", True),
            field_mapping=dict(data.get("field_mapping", DEFAULT_FIELD_MAPPING)),
            protected_fields=tuple(data.get("protected_fields", ())),
            adopt_by_serial=data.get("adopt_by_serial", True),
            management_link_template=data.get("management_link_template", DEFAULT_MANAGEMENT_LINK_TEMPLATE),
            resolve_alerts_in_mdm=bool(data.get("resolve_alerts_in_mdm", False)),
            default_contacts={int(k): int(v) for k, v in (data.get("default_contacts") or {}).items()},
            warnings=tuple(data.get("warnings", ())),
        )
