"""``Sandbox``: the sandbox served by uvicorn in a background thread, on 127.0.0.1 only.

::

    with Sandbox(seed="demo", strict=True, port=0) as sb:
        requests.get(f"{sb.api_url}/system/info", headers=...)
        sb.set_faults(fail_503=0.2, scope="connectwise")
        assert sb.max_requests_per_minute("connectwise") <= 600
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import connections
from .app import create_app
from .config import CODEBASE, Credentials, FaultConfig, SandboxConfig
from .models import SandboxState, SeedInfo
from .runtime import Runtime, airflow_json

HOST = "127.0.0.1"


def _protocol_class() -> type:
    """uvicorn's HTTP protocol, registering each connection's transport so faults can reset it."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:  # pragma: no cover - httptools missing
        # Either class serves as the base; mypy sees two unrelated protocol classes.
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]

    class TrackingProtocol(Base):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connections.register(self.client, self.server, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            connections.unregister(self.client, self.server)
            super().connection_lost(exc)

    return TrackingProtocol


class Sandbox:
    """An in-process ConnectWise + Addigy server for tests, benchmarks and demos.

    :param seed: ``"demo"``, ``"empty"`` or ``"bench:N[:C]"`` (see ``seeds.py``).
    :param strict: validate ConnectWise requests against the official OpenAPI subset.
    :param port: TCP port on 127.0.0.1; ``0`` picks a free one.
    :param credentials: accepted credentials (default: the demo ones).
    :param faults: initial fault knobs (``FaultConfig`` or a dict of its fields).
    :param latency_ms: shortcut for ``faults.latency_ms``.
    :param rate_limit: shortcut for ``faults.rate_limit`` (requests per sliding minute and service).
    :param nested_patch: ``"refuse"`` (default) or ``"ignore"`` nested PATCH paths.
    :param clock: "now" for timestamps written by the sandbox.
    :param log_level: uvicorn's log level.
    """

    def __init__(
        self,
        seed: str = "demo",
        *,
        strict: bool = True,
        port: int = 0,
        credentials: Credentials | None = None,
        faults: FaultConfig | dict[str, Any] | None = None,
        latency_ms: float | None = None,
        rate_limit: int | None = None,
        nested_patch: str = "refuse",
        clock: Callable[[], datetime] | None = None,
        log_level: str = "error",
    ):
        if isinstance(faults, dict):
            faults = FaultConfig(**faults)
        faults = faults or FaultConfig()
        overrides: dict[str, Any] = {}
        if latency_ms is not None:
            overrides["latency_ms"] = latency_ms
        if rate_limit is not None:
            overrides["rate_limit"] = rate_limit
        if overrides:
            faults = faults.updated(**overrides)
        self.config = SandboxConfig(
            strict=strict, credentials=credentials or Credentials(), faults=faults, nested_patch=nested_patch
        )
        kwargs: dict[str, Any] = {"nested_patch": nested_patch}
        if clock is not None:
            kwargs["clock"] = clock
        state = SandboxState.seeded(seed, self.config.credentials, **kwargs)
        self.app = create_app(state, self.config, seed=seed)
        self.runtime: Runtime = self.app.state.runtime
        self.requested_port = port
        self.log_level = log_level
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port: int | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0) -> Sandbox:
        """Bind 127.0.0.1, start uvicorn in a daemon thread and wait until it accepts connections."""
        import uvicorn

        if self._thread is not None:
            return self
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
        # TCP, and without it every keep-alive request waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self.requested_port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        self.runtime.set_base_url(f"http://{HOST}:{self.port}")
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            access_log=False,
            http=_protocol_class(),
            loop="asyncio",
            lifespan="off",
            timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
            backlog=512,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"cw-sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until Ctrl-C (used by ``python -m airflow_provider_connectwise.sandbox``)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # ------------------------------------------------------------ addressing

    @property
    def url(self) -> str:
        """``http://127.0.0.1:{port}`` (the ConnectWise site URL and the Addigy host)."""
        if self.port is None:
            raise RuntimeError("the sandbox is not started")
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        """ConnectWise API root: ``{url}/v2025_1/apis/3.0``."""
        return f"{self.url}/{CODEBASE}apis/3.0"

    @property
    def addigy_url(self) -> str:
        """Addigy API root: ``{url}/api/v2``."""
        return f"{self.url}/api/v2"

    def connectwise_connection(self) -> dict[str, Any]:
        """``{"conn_type": "connectwise", "host": url, "login": company, "password": private_key,
        "extra": {"public_key", "client_id"}}``."""
        return self.runtime.connectwise_connection()

    def addigy_connection(self) -> dict[str, Any]:
        """``{"conn_type": "addigy", "host": url, "password": api_key, "extra": {}}``."""
        return self.runtime.addigy_connection()

    def connectwise_connection_uri(self) -> str:
        return self.runtime.connectwise_connection_uri()

    def addigy_connection_uri(self) -> str:
        return self.runtime.addigy_connection_uri()

    def connectwise_connection_json(self) -> str:
        return airflow_json(self.connectwise_connection())

    def addigy_connection_json(self) -> str:
        return airflow_json(self.addigy_connection())

    def airflow_env(self, *, form: str = "uri") -> dict[str, str]:
        """``{"AIRFLOW_CONN_CONNECTWISE_DEFAULT": ..., "AIRFLOW_CONN_ADDIGY_DEFAULT": ...}`` (``uri`` or
        ``json`` form) to put in ``os.environ`` / ``monkeypatch.setenv``."""
        if form == "json":
            return {
                "AIRFLOW_CONN_CONNECTWISE_DEFAULT": self.connectwise_connection_json(),
                "AIRFLOW_CONN_ADDIGY_DEFAULT": self.addigy_connection_json(),
            }
        return {
            "AIRFLOW_CONN_CONNECTWISE_DEFAULT": self.connectwise_connection_uri(),
            "AIRFLOW_CONN_ADDIGY_DEFAULT": self.addigy_connection_uri(),
        }

    def connectwise_headers(self, **extra: str) -> dict[str, str]:
        """Valid ConnectWise request headers (Basic auth, clientId, JSON) for hand-written requests."""
        import base64

        c = self.config.credentials
        token = base64.b64encode(f"{c.company}+{c.public_key}:{c.private_key}".encode()).decode()
        headers = {
            "Authorization": f"Basic {token}",
            "clientId": c.client_id or "any",
            "Accept": "application/json",
        }
        headers.update(extra)
        return headers

    def addigy_headers(self) -> dict[str, str]:
        return {"x-api-key": self.config.credentials.addigy_api_key}

    # ------------------------------------------------------------ state

    @property
    def state(self) -> SandboxState:
        """The served data (replaced by ``reset``/``reseed``: read it again after those)."""
        return self.runtime.state

    @property
    def seed(self) -> SeedInfo:
        """Ids of what the seed created, by name."""
        return self.runtime.state.seed

    # ------------------------------------------------------------ admin operations

    def set_faults(self, **changes: Any) -> FaultConfig:
        """Change fault knobs at run time (see ``FaultConfig``)."""
        return self.runtime.set_faults(**changes)

    def queue_fault(self, kind: str, count: int = 1, **filters: Any) -> None:
        """Fail the next ``count`` matching requests deterministically (see ``Runtime.queue_fault``)."""
        self.runtime.queue_fault(kind, count, **filters)

    def clear_faults(self) -> None:
        """Remove every fault, latency and rate limit."""
        self.runtime.clear_faults()

    def set_latency(self, ms: float, scope: str | None = None) -> None:
        changes: dict[str, Any] = {"latency_ms": ms}
        if scope:
            changes["scope"] = scope
        self.runtime.set_faults(**changes)

    def set_rate_limit(self, per_minute: int | None, style: str = "json") -> None:
        self.runtime.set_faults(rate_limit=per_minute, rate_limit_style=style)
        self.runtime.limiter.reset()

    def set_strict(self, strict: bool) -> None:
        self.runtime.set_strict(strict)

    def stats(self) -> dict[str, Any]:
        """Counters by ``"METHOD /template"``, by service, status and fault, and the per-minute maxima."""
        return self.runtime.stats_snapshot()

    def counters(self) -> dict[str, int]:
        return self.runtime.stats_snapshot()["counters"]

    def count(self, method: str, template: str) -> int:
        """Requests seen for e.g. ``("POST", "/company/configurations")``."""
        return self.counters().get(f"{method.upper()} {template}", 0)

    def request_log(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Logged requests (method, path, template, query, status, fault, time; never headers)."""
        return self.runtime.stats.entries(limit)

    def max_requests_per_minute(self, service: str = "connectwise") -> int:
        """The most requests seen in any trailing 60-s window (throttled and faulted ones included)."""
        return self.runtime.stats_snapshot()["max_requests_per_minute"].get(service, 0)

    def clear_stats(self) -> None:
        self.runtime.clear_stats()

    def reset(self, seed: str | None = None) -> None:
        """Fresh data (same or other seed), stats, log and faults cleared."""
        self.runtime.reset(seed)

    def reseed(self, seed: str | None = None) -> None:
        """Fresh data only."""
        self.runtime.reseed(seed)

    def close_ticket(
        self, ticket_id: int, status_name: str | None = None, *, technician: str = "jtech"
    ) -> dict[str, Any]:
        """A technician closes a ticket in ConnectWise (closed status of its board)."""
        return self.state.connectwise.close_ticket(ticket_id, status_name, technician=technician)

    def reopen_ticket(
        self, ticket_id: int, status_name: str | None = None, *, technician: str = "jtech"
    ) -> dict[str, Any]:
        return self.state.connectwise.reopen_ticket(ticket_id, status_name, technician=technician)
