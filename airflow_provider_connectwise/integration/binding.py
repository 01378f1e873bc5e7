"""Devices Binding (seed "Setup" and "Notes"): policies -> devices -> plan -> apply -> link status.

The reads happen once per company (all pages, only the fields needed); the writes are cut
into batches that Airflow can spread over workers as mapped task instances. Every function here
takes hooks and returns JSON-safe data, so the split operators of the scheduled DAG and the
one-task sync operator run exactly the same code.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_provider_connectwise.core.apply import DeviceResult, apply_actions, result_without_write
from airflow_provider_connectwise.core.binding import (
    BindingReport,
    LinkedPolicy,
    LinkStatus,
    PolicyNotFound,
    choose_policy,
    summarise,
)
from airflow_provider_connectwise.core.conditions import Field, UnsafeConditionValue
from airflow_provider_connectwise.core.links import DEFAULT_MODE, policy_allows
from airflow_provider_connectwise.core.planning import (
    Batch,
    CompanyPlan,
    DeviceAction,
    Scope,
    cut_batches,
    index_configurations,
    plan_company,
    plan_orphans,
    replan_action,
)
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.integration.link_store import StoredLink, read_links
from airflow_provider_connectwise.integration.tickets import resolve_company

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
#: what a policy dict says about its link, kept in the Devices Binding record for the page
_LINK_KEYS = ("link_source", "mode", "site_id", "site_name", "device_count")
#: apply tasks running at once (the DAG's max_active_tis_per_dagrun): batches come in a multiple
DEFAULT_APPLY_SLOTS = 4
#: devices planned together at most: the plan task's memory follows this, not the fleet's size
#: (each group of companies costs one paged read of their configurations)
PLAN_GROUP_DEVICES = 10_000
#: device records by policy: ``source(None)`` every device, ``source(ids)`` those of these policies
#: (it may be called once per group of companies, so it reads them again rather than holding them)
DeviceSource = Callable[[AbstractSet[str] | None], Iterable[Mapping[str, Any]]]


# --- policies and their links ------------------------------------------------------------------


def needed_facts(settings: ResolvedSettings) -> list[str]:
    """The fact identifiers the mapping and the type rules read (what to ask the MDM for)."""
    facts = [fact for fact in settings.field_mapping.values() if fact]
    facts += [rule.fact for rule in settings.type_rules]
    return list(dict.fromkeys(facts))


def list_policy_links(
    addigy: AddigyHook,
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    *,
    policy_ids: Iterable[str] = (),
    overrides: Mapping[str, int] | None = None,
    stored: tuple[Mapping[str, StoredLink], Mapping[str, str]] | None = None,
    count_unlinked: bool = False,
) -> list[dict[str, Any]]:
    """Every MDM policy with the ConnectWise company it is linked to (``None``: not linked).

    Each policy dict carries ``policy_id``, ``name``, ``company_id``, ``company_name``,
    ``site_id`` (``None`` when unset), ``mode`` (``all``, ``inventory``, ``tickets``, ``paused``),
    ``link_source`` (``"settings"``, ``"airflow"``, ``"mdm"`` or ``None``) and ``error``. The
    settings' ``policy_links`` win, then the links made in Airflow (Variable
    ``connectwise_policy_links``), then the MDM's own record.

    A link to a company that does not exist or is deleted, to a site that is not the company's,
    or a stored link that cannot be read, is kept with an ``error`` so that the policy's devices
    fail with a message a person can act on.

    :param addigy: the MDM hook.
    :param cw: the ConnectWise hook (to name and check the linked companies and sites).
    :param settings: resolved settings (explicit links, ``use_mdm_links``).
    :param policy_ids: only these policies (default: all).
    :param overrides: policy id -> company id links for this run only (they act as stored links).
    :param stored: the stored links and their errors (``link_store.parse_links``); default: read
        the Variable now.
    :param count_unlinked: also count each unlinked policy's devices (``device_count``, one small
        MDM request per policy), so a gray policy does not show 0 devices.
    """
    links, stored_errors = stored if stored is not None else read_links()
    links = dict(links)
    for policy_id, company_id in (overrides or {}).items():
        links[str(policy_id)] = StoredLink(str(policy_id), int(company_id), linked_by="this run")
    policies = []
    for raw in addigy.list_policies(policy_ids):
        policy_id = str(raw.get("policyId") or raw.get("policy_id") or "")
        if not policy_id:
            continue
        policy = {
            "policy_id": policy_id,
            "name": str(raw.get("name") or ""),
            **_link_of(policy_id, raw.get("connectwise_account_id"), settings, links),
        }
        if policy["link_source"] not in ("settings", "airflow") and policy_id in stored_errors:
            policy["stored_error"] = stored_errors[policy_id]
        if count_unlinked and policy["company_id"] is None:
            policy["device_count"] = addigy.count_policy_devices(policy_id)
        policies.append(policy)
    if stored_errors.get(""):
        log.warning("%s", stored_errors[""])
    return _name_companies(cw, policies)


def _link_of(
    policy_id: str, mdm_company: Any, settings: ResolvedSettings, links: Mapping[str, StoredLink]
) -> dict[str, Any]:
    # the settings' own link wins, then the one saved in Airflow; both carry company, site and mode
    for source, link in (("settings", settings.explicit_link(policy_id)), ("airflow", links.get(policy_id))):
        if link is not None:
            return {
                "company_id": link.company_id,
                "site_id": link.site_id,
                "mode": link.mode,
                "link_source": source,
            }
    company_id = settings.company_for_policy(policy_id, mdm_company)
    return {
        "company_id": company_id,
        "site_id": None,
        "mode": DEFAULT_MODE,
        "link_source": "mdm" if company_id is not None else None,
    }


def _name_companies(cw: ConnectWiseHook, policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = sorted({p["company_id"] for p in policies if p["company_id"] is not None})
    companies = {c["id"]: c for c in cw.find_companies(ids=ids)} if ids else {}
    sites: dict[int, dict[int, dict[str, Any]]] = {}
    for policy in policies:
        company_id = policy["company_id"]
        company = companies.get(company_id)
        policy["company_name"] = str((company or {}).get("identifier") or (company or {}).get("name") or "")
        policy["site_name"] = ""
        policy["error"] = policy.pop("stored_error", None)
        label = repr(policy["name"] or policy["policy_id"])
        if company_id is not None and (company is None or company.get("deletedFlag")):
            policy["error"] = (
                f"policy {label} is linked to ConnectWise company id "
                f"{company_id}, which {'is deleted' if company else 'does not exist'}; link it to another company"
            )
        elif company_id is not None and policy.get("site_id") is not None:
            if company_id not in sites:
                sites[company_id] = {s["id"]: s for s in cw.list_company_sites(company_id)}
            site = sites[company_id].get(policy["site_id"])
            if site is None:
                policy["error"] = (
                    f"policy {label}: site_id {policy['site_id']} is not a site of ConnectWise company "
                    f"{policy['company_name'] or company_id}; choose one of its sites "
                    f"({_site_choices(sites[company_id].values())})"
                )
            else:
                policy["site_name"] = str(site.get("name") or "")
    return policies


def _site_choices(sites: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(f"{site['id']} {site.get('name', '')}".strip() for site in sites) or "it has none"


class PolicyChoiceError(ValueError):
    """The policy asked for cannot be synced (unknown, or linked to no company)."""


def policies_and_devices(
    addigy: AddigyHook,
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    *,
    policy: str | None = None,
    company: int | str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The linked policies to sync and their devices.

    Syncing one policy reconciles its company with every policy linked to it (otherwise the
    other policies' devices would look removed).

    :param policy: only this policy's company: its id, or its name (trimmed, any case; a name
        two policies share must be an id). Default: every linked policy.
    :param company: link ``policy`` to this company (id or identifier) for this sync only.
    :raises PolicyChoiceError: the policy does not exist (listing the choices), its name is
        shared, or it is linked to no company.
    """
    policy = str(policy).strip() if policy not in (None, "") else None
    if policy:
        # the MDM's own list (an Addigy request, outside the ConnectWise budget) turns a name into its id
        listed = [
            {
                "policy_id": str(raw.get("policyId") or raw.get("policy_id") or ""),
                "name": str(raw.get("name") or ""),
            }
            for raw in addigy.list_policies(())
        ]
        try:
            policy = str(choose_policy([p for p in listed if p["policy_id"]], policy)["policy_id"])
        except PolicyNotFound as exc:
            raise PolicyChoiceError(str(exc)) from None
    overrides = {policy: resolve_company(cw, company)} if policy and company not in (None, "") else {}
    policies = list_policy_links(addigy, cw, settings, overrides=overrides)
    if policy:
        chosen = next((p for p in policies if p["policy_id"] == policy), None)
        if chosen is None:
            raise PolicyChoiceError(f"policy {policy!r} does not exist in the MDM")
        if chosen["company_id"] is None:
            raise PolicyChoiceError(
                f"policy {chosen['name'] or policy!r} is not linked to a ConnectWise company: "
                "give a company, link it in the MDM, or add it to the settings' policy_links"
            )
        policies = [p for p in policies if p["company_id"] == chosen["company_id"]]
        log.info(
            "syncing company %s: policies %s", chosen["company_name"], ", ".join(p["name"] for p in policies)
        )
    linked = [p for p in policies if p["company_id"] is not None]
    return policies, [d for p in linked for d in fetch_policy_devices(addigy, settings, p)]


def fetch_policy_devices(
    addigy: AddigyHook, settings: ResolvedSettings, policy: Mapping[str, Any]
) -> list[dict]:
    """The devices of one policy, with the facts the mapping and the type rules need."""
    return addigy.list_policy_devices(policy["policy_id"], needed_facts(settings))


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


# --- applying ----------------------------------------------------------------------------------


def apply_batch(
    cw: ConnectWiseHook, batch: Batch | Mapping[str, Any], *, retry: bool, concurrency: int = 8
) -> list[DeviceResult]:
    """Write one batch; on a retry re-read the company first and write only what is still pending.

    That is the seed's "Retry Pending": devices linked by an earlier try cause no request beyond
    the shared read.

    :param cw: the ConnectWise hook (its bulk ``create_configurations``, ``patch_configuration``).
    :param batch: the batch (or its XCom dict).
    :param retry: whether an earlier try of this batch may have written.
    :param concurrency: simultaneous writes.
    """
    batch = batch if isinstance(batch, Batch) else Batch.from_dict(batch)
    actions = list(batch.actions)
    if retry and actions:
        fresh = {
            company: index_configurations(configurations)
            for company, configurations in cw.list_configurations_of_companies(
                {a.company_id for a in actions}
            ).items()
        }
        actions = [replan_action(action, fresh[action.company_id]) for action in actions]
        log.info(
            "Retry Pending: %d of %d devices of %s still need a write",
            sum(a.is_write for a in actions),
            len(actions),
            batch.label,
        )
    return apply_actions(actions, cw, concurrency=concurrency)


def bind_all(
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    policies: Sequence[Mapping[str, Any]],
    devices: Iterable[Mapping[str, Any]],
    *,
    scope: Scope | None = None,
    dry_run: bool = False,
    concurrency: int = 8,
) -> tuple[BindingPlan, list[DeviceResult]]:
    """Plan and apply in one go (the one-task sync). Planning reads fresh state, so a retry of
    the task writes only what is still pending.

    :param scope: the companies whose complete device set ``devices`` is (see :class:`Scope`).
    """
    plan = BindingPlan(policies=[dict(p) for p in policies])
    results: list[DeviceResult] = []
    # group by group: a group's devices are dropped once its writes are made
    for part in plan_binding_groups(cw, settings, policies, devices, scope=scope):
        plan.plans.extend(part.plans)
        plan.batches.extend(part.batches)
        results += part.results_without_write()
        if not dry_run:
            writes = [action for company_plan in part.plans for action in company_plan.write_actions()]
            results += apply_actions(writes, cw, concurrency=concurrency)
    return plan, results


def policy_link_status(
    cw: ConnectWiseHook, addigy: AddigyHook, settings: ResolvedSettings, policy: Mapping[str, Any]
) -> LinkStatus:
    """The policy's icon right now: gray without a company, blue when nothing is left to do."""
    if policy.get("company_id") is None:
        return LinkStatus.NOT_LINKED
    if policy.get("error"):
        return LinkStatus.PARTIAL
    devices = fetch_policy_devices(addigy, settings, policy)
    plan = plan_binding(cw, settings, [policy], devices, sweep_orphans=False)
    mine = [
        action
        for company_plan in plan.plans
        for action in company_plan.actions
        if str(policy["policy_id"]) in action.policy_ids and action.action != "deactivate"
    ]
    return LinkStatus.LINKED if all(a.action == "none" for a in mine) else LinkStatus.PARTIAL


# --- report ------------------------------------------------------------------------------------


def binding_report(
    cw: ConnectWiseHook,
    policies: Sequence[Mapping[str, Any]],
    results: Iterable[DeviceResult | Mapping[str, Any]],
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The Devices Binding record a person (or the Airflow UI page) reads: table rows, link status
    per policy, totals, and how to open a configuration in ConnectWise. Holds no secret."""
    items = [r if isinstance(r, DeviceResult) else DeviceResult.from_dict(r) for r in results]
    report: BindingReport = summarise(items, [LinkedPolicy.from_dict(p) for p in policies])
    return {
        "report": report.to_dict(),
        "results": [r.to_dict() for r in items],
        "policy_errors": {p["policy_id"]: p["error"] for p in policies if p.get("error")},
        # how each policy is linked, for the page (source, site, mode; devices of a gray policy)
        "policy_links": {
            str(p["policy_id"]): {key: p.get(key) for key in _LINK_KEYS if p.get(key) is not None}
            for p in policies
        },
        "dry_run": dry_run,
        "configuration_url_template": cw.ui_url_template("ConfigFV"),
    }
