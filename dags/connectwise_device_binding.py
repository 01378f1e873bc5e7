"""Devices Binding, every hour: bind the devices of every linked policy to ConnectWise configurations.

validate settings ("the switch") -> linked policies -> fetch devices (mapped per policy) -> plan
(one read per company) -> apply (mapped per batch of writes, spread over workers) -> link status.
Task retries are the seed's "Retry Pending": a retried apply task writes only for the devices
still pending. Pausing the DAG switches the integration off.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_connectwise.examples import default_args, settings_source
from airflow_provider_connectwise.operators.binding import (
    AddigyFetchDevicesOperator,
    ConnectWiseApplyBindingOperator,
    ConnectWiseBindingReportOperator,
    ConnectWiseListPolicyLinksOperator,
    ConnectWisePlanBindingOperator,
)
from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator

with DAG(
    dag_id="connectwise_device_binding",
    description="Bind MDM devices to ConnectWise configurations (Devices Binding)",
    schedule="@hourly",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["connectwise", "addigy", "binding"],
    doc_md=__doc__,
) as dag:
    # Bad settings fail at once (AirflowFailException, no retry); a transient API error is retried.
    validate = ConnectWiseValidateSettingsOperator(task_id="validate_settings", **settings_source(__file__))
    links = ConnectWiseListPolicyLinksOperator(task_id="policy_links", settings=validate.output)
    devices = AddigyFetchDevicesOperator.partial(task_id="fetch_devices", settings=validate.output).expand(
        policy=links.output
    )
    plan = ConnectWisePlanBindingOperator(
        task_id="plan_binding",
        settings=validate.output,
        policies=links.output,
        devices=devices.output,
        # every policy was listed: every linked company is whole, unlinked ones may be swept
        scope=links.output["scope"],
    )
    # Four batches at a time; every ConnectWise task runs in the `connectwise` pool, and each
    # running task spaces its requests at its share of the account's budget (see the README).
    apply = ConnectWiseApplyBindingOperator.partial(
        task_id="apply_binding",
        settings=validate.output,
        max_active_tis_per_dagrun=4,
    ).expand(batch=plan.output)
    report = ConnectWiseBindingReportOperator(
        task_id="link_status",
        settings=validate.output,
        plan=plan.output["plan"],
        batches=plan.output,
        not_linked=links.output["not_linked"],
    )
    apply >> report
