"""End-to-end fixtures: real hooks and real Airflow (dag.test()) against the embedded sandbox."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from airflow_provider_connectwise.sandbox.testing import sandbox, sandbox_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SETTINGS = yaml.safe_load((ROOT / "dags" / "connectwise_example_settings.yaml").read_text())


@pytest.fixture
def airflow_env(sandbox, monkeypatch, airflow_db):  # noqa: F811
    """Connections to the sandbox and the example settings, as a deployment would set them."""
    for key, value in sandbox.airflow_env(form="json").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AIRFLOW_VAR_CONNECTWISE_SETTINGS", json.dumps(EXAMPLE_SETTINGS))
    monkeypatch.setenv("CONNECTWISE_EXAMPLE_RETRY_DELAY_SECONDS", "0")
    return sandbox


def load_dag(dag_id: str):
    """Parse the example DAGs folder like the DAG processor does and return one DAG."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def run_dag(dag_id: str, conf: dict | None = None, logical_date=None):
    """dag.test() one example DAG; return the finished DagRun."""
    dag = load_dag(dag_id)
    return dag.test(run_conf=conf, logical_date=logical_date)


def task_states(dag_run) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for ti in dag_run.get_task_instances():
        states.setdefault(ti.task_id, []).append(str(ti.state))
    return states


def xcom(dag_run, task_id: str, key: str = "return_value", map_index: int = -1):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=dag_run.run_id, key=key, dag_ids=dag_run.dag_id, task_ids=task_id, map_indexes=map_index
            )
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


