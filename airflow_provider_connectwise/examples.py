"""Defaults the example DAGs share (in the package: DAG files cannot import their siblings).

Nothing here does I/O: it is evaluated when DAG files are parsed.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

#: The Airflow Variable holding the integration settings (JSON).
SETTINGS_VARIABLE = "connectwise_settings"
#: The example settings (for the sandbox's demo seed), beside the example DAGs.
EXAMPLE_SETTINGS_FILENAME = "connectwise_example_settings.yaml"


def default_args() -> dict[str, Any]:
    """Task retries are the seed's "Retry Pending": three, with exponential backoff.

    ``CONNECTWISE_EXAMPLE_RETRY_DELAY_SECONDS`` shortens the delay (tests and the demo run the DAGs
    with ``dag.test()`` and need not wait).
    """
    delay = float(os.environ.get("CONNECTWISE_EXAMPLE_RETRY_DELAY_SECONDS", "60"))
    return {
        "retries": 3,
        "retry_delay": timedelta(seconds=delay),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
    }


def ticket_poll_seconds() -> float:
    """How often the example DAGs' ticket sensors look at ConnectWise (five minutes).

    ``CONNECTWISE_EXAMPLE_POLL_SECONDS`` shortens it (the scheduler-driven test).
    """
    return float(os.environ.get("CONNECTWISE_EXAMPLE_POLL_SECONDS", "300"))


def settings_source(dag_file: str) -> dict[str, str]:
    """Where ConnectWiseValidateSettingsOperator reads the settings: the Variable
    ``connectwise_settings`` when it exists, else the example file beside the DAG (for the
    embedded sandbox). Nothing is read here: the operator decides when the task runs.

    :param dag_file: the DAG file's ``__file__``.
    """
    return {
        "settings_variable": SETTINGS_VARIABLE,
        "settings_file": str(Path(dag_file).with_name(EXAMPLE_SETTINGS_FILENAME)),
    }
