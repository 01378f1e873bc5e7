"""pytest helpers: import these fixtures into a ``conftest.py``::

    from airflow_provider_connectwise.sandbox.testing import sandbox, sandbox_server, make_sandbox  # noqa: F401

* ``sandbox_server`` (session): one strict ``demo`` sandbox for the whole run;
* ``sandbox`` (function): that server, reset before each test (fresh demo data, stats, log and faults
  cleared, strict mode on) - cheap, so use it by default;
* ``make_sandbox`` (function): a factory for extra sandboxes with their own arguments
  (``make_sandbox(seed="bench:5000", latency_ms=20)``), stopped after the test;
* ``sandbox_client`` (function): a ``fastapi.testclient.TestClient`` over a fresh ``demo`` app, no
  socket; its runtime (state, faults, stats) is ``sandbox_client.app.state.runtime``;
* ``sandbox_fixture(...)`` builds a fixture with other defaults (seed, scope, name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from .server import Sandbox


def sandbox_fixture(
    seed: str = "demo",
    *,
    scope: Literal["session", "package", "module", "class", "function"] = "function",
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """A fixture yielding a started ``Sandbox(seed=seed, **kwargs)`` (stopped afterwards)."""

    @pytest.fixture(scope=scope, name=name)
    def _sandbox() -> Iterator[Sandbox]:
        with Sandbox(seed=seed, **kwargs) as sb:
            yield sb

    return _sandbox


sandbox_server = sandbox_fixture("demo", scope="session", name="sandbox_server")


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The session sandbox, reset to a fresh strict ``demo`` before the test."""
    sandbox_server.reset("demo")
    sandbox_server.set_strict(True)
    yield sandbox_server
    sandbox_server.clear_faults()


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Factory for extra sandboxes (any ``Sandbox`` arguments); all are stopped after the test."""
    started: list[Sandbox] = []

    def make(seed: str = "demo", **kwargs: Any) -> Sandbox:
        sb = Sandbox(seed=seed, **kwargs).start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox_client() -> Iterator[Any]:
    """A TestClient over a fresh strict ``demo`` app (no socket, no thread)."""
    import warnings

    from .app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's TestClient warns about its httpx backend
        from fastapi.testclient import TestClient

    with TestClient(create_app(seed="demo")) as client:
        yield client
