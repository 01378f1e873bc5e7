"""What every binding operator shares: connections, hooks, the validated settings, templated flags."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.sdk import BaseOperator

from airflow_provider_connectwise.budget import ConnectWisePoolMixin
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.xcom import codebase_of, resolved_settings


class BindingOperator(ConnectWisePoolMixin, BaseOperator):
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


def plan_only_value(operator: str, plan_only: bool | str, dry_run: bool | str | None) -> bool | str:
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


def linked_companies(policies: Iterable[Mapping[str, Any]]) -> frozenset[int]:
    return frozenset(int(p["company_id"]) for p in policies if p.get("company_id") is not None)


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
