"""A user's own DAG: devices from another MDM handed to ConnectWiseSyncDevicesOperator (tests drive it with conf)."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_connectwise.operators.binding import ConnectWiseSyncDevicesOperator
from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator

with DAG(
    dag_id="user_sync_devices",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    params={
        "devices": Param([], type="array"),
        "policies": Param([], type="array"),
        "complete": Param(False, type="boolean"),
    },
    render_template_as_native_obj=True,
) as dag:
    validate = ConnectWiseValidateSettingsOperator(
        task_id="validate_settings", settings_variable="connectwise_settings"
    )
    ConnectWiseSyncDevicesOperator(
        task_id="sync_devices",
        settings=validate.output,
        devices="{{ params.devices }}",
        policies="{{ params.policies }}",
        complete_companies="{{ params.complete }}",
        retries=0,
    )
