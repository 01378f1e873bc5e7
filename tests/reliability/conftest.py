"""Fixtures for the reliability suite: sandboxes with their own knobs, Airflow pointed at them."""

from __future__ import annotations

import pytest

from airflow_provider_connectwise.sandbox.testing import make_sandbox, sandbox, sandbox_server  # noqa: F401
from tests.flows.conftest import EXAMPLE_SETTINGS, use_settings


@pytest.fixture
def point_airflow_at(monkeypatch, airflow_db):
    """Point Airflow's connections (and the example settings Variable) at a given sandbox."""

    def point(sb, settings: dict | None = None):
        for key, value in sb.airflow_env(form="json").items():
            monkeypatch.setenv(key, value)
        use_settings(monkeypatch, settings or EXAMPLE_SETTINGS)
        monkeypatch.setenv("CONNECTWISE_EXAMPLE_RETRY_DELAY_SECONDS", "0")
        return sb

    return point
