"""Devices Binding in one task (plan, apply, report): manual syncs from the UI, small fleets, other MDMs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_connectwise.core.binding_report import planned_counts, render_dry_run
from airflow_provider_connectwise.core.planning import Scope, render_plan
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.flows.binding import bind_all, binding_report
from airflow_provider_connectwise.flows.link_store import (
    VARIABLE_KEY,
    LinkChoiceError,
    link_for_run,
    save_link,
)
from airflow_provider_connectwise.flows.policy_links import PolicyChoiceError, policies_and_devices
from airflow_provider_connectwise.operators._base import (
    BindingOperator,
    linked_companies,
    plan_only_value,
    truthy,
)
from airflow_provider_connectwise.operators._record import finish_binding
from airflow_provider_connectwise.xcom import as_list, flatten


class ConnectWiseSyncDevicesOperator(BindingOperator):
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
        self.plan_only = plan_only_value(type(self).__name__, plan_only, dry_run)
        self.concurrency = concurrency

    def execute(self, context: Any) -> dict[str, Any]:
        settings = self.resolved_settings()
        if self.devices is not None:
            policies = [dict(p) for p in as_list(self.policies)]
            devices = flatten(self.devices)
            scope = Scope(
                companies=linked_companies(policies) if truthy(self.complete_companies) else frozenset()
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
            scope = Scope(companies=linked_companies(policies)) if self.policy else Scope(all_policies=True)
        dry_run = truthy(self.plan_only)
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
        return finish_binding(self, context, record)

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
        if truthy(self.plan_only):
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
