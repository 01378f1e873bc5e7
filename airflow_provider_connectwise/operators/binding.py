"""Devices Binding as Airflow tasks: list linked policies, fetch devices, plan, apply, report.

The scheduled DAG uses the split operators so the writes spread over workers as mapped task
instances; :class:`ConnectWiseSyncDevicesOperator` does everything in one task (manual syncs,
small fleets, devices from another MDM). Task retries are the seed's "Retry Pending".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_connectwise.core.apply import DeviceResult
from airflow_provider_connectwise.core.binding_report import render_binding_table, retryable
from airflow_provider_connectwise.core.planning import Scope, render_plan
from airflow_provider_connectwise.flows.binding import apply_batch, binding_report
from airflow_provider_connectwise.flows.binding_plan import (
    DEFAULT_BATCH_SIZE,
    PlanSummary,
    binds_inventory,
    plan_binding_groups,
)
from airflow_provider_connectwise.flows.policy_links import fetch_policy_devices, list_policy_links
from airflow_provider_connectwise.operators._base import BindingOperator, plan_only_value, truthy
from airflow_provider_connectwise.operators._record import (
    finish_binding,
    never_applied,
    pending_summary,
    unique_policies,
)
from airflow_provider_connectwise.operators.sync import ConnectWiseSyncDevicesOperator
from airflow_provider_connectwise.xcom import (
    DEVICES_PER_ROW,
    DEVICES_XCOM_KEY,
    RESULTS_XCOM_KEY,
    PlanRows,
    as_list,
    as_mapping,
    flatten,
    pulled,
    pulled_devices,
    push_row,
)

__all__ = [
    "AddigyFetchDevicesOperator",
    "ConnectWiseApplyBindingOperator",
    "ConnectWiseBindingReportOperator",
    "ConnectWiseListPolicyLinksOperator",
    "ConnectWisePlanBindingOperator",
    "ConnectWiseSyncDevicesOperator",
]


class ConnectWiseListPolicyLinksOperator(BindingOperator):
    """List the MDM's policies with the ConnectWise company each is linked to.

    Returns the linked policies (the device fetch maps over them); the policies that are not
    linked (the seed's gray icon) go to XCom ``not_linked``, and the run's :class:`Scope` to XCom
    ``scope``: every company when every policy was listed, none when only some were (so a plan of
    some policies never deactivates another company's configurations).

    :param settings: the validated settings (``ConnectWiseValidateSettingsOperator``'s XCom).
    :param policy_ids: only these policies (templated; default all).
    """

    template_fields: Sequence[str] = ("settings", "policy_ids")

    def __init__(self, *, policy_ids: Iterable[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy_ids = policy_ids

    def execute(self, context: Any) -> list[dict[str, Any]]:
        policies = list_policy_links(
            self.addigy,
            self.connectwise,
            self.resolved_settings(),
            policy_ids=self.policy_ids or (),
            count_unlinked=True,
        )
        linked = [p for p in policies if p["company_id"] is not None]
        for policy in policies:
            self.log.info("policy %s (%s): %s", policy["name"], policy["policy_id"], _describe_link(policy))
        context["ti"].xcom_push(key="not_linked", value=[p for p in policies if p["company_id"] is None])
        context["ti"].xcom_push(key="scope", value=Scope(all_policies=not self.policy_ids).to_dict())
        return linked


def _describe_link(policy: Mapping[str, Any]) -> str:
    if policy["company_id"] is None:
        count = policy.get("device_count")
        return "not linked" + (f" ({count} devices)" if count is not None else "")
    site = f", site {policy.get('site_name') or policy['site_id']}" if policy.get("site_id") else ""
    return (
        f"company {policy['company_name'] or policy['company_id']}{site} "
        f"(link from {policy.get('link_source')}, mode {policy.get('mode', 'all')})"
        + (f"; {policy['error']}" if policy.get("error") else "")
    )


class AddigyFetchDevicesOperator(BindingOperator):
    """Fetch the devices of one policy with the facts the mapping needs (all pages).

    Meant to be mapped over the linked policies; the map index reads the policy's name. The
    devices go to XCom in rows of 500 (``devices_00000`` …); the task returns small references to
    them, which the plan task pulls (a large policy in one row would be many MB).

    :param settings: the validated settings.
    :param policy: one of the linked policies ``ConnectWiseListPolicyLinksOperator`` returns.
    """

    template_fields: Sequence[str] = ("settings", "policy")
    uses_connectwise = False  # Addigy only: outside the ConnectWise pool

    def __init__(
        self,
        *,
        policy: Mapping[str, Any],
        # a signature default (not set in the body): .partial() reads it at parse time, so the
        # serialized DAG carries the template
        map_index_template: str | None = "{{ connectwise_policy }}",
        **kwargs: Any,
    ) -> None:
        super().__init__(map_index_template=map_index_template, **kwargs)
        self.policy = policy

    def execute(self, context: Any) -> list[dict[str, Any]]:
        policy = as_mapping(self.policy)
        context["connectwise_policy"] = f"{policy.get('name') or policy['policy_id']}"
        if not binds_inventory(policy):
            self.log.info("policy %s: link is %s; devices not read", policy.get("name"), policy.get("mode"))
            return []
        devices = fetch_policy_devices(self.addigy, self.resolved_settings(), policy)
        self.log.info("policy %s: %d devices", policy.get("name") or policy["policy_id"], len(devices))
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        rows = (devices[start : start + DEVICES_PER_ROW] for start in range(0, len(devices), DEVICES_PER_ROW))
        return [
            {
                **push_row(ti, self.task_id, DEVICES_XCOM_KEY.format(n), row),
                "map_index": map_index,
                "policy_id": str(policy["policy_id"]),
            }
            for n, row in enumerate(rows)
        ]


class ConnectWisePlanBindingOperator(BindingOperator):
    """Plan the binding of every linked company: one read of its configurations, one plan.

    Pushes each batch of writes under an XCom key of its own (``binding_batch_00000`` …) and
    returns small references to them: the apply task maps over the references (so a no-op
    re-sync maps nothing) and pulls its batch; no XCom row holds the whole plan. The plan's
    summary goes to XCom ``plan`` (its results that need no write in rows of 2,000). With
    ``plan_only`` it logs the plan and returns no batch.

    :param settings: the validated settings.
    :param policies: the linked policies ``ConnectWiseListPolicyLinksOperator`` returns (templated).
    :param devices: device records of those policies, a list per policy or one flat list (templated).
    :param scope: the companies whose complete device set the run holds (``ConnectWiseListPolicyLinksOperator``'s
        XCom ``scope``, templated); without it nothing is deactivated.
    :param batch_size: devices per mapped apply task.
    :param plan_only: plan only, write nothing (``dry_run=`` is its deprecated name).
    :param sweep_orphans: with a scope of every policy, also deactivate our configurations in
        companies no longer linked.
    """

    template_fields: Sequence[str] = ("settings", "policies", "devices", "scope", "plan_only")

    def __init__(
        self,
        *,
        policies: Any,
        devices: Any,
        scope: Any = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        plan_only: bool | str = False,
        dry_run: bool | str | None = None,
        sweep_orphans: bool = True,
        **kwargs: Any,
    ) -> None:
        # With no linked policy the mapped device fetch expands to nothing (skipped): still plan,
        # so that the configurations of devices that left are deactivated.
        kwargs.setdefault("trigger_rule", "none_failed")
        super().__init__(**kwargs)
        self.policies = policies
        self.devices = devices
        self.scope = scope
        self.batch_size = batch_size
        self.plan_only = plan_only_value(type(self).__name__, plan_only, dry_run)
        self.sweep_orphans = sweep_orphans

    def execute(self, context: Any) -> list[dict[str, Any]]:
        ti = context["ti"]
        policies = [dict(p) for p in as_list(self.policies)]
        dry_run = truthy(self.plan_only)
        summary = PlanSummary(policies)
        pushed = PlanRows(ti, self.task_id)
        batches: list[dict[str, Any]] = []
        # one group of companies in memory at a time: each part is logged and pushed, then dropped
        for part in plan_binding_groups(
            self.connectwise,
            self.resolved_settings(),
            policies,
            pulled_devices(ti, self.devices),
            scope=Scope.from_dict(as_mapping(self.scope) if self.scope else None),
            batch_size=self.batch_size,
            sweep_orphans=self.sweep_orphans,
        ):
            for company_plan in part.plans:
                self.log.info(
                    "plan for %s:\n%s",
                    company_plan.company_name or company_plan.company_id,
                    render_plan(company_plan),
                )
            summary.add(part)
            pushed.results([r.to_dict() for r in part.results_without_write()])
            if not dry_run:
                batches += [pushed.batch(b) for b in part.batches]
        record = {**summary.to_dict(), "dry_run": dry_run, "results_without_write_refs": pushed.flush()}
        self.log.info(
            "%s: %s; %d batches",
            "DRY RUN" if dry_run else "plan",
            record["counts"],
            len(record["batch_labels"]),
        )
        ti.xcom_push(key="plan", value=record)
        return batches


class ConnectWiseApplyBindingOperator(BindingOperator):
    """Write one batch of the plan (create, update, activate, deactivate configurations).

    Meant to be mapped over the plan's batches. A try that leaves devices not linked for a reason a
    retry can cure (network, 5xx, 429) fails with a summary, so Airflow retries it; the next try
    re-reads ConnectWise and writes only for the devices still pending (the seed's "Retry Pending";
    clearing the task does the same). A device ConnectWise refuses does not burn retries: the
    report task names it.

    :param batch: one of ``ConnectWisePlanBindingOperator``'s batch references (pulled from its
        XCom), or a batch itself.
    :param settings: the validated settings (optional: they carry the codebase, saving a request).
    :param concurrency: simultaneous writes within the batch.
    :param requests_per_minute: override this task's share of the ConnectWise rate budget
        (default: the pool's share, see ``airflow_provider_connectwise.budget``).
    """

    template_fields: Sequence[str] = ("batch", "settings")

    def __init__(
        self,
        *,
        batch: Mapping[str, Any],
        concurrency: int = 8,
        # a signature default: .partial() reads it at parse time (see AddigyFetchDevicesOperator)
        map_index_template: str | None = "{{ connectwise_batch }}",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("settings", {})
        super().__init__(map_index_template=map_index_template, **kwargs)
        self.batch = batch
        self.concurrency = concurrency

    def execute(self, context: Any) -> list[dict[str, Any]]:
        ti = context["ti"]
        batch = pulled(ti, self.batch)
        context["connectwise_batch"] = batch.get("label", "")
        # This task's budget is fresh while the task before it in the same apply slot may have sent
        # a request a moment ago: claim one interval first, so the slot's requests stay spaced and
        # the slots together never pass the account's budget in any 60 s.
        self.connectwise.client.budget.acquire()
        results = apply_batch(self.connectwise, batch, retry=ti.try_number > 1, concurrency=self.concurrency)
        records = [r.to_dict() for r in results]
        ti.xcom_push(key=RESULTS_XCOM_KEY, value=records)
        self.log.info("%s\n%s", batch.get("label", ""), render_binding_table(results))
        left = retryable(results)
        if left:
            raise AirflowException(pending_summary(left, len(results)))
        return records


class ConnectWiseBindingReportOperator(BindingOperator):
    """Put the Devices Binding together: every device's state, each policy's link status.

    Reads the plan and what every apply task recorded (also from tasks whose last try failed),
    logs the binding table and the icons, and records it under XCom ``connectwise_binding`` for the
    Airflow UI page. It fails when a device is left unlinked for a reason a retry could cure, or
    when a device newly fails for good (bad data, refused by ConnectWise); a device that fails the
    same way as in the previous record stays red on the page without failing every later run.

    :param plan: ``ConnectWisePlanBindingOperator``'s XCom ``plan`` (templated).
    :param batches: its batches (to notice a batch that was never applied; templated).
    :param not_linked: ``ConnectWiseListPolicyLinksOperator``'s XCom ``not_linked`` (gray icons).
    :param apply_task_id: the task id of the mapped apply task.
    """

    template_fields: Sequence[str] = ("plan", "batches", "not_linked", "settings")

    def __init__(
        self,
        *,
        plan: Any,
        batches: Any = (),
        not_linked: Any = (),
        apply_task_id: str = "apply_binding",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("settings", {})
        kwargs.setdefault("trigger_rule", "all_done")
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)
        self.plan = plan
        self.batches = batches
        self.not_linked = not_linked
        self.apply_task_id = apply_task_id

    def execute(self, context: Any) -> dict[str, Any]:
        plan = as_mapping(self.plan or {})
        if not plan:
            raise AirflowFailException("no binding plan: the planning task did not finish")
        ti = context["ti"]
        results = [DeviceResult.from_dict(r) for r in plan.get("results_without_write", [])]
        for ref in plan.get("results_without_write_refs", []):
            results += [DeviceResult.from_dict(r) for r in pulled(ti, ref)]
        batches = as_list(self.batches)
        results += self._written(ti, len(batches))
        # one batch in memory at a time: a plan's batches together can be large
        results += never_applied((pulled(ti, b) for b in batches), results)
        policies = list(plan.get("policies", [])) + [dict(p) for p in as_list(self.not_linked)]
        record = binding_report(
            self.connectwise, unique_policies(policies), results, dry_run=plan.get("dry_run", False)
        )
        del results  # the record holds them (as dicts): not the fleet twice in memory
        return finish_binding(self, context, record)

    def _written(self, ti: Any, batches: int) -> list[DeviceResult]:
        """What the apply tasks recorded, one mapped task's row at a time (not the fleet's rows at once)."""
        results: list[DeviceResult] = []
        for map_index in range(batches):
            row = ti.xcom_pull(
                task_ids=self.apply_task_id, key=RESULTS_XCOM_KEY, map_indexes=map_index, default=None
            )
            results += [DeviceResult.from_dict(r) for r in flatten(row or [])]
        if not results:  # an apply task that is not mapped (or no batch): its one row
            written = ti.xcom_pull(task_ids=self.apply_task_id, key=RESULTS_XCOM_KEY, default=None)
            results = [DeviceResult.from_dict(r) for r in flatten(written or [])]
        return results
