"""A user's own binding DAG (another id, other task ids): the ConnectWise page reads its records too."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_connectwise.operators.binding import ConnectWiseSyncDevicesOperator
from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator

with DAG(
    dag_id="my_own_binding",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["connectwise", "test"],
) as dag:
    validate = ConnectWiseValidateSettingsOperator(task_id="check", settings_variable="connectwise_settings")
    ConnectWiseSyncDevicesOperator(task_id="bind_everything", settings=validate.output, plan_only=True)
