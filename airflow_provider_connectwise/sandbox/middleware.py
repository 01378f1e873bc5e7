"""Raw ASGI middleware: request accounting, latency, rate limiting and fault injection.

It wraps the whole app (admin paths under ``/_sandbox`` pass through untouched and are not counted).
A "reset" closes the TCP connection without any answer; "lost" lets the request be applied, then
drops the answer (reset) or replaces it with a 500/504 - the write exists although the client saw an
error.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from .config import FaultConfig
from .connections import abort_connection
from .contract import match_operation
from .exceptions import JSON, TEXT, RateLimited, SandboxError
from .faults import in_scope
from .runtime import Runtime

ADMIN_PREFIX = "/_sandbox"
_CW_API = re.compile(r"^/[^/]+/apis/3\.0(?P<rest>/.*)?$")
_ADDIGY_ORG = re.compile(r"^/api/v2/o/[^/]+")
_ADDIGY_AGENT = re.compile(r"/devices/[^/]+/policy-assignments$")

_CW_500 = b'{"code": "ConnectWiseApi", "message": "An error has occurred.", "errors": null}'
_CW_500_TIMEOUT = (
    b'{"code": "ConnectWiseApi", "message": "Execution Timeout Expired.  The timeout period elapsed prior to '
    b'completion of the operation or the server is not responding.", "errors": null}'
)
_ADDIGY_500 = b'{"code": 500, "message": "internal server error", "error_chain": {}}'


def classify(path: str) -> tuple[str, str]:
    """``(service, path template)`` for counters and logs."""
    if path.startswith("/api/v2"):
        template = _ADDIGY_ORG.sub("/api/v2/o/{organization_id}", path)
        return "addigy", _ADDIGY_AGENT.sub("/devices/{agent_id}/policy-assignments", template)
    if path.startswith("/login/companyinfo/"):
        return "connectwise", "/login/companyinfo/{companyId}"
    m = _CW_API.match(path)
    if m:
        rest = m.group("rest") or "/"
        op = match_operation(rest)
        return "connectwise", op.template if op else rest
    return "connectwise", path


class _Exchange:
    """One request through the middleware: what it was, its status and fault, and its record."""

    def __init__(self, runtime: Runtime, scope: dict[str, Any], send: Any):
        self.runtime = runtime
        self.scope = scope
        self._send = send
        self.path, self.method = scope["path"], scope["method"]
        self.service, self.template = classify(self.path)
        self.started = time.time()
        self._t0 = time.monotonic()
        self.status: int | None = None
        self.committed_status: int | None = None
        self.fault: str | None = None
        self._recorded = False
        runtime.stats.arrival(self.service, self.started)

    def record(self) -> None:
        # Recorded just before the last byte goes out, so a client that got its answer finds it logged.
        if self._recorded:
            return
        self._recorded = True
        self.runtime.stats.record(
            service=self.service,
            method=self.method,
            path=self.path,
            template=self.template,
            query=_query_pairs(self.scope),
            status=self.status,
            fault=self.fault,
            started=self.started,
            duration=time.monotonic() - self._t0,
        )

    async def send_tracked(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            self.record()
        await self._send(message)

    async def send_discarded(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.committed_status = message["status"]

    async def reset(self) -> None:
        self.record()
        await _reset(self.scope)


class SandboxMiddleware:
    def __init__(self, app: Any, runtime: Runtime):
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(self.runtime, scope, send)
        try:
            await self._serve(exchange, receive)
        finally:
            exchange.record()

    async def _serve(self, ex: _Exchange, receive: Any) -> None:
        rt = self.runtime
        delay = rt.faults.latency(ex.service)
        if delay:
            await asyncio.sleep(delay)
        cfg: FaultConfig = rt.config.faults
        if cfg.rate_limit and in_scope(cfg.scope, ex.service):
            retry = rt.limiter.check(ex.service, cfg.rate_limit, time.time())
            if retry is not None:
                ex.fault = "429"
                await _send_error(
                    ex.send_tracked, RateLimited(retry, style=cfg.rate_limit_style, service=ex.service)
                )
                return
        fault = ex.fault = rt.faults.decide(ex.service, ex.method, ex.path)
        if fault is None:
            await self.app(ex.scope, receive, ex.send_tracked)
        else:
            await self._inject(ex, fault, receive)

    async def _inject(self, ex: _Exchange, fault: str, receive: Any) -> None:
        """Answer with ``fault`` instead of (or, for the lost kinds, after applying) the request."""
        if fault in ("429", "429-html"):
            style = "html" if fault == "429-html" else "json"
            await _send_error(ex.send_tracked, RateLimited(30, style=style, service=ex.service))
        elif fault in ("500", "500-timeout"):
            await _send_500(ex.send_tracked, ex.service, timeout=fault == "500-timeout")
        elif fault == "503":
            await _send_raw(ex.send_tracked, 503, TEXT, b"Service Unavailable")
        elif fault == "reset":
            await ex.reset()
        else:  # lost, lost-500, lost-504: apply, then lose the answer
            await self.app(ex.scope, receive, ex.send_discarded)
            if fault == "lost":
                await ex.reset()
            elif fault == "lost-504":
                await _send_raw(ex.send_tracked, 504, TEXT, b"Gateway Timeout")
            else:
                await _send_500(ex.send_tracked, ex.service, timeout=False)


def _query_pairs(scope: dict[str, Any]) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    raw = scope.get("query_string") or b""
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)


async def _send_raw(
    send: Any, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
) -> None:
    raw_headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    for k, v in (headers or {}).items():
        raw_headers.append((k.lower().encode(), v.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Any, error: SandboxError) -> None:
    status, content_type, body, headers = error.render()
    await _send_raw(send, status, content_type, body, headers)


async def _send_500(send: Any, service: str, *, timeout: bool) -> None:
    body = _ADDIGY_500 if service == "addigy" else (_CW_500_TIMEOUT if timeout else _CW_500)
    await _send_raw(send, 500, JSON, body)


async def _reset(scope: dict[str, Any]) -> None:
    if not abort_connection(scope):
        raise ConnectionResetError("sandbox fault: connection reset without a response")
    # Let the server notice the closed transport so it does not try to answer.
    for _ in range(3):
        await asyncio.sleep(0)
