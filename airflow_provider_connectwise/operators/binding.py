"""Devices Binding as Airflow tasks: list linked policies, fetch devices, plan, apply, report.

The scheduled DAG uses the split operators so the writes spread over workers as mapped task
instances; :class:`ConnectWiseSyncDevicesOperator` does everything in one task (manual syncs,
small fleets, devices from another MDM). Task retries are the seed's "Retry Pending".
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from functools import cached_property
from typing import Any

from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_connectwise.budget import ConnectWisePoolMixin
from airflow_provider_connectwise.core.apply import DeviceResult
from airflow_provider_connectwise.core.binding import (
    new_failures,
    pending,
    planned_counts,
    render_binding_table,
    render_dry_run,
    retryable,
)
from airflow_provider_connectwise.core.planning import Batch, DeviceAction, Scope, render_plan
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.integration.binding import (
    DEFAULT_BATCH_SIZE,
    DeviceSource,
    PlanSummary,
    PolicyChoiceError,
    apply_batch,
    bind_all,
    binding_report,
    binds_inventory,
    fetch_policy_devices,
    list_policy_links,
    plan_binding_groups,
    policies_and_devices,
)
from airflow_provider_connectwise.integration.link_store import (
    VARIABLE_KEY,
    LinkChoiceError,
    link_for_run,
    save_link,
)
from airflow_provider_connectwise.operators.settings import codebase_of, resolved_settings

#: XCom key of the Devices Binding record (read by the Airflow UI page).
BINDING_XCOM_KEY = "connectwise_binding"
#: XCom keys of the rows holding a binding record's device results (``results_rows`` names them):
#: a fleet-sized record is no single XCom row of tens of MB.
BINDING_RESULTS_XCOM_KEY = BINDING_XCOM_KEY + "_results_{}"
BINDING_RESULTS_PER_ROW = 2_000
#: XCom key under which each apply try records its device results (kept even when the try fails).
RESULTS_XCOM_KEY = "binding_results"
#: XCom keys under which the plan task pushes each batch, and the results that need no write in
#: slices: one row each, far below what the metadata database holds comfortably (a plan of
#: 100,000 devices in one row would be tens of MB). The plan task returns only small references,
#: ``{"task_id", "key", "label", "size"}``, which the apply task maps over and pulls.
BATCH_XCOM_KEY = "binding_batch_{:05d}"
DONE_XCOM_KEY = "binding_done_{:05d}"
DEVICES_XCOM_KEY = "devices_{:05d}"
#: results that need no write per XCom row (a result is about 250 bytes of JSON)
DONE_PER_ROW = 2000
#: devices per XCom row of the device fetch (a device with its facts is about 1 KB of JSON)
DEVICES_PER_ROW = 500


class _BindingOperator(ConnectWisePoolMixin, BaseOperator):
    ui_color = "#2f6fb3"

    def __init__(
        self,
        *,
        settings: Mapping[str, Any] | str,
        connectwise_conn_id: str = ConnectWiseHook.default_conn_name,
        addigy_conn_id: str = AddigyHook.default_conn_name,
        requests_per_minute: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.connectwise_conn_id = connectwise_conn_id
        self.addigy_conn_id = addigy_conn_id
        self.requests_per_minute = requests_per_minute

    @cached_property
    def connectwise(self) -> ConnectWiseHook:
        return ConnectWiseHook(
            self.connectwise_conn_id,
            requests_per_minute=self.connectwise_requests_per_minute(),
            codebase=codebase_of(self.settings),
        )

    @cached_property
    def addigy(self) -> AddigyHook:
        return AddigyHook(self.addigy_conn_id)

    def resolved_settings(self) -> ResolvedSettings:
        return resolved_settings(self.settings)


class ConnectWiseListPolicyLinksOperator(_BindingOperator):
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


class AddigyFetchDevicesOperator(_BindingOperator):
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
        policy = _mapping(self.policy)
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
                **_push(ti, self.task_id, DEVICES_XCOM_KEY.format(n), row),
                "map_index": map_index,
                "policy_id": str(policy["policy_id"]),
            }
            for n, row in enumerate(rows)
        ]


class ConnectWisePlanBindingOperator(_BindingOperator):
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
        self.plan_only = _plan_only(type(self).__name__, plan_only, dry_run)
        self.sweep_orphans = sweep_orphans

    def execute(self, context: Any) -> list[dict[str, Any]]:
        ti = context["ti"]
        policies = [dict(p) for p in _list(self.policies)]
        dry_run = _truthy(self.plan_only)
        summary = PlanSummary(policies)
        pushed = _Rows(ti, self.task_id)
        batches: list[dict[str, Any]] = []
        # one group of companies in memory at a time: each part is logged and pushed, then dropped
        for part in plan_binding_groups(
            self.connectwise,
            self.resolved_settings(),
            policies,
            _device_source(ti, self.devices),
            scope=Scope.from_dict(_mapping(self.scope) if self.scope else None),
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


class _Rows:
    """The plan task's XCom rows: batches one a row, results that need no write in rows of 2,000."""

    def __init__(self, ti: Any, task_id: str) -> None:
        self.ti, self.task_id = ti, task_id
        self.done: list[dict[str, Any]] = []
        self._held: list[dict[str, Any]] = []
        self._batches = 0

    def results(self, results: list[dict[str, Any]]) -> None:
        self._held += results
        while len(self._held) >= DONE_PER_ROW:
            self._push_done(DONE_PER_ROW)

    def flush(self) -> list[dict[str, Any]]:
        """Push what is held; return the references of every row of results."""
        if self._held:
            self._push_done(len(self._held))
        return self.done

    def _push_done(self, size: int) -> None:
        row, self._held = self._held[:size], self._held[size:]
        self.done.append(_push(self.ti, self.task_id, DONE_XCOM_KEY.format(len(self.done)), row))

    def batch(self, batch: Batch) -> dict[str, Any]:
        key = BATCH_XCOM_KEY.format(self._batches)
        self._batches += 1
        return {
            **_push(self.ti, self.task_id, key, batch.to_dict()),
            "label": batch.label,
            "size": len(batch.actions),
        }


class ConnectWiseApplyBindingOperator(_BindingOperator):
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
        batch = _pulled(ti, self.batch)
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
            raise AirflowException(_pending_summary(left, len(results)))
        return records


class ConnectWiseBindingReportOperator(_BindingOperator):
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
        plan = _mapping(self.plan or {})
        if not plan:
            raise AirflowFailException("no binding plan: the planning task did not finish")
        ti = context["ti"]
        results = [DeviceResult.from_dict(r) for r in plan.get("results_without_write", [])]
        for ref in plan.get("results_without_write_refs", []):
            results += [DeviceResult.from_dict(r) for r in _pulled(ti, ref)]
        written = ti.xcom_pull(task_ids=self.apply_task_id, key=RESULTS_XCOM_KEY, default=None)
        results += [DeviceResult.from_dict(r) for r in _flatten(written or [])]
        # one batch in memory at a time: a plan's batches together can be large
        results += _never_applied((_pulled(ti, b) for b in _list(self.batches)), results)
        policies = list(plan.get("policies", [])) + [dict(p) for p in _list(self.not_linked)]
        record = binding_report(
            self.connectwise, _unique_policies(policies), results, dry_run=plan.get("dry_run", False)
        )
        return _finish(self, context, record)


class ConnectWiseSyncDevicesOperator(_BindingOperator):
    """Sync devices into ConnectWise configurations in one task (plan, apply, report).

    For manual syncs from the Airflow UI and small fleets. Syncing one policy reconciles its
    company with every policy linked to it (otherwise the other policies' devices would look
    removed). Devices can also come from any upstream task (another MDM) with ``devices`` and
    ``policies``.

    :param settings: the validated settings.
    :param policy: sync only this policy's company (templated; default every linked policy).
    :param company: link ``policy`` to this company (id or identifier, templated): the link is
        saved in Variable ``connectwise_policy_links`` so every later run keeps it (a dry run
        only says it would save it).
    :param devices: device records from an upstream task instead of Addigy (templated).
    :param policies: the policies of those devices, ``[{policy_id, name, company_id}]`` (templated).
    :param complete_companies: with ``devices``: they are every device of every policy linked to
        those companies, so configurations of the companies' other devices are deactivated.
        Default ``False``: devices from elsewhere are created and updated, nothing is deactivated.
    :param plan_only: plan and log, write nothing (templated; ``dry_run=`` is its deprecated name).
    :param concurrency: simultaneous writes.
    """

    template_fields: Sequence[str] = (
        "settings",
        "policy",
        "company",
        "devices",
        "policies",
        "complete_companies",
        "plan_only",
    )

    def __init__(
        self,
        *,
        policy: str | None = None,
        company: int | str | None = None,
        devices: Any = None,
        policies: Any = None,
        complete_companies: bool | str = False,
        plan_only: bool | str = False,
        dry_run: bool | str | None = None,
        concurrency: int = 8,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.policy = policy
        self.company = company
        self.devices = devices
        self.policies = policies
        self.complete_companies = complete_companies
        self.plan_only = _plan_only(type(self).__name__, plan_only, dry_run)
        self.concurrency = concurrency

    def execute(self, context: Any) -> dict[str, Any]:
        settings = self.resolved_settings()
        if self.devices is not None:
            policies = [dict(p) for p in _list(self.policies)]
            devices = _flatten(self.devices)
            scope = Scope(
                companies=_linked_companies(policies) if _truthy(self.complete_companies) else frozenset()
            )
        else:
            policy, company = self._save_company_link(context, settings)
            try:
                policies, devices = policies_and_devices(
                    self.addigy, self.connectwise, settings, policy=policy, company=company
                )
            except PolicyChoiceError as exc:
                raise AirflowFailException(str(exc)) from None
            # One policy: every policy linked to its company was read, so that company is whole.
            scope = Scope(companies=_linked_companies(policies)) if self.policy else Scope(all_policies=True)
        dry_run = _truthy(self.plan_only)
        plan, results = bind_all(
            self.connectwise,
            settings,
            policies,
            devices,
            scope=scope,
            dry_run=dry_run,
            concurrency=self.concurrency,
        )
        record = binding_report(self.connectwise, policies, results, dry_run=dry_run)
        if dry_run:
            for company_plan in plan.plans:
                self.log.info("DRY RUN for %s:\n%s", company_plan.company_name, render_plan(company_plan))
            actions = [a for company_plan in plan.plans for a in company_plan.actions]
            # what it would do, not the link status: planned writes have no result yet
            record["planned"] = planned_counts(actions, policies)
            record["dry_run_summary"] = render_dry_run(actions, policies)
        return _finish(self, context, record)

    def _save_company_link(self, context: Any, settings: ResolvedSettings) -> tuple[str | None, int | None]:
        """Save ``company`` as the policy's link (Variable ``connectwise_policy_links``), so the
        next scheduled run keeps what this run creates; a dry run only says it would.

        Returns the policy and the company to sync with (the company only for a dry run: a saved
        link applies by itself)."""
        if not self.policy or self.company in (None, ""):
            return self.policy or None, None
        run = context.get("run_id") or ""
        try:
            link = link_for_run(
                self.addigy,
                self.connectwise,
                settings,
                self.policy,
                self.company,
                by=f"{self.dag_id} run {run}",
            )
        except LinkChoiceError as exc:
            raise AirflowFailException(str(exc)) from None
        if _truthy(self.plan_only):
            self.log.info(
                "DRY RUN: would link policy %s to company %s in Variable %s (not saved)",
                link.policy_id,
                link.company_id,
                VARIABLE_KEY,
            )
            return link.policy_id, link.company_id
        save_link(link)
        self.log.info(
            "linked policy %s to company %s in Variable %s: every later run keeps this link "
            "(unlink it on the ConnectWise page)",
            link.policy_id,
            link.company_id,
            VARIABLE_KEY,
        )
        return link.policy_id, None  # the stored link now applies


def _plan_only(operator: str, plan_only: bool | str, dry_run: bool | str | None) -> bool | str:
    """``plan_only``, or the deprecated ``dry_run`` (an attribute of that name hid
    ``BaseOperator.dry_run()``, which ``airflow tasks test`` and others call)."""
    if dry_run is None:
        return plan_only
    warnings.warn(
        f"{operator}(dry_run=...) is deprecated: use plan_only=... (the same, templated)",
        AirflowProviderDeprecationWarning,
        stacklevel=4,
    )
    return dry_run


def _linked_companies(policies: Iterable[Mapping[str, Any]]) -> frozenset[int]:
    return frozenset(int(p["company_id"]) for p in policies if p.get("company_id") is not None)


def _finish(task: BaseOperator, context: Any, record: dict[str, Any]) -> dict[str, Any]:
    """Log the binding, record it for the UI page; fail when a retry may help, or on a new lasting failure.

    A transient failure raises ``AirflowException`` (the task's retries are Retry Pending); a device
    that newly fails for good raises ``AirflowFailException`` once (no retry can cure it); one that
    fails exactly as in the previous record is only logged, so bad data does not keep a DAG red.
    """
    task.log.info("Devices Binding\n%s", render_binding_table(record["results"]))
    if record["dry_run"]:
        # a dry run writes nothing: its link status would claim "linked 0" for what it only planned
        for line in record.get("dry_run_summary") or ["DRY RUN: nothing was written"]:
            task.log.info("%s", line)
        _push_record(context["ti"], record)
        return record["report"]
    for policy in record["report"]["policies"]:
        task.log.info(
            "policy %s: %s (%s icon) — %s",
            policy["name"] or policy["policy_id"],
            policy["status"],
            policy["icon"],
            ", ".join(f"{k} {v}" for k, v in policy["states"].items()),
        )
    ti = context["ti"]
    # The latest record of an earlier run of this task (this run's own is pushed below); a dry
    # run's record announced nothing, so only a real run's counts.
    previous = ti.xcom_pull(
        task_ids=task.task_id, key=BINDING_XCOM_KEY, include_prior_dates=True, map_indexes=-1, default=None
    )
    real = isinstance(previous, Mapping) and not previous.get("dry_run")
    known_before = record_results(ti, task.task_id, previous, prior=True) if real else []
    _push_record(ti, record)
    results = record["results"]
    left = retryable(results)
    if left:
        raise AirflowException(_pending_summary(left, len(results)))
    new = new_failures(results, known_before)
    if new:
        raise AirflowFailException(
            _pending_summary(new, len(results), head="newly failed; a retry cannot cure them, fix the data")
        )
    known = pending(results)
    if known:
        task.log.warning(
            "%d devices still fail as in the previous run (shown on the ConnectWise page):\n%s",
            len(known),
            "\n".join(f"  {r.device_name} ({r.agentid}): {r.error}" for r in known[:20]),
        )
    return record["report"]


def _push_record(ti: Any, record: Mapping[str, Any]) -> None:
    """Push the record for the page: its summary in one row, its device results in rows of their own."""
    results = list(record["results"])
    keys = []
    for number, start in enumerate(range(0, len(results), BINDING_RESULTS_PER_ROW)):
        keys.append(BINDING_RESULTS_XCOM_KEY.format(number))
        ti.xcom_push(key=keys[-1], value=results[start : start + BINDING_RESULTS_PER_ROW])
    ti.xcom_push(key=BINDING_XCOM_KEY, value={**record, "results": [], "results_rows": keys})


def record_results(ti: Any, task_id: str, record: Any, *, prior: bool = False) -> list[Any]:
    """The device results of a binding record pulled from XCom (inline, or in its ``results_rows``).

    :param ti: the task instance.
    :param task_id: the task that pushed the record.
    :param record: the record.
    :param prior: the record is an earlier run's (pull its rows from prior runs).
    """
    if not isinstance(record, Mapping):
        return []
    results = list(record.get("results") or [])
    for key in record.get("results_rows") or []:
        rows = ti.xcom_pull(
            task_ids=task_id, key=key, include_prior_dates=prior, map_indexes=-1, default=None
        )
        results.extend(rows or [])
    return results


def _pending_summary(
    left: Sequence[DeviceResult], total: int, *, head: str = "are not linked; Retry Pending writes only these"
) -> str:
    lines = [f"{len(left)} of {total} devices {head}:"]
    lines += [f"  {r.device_name} ({r.agentid}): {r.error}" for r in left[:20]]
    if len(left) > 20:
        lines.append(f"  … and {len(left) - 20} more (see the binding table above)")
    return "\n".join(lines)


def _push(ti: Any, task_id: str, key: str, value: Any) -> dict[str, Any]:
    """Push ``value`` as an XCom row of its own; return the small reference a later task pulls."""
    ti.xcom_push(key=key, value=value)
    return {"task_id": task_id, "key": key, "size": len(value) if isinstance(value, list) else 1}


def _pulled(ti: Any, value: Any) -> Any:
    """What a reference from :func:`_push` points to (anything else is the value itself: a batch
    given directly, or by a DAG written before the references)."""
    value = _mapping(value)
    if not (isinstance(value, Mapping) and "key" in value and "task_id" in value and "actions" not in value):
        return value
    pulled = ti.xcom_pull(task_ids=value["task_id"], key=value["key"], map_indexes=value.get("map_index", -1))
    if pulled is None:
        raise AirflowException(f"XCom {value['key']!r} of task {value['task_id']!r} is missing")
    return _mapping(pulled)


def _never_applied(
    batches: Iterable[Mapping[str, Any]], results: Sequence[DeviceResult]
) -> list[DeviceResult]:
    """Devices of batches whose apply task recorded no result (it failed before writing)."""
    seen = {(r.company_id, r.agentid) for r in results}
    missing = []
    for batch in batches:
        for action in (DeviceAction.from_dict(raw) for raw in batch.get("actions", [])):
            if (action.company_id, action.agentid) not in seen:
                missing.append(
                    DeviceResult(
                        action.agentid,
                        action.device_name,
                        action.policy_ids,
                        action.company_id,
                        action.action,
                        action.configuration_id,
                        "failed",
                        f"not applied: the apply task of {batch.get('label', 'its batch')} recorded no result",
                        action.warnings,
                        transient=True,
                    )
                )
    return missing


def _unique_policies(policies: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return list({str(p["policy_id"]): dict(p) for p in policies}.values())


def _mapping(value: Any) -> Mapping[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, Sequence):
        # index, don't iterate: a mapped task's lazy XCom sequence probes past its end when iterated
        return [value[i] for i in range(len(value))]
    return list(value)


def _is_reference(item: Mapping[str, Any]) -> bool:
    return "key" in item and "task_id" in item and "agentid" not in item


def _device_source(ti: Any, value: Any) -> DeviceSource:
    """Device records behind the fetch tasks' references (or given directly, flat or per policy),
    pulled row by row each time they are asked for: the plan task never holds the whole fleet.

    A reference names its policy, so a group of companies pulls only its policies' rows (one
    without ``policy_id``, from a run before that, is pulled for every group and filtered)."""
    items = _flatten(value)
    references = [item for item in items if _is_reference(item)]
    given = [item for item in items if not _is_reference(item)]

    def of(policy_ids: AbstractSet[str] | None) -> Iterator[Mapping[str, Any]]:
        for reference in references:
            named = reference.get("policy_id")
            if policy_ids is None or named is None or str(named) in policy_ids:
                yield from _pulled(ti, reference)
        yield from given

    return of


def _flatten(value: Any) -> list[dict[str, Any]]:
    """A list of device records, or a list of such lists (a mapped task's outputs)."""
    items: list[dict[str, Any]] = []
    for item in _list(value):
        if isinstance(item, Mapping):
            items.append(dict(item))
        elif item is not None:
            items.extend(dict(i) for i in item)
    return items


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
