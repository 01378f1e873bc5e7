"""Which configurations are deactivated: a company's left-over ones, and the orphans of a sweep.

- Only our configurations are ever deactivated (ownership: ``configurations.is_owned``).
- A linked company: our configurations whose ``deviceIdentifier`` matches no device of the
  company, unless already in the inactive status, and only when the run holds the company's
  complete device set (``Scope``).
- Orphans (:func:`plan_orphans`, companies that lost their last linked policy): our
  configurations in the *active* status only, as found by a sweep.
- A ``deactivate`` re-planned after it was applied keeps its action with empty ``changes``: no
  write, and the device still reads as unlinked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from airflow_provider_connectwise.core.planning.configurations import (
    ConfigurationIndex,
    field_text,
    identity,
    index_configurations,
    is_owned,
    ref_id,
)
from airflow_provider_connectwise.core.planning.matching import changes
from airflow_provider_connectwise.core.planning.records import CompanyPlan, DeviceAction
from airflow_provider_connectwise.core.settings import ResolvedSettings

__all__ = ["deactivation", "left_over", "plan_orphans", "replan_deactivation"]


def deactivation(configuration: Mapping[str, Any], company_id: int, inactive_status_id: int) -> DeviceAction:
    """The action that moves one configuration to the inactive status."""
    status = {"id": inactive_status_id}
    return DeviceAction(
        agentid=field_text(configuration.get("deviceIdentifier")),
        device_name=field_text(configuration.get("name")),
        policy_ids=(),
        company_id=company_id,
        action="deactivate",
        configuration_id=configuration["id"],
        desired={"status": status},
        changes={"status": dict(status)},
    )


def left_over(
    index: ConfigurationIndex, claimed: set[int], present: set[str], settings: ResolvedSettings
) -> list[Mapping[str, Any]]:
    """Our configurations no device of the company claims or names, not yet inactive.

    :param index: the company's configurations.
    :param claimed: ids of the configurations the plan's devices matched.
    :param present: the agent ids (casefolded) of every device read, failed ones included.
    :param settings: the resolved settings.
    """
    return [
        configuration
        for configuration in index
        if configuration["id"] not in claimed
        and identity(configuration) not in present
        and is_owned(configuration, settings.management_link_template)
        and ref_id(configuration, "status") != settings.inactive_status_id
    ]


def plan_orphans(
    configurations: Iterable[Mapping[str, Any]],
    settings: ResolvedSettings,
    *,
    linked_company_ids: Iterable[int] = (),
) -> list[CompanyPlan]:
    """Plan the deactivation of our active configurations in companies no policy links to any more.

    :param configurations: raw configurations of companies without a linked policy (e.g. a sweep
        of ``status/id = active``); configurations of ``linked_company_ids`` are skipped.
    :param settings: the resolved settings.
    :param linked_company_ids: companies that still have a linked policy (planned by
        ``plan_company`` instead).
    """
    linked = set(linked_company_ids)
    by_company: dict[int, list[DeviceAction]] = defaultdict(list)
    names: dict[int, str] = {}
    for configuration in index_configurations(configurations):
        company_id = ref_id(configuration, "company")
        if company_id is None or company_id in linked:
            continue
        if not is_owned(configuration, settings.management_link_template):
            continue
        if ref_id(configuration, "status") != settings.active_status_id:
            continue
        ref = configuration.get("company") or {}
        names.setdefault(company_id, field_text(ref.get("name") or ref.get("identifier")))
        by_company[company_id].append(deactivation(configuration, company_id, settings.inactive_status_id))
    return [
        CompanyPlan(company_id, names[company_id], tuple(by_company[company_id]))
        for company_id in sorted(by_company)
    ]


def replan_deactivation(action: DeviceAction, index: ConfigurationIndex) -> DeviceAction:
    """Re-plan a deactivation against a fresh read: empty ``changes`` once done or no longer ours to do.

    :param action: the ``deactivate`` action planned earlier.
    :param index: the fresh read.
    """
    configuration = index.by_id(action.configuration_id)
    if configuration is None and action.agentid:
        configuration = next(
            (c for c in index.for_agentid(action.agentid) if c["id"] == action.configuration_id), None
        )
    if configuration is None:
        note = f"configuration {action.configuration_id} no longer exists; nothing to deactivate"
        return replace(action, changes={}, warnings=(*action.warnings, note))
    if identity(configuration) != (action.agentid or "").casefold():
        note = (
            f"configuration {action.configuration_id} now carries another device identifier; left untouched"
        )
        return replace(action, changes={}, warnings=(*action.warnings, note))
    return replace(action, changes=changes(action.desired, configuration, ()))
