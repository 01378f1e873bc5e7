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


# tasks that only read the MDM, or never run on a worker (an EmptyOperator leaf): they need no
# share of the ConnectWise budget
MDM_ONLY = {"fetch_devices", "new_alerts", "all_alerts_ticketed"}


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_every_connectwise_task_runs_in_the_connectwise_pool(dagbag, dag_id):
    for task in dagbag.dags[dag_id].tasks:
        expected = "default_pool" if task.task_id in MDM_ONLY else "connectwise"
        assert task.pool == expected, (task.task_id, task.pool)


def test_mapped_tasks_are_named_by_their_batch_policy_or_alert(dagbag):
    binding, alerts = dagbag.dags["connectwise_device_binding"], dagbag.dags["connectwise_alert_tickets"]
    assert binding.task_dict["apply_binding"].map_index_template == "{{ connectwise_batch }}"
    assert binding.task_dict["fetch_devices"].map_index_template == "{{ connectwise_policy }}"
    assert alerts.task_dict["open_tickets"].map_index_template == "{{ connectwise_ticket }}"


@pytest.mark.parametrize(
    ("dag_id", "optional"),
    [
        ("connectwise_manual_sync", ("policy", "company")),
        ("connectwise_self_service_ticket", ("user", "device", "text", "request_id")),
    ],
)
def test_trigger_form_fields_the_docs_call_optional_may_stay_empty(dagbag, dag_id, optional):
    from airflow.sdk.exceptions import ParamValidationError

    params = dagbag.dags[dag_id].params
    for name in optional:
        param = params.get_param(name)
        assert param.resolve(None) is None  # the form's empty field: accepted
        assert param.resolve("Lab Macs") == "Lab Macs"
    subject = dagbag.dags["connectwise_self_service_ticket"].params.get_param("subject")
    with pytest.raises(ParamValidationError):  # the one required field still is
        subject.resolve("")


def test_the_self_service_flow_waits_deferred_until_the_ticket_is_closed(dagbag):
    dag = dagbag.dags["connectwise_self_service_ticket"]
    wait = dag.task_dict["wait_until_closed"]
    assert type(wait).__name__ == "ConnectWiseTicketClosedSensor"
    assert wait.deferrable is True
    assert "open_ticket" in wait.get_flat_relative_ids(upstream=True)
    assert "open_ticket" in wait.ticket_id  # the ticket the run opened
