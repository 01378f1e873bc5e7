"""Trigger a binding DAG from the page (Retry Pending, a saved link), as Airflow's REST API does.

The run is created by the REST API's own ``trigger_dag_run`` (same checks: the DAG exists, has
no import errors, accepts manual runs, its params accept the conf), and the action goes to
Airflow's audit log like a trigger from the UI. A sync re-reads ConnectWise and writes only
what is still pending.
"""

from __future__ import annotations

import json
from typing import Any, cast

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.datamodels.dag_run import TriggerDAGRunPostBody
from airflow.api_fastapi.core_api.routes.public.dag_run import trigger_dag_run
from airflow.models import DagRun, Log
from airflow.models.dagbag import DBDagBag
from fastapi import Request
from sqlalchemy.orm import Session


def accepts_policy(dag_bag: DBDagBag, dag_id: str, session: Session) -> bool:
    """Whether the DAG takes a ``policy`` param (a one-policy sync), as its latest version says.

    :param dag_bag: the API server's DAG bag.
    :param dag_id: the DAG.
    :param session: a metadata DB session.
    """
    dag = dag_bag.get_latest_version_of_dag(dag_id, session=session)
    return dag is not None and "policy" in (dag.params or {})


def trigger_sync(
    *,
    dag_id: str,
    conf: dict[str, Any],
    note: str,
    user: BaseUser,
    session: Session,
    dag_bag: DBDagBag,
    request: Request,
) -> DagRun:
    """Queue a run of ``dag_id`` with ``conf`` and return it.

    Raises the REST API's ``HTTPException`` (404 no such DAG, 400 import errors or bad conf).

    :param dag_id: the DAG to trigger.
    :param conf: the run's conf (``{"policy": id}`` for a one-policy sync).
    :param note: the run's note, and what the audit log calls the action.
    :param user: the user who clicked (recorded as the triggering user and in the audit log).
    :param session: a metadata DB session (committed here).
    :param dag_bag: the API server's DAG bag.
    :param request: the POST (a ``Referer`` marks the run as triggered from the UI).
    """
    body = TriggerDAGRunPostBody(logical_date=None, conf=conf, note=note)
    # Airflow annotates the route with its response model, but it returns the DagRun row that
    # FastAPI then serialises into that model.
    run = cast(
        DagRun,
        trigger_dag_run(
            dag_id=dag_id, body=body, dag_bag=dag_bag, user=user, session=session, request=request
        ),
    )
    session.add(
        Log(
            event="trigger_dag_run",
            owner=user.get_name(),
            owner_display_name=user.get_name(),
            extra=json.dumps({"conf": conf, "source": f"ConnectWise page: {note}", "method": "POST"}),
            dag_id=dag_id,
            run_id=run.run_id,
        )
    )
    session.commit()
    return run
