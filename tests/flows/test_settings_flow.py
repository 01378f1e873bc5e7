"""Fetch ("Next") and validate ("the switch") against the sandbox: hooks, then real dag.test()."""

from __future__ import annotations

import pytest

from airflow_provider_connectwise.core.settings import SettingsError
from airflow_provider_connectwise.flows.settings import fetch_catalogue
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from tests.flows.conftest import (
    EXAMPLE_SETTINGS,
    run_dag,
    settings_for,
    task_states,
    try_numbers,
    use_settings,
    xcom,
)

pytestmark = pytest.mark.integration

BROKEN = {
    **EXAMPLE_SETTINGS,
    "monitoring": {"board": "Monitorng", "open_status": "New", "closed_status": "Resolved"},
    "self_service": {"board": "Help Desk", "open_status": "New", "closed_status": "Resolved"},
    "configuration_types": {
        "default": "Server",
        "conditional": [{"type": "Laptop", "fact": "x", "op": "regex", "value": "("}],
    },
    "policy_links": [{"policy": "p-1", "company": "OldCo"}],
}


def test_fetch_catalogue_reads_what_connectwise_offers(airflow_env):
    sb = airflow_env
    catalogue = fetch_catalogue(ConnectWiseHook(), company_name="Corp")
    boards = {b.name: b for b in catalogue.boards}
    assert {"Monitoring", "Help Desk", "Projects Archive"} <= set(boards)
    assert boards["Projects Archive"].inactive
    monitoring = {s.name: s for s in boards["Monitoring"].statuses}
    assert monitoring["Resolved"].closed and not monitoring["New"].closed
    assert monitoring["New"].id == sb.seed.board_statuses["Monitoring"]["New"]
    types = {t.name: t for t in catalogue.configuration_types}
    assert types["Server"].required_questions  # the seed: such types cannot be used
    assert not types["Managed Mac"].required_questions
    assert {c.identifier for c in catalogue.companies} >= {"AcmeCorp", "Globex"}


def test_valid_settings_resolve_to_the_sandbox_ids(airflow_env):
    sb = airflow_env
    sb.clear_stats()
    resolved = settings_for()
    # only what the settings name is read: the statuses of its two boards, the questions of its two types
    assert sb.count("GET", "/service/boards/{parentId}/statuses") == 2
    assert sb.count("GET", "/company/configurations/types/{parentId}/questions") == 2
    assert resolved.monitoring.board_id == sb.seed.boards["Monitoring"]
    assert resolved.monitoring.closed_status_id == sb.seed.board_statuses["Monitoring"]["Resolved"]
    assert resolved.self_service.open_status_id == sb.seed.board_statuses["Help Desk"]["New"]
    assert resolved.active_status_id == sb.seed.configuration_statuses["Active"]
    assert resolved.default_type_id == sb.seed.configuration_types["Managed Mac"]
    assert resolved.type_rules[0].type_id == sb.seed.configuration_types["Laptop"]


def test_broken_settings_report_every_problem_at_once(airflow_env):
    with pytest.raises(SettingsError) as info:
        settings_for(BROKEN)
    text = str(info.value)
    assert "monitoring.board" in text and "'Monitorng' not found" in text and "Monitoring" in text
    assert "self_service.closed_status" in text and "Resolved" in text
    assert "configuration_types.default" in text and "required" in text
    assert "OldCo" in text and "deleted" in text
    assert "regex" in text or "pattern" in text
    assert len(info.value.problems) >= 5


def test_fetch_and_validate_in_dag_test(airflow_env):
    run = run_dag("connectwise_fetch_boards", conf={"company_name": "Globex"})
    assert task_states(run) == {"fetch_boards": ["success"], "validate_settings": ["success"]}
    fetched = xcom(run, "fetch_boards")
    assert any(b["name"] == "Monitoring" for b in fetched["catalogue"]["boards"])
    assert [c["identifier"] for c in fetched["catalogue"]["companies"]] == ["Globex"]
    assert fetched["settings_template"]["monitoring"]["board"] == "Monitoring"
    resolved = xcom(run, "validate_settings")
    assert resolved["monitoring"]["board_name"] == "Monitoring"


def test_broken_settings_fail_the_run_before_any_write(airflow_env, monkeypatch):
    sb = airflow_env
    use_settings(monkeypatch, BROKEN)
    run = run_dag("connectwise_device_binding")
    states = task_states(run)
    assert states["validate_settings"] == ["failed"]
    assert try_numbers(run, "validate_settings") == [1]  # invalid settings are not retried
    assert states["plan_binding"] == ["upstream_failed"]
    assert sb.count("POST", "/company/configurations") == 0
    assert sb.count("PATCH", "/company/configurations/{id}") == 0


def test_wrong_keys_fail_the_switch_once_with_what_to_check(airflow_env, monkeypatch):
    import json

    conn = airflow_env.connectwise_connection()
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONNECTWISE_DEFAULT", json.dumps({**conn, "password": "not-the-private-key"})
    )
    run = run_dag("connectwise_device_binding")
    assert task_states(run)["validate_settings"] == ["failed"]
    assert try_numbers(run, "validate_settings") == [1]  # retrying cannot fix a key


def test_without_the_variable_the_example_dags_read_the_example_file(airflow_env, monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_CONNECTWISE_SETTINGS")
    run = run_dag("connectwise_fetch_boards")
    assert task_states(run)["validate_settings"] == ["success"]
    assert xcom(run, "validate_settings")["monitoring"]["board_name"] == "Monitoring"
