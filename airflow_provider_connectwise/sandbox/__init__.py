"""Embedded sandbox: an in-process stand-in for the ConnectWise Manage REST API and Addigy's API v2.

Import-light (no Airflow). Main entry points:

* ``Sandbox`` - uvicorn in a background thread (``with Sandbox(seed="demo") as sb: ...``);
* ``create_app`` - the ASGI app, for ``fastapi.testclient.TestClient``;
* ``SandboxState`` - the data and the admin operations (``sb.state.connectwise`` / ``.addigy``);
* ``contract.validate_connectwise_request`` - the OpenAPI contract check for captured requests;
* ``testing`` - pytest fixtures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import (
    DEMO_ADDIGY_API_KEY,
    DEMO_ADDIGY_ORG_ID,
    DEMO_CLIENT_ID,
    DEMO_COMPANY,
    DEMO_PRIVATE_KEY,
    DEMO_PUBLIC_KEY,
    Credentials,
    FaultConfig,
    SandboxConfig,
)
from .models import FactError, SandboxState, SeedInfo

if TYPE_CHECKING:
    from .app import create_app
    from .server import Sandbox

__all__ = [
    "DEMO_ADDIGY_API_KEY",
    "DEMO_ADDIGY_ORG_ID",
    "DEMO_CLIENT_ID",
    "DEMO_COMPANY",
    "DEMO_PRIVATE_KEY",
    "DEMO_PUBLIC_KEY",
    "Credentials",
    "FactError",
    "FaultConfig",
    "Sandbox",
    "SandboxConfig",
    "SandboxState",
    "SeedInfo",
    "create_app",
]


def __getattr__(name: str) -> Any:
    # FastAPI/uvicorn are imported only when the HTTP side is used.
    if name == "Sandbox":
        from .server import Sandbox

        return Sandbox
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
