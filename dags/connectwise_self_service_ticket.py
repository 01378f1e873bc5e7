"""A Self Service request to a ConnectWise ticket on the self-service board.

Trigger with a run conf, e.g. from the MDM's Self Service app or a form::

    {"user": "ann@acme.example", "device": "<agent id>", "subject": "Printer offline",
     "text": "The 2nd floor printer does not answer.", "request_id": "req-4711"}

The request id is the ticket's external reference: triggering the same request twice opens one
ticket. The ticket goes to the device's company and is linked to its configuration. The run then
waits (deferred, in the triggerer) until a technician closes the ticket, and finishes.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_connectwise.examples import default_args, settings_source, ticket_poll_seconds
from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator
from airflow_provider_connectwise.operators.tickets import ConnectWiseCreateTicketOperator
from airflow_provider_connectwise.sensors.tickets import ConnectWiseTicketClosedSensor

with DAG(
    dag_id="connectwise_self_service_ticket",
    description="A Self Service request -> a ConnectWise ticket on the self-service board",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    # ["null", "string"]: optional in the trigger form (a plain "string" must be filled in)
    params={
        "user": Param(None, type=["null", "string"], title="Requested by"),
        "device": Param(None, type=["null", "string"], title="Device agent id"),
        "subject": Param("", type="string", title="Subject", minLength=1),
        "text": Param(None, type=["null", "string"], title="Description"),
        "request_id": Param(
            None, type=["null", "string"], title="Request id", description="Empty: the run id"
        ),
        "wait_until_closed": Param(
            True,
            type="boolean",
            title="Wait until closed",
            description="Finish when a technician closes the ticket (off: finish once it is open)",
        ),
    },
    tags=["connectwise", "addigy", "tickets"],
    doc_md=__doc__,
) as dag:
    # Bad settings fail at once (AirflowFailException, no retry); a transient API error is retried.
    validate = ConnectWiseValidateSettingsOperator(task_id="validate_settings", **settings_source(__file__))
    ticket = ConnectWiseCreateTicketOperator(
        task_id="open_ticket",
        settings=validate.output,
        board="self_service",
        summary="{{ params.subject }}",
        description="Requested by {{ params.user or 'a Self Service user' }}:\n{{ params.text or '' }}",
        agentid="{{ params.device or '' }}",
        external_ref="{{ params.request_id or run_id }}",
        requester_email="{{ params.user }}",
    )
    # The run finishes when a technician closes the request; the wait happens in the triggerer
    # (no worker slot, no pool slot), polling within the triggers' share of the rate budget.
    wait = ConnectWiseTicketClosedSensor(
        task_id="wait_until_closed",
        # empty when the form says not to wait: the sensor then skips
        ticket_id="{{ ti.xcom_pull(task_ids='open_ticket')['ticket_id'] if params.wait_until_closed else '' }}",
        deferrable=True,
        poke_interval=ticket_poll_seconds(),
        timeout=timedelta(days=14).total_seconds(),
    )
    ticket >> wait
