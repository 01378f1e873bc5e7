"""End-to-end fixtures: real hooks and real Airflow (dag.test()) against the embedded sandbox."""

from __future__ import annotations

import json
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
    use_settings(monkeypatch, EXAMPLE_SETTINGS)
    monkeypatch.setenv("CONNECTWISE_EXAMPLE_RETRY_DELAY_SECONDS", "0")
    # the sandbox answers in ~1 ms: a production-sized budget would only make the tests wait
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__REQUESTS_PER_MINUTE", "60000")
    return sandbox


def use_settings(monkeypatch, settings: dict) -> None:
    """Put a settings document in the Variable the example DAGs read."""
    monkeypatch.setenv("AIRFLOW_VAR_CONNECTWISE_SETTINGS", json.dumps(settings))


def load_dag(dag_id: str):
    """Parse the example DAGs folder like the DAG processor does and return one DAG."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def run_dag(dag_id: str, conf: dict | None = None, logical_date=None):
    """dag.test() one example DAG; return the finished DagRun."""
    return load_dag(dag_id).test(run_conf=conf, logical_date=logical_date)


def task_states(dag_run) -> dict[str, list[str]]:
    """task id -> the states of its task instances (one per map index)."""
    states: dict[str, list[str]] = {}
    for ti in sorted(dag_run.get_task_instances(), key=lambda ti: (ti.task_id, ti.map_index)):
        states.setdefault(ti.task_id, []).append(str(ti.state))
    return states


def try_numbers(dag_run, task_id: str) -> list[int]:
    return [ti.try_number for ti in dag_run.get_task_instances() if ti.task_id == task_id]


def xcom(dag_run, task_id: str, key: str = "return_value", map_index: int = -1):
    """One XCom value of a finished run, read from the metadata DB."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=dag_run.run_id,
                key=key,
                dag_ids=dag_run.dag_id,
                task_ids=task_id,
                map_indexes=map_index,
            )
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def settings_for(sandbox_settings: dict | None = None):
    """Resolve settings (the example document by default) against the sandbox with a real hook."""
    from airflow_provider_connectwise.flows.settings import validate_settings
    from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

    return validate_settings(ConnectWiseHook(), sandbox_settings or EXAMPLE_SETTINGS)


def writes(sb) -> int:
    """ConnectWise configuration writes the sandbox received."""
    return sb.count("POST", "/company/configurations") + sb.count("PATCH", "/company/configurations/{id}")


def configurations_by_device(sb, company: str) -> dict[str, list[dict]]:
    """deviceIdentifier -> the company's configurations carrying it."""
    grouped: dict[str, list[dict]] = {}
    for config in sb.state.connectwise.configurations_of(company):
        if config.get("deviceIdentifier"):
            grouped.setdefault(config["deviceIdentifier"], []).append(config)
    return grouped


def binding_record(dag_run, task_id: str = "link_status") -> dict | None:
    """A run's Devices Binding record, its device results gathered from the rows it names."""
    from airflow_provider_connectwise.xcom import BINDING_XCOM_KEY

    record = xcom(dag_run, task_id, key=BINDING_XCOM_KEY)
    if record is None:
        return None
    results = list(record.get("results") or [])
    for key in record.get("results_rows") or []:
        results.extend(xcom(dag_run, task_id, key=key) or [])
    return {**record, "results": results}
