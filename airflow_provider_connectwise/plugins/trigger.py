"""Retry Pending: trigger ``connectwise_manual_sync`` for one policy, as Airflow's REST API does.

The run is created by the REST API's own ``trigger_dag_run`` (same checks: the DAG exists, has
no import errors, accepts manual runs, its params accept the conf), and the action goes to
Airflow's audit log like a trigger from the UI. The manual sync re-reads ConnectWise and writes
only what is still pending.
"""

from __future__ import annotations

import json

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.datamodels.dag_run import TriggerDAGRunPostBody
from airflow.api_fastapi.core_api.routes.public.dag_run import trigger_dag_run
from airflow.models import DagRun, Log
from airflow.models.dagbag import DBDagBag
from fastapi import Request
from sqlalchemy.orm import Session

from airflow_provider_connectwise.plugins.model import SYNC_DAG_ID


def retry_pending(
    *, policy_id: str, user: BaseUser, session: Session, dag_bag: DBDagBag, request: Request
) -> DagRun:
    """Queue a run of the manual sync with conf ``{"policy": policy_id}`` and return it.

    Raises the REST API's ``HTTPException`` (404 no such DAG, 400 import errors or bad conf).

    :param policy_id: the MDM policy.
    :param user: the user who clicked (recorded as the triggering user and in the audit log).
    :param session: a metadata DB session (committed here).
    :param dag_bag: the API server's DAG bag.
    :param request: the POST (a ``Referer`` marks the run as triggered from the UI).
    """
    conf = {"policy": policy_id}
    body = TriggerDAGRunPostBody(logical_date=None, conf=conf, note="Retry Pending from the ConnectWise page")
    run = trigger_dag_run(
        dag_id=SYNC_DAG_ID, body=body, dag_bag=dag_bag, user=user, session=session, request=request
    )
    session.add(
        Log(
            event="trigger_dag_run",
            owner=user.get_name(),
            owner_display_name=user.get_name(),
            extra=json.dumps({"conf": conf, "source": "ConnectWise page: Retry Pending", "method": "POST"}),
            dag_id=SYNC_DAG_ID,
            run_id=run.run_id,
        )
    )
    session.commit()
    return run
