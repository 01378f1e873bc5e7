"""Fault injection, rate limiting and request accounting (plain Python, used by the HTTP middleware).

* ``FaultInjector`` decides, per request, whether to answer 500/503, reset the connection, or apply the
  request and lose the answer. Probabilities come from ``FaultConfig`` and a seeded RNG (one draw per
  in-scope request, so a fixed request sequence gives a fixed fault sequence); ``queue()`` adds
  deterministic one-shot faults ("the next 2 POSTs get a 503") that take precedence.
* ``RateLimiter`` is a sliding 60-second window per service.
* ``RequestStats`` counts requests by method and path template, keeps a request log (never headers,
  so never credentials) and the largest number of requests seen in any trailing 60-s window.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from .config import SCOPES, FaultConfig

WINDOW_SECONDS = 60.0
FAULT_KINDS = ("500", "500-timeout", "503", "reset", "lost", "lost-500", "lost-504", "429", "429-html")


def in_scope(scope: str, service: str) -> bool:
    return scope == "both" or scope == service


@dataclass
class QueuedFault:
    """A deterministic fault for the next ``count`` matching requests."""

    kind: str
    count: int = 1
    scope: str = "both"
    methods: list[str] | None = None
    path_contains: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}")
        if self.count < 1:
            raise ValueError("count must be >= 1")
        if self.methods is not None:
            self.methods = [m.upper() for m in self.methods]

    def matches(self, service: str, method: str, path: str) -> bool:
        return (
            in_scope(self.scope, service)
            and (self.methods is None or method in self.methods)
            and (self.path_contains is None or self.path_contains in path)
        )


class FaultInjector:
    """Decides the fault (if any) for each request."""

    def __init__(self, config: FaultConfig | None = None):
        self.lock = threading.Lock()
        self.config = config or FaultConfig()
        self.rng = random.Random(self.config.seed)
        self.queued: list[QueuedFault] = []

    def configure(self, config: FaultConfig) -> None:
        with self.lock:
            reseed = config.seed != self.config.seed
            self.config = config
            if reseed:
                self.rng = random.Random(config.seed)

    def clear(self) -> None:
        with self.lock:
            self.config = FaultConfig(seed=self.config.seed)
            self.rng = random.Random(self.config.seed)
            self.queued.clear()

    def queue(self, fault: QueuedFault) -> None:
        with self.lock:
            self.queued.append(fault)

    def latency(self, service: str) -> float:
        """Seconds to wait before answering (scope applies; method/path filters don't)."""
        cfg = self.config
        return cfg.latency_ms / 1000.0 if cfg.latency_ms and in_scope(cfg.scope, service) else 0.0

    def decide(self, service: str, method: str, path: str) -> str | None:
        with self.lock:
            for fault in self.queued:
                if fault.matches(service, method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.queued.remove(fault)
                    return fault.kind
            cfg = self.config
            total = cfg.fail_500 + cfg.fail_503 + cfg.reset + cfg.lost_after_commit
            if total <= 0 or not in_scope(cfg.scope, service):
                return None
            if cfg.methods is not None and method not in cfg.methods:
                return None
            if cfg.path_contains is not None and cfg.path_contains not in path:
                return None
            r = self.rng.random()
            for p, kind in (
                (cfg.fail_500, "500-timeout" if cfg.fail_500_text == "timeout" else "500"),
                (cfg.fail_503, "503"),
                (cfg.reset, "reset"),
                (
                    cfg.lost_after_commit,
                    "lost" if cfg.lost_after_commit_mode == "reset" else f"lost-{cfg.lost_after_commit_mode}",
                ),
            ):
                if r < p:
                    return kind
                r -= p
            return None


class RateLimiter:
    """Sliding 60-s window per service; counts accepted requests only."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: dict[str, deque[float]] = {}

    def check(self, service: str, limit: int | None, now: float) -> int | None:
        """``None`` to accept (and record) the request, else the ``Retry-After`` seconds."""
        if not limit:
            return None
        with self.lock:
            window = self.accepted.setdefault(service, deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) >= limit:
                return max(1, int(window[0] + WINDOW_SECONDS - now + 0.999))
            window.append(now)
            return None

    def reset(self) -> None:
        with self.lock:
            self.accepted.clear()


class RequestStats:
    """Counters, the request log and the trailing-window maximum, per service."""

    def __init__(self, log_size: int = 20_000):
        self.lock = threading.Lock()
        self.log_size = log_size
        self.reset()

    def reset(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.counters: Counter[str] = Counter()
            self.by_service: Counter[str] = Counter()
            self.status_counts: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.log: deque[dict[str, Any]] = deque(maxlen=self.log_size)
            self.windows: dict[str, deque[float]] = {}
            self.max_window: dict[str, int] = {}

    def arrival(self, service: str, now: float) -> None:
        """Count an incoming request into the trailing 60-s window (faulted and throttled ones too)."""
        with self.lock:
            window = self.windows.setdefault(service, deque())
            window.append(now)
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) > self.max_window.get(service, 0):
                self.max_window[service] = len(window)

    def record(
        self,
        *,
        service: str,
        method: str,
        path: str,
        template: str,
        query: list[tuple[str, str]],
        status: int | None,
        fault: str | None,
        started: float,
        duration: float,
    ) -> None:
        entry = {
            "time": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="milliseconds"),
            "timestamp": started,
            "service": service,
            "method": method,
            "path": path,
            "template": template,
            "query": [list(q) for q in query],
            "status": status,
            "fault": fault,
            "duration_ms": round(duration * 1000, 3),
        }
        with self.lock:
            self.counters[f"{method} {template}"] += 1
            self.by_service[service] += 1
            self.status_counts[str(status)] += 1
            if fault:
                self.faults[fault] += 1
            self.log.append(entry)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": sum(self.by_service.values()),
                "by_service": dict(self.by_service),
                "counters": dict(self.counters),
                "statuses": dict(self.status_counts),
                "faults": dict(self.faults),
                "max_requests_per_minute": dict(self.max_window),
            }

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self.lock:
            items = list(self.log)
        return items[-limit:] if limit else items


def fault_config_from_dict(data: dict[str, Any], base: FaultConfig | None = None) -> FaultConfig:
    """Apply a JSON dict of knobs to ``base`` (or the defaults); unknown names raise ``TypeError``."""
    current = asdict(base) if base else asdict(FaultConfig())
    unknown = set(data) - set(current)
    if unknown:
        raise TypeError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
    current.update(data)
    return FaultConfig(**current)


def monotonic() -> float:
    return time.monotonic()
