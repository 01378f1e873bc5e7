"""`make demo`: the Devices Binding DAG on the embedded sandbox, twice, in real Airflow.

1. start the sandbox (a small MSP: 3 policies, ~50 messy devices) and an isolated Airflow home;
2. run ``connectwise_device_binding`` with ``dag.test()``: print the binding table and each
   policy's link status (the seed's gray, blue and red icons);
3. run it again: the re-sync finds everything in place and writes nothing.

Airflow's own task logs go to ``.airflow/demo/dag-test.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / ".airflow" / "demo"
ICONS = {"gray": "\u25cb gray", "blue": "\u25cf blue", "red": "\u25b2 red"}
WRITES = (
    ("POST", "/company/configurations"),
    ("POST", "/company/configurations/bulk"),
    ("PATCH", "/company/configurations/{id}"),
)


def prepare_airflow_home() -> None:
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                [
                    {
                        "name": "connectwise_dags",
                        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                        "kwargs": {"path": str(ROOT / "dags")},
                    }
                ]
            ),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "CONNECTWISE_EXAMPLE_RETRY_DELAY_SECONDS": "0",
            # the sandbox answers in ~1 ms; production keeps the default 900 requests/minute
            "AIRFLOW__CONNECTWISE__REQUESTS_PER_MINUTE": "6000",
        }
    )


@contextlib.contextmanager
def airflow_output_to(path: Path):
    """Send everything Airflow prints (fd 1 and 2) to a file while a DAG runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_binding(log_path: Path):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from airflow_provider_connectwise.xcom import BINDING_XCOM_KEY

    with airflow_output_to(log_path):
        dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("connectwise_device_binding")
        run = dag.test()
    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=run.run_id,
                key=BINDING_XCOM_KEY,
                dag_ids=run.dag_id,
                task_ids="link_status",
                map_indexes=-1,
            )
        ).first()
        record = XComModel.deserialize_value(row) if row is not None else None
        if record is not None:  # its device results are kept in rows of their own
            for key in record.get("results_rows") or []:
                part = session.scalars(
                    XComModel.get_many(
                        run_id=run.run_id, key=key, dag_ids=run.dag_id, task_ids="link_status", map_indexes=-1
                    )
                ).first()
                record["results"] += XComModel.deserialize_value(part) if part is not None else []
    return run, record


def writes(sb) -> int:
    return sum(sb.count(method, path) for method, path in WRITES)


def main() -> int:
    prepare_airflow_home()
    import yaml

    from airflow_provider_connectwise.core.binding_report import render_binding_table
    from airflow_provider_connectwise.sandbox import Sandbox

    log_path = HOME / "dag-test.log"
    print("Starting the embedded sandbox (ConnectWise + Addigy, seed 'demo') ...")
    with Sandbox(seed="demo") as sb:
        os.environ.update(sb.airflow_env(form="json"))
        settings = yaml.safe_load((ROOT / "dags" / "connectwise_example_settings.yaml").read_text())
        os.environ["AIRFLOW_VAR_CONNECTWISE_SETTINGS"] = json.dumps(settings)
        print(f"  sandbox at {sb.url}; Airflow home {HOME}")
        from airflow.utils import db

        with airflow_output_to(log_path):
            db.initdb()

        print(
            "\n== Run 1: connectwise_device_binding (validate -> policies -> devices -> plan -> apply -> link status)"
        )
        started = time.monotonic()
        run, record = run_binding(log_path)
        stats = sb.stats()["by_service"]
        print(
            f"   DAG run {run.run_id}: {run.state} in {time.monotonic() - started:.1f}s; "
            f"requests: ConnectWise {stats.get('connectwise', 0)}, Addigy {stats.get('addigy', 0)}"
        )
        if record is None:
            print(f"   no binding record: see {log_path}")
            return 1
        print()
        print(render_binding_table(record["results"]))
        print_warnings(record)
        print_link_status(record)
        first_writes = writes(sb)
        print(f"\n   ConnectWise write requests: {first_writes} (new configurations are created in bulk)")
        if run.state == "failed":
            print(
                "   The run failed once, on purpose: a device failed in a way no retry can cure. The next\n"
                "   run in which it fails the same way succeeds, and the device stays red until it is fixed."
            )

        print("\n== Run 2: the same DAG again (a re-sync with nothing changed)")
        sb.clear_stats()
        run2, record2 = run_binding(log_path)
        stats = sb.stats()["by_service"]
        print(
            f"   DAG run {run2.run_id}: {run2.state}; requests: ConnectWise {stats.get('connectwise', 0)} "
            f"(writes: {writes(sb)}), Addigy {stats.get('addigy', 0)}"
        )
        if record2:
            print_link_status(record2)
    print(
        "\nThe red policy is Globex Fleet: Addigy lists one of its devices without an agent id (an\n"
        "enrolment that never completed), so it cannot have a configuration (see its error in the\n"
        "table). Another Globex device reports an Ethernet MAC address that is not one: it is linked,\n"
        "and its warning above says the MAC address was not written.\n\n"
        "Try next:\n"
        "  make sandbox                      # the sandbox on :8765, printing the connections to export\n"
        "  make test                         # the test suite (sandbox, hooks, DAGs end to end)\n"
        "  see README.md: the settings document, the ticket DAGs, the ConnectWise page in the Airflow UI\n"
        f"  Airflow's task logs of this demo: {log_path}"
    )
    return 0


def print_warnings(record: dict, limit: int = 12) -> None:
    """Print the devices' warnings (a value that was not written, a name that was cut...)."""
    from airflow_provider_connectwise.core import printable

    noted = [(r["device_name"], w) for r in record["results"] for w in r.get("warnings") or ()]
    if not noted:
        return
    print(f"\n   Warnings ({len(noted)}; each of these devices is still linked):")
    for name, warning in noted[:limit]:
        print(f"   - {printable(name, 40)}: {printable(warning, 160)}")
    if len(noted) > limit:
        print(f"   ... and {len(noted) - limit} more in the XCom 'connectwise_binding'")


def print_link_status(record: dict) -> None:
    print("\n   Link status per policy:")
    for policy in record["report"]["policies"]:
        states = policy["states"]
        print(
            f"   {ICONS.get(policy['icon'], policy['icon']):8}  {policy['status'].upper():10}  "
            f"{policy['name'] or policy['policy_id']:<20} company: {policy['company_name'] or '-':<10} "
            f"linked {states['linked']}, failed {states['failed']}, unlinked {states['unlinked']}"
        )


if __name__ == "__main__":
    sys.exit(main())
