"""Plan one company: every device of its linked policies against its configurations.

All policies linked to one company are planned together, so a device that moves between two
policies of the same company is never deactivated and re-created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.planning.configurations import (
    ConfigurationIndex,
    index_configurations,
    ref_id,
)
from airflow_provider_connectwise.core.planning.deactivation import deactivation, left_over
from airflow_provider_connectwise.core.planning.devices import read_devices, shared_serials
from airflow_provider_connectwise.core.planning.matching import device_action
from airflow_provider_connectwise.core.planning.records import CompanyPlan, DeviceAction
from airflow_provider_connectwise.core.settings import ResolvedSettings

__all__ = ["plan_company"]


def _company_index(
    company_id: int, configurations: Iterable[Mapping[str, Any]], warnings: list[str]
) -> ConfigurationIndex:
    """Index the company's own configurations; a record of another company is ignored with a warning."""
    own: list[Mapping[str, Any]] = []
    for configuration in configurations:
        other = ref_id(configuration, "company") if isinstance(configuration, Mapping) else None
        if other is not None and other != company_id:
            warnings.append(
                f"configuration {printable(configuration.get('id'), 20)} belongs to company {other}; ignored"
            )
            continue
        own.append(configuration)
    index = index_configurations(own)
    warnings.extend(index.problems)
    return index


def plan_company(
    company_id: int,
    devices: Iterable[Mapping[str, Any]],
    configurations: Iterable[Mapping[str, Any]],
    settings: ResolvedSettings,
    *,
    company_name: str = "",
    deactivate: bool = True,
    sites: Mapping[str, int] | None = None,
) -> CompanyPlan:
    """Plan one company: every device of its linked policies against its configurations.

    :param company_id: the ConnectWise company id.
    :param devices: the device records of every policy linked to this company (untrusted).
    :param configurations: the company's raw ConnectWise configurations (``fields=`` as in
        ``docs/design.md``); records of another company are ignored with a warning.
    :param settings: the resolved settings.
    :param company_name: for logs and batch labels.
    :param deactivate: whether ``devices`` is the company's complete device set (see ``Scope``);
        without it, configurations of devices not in ``devices`` are left as they are.
    :param sites: policy id -> ConnectWise site id, for the devices of policies linked to a site.
    """
    plan_warnings: list[str] = []
    index = _company_index(company_id, configurations, plan_warnings)
    entries, present = read_devices(company_id, devices, settings)
    shared = shared_serials(entries)
    claimed: set[int] = set()
    actions: list[DeviceAction] = [
        entry
        if isinstance(entry, DeviceAction)
        else device_action(entry, company_id, index, settings, claimed, shared, sites or {})
        for entry in entries
    ]
    left = left_over(index, claimed, present, settings)
    if deactivate:
        actions.extend(deactivation(c, company_id, settings.inactive_status_id) for c in left)
    elif left:
        plan_warnings.append(
            f"{len(left)} configurations of devices not in this run left as they are: "
            "the run does not hold the company's complete device set"
        )
    return CompanyPlan(company_id, company_name, tuple(actions), tuple(plan_warnings))
