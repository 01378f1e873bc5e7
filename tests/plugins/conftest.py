"""Fixtures for the ConnectWise page: real binding runs against the sandbox, Airflow's own API app."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from tests.plugins.demo import BindingDemo, make_demo


@pytest.fixture(scope="module")
def binding_demo(airflow_db) -> Iterator[BindingDemo]:
    """One manual sync of every policy (see ``demo.py``), recorded in the test metadata DB."""
    from airflow_provider_connectwise.sandbox.server import Sandbox

    with Sandbox(seed="demo") as sb:
        yield make_demo(sb)


@pytest.fixture(scope="module")
def api_app(airflow_db):
    """Airflow's own API server app (core), with the provider's plugin loaded as Airflow loads it."""
    from airflow.api_fastapi.app import create_app, purge_cached_app

    with pytest.MonkeyPatch.context() as mp:
        # a key of the length HS512 wants (Airflow's generated one is shorter and warns)
        mp.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "connectwise-page-tests-" + "k" * 64)
        app = create_app(apps="core")
        yield app
        purge_cached_app()


@pytest.fixture(scope="module")
def make_client(api_app):
    """``make_client(role)``: a TestClient signed in as a simple-auth-manager user with that role
    (``None``: signed in, no role; ``"anonymous"``: not signed in)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    clients = []

    def make(role: str | None = "ADMIN", *, username: str | None = None) -> TestClient:
        client = TestClient(api_app, follow_redirects=False)
        if role != "anonymous":
            user = SimpleAuthManagerUser(username=username or (role or "nobody").lower(), role=role)
            client.cookies.set("_token", get_auth_manager().generate_jwt(user))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
