"""One connection and discovery path: the sync hook and the triggers' async path share headers,
codebase discovery and its per-process cache; only the send differs."""

from __future__ import annotations

import asyncio
import functools
import json
import logging

import httpx
import pytest

from airflow_provider_connectwise.exceptions import (
    ConnectWiseAuthError,
    ConnectWiseNotFoundError,
    ConnectWiseRoutingError,
)
from airflow_provider_connectwise.hooks import _base
from airflow_provider_connectwise.hooks._connection import CodebaseDiscovery, credentials_from_connection
from airflow_provider_connectwise.hooks.connectwise import _DISCOVERED_CODEBASES, ConnectWiseHook
from tests.hooks.conftest import API, COMPANY_INFO

LOG = logging.getLogger(__name__)


@pytest.fixture
def async_seen(monkeypatch):
    """Every request the hook's async client sends, answered by an httpx mock transport."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "/login/companyinfo/" in request.url.path:
            return httpx.Response(200, json={"Codebase": "v2025_1/"})
        return httpx.Response(200, json={"id": 500, "closedFlag": False})

    transport = httpx.MockTransport(handler)
    monkeypatch.setattr(
        _base, "AsyncRestClient", functools.partial(_base.AsyncRestClient, transport=transport)
    )
    return seen


def test_the_async_path_sends_what_the_sync_path_sends(hook, cw_api, async_seen):
    cw_api.get(API + "service/tickets/500", json={"id": 500})
    hook.get_ticket(500)
    sync = cw_api.last_request
    asyncio.run(hook.aget_ticket(500))
    (sent,) = async_seen  # the sync path's discovery serves the async path too
    assert str(sent.url).split("?")[0] == sync.url.split("?")[0]
    for name in ("Authorization", "clientId", "Accept"):
        assert sent.headers[name] == sync.headers[name]


def test_a_discovery_by_the_async_path_serves_the_sync_path(hook, cw_api, async_seen):
    asyncio.run(hook.aget_ticket(500))
    assert [r.url.path for r in async_seen] == [
        "/login/companyinfo/acme",
        "/v2025_1/apis/3.0/service/tickets/500",
    ]
    assert hook.codebase == "v2025_1/"
    assert COMPANY_INFO not in [r.url for r in cw_api.request_history]


def test_the_async_path_takes_the_codebase_an_earlier_task_found(cw_conn, async_seen):
    hook = ConnectWiseHook(cw_conn, requests_per_minute=None, codebase="v2024_1")
    asyncio.run(hook.aget_ticket(500, fields=["id"]))
    assert [r.url.path for r in async_seen] == ["/v2024_1/apis/3.0/service/tickets/500"]


def _discovery(hint=None, **extra):
    from airflow.sdk import Connection

    conn = Connection(
        conn_id="cw",
        conn_type="connectwise",
        host="na.myconnectwise.net",
        login="Acme",
        password="private",
        extra=json.dumps({"public_key": "public", "client_id": "cid", **extra}),
    )
    return CodebaseDiscovery(credentials_from_connection(conn), hint, LOG)


def test_discovery_prefers_the_connection_then_the_hint_then_the_cache():
    assert _discovery("v2024_1", codebase="v2023_2").known == "v2023_2/"
    assert _discovery("v2024_1").known == "v2024_1/"
    fresh = _discovery()
    assert fresh.known is None and fresh.path == "login/companyinfo/Acme"
    assert fresh.found({"Codebase": "v2025_1/"}) == "v2025_1/"
    assert _discovery().known == "v2025_1/"  # cached for the process (company folded)
    assert ("https://api-na.myconnectwise.net/", "acme") in _DISCOVERED_CODEBASES


def test_discovery_falls_back_only_when_the_route_is_missing():
    discovery = _discovery()
    assert discovery.found({"CompanyName": "no codebase"}) == "v4_6_release/"
    assert discovery.failed(ConnectWiseNotFoundError("gone", status=404)) == "v4_6_release/"
    with pytest.raises(ConnectWiseRoutingError, match="Company ID"):
        discovery.failed(ConnectWiseRoutingError("Cannot route"))
    with pytest.raises(ConnectWiseAuthError):
        discovery.failed(ConnectWiseAuthError("no", status=401))
