"""Monitoring alerts to ConnectWise tickets, every 15 minutes.

New alerts of the data interval whose monitoring item asks for a ticket open a ticket on the
monitoring board, linked to the device's configuration (one mapped task per alert; a second
delivery or a rerun opens nothing new). Alerts resolved in Addigy close their tickets; with the
setting ``resolve_alerts_in_mdm``, a ticket closed in ConnectWise resolves its alert. Backfilling
a period (e.g. after an outage) catches up on the alerts raised in it. A run that leaves an alert
without its ticket fails (``all_alerts_ticketed``), and the next run reads from the end of the
last successful run, so it opens the missing tickets and attaches missing configurations.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from airflow_provider_connectwise.examples import default_args, settings_source
from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator
from airflow_provider_connectwise.operators.tickets import (
    AddigyAlertTicketRequestsOperator,
    ConnectWiseCreateTicketOperator,
    ConnectWiseSyncAlertTicketsOperator,
)

with DAG(
    dag_id="connectwise_alert_tickets",
    description="Addigy monitoring alerts -> ConnectWise tickets, closed when resolved",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["connectwise", "addigy", "tickets"],
    doc_md=__doc__,
) as dag:
    # Bad settings fail at once (AirflowFailException, no retry); a transient API error is retried.
    validate = ConnectWiseValidateSettingsOperator(task_id="validate_settings", **settings_source(__file__))
    # alerts of devices in a policy linked "inventory only" or "paused" open no ticket
    alerts = AddigyAlertTicketRequestsOperator(task_id="new_alerts", settings=validate.output)
    tickets = ConnectWiseCreateTicketOperator.partial(
        task_id="open_tickets", settings=validate.output, board="monitoring", max_active_tis_per_dagrun=8
    ).expand_kwargs(alerts.output)
    close = ConnectWiseSyncAlertTicketsOperator(
        task_id="close_resolved", settings=validate.output, trigger_rule="all_done"
    )
    # A leaf that needs every ticket: when an alert is left without its ticket (or configuration),
    # the run fails instead of ending green behind close_resolved's all_done; the next run reads
    # again from the end of the last successful one and finishes what this one left.
    all_ticketed = EmptyOperator(task_id="all_alerts_ticketed")
    validate >> alerts
    tickets >> close
    tickets >> all_ticketed
