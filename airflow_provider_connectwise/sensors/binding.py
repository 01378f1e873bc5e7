"""Wait until a policy is fully linked (the seed's blue icon)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_connectwise.budget import ConnectWisePoolMixin
from airflow_provider_connectwise.core.binding_report import LinkStatus
from airflow_provider_connectwise.flows.binding import policy_link_status
from airflow_provider_connectwise.flows.policy_links import list_policy_links
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.xcom import resolved_settings


class ConnectWisePolicyLinkedSensor(ConnectWisePoolMixin, BaseSensorOperator):
    """Wait until every device of a policy is linked to a configuration of its company.

    Each poke reads the policy's devices and the company's configurations once and plans
    without writing: the policy is LINKED (blue) when nothing is left to write or fix.

    :param policy_id: the MDM policy (templated).
    :param settings: the validated settings (``ConnectWiseValidateSettingsOperator``'s XCom).
    :param connectwise_conn_id: the ``connectwise`` connection.
    :param addigy_conn_id: the ``addigy`` connection.
    """

    template_fields: Sequence[str] = ("policy_id", "settings")
    ui_color = "#2f6fb3"

    def __init__(
        self,
        *,
        policy_id: str,
        settings: Mapping[str, Any] | str,
        connectwise_conn_id: str = ConnectWiseHook.default_conn_name,
        addigy_conn_id: str = AddigyHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.policy_id = policy_id
        self.settings = settings
        self.connectwise_conn_id = connectwise_conn_id
        self.addigy_conn_id = addigy_conn_id

    @cached_property
    def connectwise(self) -> ConnectWiseHook:
        return ConnectWiseHook(
            self.connectwise_conn_id, requests_per_minute=self.connectwise_requests_per_minute()
        )

    @cached_property
    def addigy(self) -> AddigyHook:
        return AddigyHook(self.addigy_conn_id)

    def poke(self, context: Any) -> PokeReturnValue:
        settings = resolved_settings(self.settings)
        policies = list_policy_links(
            self.addigy, self.connectwise, settings, policy_ids=[str(self.policy_id)]
        )
        policy = next((p for p in policies if p["policy_id"] == str(self.policy_id)), None)
        if policy is None:
            raise AirflowFailException(f"policy {self.policy_id!r} does not exist in the MDM")
        status = policy_link_status(self.connectwise, self.addigy, settings, policy)
        self.log.info(
            "policy %s: %s (%s icon)", policy["name"] or policy["policy_id"], status.value, status.icon
        )
        return PokeReturnValue(is_done=status is LinkStatus.LINKED, xcom_value=status.value)
