"""The example DAGs parse cleanly, quickly, and without touching the network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[1] / "dags"
EXPECTED = {
    "connectwise_device_binding",
    "connectwise_manual_sync",
    "connectwise_alert_tickets",
    "connectwise_self_service_ticket",
    "connectwise_fetch_boards",
}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    real_connect = socket.socket.connect

    def no_network(self, address):  # parsing must not open a connection
        raise AssertionError(f"network access at parse time: {address!r}")

    socket.socket.connect = no_network
    try:
        return DagBag(dag_folder=str(DAGS))
    finally:
        socket.socket.connect = real_connect


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


def test_parse_time_is_small(dagbag):
    slow = {stat.file: stat.duration for stat in dagbag.dagbag_stats if stat.duration.total_seconds() > 2}
    assert not slow, slow


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_each_dag_starts_with_the_switch_and_is_documented(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.doc_md
    assert "connectwise" in dag.tags
    assert "validate_settings" in dag.task_dict  # a broken setting fails the run before any write
    if dag_id == "connectwise_fetch_boards":  # "Next" fetches first, then the switch
        return
    for task in dag.tasks:
        if task.task_id != "validate_settings":
            assert "validate_settings" in task.get_flat_relative_ids(upstream=True), task.task_id


def test_binding_writes_are_mapped_and_retried(dagbag):
    dag = dagbag.dags["connectwise_device_binding"]
    apply = dag.task_dict["apply_binding"]
    assert apply.retries == 3  # Retry Pending
    assert apply.max_active_tis_per_dagrun == 4
    assert dag.task_dict["link_status"].trigger_rule == "all_done"
