"""Manual sync from the Airflow UI: *Trigger DAG w/ config*, pick a policy (and a company), or dry-run.

Syncing a policy (its name or id) reconciles its ConnectWise company with every policy linked to
it. Leave ``policy`` empty to sync everything. ``company`` links the policy to that company and
saves the link (Variable ``connectwise_policy_links``), so every later run keeps it (the seed's
Setup steps 3-6). A dry run logs what it would create, update and deactivate, and writes nothing.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_connectwise.examples import default_args, settings_source
from airflow_provider_connectwise.operators.binding import ConnectWiseSyncDevicesOperator
from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator

with DAG(
    dag_id="connectwise_manual_sync",
    description="Sync one policy's devices to ConnectWise now (Retry Pending from the UI)",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    # ["null", "string"]: the trigger form lets these be left empty (a plain "string" is required)
    params={
        "policy": Param(
            None,
            type=["null", "string"],
            title="MDM policy",
            description="Name or id (a name two policies share must be an id); empty: every linked policy",
        ),
        "company": Param(
            None,
            type=["null", "string"],
            title="ConnectWise company",
            description="Identifier or id, linked to the policy for this run only; empty: the policy's own link",
        ),
        "dry_run": Param(False, type="boolean", title="Dry run", description="Plan and log, write nothing"),
    },
    render_template_as_native_obj=True,
    tags=["connectwise", "addigy", "binding"],
    doc_md=__doc__,
) as dag:
    # Bad settings fail at once (AirflowFailException, no retry); a transient API error is retried.
    validate = ConnectWiseValidateSettingsOperator(task_id="validate_settings", **settings_source(__file__))
    ConnectWiseSyncDevicesOperator(
        task_id="sync_devices",
        settings=validate.output,
        policy="{{ params.policy }}",
        company="{{ params.company }}",
        plan_only="{{ params.dry_run }}",
    )
