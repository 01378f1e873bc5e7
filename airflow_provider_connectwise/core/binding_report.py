"""Devices Binding results per policy, the link status icon, and Retry Pending's device list.

Seed "Setup" 7-9 and the icons: a gray icon means the policy is linked to no company, blue that
the policy and all its devices are linked, red that the policy is linked but some of its devices
are not.

Decisions:

- A policy's devices are the results naming the policy *and* its current company; deactivations
  (devices that left) are not the policy's devices and never turn its icon red.
- A linked policy with no results yet (never synced, or empty) is blue: nothing is pending.
- :func:`pending` is the ``failed`` results, failed deactivations included: those are what Retry
  Pending re-plans. ``unlinked`` results are settled (the device left) and are not retried.
- Everything here is JSON-safe through ``to_dict``: the Airflow UI page and XCom read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from airflow_provider_connectwise.core import printable, text_table
from airflow_provider_connectwise.core.apply import STATES, DeviceResult
from airflow_provider_connectwise.core.planning.records import ACTIONS, DeviceAction, tally
from airflow_provider_connectwise.core.settings import name_key

__all__ = [
    "BindingReport",
    "LinkStatus",
    "LinkedPolicy",
    "PolicyNotFound",
    "PolicyReport",
    "choose_policy",
    "link_status",
    "new_failures",
    "pending",
    "planned_counts",
    "render_binding_table",
    "render_dry_run",
    "retryable",
    "summarise",
]


class LinkStatus(str, Enum):
    """The ConnectWise icon next to a policy."""

    NOT_LINKED = "not_linked"
    LINKED = "linked"
    PARTIAL = "partial"

    @property
    def icon(self) -> str:
        """The icon's colour in the seed: gray, blue or red."""
        return {"not_linked": "gray", "linked": "blue", "partial": "red"}[self.value]

    @property
    def description(self) -> str:
        """What the icon means, in the seed's words."""
        return {
            "not_linked": "the policy is not linked to any ConnectWise company",
            "linked": "the policy and its devices are linked to a ConnectWise company",
            "partial": "the policy is linked to a ConnectWise company but has devices that are not linked",
        }[self.value]


@dataclass(frozen=True)
class LinkedPolicy:
    """An MDM policy and the company it is linked to (``ResolvedSettings.company_for_policy``)."""

    policy_id: str
    name: str = ""
    company_id: int | None = None
    company_name: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkedPolicy:
        """Build from ``{"policy_id", "name", "company_id", "company_name"}`` (``policyId`` accepted).

        :param data: the dict.
        """
        policy_id = data.get("policy_id", data.get("policyId"))
        if policy_id in (None, ""):
            raise ValueError("a policy needs a policy_id")
        return cls(
            policy_id=str(policy_id),
            name=data.get("name") or "",
            company_id=data.get("company_id"),
            company_name=data.get("company_name") or "",
        )


def _policy(policy: LinkedPolicy | Mapping[str, Any]) -> LinkedPolicy:
    return policy if isinstance(policy, LinkedPolicy) else LinkedPolicy.from_dict(policy)


def _results(results: Iterable[DeviceResult | Mapping[str, Any]]) -> list[DeviceResult]:
    return [r if isinstance(r, DeviceResult) else DeviceResult.from_dict(r) for r in results]


def _devices_of(policy: LinkedPolicy, results: Iterable[DeviceResult]) -> list[DeviceResult]:
    return [
        result
        for result in results
        if policy.policy_id in result.policy_ids
        and result.company_id == policy.company_id
        and result.action != "deactivate"
    ]


def link_status(
    policy: LinkedPolicy | Mapping[str, Any], results: Iterable[DeviceResult | Mapping[str, Any]]
) -> LinkStatus:
    """Return the policy's icon: not linked (gray), linked (blue) or partial (red).

    :param policy: the policy and its company (``company_id`` ``None`` when not linked).
    :param results: the latest device results (any policies; only this policy's are read).
    """
    policy = _policy(policy)
    if policy.company_id is None:
        return LinkStatus.NOT_LINKED
    devices = _devices_of(policy, _results(results))
    return LinkStatus.LINKED if all(r.state == "linked" for r in devices) else LinkStatus.PARTIAL


def _state_counts(results: Iterable[DeviceResult]) -> dict[str, int]:
    return tally((result.state for result in results), STATES)


def _action_counts(results: Iterable[DeviceResult]) -> dict[str, int]:
    return tally((result.action for result in results), ACTIONS)


@dataclass(frozen=True)
class PolicyReport:
    """One policy's line in Devices Binding: its icon and its device counts."""

    policy_id: str
    name: str
    company_id: int | None
    company_name: str
    status: LinkStatus
    devices: int
    #: state -> number of devices (linked, failed, unlinked)
    states: dict[str, int] = field(default_factory=dict)
    #: action -> number of devices (create, update, deactivate, none, fail)
    actions: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form, with the icon colour."""
        return {
            "policy_id": self.policy_id,
            "name": self.name,
            "company_id": self.company_id,
            "company_name": self.company_name,
            "status": self.status.value,
            "icon": self.status.icon,
            "devices": self.devices,
            "states": dict(self.states),
            "actions": dict(self.actions),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyReport:
        """Rebuild from :meth:`to_dict` output.

        :param data: the dict.
        """
        return cls(
            policy_id=data["policy_id"],
            name=data.get("name", ""),
            company_id=data.get("company_id"),
            company_name=data.get("company_name", ""),
            status=LinkStatus(data["status"]),
            devices=int(data.get("devices", 0)),
            states=dict(data.get("states", {})),
            actions=dict(data.get("actions", {})),
        )


@dataclass(frozen=True)
class BindingReport:
    """Devices Binding for a whole run: per policy, and totals over every result."""

    policies: tuple[PolicyReport, ...]
    #: ``devices`` (number of results) and state -> number
    totals: dict[str, int]
    #: action -> number
    actions: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form (the XCom and UI shape)."""
        return {
            "policies": [policy.to_dict() for policy in self.policies],
            "totals": dict(self.totals),
            "actions": dict(self.actions),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BindingReport:
        """Rebuild from :meth:`to_dict` output.

        :param data: the dict.
        """
        return cls(
            policies=tuple(PolicyReport.from_dict(policy) for policy in data.get("policies", ())),
            totals=dict(data.get("totals", {})),
            actions=dict(data.get("actions", {})),
        )


def summarise(
    results: Iterable[DeviceResult | Mapping[str, Any]], policies: Iterable[LinkedPolicy | Mapping[str, Any]]
) -> BindingReport:
    """Summarise device results per policy (status icon, counts) and in total.

    :param results: the device results of a run (or their dicts).
    :param policies: every policy to show, linked or not.
    """
    results = _results(results)
    reports = []
    for policy in map(_policy, policies):
        devices = _devices_of(policy, results) if policy.company_id is not None else []
        reports.append(
            PolicyReport(
                policy_id=policy.policy_id,
                name=policy.name,
                company_id=policy.company_id,
                company_name=policy.company_name,
                status=link_status(policy, results),
                devices=len(devices),
                states=_state_counts(devices),
                actions=_action_counts(devices),
            )
        )
    return BindingReport(
        policies=tuple(reports),
        totals={"devices": len(results), **_state_counts(results)},
        actions=_action_counts(results),
    )


def pending(results: Iterable[DeviceResult | Mapping[str, Any]]) -> list[DeviceResult]:
    """Return the devices Retry Pending re-tries: every ``failed`` result.

    :param results: the device results (or their dicts).
    """
    return [result for result in _results(results) if result.state == "failed"]


def retryable(results: Iterable[DeviceResult | Mapping[str, Any]]) -> list[DeviceResult]:
    """Return the failed devices a later try may cure (transient failures): what a task retries for.

    :param results: the device results (or their dicts).
    """
    return [result for result in pending(results) if result.transient]


def _failure_key(result: DeviceResult) -> tuple[str, str, str]:
    return (result.agentid or result.device_name, str(result.company_id), result.error or "")


def new_failures(
    results: Iterable[DeviceResult | Mapping[str, Any]],
    previous: Iterable[DeviceResult | Mapping[str, Any]],
) -> list[DeviceResult]:
    """Return the lasting failures that the previous binding record did not already show.

    A device that fails the same way run after run (bad data only a person can fix) is reported
    once, when it first fails; it stays red on the page, but does not turn every later run red.

    :param results: this run's device results.
    :param previous: the device results of the previous run's record (empty when there is none).
    """
    known = {_failure_key(result) for result in pending(previous)}
    return [
        result for result in pending(results) if not result.transient and _failure_key(result) not in known
    ]


def render_binding_table(results: Iterable[DeviceResult | Mapping[str, Any]]) -> str:
    """Render the Devices Binding table for a task log; errors are wrapped, never cut.

    :param results: the device results (or their dicts).
    """
    results = _results(results)
    rows = [
        [r.device_name, r.agentid or "", r.action, r.configuration_id or "", r.state, r.error or ""]
        for r in results
    ]
    table = text_table(
        ["device", "agent id", "action", "configuration id", "state", "error"],
        rows,
        max_widths={0: 40, 1: 40, 5: 100},
        wrap=(5,),
    )
    counts = _state_counts(results)
    noun = "device" if len(results) == 1 else "devices"
    totals = f"{len(results)} {noun}: " + ", ".join(f"{counts[state]} {state}" for state in STATES)
    return f"{table}\n{totals}"


# --- choosing a policy (manual sync) and what a dry run would do --------------------------------


class PolicyNotFound(ValueError):
    """The policy asked for is no policy's id, nor exactly one policy's name."""


def choose_policy(policies: Iterable[Mapping[str, Any]], wanted: str) -> Mapping[str, Any]:
    """Return the policy whose id is ``wanted``, else the one whose name is (trimmed, any case).

    :param policies: ``{"policy_id", "name", ...}`` records.
    :param wanted: a policy id or name, as a person typed it.
    :raises PolicyNotFound: naming the choices, or the ids to choose from when two policies
        share the name.
    """
    policies = list(policies)
    text = str(wanted).strip()
    by_id = [p for p in policies if str(p.get("policy_id")) == text]
    if by_id:
        return by_id[0]
    key = name_key(text)
    named = [p for p in policies if name_key(str(p.get("name") or "")) == key]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(sorted(str(p.get("policy_id")) for p in named))
        raise PolicyNotFound(f"{len(named)} policies are named {printable(text, 80)!r}: give its id ({ids})")
    choices = sorted(
        (f"{printable(str(p.get('name') or '').strip(), 60)} ({p.get('policy_id')})" for p in policies),
        key=lambda choice: (choice.casefold(), choice),
    )
    shown = ", ".join(choices[:30]) + (f" and {len(choices) - 30} more" if len(choices) > 30 else "")
    raise PolicyNotFound(
        f"policy {printable(text, 80)!r} does not exist in the MDM; policies: {shown or 'none'}"
    )


def planned_counts(
    actions: Iterable[DeviceAction], policies: Iterable[LinkedPolicy | Mapping[str, Any]]
) -> dict[str, dict[str, int]]:
    """Count what a plan would do, per policy id: ``{create, update, deactivate, none, fail}``.

    A policy's devices are its actions in its company; deactivations (devices that left) count
    for every policy linked to that company, since they are where the devices went missing.

    :param actions: the plan's device actions.
    :param policies: the policies synced.
    """
    actions = list(actions)
    counts: dict[str, dict[str, int]] = {}
    for policy in map(_policy, policies):
        mine = dict.fromkeys(ACTIONS, 0)
        for action in actions:
            if action.company_id != policy.company_id:
                continue
            if action.action == "deactivate":
                mine["deactivate"] += 1 if action.is_write else 0
            elif policy.policy_id in action.policy_ids:
                mine[action.action if action.is_write or action.action == "fail" else "none"] += 1
        counts[policy.policy_id] = mine
    return counts


def render_dry_run(
    actions: Iterable[DeviceAction], policies: Iterable[LinkedPolicy | Mapping[str, Any]]
) -> list[str]:
    """One line per policy saying what the sync would do; nothing was written.

    :param actions: the plan's device actions.
    :param policies: the policies synced.
    """
    linked = [_policy(p) for p in policies]
    counts = planned_counts(actions, linked)
    lines = []
    for policy in linked:
        name = printable(policy.name or policy.policy_id, 80)
        if policy.company_id is None:
            lines.append(f"policy {name}: DRY RUN, not linked to a company: nothing to do")
            continue
        c = counts[policy.policy_id]
        company = printable(policy.company_name or f"id {policy.company_id}", 60)
        lines.append(
            f"policy {name} (company {company}): DRY RUN, would create {c['create']}, update {c['update']}, "
            f"deactivate {c['deactivate']}, leave {c['none']} as they are; {c['fail']} cannot be linked "
            "(nothing was written)"
        )
    return lines
