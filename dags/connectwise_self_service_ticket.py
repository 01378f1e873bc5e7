"""A Self Service request to a ConnectWise ticket on the self-service board.

Trigger with a run conf, e.g. from the MDM's Self Service app or a form::

    {"user": "ann@acme.example", "device": "<agent id>", "subject": "Printer offline",
     "text": "The 2nd floor printer does not answer.", "request_id": "req-4711"}

The request id is the ticket's external reference: triggering the same request twice opens one
ticket. The ticket goes to the device's company and is linked to its configuration.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_connectwise.examples import default_args, settings_source
from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator
from airflow_provider_connectwise.operators.tickets import ConnectWiseCreateTicketOperator

with DAG(
    dag_id="connectwise_self_service_ticket",
    description="A Self Service request -> a ConnectWise ticket on the self-service board",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    params={
        "user": Param("", type="string", title="Requested by"),
        "device": Param("", type="string", title="Device agent id"),
        "subject": Param("", type="string", title="Subject", minLength=1),
        "text": Param("", type="string", title="Description"),
        "request_id": Param("", type="string", title="Request id", description="Empty: the run id"),
    },
    tags=["connectwise", "addigy", "tickets"],
    doc_md=__doc__,
) as dag:
    # Bad settings fail at once (AirflowFailException, no retry); a transient API error is retried.
    validate = ConnectWiseValidateSettingsOperator(task_id="validate_settings", **settings_source(__file__))
    ConnectWiseCreateTicketOperator(
        task_id="open_ticket",
        settings=validate.output,
        board="self_service",
        summary="{{ params.subject }}",
        description="Requested by {{ params.user or 'a Self Service user' }}:\n{{ params.text }}",
        agentid="{{ params.device }}",
        external_ref="{{ params.request_id or run_id }}",
        requester_email="{{ params.user }}",
    )
