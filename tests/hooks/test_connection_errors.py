"""A request that got no answer names the host it tried; the public key is read under either name."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from airflow_provider_connectwise.exceptions import ConnectWiseTransportError
from airflow_provider_connectwise.hooks._http import RetryPolicy
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from tests.hooks.conftest import CLIENT_ID, PRIVATE_KEY, PUBLIC_KEY, connection_json

NO_RETRY = RetryPolicy(max_attempts=1)


def _closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unreachable(monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("AIRFLOW_CONN_CW_DOWN", connection_json(host=f"http://127.0.0.1:{port}"))
    return port


def test_a_refused_connection_names_the_host_and_port(unreachable):
    hook = ConnectWiseHook("cw_down", retry=NO_RETRY, requests_per_minute=None, codebase="v2025_1/")
    with pytest.raises(ConnectWiseTransportError) as caught:
        hook.get_system_info()
    assert caught.value.host == f"127.0.0.1:{unreachable}"
    text = str(caught.value)
    assert f"on 127.0.0.1:{unreachable}" in text
    assert PRIVATE_KEY not in text and PUBLIC_KEY not in text


def test_the_async_path_names_the_host_too(unreachable):
    hook = ConnectWiseHook("cw_down", retry=NO_RETRY, requests_per_minute=None)
    with pytest.raises(ConnectWiseTransportError) as caught:
        asyncio.run(hook.aget_ticket(1))
    assert f"on 127.0.0.1:{unreachable}" in str(caught.value)


@pytest.mark.parametrize("name", ["public_api_key", "public_key"])
def test_the_public_key_is_read_under_the_masked_name_and_the_old_one(monkeypatch, name):
    extra = {"client_id": CLIENT_ID, name: PUBLIC_KEY}
    raw = json.loads(connection_json())
    raw["extra"] = extra
    monkeypatch.setenv("AIRFLOW_CONN_CW_KEYS", json.dumps(raw))
    assert ConnectWiseHook("cw_keys").credentials.public_key == PUBLIC_KEY
