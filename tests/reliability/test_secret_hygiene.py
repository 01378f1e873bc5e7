"""Secret hygiene: recognisable keys never show up anywhere a person or another system can read.

The sandbox accepts only sentinel credentials (``PRIVKEY-SENTINEL-…``, ``PUBKEY-SENTINEL-…``,
``ADDIGYKEY-SENTINEL-…``), so every flow that works provably used them. The demo flow runs for
real: the binding DAG (its report fails on the demo's unbindable device, so an exception is
logged), the alert-ticket DAG and the self-service DAG (templated fields), then an auth failure
(a wrong private key: through the alert DAG and through the hooks' Test button) and a 400.

Then the sentinels - and the Basic token, ``base64(company+public:private)``, and base64 of each
key - must be in none of: every structlog event of the runs at DEBUG, captured *before* Airflow's
secret masker (so the provider's own hygiene is tested, not the masker's), every stdlib log
record at DEBUG (urllib3 included), stdout/stderr, files under ``AIRFLOW_HOME/logs``, every XCom
of the runs, every rendered template field, the task instances and runs, the text, repr,
traceback and pickle of the errors, and the repr/str of hooks, clients, credentials and operators.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import pickle
import traceback
from pathlib import Path
from typing import Any

import pytest
import structlog
import structlog.testing

from airflow_provider_connectwise.exceptions import (
    AddigyAuthError,
    ConnectWiseAuthError,
    ConnectWiseValidationError,
)
from airflow_provider_connectwise.flows.settings import validate_settings
from airflow_provider_connectwise.flows.tickets import open_ticket
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.sandbox.config import Credentials
from tests.flows.conftest import EXAMPLE_SETTINGS, load_dag, run_dag, task_states

pytestmark = pytest.mark.integration

CREDENTIALS = Credentials(
    company="sentinelco",
    public_key="PUBKEY-SENTINEL-7f3a91d0",
    private_key="PRIVKEY-SENTINEL-c04e2b77",
    addigy_api_key="ADDIGYKEY-SENTINEL-5d18e6aa",
)
WRONG_PRIVATE_KEY = "PRIVKEY-SENTINEL-WRONG-9b2d41"
WRONG_ADDIGY_KEY = "ADDIGYKEY-SENTINEL-WRONG-03ce"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sentinels() -> dict[str, str]:
    c = CREDENTIALS
    keys = {
        "private key": c.private_key,
        "public key": c.public_key,
        "Addigy API key": c.addigy_api_key,
        "wrong private key": WRONG_PRIVATE_KEY,
        "wrong Addigy key": WRONG_ADDIGY_KEY,
    }
    found = dict(keys)
    for label, key in keys.items():
        found[f"base64({label})"] = b64(key).rstrip("=")
    for label, private in (("", c.private_key), (" (wrong key)", WRONG_PRIVATE_KEY)):
        found[f"Basic token{label}"] = b64(f"{c.company}+{c.public_key}:{private}").rstrip("=")
    found["the sentinel marker"] = "SENTINEL"  # catches any form that keeps the readable part
    return found


class Capture:
    """Everything the runs leave behind, as (where, text) pairs."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, value: Any) -> None:
        self.items.append((where, value if isinstance(value, str) else repr(value)))

    def add_error(self, where: str, exc: BaseException) -> None:
        self.add(f"{where}: str", str(exc))
        self.add(f"{where}: repr", repr(exc))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))
        self.add(f"{where}: pickle", pickle.dumps(exc).decode("latin-1"))
        self.add(f"{where}: attributes", vars(exc))

    def leaks(self) -> list[str]:
        found = []
        for where, text in self.items:
            for label, secret in sentinels().items():
                if secret in text:
                    at = text.index(secret)
                    found.append(f"{label} in {where}: …{text[max(0, at - 80) : at + 40]}…")
        return found


class StdlibRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.texts.append(f"{record.name}: {text}")


def all_succeeded(run: Any) -> bool:
    return {state for states in task_states(run).values() for state in states} == {"success"}


def metadata_of(run_ids: list[str]) -> list[tuple[str, Any]]:
    """Every XCom, rendered template field, task instance and run of these runs, from the DB."""
    from airflow.models.dagrun import DagRun
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    found: list[tuple[str, Any]] = []
    with create_session() as session:
        for row in session.scalars(select(XComModel).where(XComModel.run_id.in_(run_ids))):
            found.append((f"XCom {row.task_id}[{row.map_index}].{row.key}", XComModel.deserialize_value(row)))
        rtif = RenderedTaskInstanceFields
        for row in session.scalars(select(rtif).where(rtif.run_id.in_(run_ids))):
            found.append((f"rendered fields of {row.task_id}[{row.map_index}]", row.rendered_fields))
        for ti in session.scalars(select(TaskInstance).where(TaskInstance.run_id.in_(run_ids))):
            columns = {c.key: getattr(ti, c.key) for c in TaskInstance.__table__.columns}
            found.append((f"task instance {ti.task_id}[{ti.map_index}]", columns))
        for run in session.scalars(select(DagRun).where(DagRun.run_id.in_(run_ids))):
            found.append(
                (f"dag run {run.run_id}", {c.key: getattr(run, c.key) for c in DagRun.__table__.columns})
            )
    return found


@pytest.fixture
def debug_logging():
    """Every structlog event at DEBUG, before any processor (the secret masker included), and every
    stdlib record at DEBUG."""
    old = structlog.get_config()
    root, records = logging.getLogger(), StdlibRecords()
    level = root.level
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        with structlog.testing.capture_logs() as events:
            yield events, records
    finally:
        root.removeHandler(records)
        root.setLevel(level)
        structlog.configure(**old)


def test_no_secret_in_logs_xcom_rendered_fields_errors_or_reprs(
    make_sandbox, point_airflow_at, monkeypatch, capfd, debug_logging
):
    sb = point_airflow_at(make_sandbox(seed="demo", credentials=CREDENTIALS))
    monkeypatch.setenv(
        "AIRFLOW__CONNECTWISE__REQUESTS_PER_MINUTE", "60000"
    )  # the budget is not under test here
    events, records = debug_logging
    capture = Capture()
    runs = []

    # the demo flow, with the sentinel keys (nothing would work with others)
    runs.append(run_dag("connectwise_device_binding"))
    states = task_states(runs[-1])
    assert states.pop("link_status") == ["failed"]  # the demo's unbindable device: an exception logged
    assert {s for task in states.values() for s in task} == {"success"}, states
    created = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    sb.state.addigy.raise_alert(
        sb.seed.devices["mac-dashes"], "Disk almost full", created_date=created.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    runs.append(run_dag("connectwise_alert_tickets", logical_date=dt.datetime.now(dt.timezone.utc)))
    assert all_succeeded(runs[-1]), task_states(runs[-1])
    runs.append(
        run_dag(
            "connectwise_self_service_ticket",
            conf={
                "user": "ann",
                "device": sb.seed.devices["mac-dots"],
                "subject": "Printer",
                "text": "Offline",
                "wait_until_closed": False,  # dag.test() would wait for a technician
            },
        )
    )
    waited = task_states(runs[-1])
    assert waited.pop("wait_until_closed") == ["skipped"]
    assert {s for task in waited.values() for s in task} == {"success"}, waited
    assert len(sb.state.connectwise.find("tickets")) >= 4  # two seeded, two opened by the runs

    # hooks, clients, credentials, operators: repr and str
    cw, addigy = ConnectWiseHook(), AddigyHook()
    settings = validate_settings(cw, EXAMPLE_SETTINGS)
    for name, value in {
        "ConnectWiseHook": cw,
        "ConnectWise client": cw.client,
        "ConnectWise credentials": cw.credentials,
        "AddigyHook": addigy,
        "Addigy client": addigy.client,
    }.items():
        capture.add(f"repr({name})", repr(value))
        capture.add(f"str({name})", str(value))
    for dag_id in (
        "connectwise_device_binding",
        "connectwise_alert_tickets",
        "connectwise_self_service_ticket",
    ):
        for task in load_dag(dag_id).tasks:
            capture.add(f"repr({dag_id}.{task.task_id})", repr(task))
            capture.add(f"str({dag_id}.{task.task_id})", str(task))

    # a 400: ConnectWise's field errors are shown, the keys never
    with pytest.raises(ConnectWiseValidationError) as bad_request:
        open_ticket(
            cw,
            settings,
            board="monitoring",
            summary="x",
            external_ref="secret-400",
            agentid=sb.seed.devices["mac-bare"],
            priority="Priority 9 - Never",
        )
    assert "priority/name" in str(bad_request.value)
    capture.add_error("the 400", bad_request.value)

    # auth failures: a wrong private key and a wrong Addigy key, through the Test button and a DAG
    conn = {**sb.connectwise_connection(), "password": WRONG_PRIVATE_KEY}
    monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", json.dumps(conn))
    wrong = ConnectWiseHook()
    with pytest.raises(ConnectWiseAuthError) as unauthorized:
        wrong.get_system_info()
    assert unauthorized.value.status == 401
    capture.add_error("the 401", unauthorized.value)
    capture.add("ConnectWise Test button", wrong.test_connection())
    runs.append(run_dag("connectwise_alert_tickets", logical_date=dt.datetime.now(dt.timezone.utc)))
    assert task_states(runs[-1])["validate_settings"] == ["failed"]
    addigy_conn = {**sb.addigy_connection(), "password": WRONG_ADDIGY_KEY}
    monkeypatch.setenv("AIRFLOW_CONN_ADDIGY_DEFAULT", json.dumps(addigy_conn))
    with pytest.raises(AddigyAuthError) as addigy_unauthorized:
        AddigyHook().whoami()
    capture.add_error("the Addigy 401", addigy_unauthorized.value)
    capture.add("Addigy Test button", AddigyHook().test_connection())

    # what was left behind
    out, err = capfd.readouterr()
    capture.add("stdout", out)
    capture.add("stderr", err)
    masked: set[str] = set()
    for index, event in enumerate(events):
        if type(event.get("msg")).__name__ == "MaskSecret":
            # The task runner telling the supervisor which values to mask: the one place the keys must be.
            masked.add(repr(event["msg"].value))
            continue
        capture.add(f"structlog event {index} ({event.get('logger_name', event.get('logger', '?'))})", event)
    for index, text in enumerate(records.texts):
        capture.add(f"stdlib record {index}", text)
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    for path in sorted(logs.rglob("*")) if logs.exists() else []:
        if path.is_file():
            capture.add(f"log file {path}", path.read_text(errors="replace"))
    metadata = metadata_of([run.run_id for run in runs])
    for where, value in metadata:
        capture.add(where, json.dumps(value, default=repr, ensure_ascii=False))

    # the capture is not empty: task logs, XComs, rendered fields and errors were all read
    texts = "\n".join(text for _, text in capture.items)
    assert "policy Acme Workstations" in texts  # an operator's INFO line (task logs at DEBUG)
    assert "Task failed with exception" in texts  # the failing report and the 401 run
    assert sum(where.startswith("XCom ") for where, _ in metadata) >= 10
    assert sum(where.startswith("rendered fields ") for where, _ in metadata) >= 10
    assert any("Printer" in text for where, text in capture.items if where.startswith("rendered fields "))
    assert "401" in str(unauthorized.value) and "401" in str(addigy_unauthorized.value)
    assert capture.leaks() == []
    # and the keys were handed to Airflow's secret masker (defence in depth for anything else)
    c = CREDENTIALS
    basic = b64(f"{c.company}+{c.public_key}:{c.private_key}")
    for secret in (c.private_key, c.public_key, c.addigy_api_key, basic):
        assert any(secret in value for value in masked), secret
