"""Devices Binding (seed "Setup" and "Notes"): policies -> devices -> plan -> apply -> link status.

Every function here takes hooks and returns JSON-safe data, so the split operators of the
scheduled DAG and the one-task sync operator run exactly the same code: the policies come from
:mod:`.policy_links`, the plan from :mod:`.binding_plan`; here the writes (Retry Pending), the
one-task sync, a policy's link status and the Devices Binding record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_connectwise.core.apply import DeviceResult, apply_actions
from airflow_provider_connectwise.core.binding_report import (
    BindingReport,
    LinkedPolicy,
    LinkStatus,
    summarise,
)
from airflow_provider_connectwise.core.planning import (
    Batch,
    Scope,
    index_configurations,
    replan_action,
)
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.flows.binding_plan import BindingPlan, plan_binding, plan_binding_groups
from airflow_provider_connectwise.flows.policy_links import fetch_policy_devices
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

log = logging.getLogger(__name__)

#: what a policy dict says about its link, kept in the Devices Binding record for the page
_LINK_KEYS = ("link_source", "mode", "site_id", "site_name", "device_count")

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
