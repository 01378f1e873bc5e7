"""Demo data for the ConnectWise page: a manual sync against a sandbox prepared to show every icon.

- *Lab Macs*: not linked (gray);
- *Globex Fleet*: every device binds (its one device without an agent id is removed first) (blue);
- *Acme Workstations*: a second device reports one device's agent id, the seed's red case (red);
- *Retired Fleet*: a new policy linked to OldCo, a company deleted in ConnectWise, with a device
  named like an attack: every device fails with an error a person can act on (red).

Shared by ``tests/plugins`` and ``tests/browser``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_DEVICE = '<img src=x onerror="alert(1)"> Kiosk\'s "Mac"'


@dataclass
class BindingDemo:
    """What ``binding_demo`` made: the run, the policies by name, notable devices."""

    dag_id: str
    run_id: str
    record: dict[str, Any]
    policies: dict[str, str]
    bad_fact_agent: str
    hostile_agent: str
    oldco_id: int


def prepare_sandbox(sb: Any) -> dict[str, Any]:
    """Set the sandbox's demo data up for the three icons (see the module docstring)."""
    addigy = sb.state.addigy
    seed = sb.seed
    addigy.remove_device(seed.devices["no-agent-id"])  # Globex's one device that cannot bind
    bad_fact_agent = seed.devices["quoted-name"]
    # A Mac set up from this one's backup reports its agent id and name (another serial number):
    # it cannot have a configuration.
    clone = copy.deepcopy(addigy.devices[bad_fact_agent])
    clone["facts"]["serial_number"]["value"] = "C02CLONE0001"
    addigy.add_device_record(clone, key=f"{bad_fact_agent}-restored")
    oldco = seed.companies["OldCo"]
    retired = addigy.add_policy("Retired Fleet", connectwise_account_id=oldco)["policyId"]
    hostile = addigy.add_device(
        retired,
        {
            "device_name": HOSTILE_DEVICE,
            "serial_number": "C02RETIRED01",
            "ethernet_mac_address": "a4:83:e7:00:00:01",
        },
    )["agentid"]
    addigy.add_device(retired, {"device_name": "Retired iMac 2", "serial_number": "C02RETIRED02"})
    policies = {**seed.policies, "Retired Fleet": retired}
    return {
        "policies": policies,
        "bad_fact_agent": bad_fact_agent,
        "hostile_agent": hostile,
        "oldco_id": oldco,
    }


def airflow_env_for(sb: Any) -> dict[str, str]:
    """The connections, settings and retry delay a deployment of the example DAGs sets."""
    settings = yaml.safe_load((ROOT / "dags" / "connectwise_example_settings.yaml").read_text())
    return {
        **sb.airflow_env(form="json"),
        "AIRFLOW_VAR_CONNECTWISE_SETTINGS": json.dumps(settings),
        "CONNECTWISE_EXAMPLE_RETRY_DELAY_SECONDS": "0",
    }


def run_manual_sync(conf: dict[str, Any] | None = None):
    """``dag.test()`` the example manual sync; return the finished DagRun."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("connectwise_manual_sync").test(run_conf=conf or {})


def binding_record(dag_id: str, run_id: str) -> dict[str, Any] | None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    def value(session: Any, key: str) -> Any:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == key
            )
        ).first()
        return None if row is None else XComModel.deserialize_value(row)

    with create_session() as session:
        record = value(session, "connectwise_binding")
        if record is not None:  # its device results are kept in rows of their own
            for key in record.get("results_rows") or []:
                record["results"] += value(session, key) or []
        return record


def _forget_saved_links() -> None:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    from airflow_provider_connectwise.flows.link_store import VARIABLE_KEY

    with create_session() as session:
        session.execute(Variable.__table__.delete().where(Variable.key == VARIABLE_KEY))


def make_demo(sb: Any) -> BindingDemo:
    """Prepare ``sb`` (a started sandbox), run the manual sync of every policy against it and
    return what was made. Sets the connections and settings in ``os.environ`` only for the run."""
    import os

    made = prepare_sandbox(sb)
    _forget_saved_links()  # links an earlier test saved in this session's DB would change the demo
    env = airflow_env_for(sb)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        run = run_manual_sync()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    record = binding_record(run.dag_id, run.run_id)
    assert record is not None, "the sync recorded no Devices Binding"
    return BindingDemo(dag_id=run.dag_id, run_id=run.run_id, record=record, **made)
