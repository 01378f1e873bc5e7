"""Read the Devices Binding records from Airflow's metadata DB (XCom and DagRun tables).

The binding tasks already record everything the page shows (XCom ``connectwise_binding``);
this module only reads it, newest first, a few rows at a time so that a fleet-sized record is
held once. Like Airflow's own XCom API it reads the database row, not a custom XCom backend.
Records come from whichever DAG and task pushed that key: a user's own DAG built from the
binding operators appears like the example DAGs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from airflow.models.dag import DagModel
from airflow.models.dagrun import DagRun
from airflow.models.xcom import XComModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_provider_connectwise.budget import configured_budget, pool_problem
from airflow_provider_connectwise.plugins.model import MAX_RECORDS, SYNC_DAG_ID, BindingRecord, RunRef
from airflow_provider_connectwise.xcom import BINDING_XCOM_KEY

_ACTIVE_STATES = ("queued", "running")


def _run_ref(run: DagRun, recorded_at: Any = None) -> RunRef:
    conf = run.conf if isinstance(run.conf, dict) else {}
    policy = conf.get("policy")
    return RunRef(
        dag_id=run.dag_id,
        run_id=run.run_id,
        recorded_at=recorded_at,
        state=str(run.state) if run.state is not None else None,
        run_type=str(run.run_type) if run.run_type is not None else None,
        conf_policy=str(policy) if policy not in (None, "") else None,
        triggered_by=run.triggering_user_name,
        run_after=run.run_after,
    )


def _value(raw: Any) -> Any:
    """The XCom value: stored as JSON text by ``serialize_value``, or as JSON by the Task API."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _with_results(session: Session, value: Any, dag_run_id: int, task_id: str) -> Any:
    """The record with its device results, read from the rows it names (``results_rows``)."""
    if not isinstance(value, dict) or not isinstance(value.get("results_rows"), list):
        return value
    keys = [k for k in value["results_rows"] if isinstance(k, str)]
    stmt = select(XComModel.key, XComModel.value).where(
        XComModel.dag_run_id == dag_run_id,
        XComModel.task_id == task_id,
        XComModel.map_index == -1,
        XComModel.key.in_(keys),
    )
    rows = {key: _value(raw) for key, raw in session.execute(stmt)}
    results = list(value.get("results") or [])
    for key in keys:
        results.extend(r for r in rows.get(key) or [] if isinstance(r, dict))
    return {**value, "results": results}


def binding_dag_ids(session: Session) -> list[str]:
    """Every DAG that has recorded a Devices Binding (any DAG using the binding operators).

    :param session: a metadata DB session.
    """
    stmt = (
        select(XComModel.dag_id)
        .where(XComModel.key == BINDING_XCOM_KEY, XComModel.map_index == -1)
        .distinct()
        .order_by(XComModel.dag_id)
    )
    return list(session.scalars(stmt))


def _records_query(dag_ids: Iterable[str]):
    return (
        select(XComModel.value, XComModel.timestamp, DagRun, XComModel.task_id)
        .join(DagRun, DagRun.id == XComModel.dag_run_id)
        .where(
            XComModel.key == BINDING_XCOM_KEY,
            XComModel.map_index == -1,
            XComModel.dag_id.in_(list(dag_ids)),
        )
    )


def iter_records(
    session: Session, dag_ids: Iterable[str], *, limit: int = MAX_RECORDS
) -> Iterator[BindingRecord]:
    """Yield the Devices Binding records of these DAGs, most recently recorded first.

    :param session: a metadata DB session.
    :param dag_ids: the binding DAGs to read (those the user may read).
    :param limit: records at most.
    """
    dag_ids = list(dag_ids)
    if not dag_ids:
        return
    stmt = (
        _records_query(dag_ids)
        .order_by(XComModel.timestamp.desc(), XComModel.dag_run_id.desc())
        .limit(limit)
        .execution_options(yield_per=4)
    )
    for value, timestamp, run, task_id in session.execute(stmt):
        yield BindingRecord(_run_ref(run, timestamp), _with_results(session, _value(value), run.id, task_id))


def get_run(session: Session, dag_id: str, run_id: str) -> tuple[RunRef | None, BindingRecord | None]:
    """A binding DAG's run and its record (``None`` while the run has not recorded one).

    :param session: a metadata DB session.
    :param dag_id: a DAG (the caller checked the user may read it).
    :param run_id: the run.
    """
    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        return None, None
    row = session.execute(_records_query([dag_id]).where(XComModel.dag_run_id == run.id)).first()
    if row is None:
        return _run_ref(run), None
    value, timestamp, _, task_id = row
    ref = _run_ref(run, timestamp)
    return ref, BindingRecord(ref, _with_results(session, _value(value), run.id, task_id))


def active_syncs(
    session: Session, dag_ids: Iterable[str], policy_id: str | None = None, *, limit: int = 20
) -> list[RunRef]:
    """Runs of these DAGs still queued or running (of one policy, when given), newest first.

    :param session: a metadata DB session.
    :param dag_ids: the DAGs (those the user may read).
    :param policy_id: only runs whose conf names this policy.
    :param limit: runs looked at.
    """
    runs = session.scalars(
        select(DagRun)
        .where(DagRun.dag_id.in_(list(dag_ids)), DagRun.state.in_(_ACTIVE_STATES))
        .order_by(DagRun.run_after.desc())
        .limit(limit)
    )
    refs = [_run_ref(run) for run in runs]
    return [ref for ref in refs if policy_id is None or ref.conf_policy == policy_id]


def is_paused(session: Session, dag_id: str = SYNC_DAG_ID) -> bool | None:
    """Whether the DAG is paused (its runs wait); ``None`` when Airflow does not know it.

    :param session: a metadata DB session.
    :param dag_id: the DAG.
    """
    return session.scalar(select(DagModel.is_paused).where(DagModel.dag_id == dag_id, ~DagModel.is_stale))


def pool_warning(session: Session) -> str | None:
    """What is wrong with the ConnectWise pool (missing, or sized unlike ``[connectwise] pool_slots``)."""
    from airflow.models.pool import Pool

    try:
        budget = configured_budget()
    except ValueError as exc:  # a bad [connectwise] setting: every ConnectWise task fails on it too
        return str(exc)
    return pool_problem(budget, session.scalar(select(Pool.slots).where(Pool.pool == budget.pool)))
