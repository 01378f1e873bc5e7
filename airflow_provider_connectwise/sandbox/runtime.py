"""One running sandbox: its state, configuration, fault injector, rate limiter and request stats.

Shared by the HTTP layer (``app.py``, the middleware, the admin routes) and the Python ``Sandbox``
class, so the admin operations exist once and are reachable both ways.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any
from urllib.parse import quote, urlencode

from .config import CODEBASE, FaultConfig, SandboxConfig
from .faults import FaultInjector, QueuedFault, RateLimiter, RequestStats, fault_config_from_dict
from .models import SandboxState


class Runtime:
    """Mutable heart of a sandbox.

    :param state: the data (``SandboxState``).
    :param config: behaviour and knobs.
    :param seed: the seed name ``state`` was built from (used by ``reset``).
    """

    def __init__(self, state: SandboxState, config: SandboxConfig, *, seed: str = "demo"):
        self.state = state
        self.config = config
        self.seed_name = seed
        self.faults = FaultInjector(config.faults)
        self.limiter = RateLimiter()
        self.stats = RequestStats(config.request_log_size)
        self.base_url = "http://testserver"
        self.set_base_url(self.base_url)

    # ------------------------------------------------------------ addressing / connections

    def set_base_url(self, url: str) -> None:
        self.base_url = url.rstrip("/")
        self.state.connectwise.href_base = f"{self.base_url}/{CODEBASE}apis/3.0"

    @property
    def api_url(self) -> str:
        """ConnectWise API root, e.g. ``http://127.0.0.1:8765/v2025_1/apis/3.0``."""
        return f"{self.base_url}/{CODEBASE}apis/3.0"

    def connectwise_connection(self) -> dict[str, Any]:
        c = self.config.credentials
        return {
            "conn_type": "connectwise",
            "host": self.base_url,
            "login": c.company,
            "password": c.private_key,
            "extra": {"public_key": c.public_key, "client_id": c.client_id},
        }

    def addigy_connection(self) -> dict[str, Any]:
        return {
            "conn_type": "addigy",
            "host": self.base_url,
            "password": self.config.credentials.addigy_api_key,
            "extra": {},
        }

    def connectwise_connection_uri(self) -> str:
        return airflow_uri(self.connectwise_connection())

    def addigy_connection_uri(self) -> str:
        return airflow_uri(self.addigy_connection())

    # ------------------------------------------------------------ knobs

    @property
    def strict(self) -> bool:
        return self.config.strict

    def set_strict(self, strict: bool) -> None:
        self.config.strict = bool(strict)

    def set_faults(self, **changes: Any) -> FaultConfig:
        """Change fault knobs (see ``FaultConfig``); unspecified knobs keep their value."""
        new = self.config.faults.updated(**changes)
        new.validate()
        self.config.faults = new
        self.faults.configure(new)
        return new

    def replace_faults(self, data: dict[str, Any]) -> FaultConfig:
        """Set all knobs from ``data`` (the others back to defaults)."""
        new = fault_config_from_dict(data)
        self.config.faults = new
        self.faults.configure(new)
        return new

    def queue_fault(self, kind: str, count: int = 1, **filters: Any) -> None:
        """Fail the next ``count`` matching requests with ``kind`` (``500``, ``500-timeout``, ``503``,
        ``reset``, ``lost``, ``lost-500``, ``lost-504``, ``429``, ``429-html``); filters: ``scope``,
        ``methods``, ``path_contains``."""
        self.faults.queue(QueuedFault(kind, count, **filters))

    def clear_faults(self) -> None:
        self.faults.clear()
        self.config.faults = self.faults.config
        self.limiter.reset()

    # ------------------------------------------------------------ stats

    def stats_snapshot(self) -> dict[str, Any]:
        return self.stats.snapshot()

    def clear_stats(self) -> None:
        self.stats.reset()

    # ------------------------------------------------------------ data

    def reseed(self, seed: str | None = None) -> None:
        """Replace all data with a fresh copy of ``seed`` (default: the current seed)."""
        seed = seed or self.seed_name
        state = SandboxState.seeded(
            seed,
            self.config.credentials,
            nested_patch=self.config.nested_patch,
            clock=self.state.connectwise.clock,
        )
        self.state = state
        self.seed_name = seed
        self.set_base_url(self.base_url)

    def reset(self, seed: str | None = None) -> None:
        """Re-seed, clear stats, the request log, the rate-limit windows and every fault."""
        self.reseed(seed)
        self.clear_stats()
        self.clear_faults()

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.base_url,
            "api_url": self.api_url,
            "seed": self.seed_name,
            "strict": self.config.strict,
            "nested_patch": self.config.nested_patch,
            "faults": self.config.faults.to_dict(),
            "queued_faults": [asdict(f) for f in self.faults.queued],
        }


def airflow_uri(conn: dict[str, Any]) -> str:
    """Airflow's URI form of a connection dict (same layout as ``Connection.get_uri()``, so the host
    keeps its scheme and port: ``connectwise://http://login:pw@127.0.0.1%3A8765/?public_key=...``)."""
    host = conn.get("host") or ""
    protocol, _, rest = host.partition("://") if "://" in host else ("", "", host)
    uri = f"{conn['conn_type'].replace('_', '-')}://"
    if protocol:
        uri += f"{protocol}://"
    login, password = conn.get("login"), conn.get("password")
    if login is not None or password is not None:
        if login:
            uri += quote(login, safe="")
        if password:
            uri += ":" + quote(password, safe="")
        uri += "@"
    uri += quote(rest, safe="") + "/"
    extra = conn.get("extra") or {}
    if extra:
        if all(isinstance(v, str) for v in extra.values()):
            uri += "?" + urlencode(extra)
        else:
            uri += "?" + urlencode({"__extra__": json.dumps(extra)})
    return uri


def airflow_json(conn: dict[str, Any]) -> str:
    """The JSON form Airflow accepts in ``AIRFLOW_CONN_*`` variables."""
    return json.dumps({k: v for k, v in conn.items() if v is not None})
