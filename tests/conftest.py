"""Test-wide set-up: an isolated Airflow home, so tests never touch a user's Airflow."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Must happen before anything imports airflow: Airflow reads its configuration at import time.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="cw-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {
            "name": "connectwise_dags",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(ROOT / "dags")},
        },
        {
            "name": "test_dags",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(ROOT / "tests" / "dags")},
        },
    ]
)
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def airflow_db():
    """Create Airflow's metadata DB (SQLite in a temporary AIRFLOW_HOME) once per session."""
    from airflow.utils import db

    db.initdb()
    return Path(_AIRFLOW_HOME)
