"""Planning the Devices Binding: every linked company's devices against its configurations.

The reads happen once per group of companies (all pages, only the fields needed); the writes are
cut into batches that Airflow spreads over workers as mapped task instances. The plan task takes
the plan part by part (:func:`plan_binding_groups`), so its memory follows a group, not the fleet.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_provider_connectwise.core.apply import DeviceResult, result_without_write
from airflow_provider_connectwise.core.conditions import Field, UnsafeConditionValue
from airflow_provider_connectwise.core.links import policy_allows
from airflow_provider_connectwise.core.planning import (
    Batch,
    CompanyPlan,
    DeviceAction,
    Scope,
    cut_batches,
    plan_company,
    plan_orphans,
)
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
#: apply tasks running at once (the DAG's max_active_tis_per_dagrun): batches come in a multiple
DEFAULT_APPLY_SLOTS = 4
#: devices planned together at most: the plan task's memory follows this, not the fleet's size
#: (each group of companies costs one paged read of their configurations)
PLAN_GROUP_DEVICES = 10_000
#: device records by policy: ``source(None)`` every device, ``source(ids)`` those of these policies
#: (it may be called once per group of companies, so it reads them again rather than holding them)
DeviceSource = Callable[[AbstractSet[str] | None], Iterable[Mapping[str, Any]]]


# --- planning ----------------------------------------------------------------------------------


@dataclass
class BindingPlan:
    """Plans per company (linked companies and orphans), and the batches of writes."""

    plans: list[CompanyPlan] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def results_without_write(self) -> list[DeviceResult]:
        """Results of the actions that need no write (already right, or failed at planning)."""
        return [result_without_write(a) for plan in self.plans for a in plan.actions if not a.is_write]

    def summary(self) -> dict[str, Any]:
        """The JSON-safe plan without the batches (which travel separately)."""
        summary = PlanSummary(self.policies, list(self.warnings))
        summary.add(self)
        return {
            **summary.to_dict(),
            "results_without_write": [r.to_dict() for r in self.results_without_write()],
        }


@dataclass
class PlanSummary:
    """The summary of a plan taken part by part (:func:`plan_binding_groups`), without its actions."""

    policies: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    companies: list[dict[str, Any]] = field(default_factory=list)
    batch_labels: list[str] = field(default_factory=list)

    def add(self, part: BindingPlan) -> None:
        """Count one part in (its plans and batches; the part can then be dropped)."""
        for plan in part.plans:
            counts = plan.counts
            self.counts.update(counts)
            self.companies.append(
                {"company_id": plan.company_id, "company_name": plan.company_name, "counts": counts}
            )
            self.warnings.extend(plan.warnings)
        self.batch_labels.extend(b.label for b in part.batches)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe summary (every action name counted, zeros included, as a company's counts)."""
        names = dict.fromkeys(name for company in self.companies for name in company["counts"])
        return {
            "policies": self.policies,
            "counts": {name: self.counts[name] for name in names},
            "companies": self.companies,
            "warnings": list(self.warnings),
            "batch_labels": self.batch_labels,
        }


def binds_inventory(policy: Mapping[str, Any]) -> bool:
    """Whether a linked policy's devices are bound (its link's mode is not paused or tickets only)."""
    return policy_allows(policy.get("mode"), "inventory")


def plan_binding(
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    policies: Sequence[Mapping[str, Any]],
    devices: Iterable[Mapping[str, Any]] | DeviceSource,
    *,
    scope: Scope | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    apply_slots: int = DEFAULT_APPLY_SLOTS,
    sweep_orphans: bool = True,
    group_devices: int = PLAN_GROUP_DEVICES,
) -> BindingPlan:
    """Plan every linked company: its devices (all its policies together) against its configurations.

    The whole plan at once (the one-task sync, the page's link status); the scheduled DAG's plan
    task takes :func:`plan_binding_groups`' parts one at a time. Parameters as there.
    """
    plan = BindingPlan(policies=[dict(p) for p in policies])
    for part in plan_binding_groups(
        cw,
        settings,
        policies,
        devices,
        scope=scope,
        batch_size=batch_size,
        apply_slots=apply_slots,
        sweep_orphans=sweep_orphans,
        group_devices=group_devices,
    ):
        plan.plans.extend(part.plans)
        plan.batches.extend(part.batches)
    return plan


def plan_binding_groups(
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    policies: Sequence[Mapping[str, Any]],
    devices: Iterable[Mapping[str, Any]] | DeviceSource,
    *,
    scope: Scope | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    apply_slots: int = DEFAULT_APPLY_SLOTS,
    sweep_orphans: bool = True,
    group_devices: int = PLAN_GROUP_DEVICES,
) -> Iterator[BindingPlan]:
    """Plan the linked companies in groups of about ``group_devices`` devices, one part a group.

    Only companies the ``scope`` holds completely get deactivations, and companies no policy links
    to are swept only when the scope lists every MDM policy: a sync of some policies never touches
    another company's configurations. A company with a paused or tickets-only policy gets no
    deactivation either (that policy's devices are not read).

    A first pass over the devices counts each company's and finds devices in policies linked to
    different companies; then each group of companies gets one read of its configurations, its
    plans and its batches (numbered across the parts, each part's a multiple of ``apply_slots``).
    Memory follows the group, not the fleet: a part can be pushed and dropped before the next.

    :param cw: the ConnectWise hook (reads only).
    :param settings: resolved settings.
    :param policies: from :func:`list_policy_links` (or supplied by another MDM's pipeline).
    :param devices: device records, each with its ``policy_id``, or a :data:`DeviceSource`.
    :param scope: which companies' complete device sets the run holds (default: none, so nothing
        is deactivated).
    :param batch_size: at most this many write actions per batch (one mapped task each).
    :param apply_slots: apply tasks running at once; batches come in a multiple of it.
    :param sweep_orphans: with a scope of every policy, also deactivate our configurations in
        companies no policy links to any more (one extra read, filtered server-side).
    :param group_devices: devices planned together at most (a larger company is a group alone).
    """
    scope = scope or Scope()
    source = devices if callable(devices) else device_source(devices)
    fleet = _survey(policies, source(None))
    names = {int(p["company_id"]): p.get("company_name") or "" for p in policies if p.get("company_id")}
    companies = set(fleet.counts)
    # A linked company whose policies have no device any more is planned too: its devices left.
    companies |= {
        int(p["company_id"])
        for p in policies
        if p.get("company_id") is not None and not p.get("error") and scope.holds(int(p["company_id"]))
    }
    numbering = _BatchNumbering()
    groups = list(_company_groups(sorted(companies), fleet.counts, group_devices)) or [[]]
    for number, group in enumerate(groups):
        plans = [
            _fail_conflicts(plan, fleet.conflicted, names)
            for plan in _plan_group(cw, settings, policies, source, group, scope, names)
        ]
        if number == len(groups) - 1:  # the last part also gets what is no company's
            plans += _plan_tail(cw, settings, policies, fleet, scope, sweep_orphans)
        yield BindingPlan(plans=plans, batches=numbering.cut(plans, batch_size, apply_slots))


def _plan_tail(
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    policies: Sequence[Mapping[str, Any]],
    fleet: _Fleet,
    scope: Scope,
    sweep_orphans: bool,
) -> list[CompanyPlan]:
    """The devices of broken links, and (with a scope of every policy) unlinked companies' sweep."""
    tail: list[CompanyPlan] = []
    if fleet.failed_links:
        tail.append(CompanyPlan(0, "(invalid links)", tuple(fleet.failed_links)))
    if sweep_orphans and scope.all_policies:
        linked = {int(p["company_id"]) for p in policies if p.get("company_id") is not None}
        tail.extend(
            plan_orphans(
                _our_active_configurations(cw, settings, linked), settings, linked_company_ids=linked
            )
        )
    return tail


def device_source(devices: Iterable[Mapping[str, Any]]) -> DeviceSource:
    """A :data:`DeviceSource` over device records held in memory."""
    held = devices if isinstance(devices, Sequence) else list(devices)

    def of(policy_ids: AbstractSet[str] | None) -> Iterable[Mapping[str, Any]]:
        if policy_ids is None:
            return held
        return (d for d in held if str(d.get("policy_id")) in policy_ids)

    return of


@dataclass
class _Fleet:
    """What the first pass over the devices learns, without keeping them."""

    #: bindable devices per linked company
    counts: Counter[int] = field(default_factory=Counter)
    #: agent -> (companies, policies) of the agents in policies linked to different companies
    conflicted: dict[str, tuple[set[int], list[str]]] = field(default_factory=dict)
    #: devices of policies whose link is broken (they fail with the link's error)
    failed_links: list[DeviceAction] = field(default_factory=list)


def _bindable(policy: Mapping[str, Any] | None) -> bool:
    # not linked (gray), or its link is paused / tickets only: nothing to bind
    return policy is not None and policy.get("company_id") is not None and binds_inventory(policy)


def _survey(policies: Sequence[Mapping[str, Any]], devices: Iterable[Mapping[str, Any]]) -> _Fleet:
    policy_by_id = {str(p["policy_id"]): p for p in policies}
    fleet = _Fleet()
    seen: dict[str, tuple[int, str]] = {}
    more: dict[str, list[tuple[int, str]]] = {}
    for device in devices:
        policy = policy_by_id.get(str(device.get("policy_id")))
        if policy is None or not _bindable(policy):
            continue
        if policy.get("error"):
            fleet.failed_links.append(_failed(device, policy, policy["error"]))
            continue
        company, policy_id = int(policy["company_id"]), str(policy["policy_id"])
        fleet.counts[company] += 1
        agentid = str(device.get("agentid") or "")
        if not agentid:
            continue
        if agentid in seen:
            more.setdefault(agentid, []).append((company, policy_id))
        else:
            seen[agentid] = (company, policy_id)
    for agentid, others in more.items():
        places = [seen[agentid], *others]
        companies = {company for company, _ in places}
        if len(companies) > 1:
            fleet.conflicted[agentid] = (companies, [policy_id for _, policy_id in places])
    return fleet


def _company_groups(companies: Sequence[int], counts: Mapping[int, int], limit: int) -> Iterator[list[int]]:
    group: list[int] = []
    size = 0
    for company in companies:
        if group and size + counts.get(company, 0) > limit:
            yield group
            group, size = [], 0
        group.append(company)
        size += counts.get(company, 0)
    if group:
        yield group


def _plan_group(
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    policies: Sequence[Mapping[str, Any]],
    source: DeviceSource,
    group: Sequence[int],
    scope: Scope,
    names: Mapping[int, str],
) -> Iterator[CompanyPlan]:
    in_group = set(group)
    wanted = {
        str(p["policy_id"]): p
        for p in policies
        if _bindable(p) and not p.get("error") and int(p["company_id"]) in in_group
    }
    held = {
        int(p["company_id"]) for p in policies if p.get("company_id") is not None and not binds_inventory(p)
    }
    sites = {
        str(p["policy_id"]): int(p["site_id"])
        for p in policies
        if isinstance(p.get("site_id"), int) and not isinstance(p.get("site_id"), bool)
    }
    if not group:
        return
    devices: dict[int, list[Mapping[str, Any]]] = {company: [] for company in group}
    for device in source(frozenset(wanted)):
        policy = wanted.get(str(device.get("policy_id")))
        if policy is not None:
            devices[int(policy["company_id"])].append(device)
    configurations = cw.list_configurations_of_companies(group)
    for company_id in group:
        yield plan_company(
            company_id,
            devices.pop(company_id),
            configurations.pop(company_id),
            settings,
            company_name=names.get(company_id, ""),
            deactivate=scope.holds(company_id) and company_id not in held,
            sites=sites,
        )


@dataclass
class _BatchNumbering:
    """Batches numbered across the plan's parts, as if cut at once."""

    batches: int = 0
    writes: int = 0

    def cut(self, plans: Sequence[CompanyPlan], size: int, slots: int) -> list[Batch]:
        batches = [
            replace(batch, index=self.batches + n, first=self.writes + batch.first)
            for n, batch in enumerate(cut_batches(plans, size=size, slots=slots))
        ]
        self.batches += len(batches)
        self.writes += sum(len(batch.actions) for batch in batches)
        return batches


def _failed(device: Mapping[str, Any], policy: Mapping[str, Any], error: str) -> DeviceAction:
    facts = device.get("facts") or {}
    name = facts.get("device_name")
    name = name.get("value") if isinstance(name, Mapping) else name
    return DeviceAction(
        agentid=str(device.get("agentid") or "") or None,
        device_name=str(name or device.get("agentid") or "?"),
        policy_ids=(str(policy["policy_id"]),),
        company_id=int(policy["company_id"]),
        action="fail",
        error=error,
    )


def _fail_conflicts(
    plan: CompanyPlan, conflicted: Mapping[str, tuple[set[int], list[str]]], names: Mapping[int, str]
) -> CompanyPlan:
    """A device in policies linked to different companies is bound to none of them (it still
    counts as present, so none of its configurations is deactivated)."""
    if not conflicted:
        return plan
    actions = []
    for action in plan.actions:
        agentid = action.agentid or ""
        if agentid in conflicted and action.action != "deactivate":
            companies, policy_ids = conflicted[agentid]
            where = ", ".join(names.get(c) or str(c) for c in sorted(companies))
            error = (
                f"device {action.device_name!r} (agent {action.agentid}) is in policies "
                f"{', '.join(policy_ids)} linked to different companies ({where}); "
                "link those policies to one company"
            )
            action = replace(action, action="fail", changes={}, error=error)
        actions.append(action)
    return CompanyPlan(plan.company_id, plan.company_name, tuple(actions), plan.warnings)


def _our_active_configurations(
    cw: ConnectWiseHook, settings: ResolvedSettings, linked_company_ids: set[int]
) -> list[dict[str, Any]]:
    prefix = settings.management_link_template.split("{agentid}", 1)[0]
    try:
        condition = Field("managementLink").startswith(prefix) & Field("status/id").eq(
            settings.active_status_id
        )
    except UnsafeConditionValue as exc:  # a template settings validation let through
        log.warning("not sweeping configurations of unlinked companies: %s", exc)
        return []
    if linked_company_ids:
        # The linked companies are read in full anyway; leave them out server-side when the list is short.
        try:
            excluded = Field("company/id").not_in(sorted(linked_company_ids))
            if len(str(excluded)) < 1200:
                condition = condition & excluded
        except UnsafeConditionValue:
            pass
    return [
        c
        for c in cw.iter_configurations(condition)
        if (c.get("company") or {}).get("id") not in linked_company_ids
    ]
