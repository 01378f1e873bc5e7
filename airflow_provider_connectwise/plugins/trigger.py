"""Trigger a binding DAG from the page (Retry Pending, a saved link), with the REST API's checks.

The run is created by Airflow's common trigger API (``airflow.api.common.trigger_dag``, the one
the execution API and ``TriggerDagRunOperator`` use). Before it, the checks the REST API's
trigger makes: the DAG exists and is not stale (404), has no import errors (400); the trigger
API refuses a DAG that takes no manual runs and params that reject the conf (400). The user is
recorded as the triggering user and on the run's note, and the action goes to Airflow's audit
log like a trigger from the UI. A sync re-reads ConnectWise and writes only what is still
pending.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from airflow.api.common.trigger_dag import trigger_dag
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.exceptions import DagNotFound, DagRunAlreadyExists
from airflow.models import DagModel, DagRun, Log
from airflow.models.dagbag import DBDagBag
from airflow.utils.types import DagRunTriggeredByType, DagRunType
from fastapi import HTTPException, Request, status
from sqlalchemy import select
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
    request: Request,
) -> DagRun:
    """Queue a manual run of ``dag_id`` with ``conf`` and return it.

    Raises ``HTTPException`` as the REST API does: 404 no such DAG, 400 import errors, no manual
    runs or a conf its params refuse, 409 a run of that id already exists.

    :param dag_id: the DAG to trigger.
    :param conf: the run's conf (``{"policy": id}`` for a one-policy sync).
    :param note: the run's note, and what the audit log calls the action.
    :param user: the user who clicked (recorded as the triggering user and in the audit log).
    :param session: a metadata DB session (committed here).
    :param request: the POST (a ``Referer`` marks the run as triggered from the UI).
    """
    _check_triggerable(dag_id, session)
    try:
        run = trigger_dag(
            dag_id,
            triggered_by=DagRunTriggeredByType.UI
            if request.headers.get("referer")
            else DagRunTriggeredByType.REST_API,
            run_type=DagRunType.MANUAL,
            triggering_user_name=user.get_name(),
            conf=conf,
            session=session,
        )
    except DagNotFound:  # no serialized version of the DAG yet
        _not_found(dag_id)
    except DagRunAlreadyExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except ValueError as exc:  # params that refuse the conf, a DAG without manual runs
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    if run is None:
        _not_found(dag_id)
    run.note = (note, user.get_id())  # the note's author, as the REST API records it
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


def _check_triggerable(dag_id: str, session: Session) -> None:
    """Refuse a DAG Airflow no longer has (or never had) and one whose file does not import."""
    dag_model = session.scalar(select(DagModel).where(~DagModel.is_stale, DagModel.dag_id == dag_id).limit(1))
    if dag_model is None:
        _not_found(dag_id)
    if dag_model.has_import_errors:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"Dag with dag_id: '{dag_id}' has import errors and cannot be triggered",
        )


def _not_found(dag_id: str) -> NoReturn:
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"Dag with dag_id: '{dag_id}' not found")
