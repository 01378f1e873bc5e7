"""ConnectWiseNotifier: a failure opens one ticket (deduplicated by DAG and task), a second
failure adds a note, a success closes it; and from a real task's callbacks under dag.test()."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_connectwise.notifications.connectwise import ConnectWiseNotifier, dedup_key
from airflow_provider_connectwise.sandbox.models import notes as sandbox_notes


@given(dag_id=st.text(min_size=1, max_size=250), task_id=st.text(max_size=250), other=st.text(max_size=250))
def test_the_dedup_key_fits_externalxref_and_tells_tasks_apart(dag_id, task_id, other):
    key = dedup_key(dag_id, task_id or None)
    assert len(key) <= 100
    assert key == dedup_key(dag_id, task_id or None)  # stable: a second failure finds the ticket
    if other != task_id and (other or task_id):
        assert key != dedup_key(dag_id, other or None)


def test_short_keys_are_readable():
    assert dedup_key("etl", "load") == "airflow:etl:load"
    assert dedup_key("etl") == "airflow:etl"


def context(state: str, *, try_number: int = 1, run_id: str = "scheduled__1", error: Exception | None = None):
    ti = SimpleNamespace(dag_id="nightly_backup", task_id="copy", try_number=try_number, state=state)
    dag_run = SimpleNamespace(dag_id="nightly_backup", run_id=run_id, state=state)
    return {"ti": ti, "task_instance": ti, "dag_run": dag_run, "exception": error}


@pytest.mark.integration
def test_failure_opens_one_ticket_a_second_failure_notes_it_and_success_closes_it(airflow_env):
    sb = airflow_env
    state = sb.state.connectwise
    notifier = ConnectWiseNotifier(board="monitoring", company="DemoMSP")
    notifier(context("failed", error=RuntimeError("disk quota exceeded")))
    (ticket,) = state.find("tickets", externalXRef="airflow:nightly_backup:copy")
    assert ticket["summary"] == "Airflow: nightly_backup.copy failed"
    assert ticket["company"]["id"] == sb.seed.companies["DemoMSP"]
    assert ticket["board"]["id"] == sb.seed.boards["Monitoring"]
    assert "disk quota exceeded" in state.ticket_initial_text(ticket["id"])["initialDescription"]

    second = context("failed", try_number=2, error=RuntimeError("still full"))
    notifier(second)
    notifier(second)  # the same try reported twice: one note
    assert len(state.find("tickets", externalXRef="airflow:nightly_backup:copy")) == 1
    failed = [
        n for n in sandbox_notes.notes_of(state, ticket["id"]) if "[airflow-connectwise:failed:" in n["text"]
    ]
    assert len(failed) == 1 and "still full" in failed[0]["text"] and "try 2" in failed[0]["text"]

    notifier(context("success"))
    assert state.get_ticket(ticket["id"])["closedFlag"] is True
    notifier(context("success"))  # nothing left to close
    assert len(state.find("tickets", externalXRef="airflow:nightly_backup:copy")) == 1


@pytest.mark.integration
def test_a_dag_run_failure_is_one_ticket_per_dag_with_templated_fields(airflow_env):
    from airflow.sdk import DAG

    dag = DAG("nightly_etl", schedule=None, start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    notifier = ConnectWiseNotifier(
        board="monitoring", company="{{ params.company }}", summary="{{ dag.dag_id }} broke"
    )
    dag_run = SimpleNamespace(dag_id="nightly_etl", run_id="manual__2", state="failed")
    # a DAG-level callback: no task instance, the run's state and the reason
    notifier({"dag": dag, "dag_run": dag_run, "reason": "task_failure", "params": {"company": "Globex"}})
    (ticket,) = airflow_env.state.connectwise.find("tickets", externalXRef="airflow:nightly_etl")
    assert ticket["summary"] == "nightly_etl broke"
    assert ticket["company"]["id"] == airflow_env.seed.companies["Globex"]
    assert (
        "task_failure"
        in airflow_env.state.connectwise.ticket_initial_text(ticket["id"])["initialDescription"]
    )


def test_the_notifier_is_registered_in_the_provider_metadata():
    import importlib

    from airflow_provider_connectwise.get_provider_info import get_provider_info

    (path,) = get_provider_info()["notifications"]
    module, _, name = path.rpartition(".")
    assert getattr(importlib.import_module(module), name) is ConnectWiseNotifier


@pytest.mark.integration
def test_a_secret_in_the_error_never_reaches_the_ticket(airflow_env):
    from airflow.sdk.log import mask_secret

    secret = "s3cr3t-token-9f8e7d"
    mask_secret(secret)
    notifier = ConnectWiseNotifier(board="monitoring", company="DemoMSP")
    notifier(context("failed", error=RuntimeError(f"login failed with {secret}")))
    (ticket,) = airflow_env.state.connectwise.find("tickets", externalXRef="airflow:nightly_backup:copy")
    text = airflow_env.state.connectwise.ticket_initial_text(ticket["id"])["initialDescription"]
    assert "login failed with" in text and secret not in text
