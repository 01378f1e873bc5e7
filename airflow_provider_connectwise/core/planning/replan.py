"""Re-plan one action against a fresh read (Retry Pending, or a retried task), so applying it again is safe.

Each action carries its full desired state, so a later try never creates a configuration twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from airflow_provider_connectwise.core.planning.configurations import (
    ConfigurationIndex,
    identity,
    index_configurations,
    prefer,
)
from airflow_provider_connectwise.core.planning.deactivation import replan_deactivation
from airflow_provider_connectwise.core.planning.matching import update_or_none
from airflow_provider_connectwise.core.planning.records import DeviceAction

__all__ = ["replan_action"]


def replan_action(
    action: DeviceAction, configurations: ConfigurationIndex | Iterable[Mapping[str, Any]]
) -> DeviceAction:
    """Re-plan one action against a fresh read, so that applying it again is safe.

    A create whose configuration now exists becomes an update or ``none`` (never a second
    create); an update already applied becomes ``none``; a deactivation already applied keeps
    empty changes. An update whose configuration disappeared becomes a create.

    :param action: the action planned earlier.
    :param configurations: a fresh read: the company's configurations (or at least those carrying
        this agent id and the action's configuration), raw or indexed.
    """
    index = (
        configurations
        if isinstance(configurations, ConfigurationIndex)
        else index_configurations(configurations)
    )
    if action.action == "fail" or not action.agentid:
        return action
    if action.action == "deactivate":
        return replan_deactivation(action, index)
    warnings = list(action.warnings)
    link = str(action.desired.get("managementLink", ""))
    active_status = action.desired.get("status", {}).get("id")
    configuration = index.by_id(action.configuration_id)
    current = identity(configuration) if configuration is not None else ""
    # An adoption not yet written still has an empty identifier; one written has ours.
    if configuration is None or current not in ("", action.agentid.casefold()):
        matches = prefer(index.for_agentid(action.agentid), link, active_status)
        configuration = matches[0] if matches else None
    if configuration is None:
        if action.configuration_id is not None:
            warnings.append(f"configuration {action.configuration_id} no longer exists; creating a new one")
        return replace(action, action="create", configuration_id=None, changes={}, warnings=tuple(warnings))
    if action.action == "create":
        warnings.append(
            f"configuration {configuration['id']} already exists (an earlier try); not created again"
        )
    return update_or_none(action, configuration, warnings)
