"""Fixtures for hook tests: a connection, a hook that never really sleeps, a checked mock API."""

from __future__ import annotations

import json

import pytest
import requests_mock as rm

from airflow_provider_connectwise.hooks._http import RetryPolicy
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from tests.helpers.contract import assert_requests_conform

PUBLIC_KEY = "pubKEY-4f1e9a77"
PRIVATE_KEY = "privKEY-91c2d0e5"
CLIENT_ID = "3f0b5c2e-1d4a-4c8e-9b7a-2e6f1a9c0d11"
API = "https://api-na.myconnectwise.net/v2025_1/apis/3.0/"
COMPANY_INFO = "https://api-na.myconnectwise.net/login/companyinfo/acme"


def connection_json(**overrides) -> str:
    conn = {
        "conn_type": "connectwise",
        "host": "na.myconnectwise.net",
        "login": "acme",
        "password": PRIVATE_KEY,
        "extra": {"public_key": PUBLIC_KEY, "client_id": CLIENT_ID},
    }
    extra = overrides.pop("extra", None)
    conn.update(overrides)
    if extra is not None:
        conn["extra"] = {**conn["extra"], **extra}
    return json.dumps(conn)


@pytest.fixture
def cw_conn(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_TEST", connection_json())
    return "connectwise_test"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def hook(cw_conn, sleeps):
    hook = ConnectWiseHook(
        cw_conn,
        retry=RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, max_total_wait=60),
        requests_per_minute=None,
    )
    hook.client.sleep = sleeps.append
    return hook


@pytest.fixture
def cw_api():
    """requests-mock with companyinfo answered; every ConnectWise API request sent in the test
    is validated against the official OpenAPI subset afterwards."""
    with rm.Mocker() as mocker:
        mocker.get(COMPANY_INFO, json={"CompanyName": "Acme", "Codebase": "v2025_1/", "IsCloud": True})
        yield mocker
        assert_requests_conform(mocker.request_history)


@pytest.fixture(autouse=True)
def _forget_discovered_codebases():
    """Codebase discovery is cached per process; every test starts without it."""
    from airflow_provider_connectwise.hooks import connectwise

    connectwise._DISCOVERED_CODEBASES.clear()
    yield
    connectwise._DISCOVERED_CODEBASES.clear()
