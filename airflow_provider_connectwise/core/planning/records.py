"""The plan's records: the scope of a run, one device's action, a company's plan, a batch.

Each record has a JSON-safe ``to_dict`` (the XCom shape) and a ``from_dict`` that rebuilds it.
:class:`DeviceRecord` holds the fields an action shares with its result
(``core.apply.DeviceResult``), so both read and write them one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_connectwise.core import printable

__all__ = [
    "ACTIONS",
    "WRITE_ACTIONS",
    "Action",
    "Batch",
    "CompanyPlan",
    "DeviceAction",
    "DeviceRecord",
    "Scope",
    "tally",
]

Action = Literal["create", "update", "deactivate", "none", "fail"]
ACTIONS: tuple[str, ...] = ("create", "update", "deactivate", "none", "fail")
WRITE_ACTIONS: tuple[str, ...] = ("create", "update", "deactivate")


def tally(values: Iterable[str], keys: Iterable[str]) -> dict[str, int]:
    """Count each value; every key is present, zeros included, in the order of ``keys``.

    :param values: the values counted (e.g. every action's ``action``); each must be a key.
    :param keys: the possible values (e.g. :data:`ACTIONS`).
    """
    counts = dict.fromkeys(keys, 0)
    for value in values:
        counts[value] += 1
    return counts


# --- the scope of a run ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which configurations a run may deactivate: only those of companies whose complete device set it holds.

    A run that lists every policy of the MDM (the scheduled binding) holds the complete device set of
    every company: of the linked ones (all their policies' devices are read) and of those no policy
    links to any more (none), so it may also sweep the latter. A run of some policies only (a manual
    sync of one policy reads every policy linked to that policy's company) holds just those companies.
    Devices handed over by another pipeline hold no company unless the caller says so. The default
    scope deactivates nothing.

    :param all_policies: the run lists every MDM policy.
    :param companies: companies whose complete device set the run holds (besides ``all_policies``).
    """

    all_policies: bool = False
    companies: frozenset[int] = frozenset()

    def holds(self, company_id: int) -> bool:
        """Return whether the run holds the complete device set of this company.

        :param company_id: a ConnectWise company id.
        """
        return self.all_policies or company_id in self.companies

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (the XCom shape)."""
        return {"all_policies": self.all_policies, "companies": sorted(self.companies)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Scope:
        """Rebuild a scope from :meth:`to_dict` output; ``None`` or junk is the empty scope.

        :param data: the dict.
        """
        if not isinstance(data, Mapping):
            return cls()
        companies = data.get("companies") or ()
        return cls(
            all_policies=data.get("all_policies") is True,
            companies=frozenset(c for c in companies if isinstance(c, int) and not isinstance(c, bool)),
        )


# --- the records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceRecord:
    """What a device's action and its result (``core.apply.DeviceResult``) both carry."""

    agentid: str | None
    device_name: str
    policy_ids: tuple[str, ...]
    company_id: int
    action: str
    configuration_id: int | None

    def _record_dict(self) -> dict[str, Any]:
        """The shared fields in their JSON-safe form, in the XCom order."""
        return {
            "agentid": self.agentid,
            "device_name": self.device_name,
            "policy_ids": list(self.policy_ids),
            "company_id": self.company_id,
            "action": self.action,
            "configuration_id": self.configuration_id,
        }

    @staticmethod
    def _record_kwargs(data: Mapping[str, Any]) -> dict[str, Any]:
        """The shared fields read back from :meth:`_record_dict` output, as constructor arguments."""
        return {
            "agentid": data.get("agentid"),
            "device_name": data.get("device_name", ""),
            "policy_ids": tuple(data.get("policy_ids", ())),
            "company_id": int(data["company_id"]),
            "action": data["action"],
            "configuration_id": data.get("configuration_id"),
        }


@dataclass(frozen=True)
class DeviceAction(DeviceRecord):
    """What to do for one device (or one configuration, for a deactivation) in one company."""

    action: Action
    configuration_id: int | None = None
    #: the full desired state in ConnectWise's shape (references as ``{"id": n}``): for a device
    #: name, deviceIdentifier, the mapped fields, managementLink, status, type and company (the
    #: last two are only written on create); for a deactivation, the inactive status
    desired: dict[str, Any] = field(default_factory=dict)
    #: field -> new value, what an update/deactivate writes
    changes: dict[str, Any] = field(default_factory=dict)
    #: fields never overwritten on update (kept so that a re-plan honours them)
    protected_fields: tuple[str, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def is_write(self) -> bool:
        """Whether applying this action writes to ConnectWise."""
        return self.action == "create" or (self.action in ("update", "deactivate") and bool(self.changes))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (the XCom shape)."""
        return {
            **self._record_dict(),
            "desired": dict(self.desired),
            "changes": dict(self.changes),
            "protected_fields": list(self.protected_fields),
            "error": self.error,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceAction:
        """Rebuild an action from :meth:`to_dict` output.

        :param data: the dict.
        """
        if data.get("action") not in ACTIONS:
            raise ValueError(f"not a device action: {printable(repr(data.get('action')), 40)}")
        return cls(
            **cls._record_kwargs(data),
            desired=dict(data.get("desired", {})),
            changes=dict(data.get("changes", {})),
            protected_fields=tuple(data.get("protected_fields", ())),
            error=data.get("error"),
            warnings=tuple(data.get("warnings", ())),
        )


def _action_counts(actions: Iterable[DeviceAction]) -> dict[str, int]:
    return tally((action.action for action in actions), ACTIONS)


@dataclass(frozen=True)
class Batch:
    """A slice of write actions: the unit of one mapped task (one company's, or several's when
    cut by ``cut_batches``; ``company_id`` is then ``None``)."""

    company_id: int | None
    company_name: str
    #: 0-based batch number within the company
    index: int
    #: 1-based position of the first action among the company's write actions
    first: int
    actions: tuple[DeviceAction, ...]

    @property
    def label(self) -> str:
        """A readable name for the Airflow map index, e.g. ``AcmeCorp: devices 1–500 (create 480, update 20)``."""
        company = printable(self.company_name, 60) or (
            f"company {self.company_id}" if self.company_id is not None else "several companies"
        )
        last = self.first + len(self.actions) - 1
        span = f"device {self.first}" if last == self.first else f"devices {self.first}–{last}"
        counts = ", ".join(f"{name} {n}" for name, n in _action_counts(self.actions).items() if n)
        return f"{company}: {span} ({counts})"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form, with the label (the XCom shape)."""
        return {
            "company_id": self.company_id,
            "company_name": self.company_name,
            "index": self.index,
            "first": self.first,
            "label": self.label,
            "actions": [action.to_dict() for action in self.actions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Batch:
        """Rebuild a batch from :meth:`to_dict` output (the label is derived again).

        :param data: the dict.
        """
        company_id = data.get("company_id")
        return cls(
            company_id=int(company_id) if company_id is not None else None,
            company_name=data.get("company_name", ""),
            index=int(data.get("index", 0)),
            first=int(data.get("first", 1)),
            actions=tuple(DeviceAction.from_dict(action) for action in data.get("actions", ())),
        )


@dataclass(frozen=True)
class CompanyPlan:
    """Every device action of one company, plus what was noticed about its configurations."""

    company_id: int
    company_name: str
    actions: tuple[DeviceAction, ...]
    warnings: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Action -> number of actions (every action present, zeros included)."""
        return _action_counts(self.actions)

    def write_actions(self) -> list[DeviceAction]:
        """Return the actions that write to ConnectWise, in plan order."""
        return [action for action in self.actions if action.is_write]

    def batches(self, size: int = 500) -> list[Batch]:
        """Cut the write actions into batches; a plan without writes has none.

        :param size: maximum number of actions per batch.
        """
        if size < 1:
            raise ValueError(f"batch size must be at least 1, got {size}")
        writes = self.write_actions()
        return [
            Batch(self.company_id, self.company_name, number, start + 1, tuple(writes[start : start + size]))
            for number, start in enumerate(range(0, len(writes), size))
        ]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form."""
        return {
            "company_id": self.company_id,
            "company_name": self.company_name,
            "counts": self.counts,
            "actions": [action.to_dict() for action in self.actions],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompanyPlan:
        """Rebuild a plan from :meth:`to_dict` output.

        :param data: the dict.
        """
        return cls(
            company_id=int(data["company_id"]),
            company_name=data.get("company_name", ""),
            actions=tuple(DeviceAction.from_dict(action) for action in data.get("actions", ())),
            warnings=tuple(data.get("warnings", ())),
        )
