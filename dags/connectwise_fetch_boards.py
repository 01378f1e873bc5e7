"""The integration widget's "Next" and "the switch", on demand (seed steps 5 and 16).

Trigger it after creating the ``connectwise`` connection: ``fetch_boards`` logs the service
boards with their statuses, the configuration statuses and types (with their required questions)
and a ready-to-edit settings document; ``validate_settings`` checks the current settings and
lists every problem at once.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_connectwise.examples import settings_source
from airflow_provider_connectwise.operators.settings import (
    ConnectWiseFetchBoardsOperator,
    ConnectWiseValidateSettingsOperator,
)

with DAG(
    dag_id="connectwise_fetch_boards",
    description='"Next": what ConnectWise offers, and whether the settings are valid',
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "company_name": Param(
            "", type="string", title="Companies whose name contains", description="Optional"
        )
    },
    tags=["connectwise", "settings"],
    doc_md=__doc__,
) as dag:
    fetch = ConnectWiseFetchBoardsOperator(task_id="fetch_boards", company_name="{{ params.company_name }}")
    validate = ConnectWiseValidateSettingsOperator(task_id="validate_settings", **settings_source(__file__))
    fetch >> validate
