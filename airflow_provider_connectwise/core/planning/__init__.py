"""Reconcile a company's devices with its ConnectWise configurations -> one action per device.

All policies linked to one company are planned together (:func:`plan_company`), so a device that
moves between two policies of the same company is never deactivated and re-created. The plan is
the dry run; its write actions are cut into :class:`Batch` es for dynamic task mapping; each action
carries its full desired state, so a later try can re-plan it against a fresh read
(:func:`replan_action`) and never create a configuration twice.

The rooms (each module's docstring holds its decisions):

- ``records``: :class:`Scope`, :class:`DeviceAction`, :class:`CompanyPlan`, :class:`Batch` and
  their XCom shapes.
- ``configurations``: reading raw configurations, ownership (:func:`is_owned`), the
  :class:`ConfigurationIndex`.
- ``devices``: mapping the device records, merging duplicate agent ids.
- ``matching``: one device against the configurations (match, adopt by serial, changes).
- ``deactivation``: what is deactivated, the sweep of orphans (:func:`plan_orphans`).
- ``company``: :func:`plan_company`, which puts the above together.
- ``replan``: :func:`replan_action`; ``batches``: :func:`cut_batches`; ``render``: the dry run.
"""

from __future__ import annotations

from airflow_provider_connectwise.core.planning.batches import cut_batches
from airflow_provider_connectwise.core.planning.company import plan_company
from airflow_provider_connectwise.core.planning.configurations import (
    ConfigurationIndex,
    index_configurations,
    is_owned,
)
from airflow_provider_connectwise.core.planning.deactivation import plan_orphans
from airflow_provider_connectwise.core.planning.records import (
    ACTIONS,
    WRITE_ACTIONS,
    Batch,
    CompanyPlan,
    DeviceAction,
    Scope,
)
from airflow_provider_connectwise.core.planning.render import render_plan
from airflow_provider_connectwise.core.planning.replan import replan_action

__all__ = [
    "ACTIONS",
    "WRITE_ACTIONS",
    "Batch",
    "CompanyPlan",
    "ConfigurationIndex",
    "DeviceAction",
    "Scope",
    "cut_batches",
    "index_configurations",
    "is_owned",
    "plan_company",
    "plan_orphans",
    "render_plan",
    "replan_action",
]
