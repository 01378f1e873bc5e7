"""Fixtures for the sandbox's own tests: a TestClient app (no socket) and the real-server fixtures."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient warns about its httpx backend
    from fastapi.testclient import TestClient

from airflow_provider_connectwise.sandbox import SandboxConfig, create_app
from airflow_provider_connectwise.sandbox.runtime import Runtime
from airflow_provider_connectwise.sandbox.testing import (  # noqa: F401
    make_sandbox,
    sandbox,
    sandbox_client,
    sandbox_server,
)

API = "/v2025_1/apis/3.0"


def cw_headers(
    company: str = "demo",
    public: str = "demo-public-key",
    private: str = "demo-private-key",
    client_id: str | None = "3f0b5c2e-1d4a-4c8e-9b7a-2e6f1a9c0d11",
) -> dict[str, str]:
    token = base64.b64encode(f"{company}+{public}:{private}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    if client_id is not None:
        headers["clientId"] = client_id
    return headers


ADDIGY = {"x-api-key": "demo-addigy-api-key"}


class CW:
    """Tiny ConnectWise client over a TestClient (paths relative to ``apis/3.0``)."""

    def __init__(self, client: TestClient):
        self.client = client
        self.headers = cw_headers()

    def get(self, path: str, params: Any = None, **headers: str) -> Any:
        return self.client.get(API + path, params=params, headers={**self.headers, **headers})

    def post(self, path: str, json: Any = None, params: Any = None, **headers: str) -> Any:
        return self.client.post(API + path, json=json, params=params, headers={**self.headers, **headers})

    def patch(self, path: str, ops: Any, **headers: str) -> Any:
        return self.client.patch(API + path, json=ops, headers={**self.headers, **headers})


@pytest.fixture
def app() -> Any:
    return create_app(seed="demo")


@pytest.fixture
def rt(app: Any) -> Runtime:
    return app.state.runtime


@pytest.fixture
def seed(rt: Runtime) -> Any:
    return rt.state.seed


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def cw(client: TestClient) -> CW:
    return CW(client)


@pytest.fixture
def loose_app() -> Any:
    """A non-strict app (the server-side rules only)."""
    return create_app(config=SandboxConfig(strict=False), seed="demo")


@pytest.fixture
def loose_cw(loose_app: Any) -> Iterator[CW]:
    with TestClient(loose_app) as c:
        yield CW(c)


def config_body(seed: Any, **fields: Any) -> dict[str, Any]:
    """A valid configuration POST body for AcmeCorp (override any field)."""
    body = {
        "name": "Test Mac",
        "type": {"id": seed.configuration_types["Managed Mac"]},
        "company": {"id": seed.companies["AcmeCorp"]},
        "status": {"id": seed.configuration_statuses["Active"]},
    }
    body.update(fields)
    return body
