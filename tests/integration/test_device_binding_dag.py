"""connectwise_device_binding end to end: real Airflow, real hooks, the sandbox's demo seed."""

from __future__ import annotations

import pytest

from tests.integration.conftest import run_dag, task_states, xcom

pytestmark = pytest.mark.integration


def test_binding_dag_binds_the_demo_policies(airflow_env):
    sb = airflow_env
    run = run_dag("connectwise_device_binding")
    states = task_states(run)
    print(states)
    record = xcom(run, "link_status", key="connectwise_binding")
    assert record is not None
    print(record["report"])
