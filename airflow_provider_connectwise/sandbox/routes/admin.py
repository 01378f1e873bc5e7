"""Admin API under ``/_sandbox`` (JSON, loopback only, never counted or faulted).

Everything here is also a Python method of ``Sandbox``/``Runtime``/the backends.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..models import FactError
from ..runtime import airflow_json
from .common import runtime

router = APIRouter(prefix="/_sandbox")


class AdminError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise AdminError(400, "invalid JSON") from None
    if not isinstance(data, dict):
        raise AdminError(400, "expected a JSON object")
    return data


def _required(body: dict[str, Any], key: str) -> Any:
    """Take ``key`` out of the body; 400 when it is missing or empty."""
    value = body.pop(key, None)
    if not value:
        raise AdminError(400, f"{key} is required")
    return value


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except KeyError as exc:
        raise AdminError(404, str(exc.args[0]) if exc.args else "not found") from None
    except (ValueError, TypeError) as exc:
        raise AdminError(400, str(exc)) from None


def admin_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminError)
    return JSONResponse({"error": exc.message}, status_code=exc.status)


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    rt = runtime(request)
    return {"status": "ok", "seed": rt.seed_name, "strict": rt.config.strict}


@router.get("/config")
async def get_config(request: Request) -> dict[str, Any]:
    return runtime(request).describe()


@router.get("/connections")
async def connections(request: Request) -> dict[str, Any]:
    rt = runtime(request)
    cw, ad = rt.connectwise_connection(), rt.addigy_connection()
    return {
        "connectwise": {**cw, "uri": rt.connectwise_connection_uri(), "json": airflow_json(cw)},
        "addigy": {**ad, "uri": rt.addigy_connection_uri(), "json": airflow_json(ad)},
    }


@router.get("/seed")
async def seed(request: Request) -> dict[str, Any]:
    info = asdict(runtime(request).state.seed)
    info.pop("notes", None)
    return info


@router.put("/strict")
async def set_strict(request: Request) -> dict[str, Any]:
    body = await _body(request)
    runtime(request).set_strict(bool(body.get("strict", True)))
    return {"strict": runtime(request).config.strict}


@router.get("/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    rt = runtime(request)
    return {"faults": rt.config.faults.to_dict(), "queued": [asdict(f) for f in rt.faults.queued]}


@router.put("/faults")
async def replace_faults(request: Request) -> dict[str, Any]:
    return _call(runtime(request).replace_faults, await _body(request)).to_dict()


@router.patch("/faults")
async def update_faults(request: Request) -> dict[str, Any]:
    return _call(runtime(request).set_faults, **(await _body(request))).to_dict()


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    runtime(request).clear_faults()
    return runtime(request).config.faults.to_dict()


@router.post("/faults/queue")
async def queue_fault(request: Request) -> dict[str, Any]:
    body = await _body(request)
    kind = _required(body, "kind")
    _call(runtime(request).queue_fault, kind, **body)
    return {"queued": [asdict(f) for f in runtime(request).faults.queued]}


@router.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    return runtime(request).stats_snapshot()


@router.get("/requests")
async def requests_log(request: Request, limit: int | None = None) -> dict[str, Any]:
    return {"requests": runtime(request).stats.entries(limit)}


@router.delete("/requests")
async def clear_requests(request: Request) -> dict[str, Any]:
    runtime(request).clear_stats()
    return {"cleared": True}


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    return await _seeded(request, runtime(request).reset)


@router.post("/reseed")
async def reseed(request: Request) -> dict[str, Any]:
    return await _seeded(request, runtime(request).reseed)


async def _seeded(request: Request, apply: Any) -> dict[str, Any]:
    body = await _body(request)
    _call(apply, body.get("seed"))
    return {"seed": runtime(request).seed_name}


# ---------------------------------------------------------------- ConnectWise scenario operations


@router.post("/connectwise/tickets/{ticket_id}/close")
async def close_ticket(request: Request, ticket_id: int) -> dict[str, Any]:
    return await _technician_status(request, ticket_id, closed=True)


@router.post("/connectwise/tickets/{ticket_id}/reopen")
async def reopen_ticket(request: Request, ticket_id: int) -> dict[str, Any]:
    return await _technician_status(request, ticket_id, closed=False)


async def _technician_status(request: Request, ticket_id: int, *, closed: bool) -> dict[str, Any]:
    """A technician closes or reopens the ticket (``status_name``, ``technician`` in the body)."""
    body = await _body(request)
    cw = runtime(request).state.connectwise
    change = cw.close_ticket if closed else cw.reopen_ticket
    return _call(change, ticket_id, body.get("status_name"), technician=body.get("technician", "jtech"))


@router.get("/connectwise/tickets/{ticket_id}/initial")
async def ticket_initial(request: Request, ticket_id: int) -> dict[str, Any]:
    from ..exceptions import NotFound

    try:
        return runtime(request).state.connectwise.ticket_initial_text(ticket_id)
    except NotFound as exc:
        raise AdminError(404, exc.message) from None


# ---------------------------------------------------------------- Addigy scenario operations


def _facts(raw: Any) -> dict[str, Any]:
    """JSON facts: a bare value, ``{"value", "type", "error_msg"}``, or ``{"error_msg": "..."}``."""
    if not isinstance(raw, dict):
        raise AdminError(400, "facts must be an object")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and "error_msg" in value and "value" not in value:
            out[key] = FactError(str(value["error_msg"]))
        else:
            out[key] = value
    return out


@router.post("/addigy/devices")
async def add_device(request: Request) -> dict[str, Any]:
    body = await _body(request)
    ad = runtime(request).state.addigy
    return _call(
        ad.add_device, body.get("policy_id"), _facts(body.get("facts", {})), agentid=body.get("agentid")
    )


@router.delete("/addigy/devices/{agentid}")
async def remove_device(request: Request, agentid: str) -> dict[str, Any]:
    _call(runtime(request).state.addigy.remove_device, agentid)
    return {"removed": agentid}


@router.post("/addigy/devices/{agentid}/move")
async def move_device(request: Request, agentid: str) -> dict[str, Any]:
    body = await _body(request)
    return _call(runtime(request).state.addigy.move_device, agentid, body.get("policy_id"))


@router.patch("/addigy/devices/{agentid}/facts")
async def set_facts(request: Request, agentid: str) -> dict[str, Any]:
    body = await _body(request)
    return _call(runtime(request).state.addigy.set_facts, agentid, _facts(body))


@router.post("/addigy/policies")
async def add_policy(request: Request) -> dict[str, Any]:
    body = await _body(request)
    name = _required(body, "name")
    return _call(runtime(request).state.addigy.add_policy, name, **body)


@router.post("/addigy/policies/{policy_id}/link")
async def link_policy(request: Request, policy_id: str) -> dict[str, Any]:
    body = await _body(request)
    return _call(runtime(request).state.addigy.link_policy, policy_id, body.get("connectwise_account_id"))


@router.post("/addigy/alerts")
async def raise_alert(request: Request) -> dict[str, Any]:
    body = await _body(request)
    agentid, name = body.pop("agentid", None), body.pop("name", None)
    if not agentid or not name:
        raise AdminError(400, "agentid and name are required")
    return _call(runtime(request).state.addigy.raise_alert, agentid, name, **body)


@router.post("/addigy/alerts/{alert_id}/{action}")
async def alert_transition(request: Request, alert_id: str, action: str) -> dict[str, Any]:
    ad = runtime(request).state.addigy
    if action == "resolve":
        return _call(ad.resolve_alert, alert_id)
    if action == "acknowledge":
        return _call(ad.acknowledge_alert, alert_id)
    raise AdminError(404, f"unknown alert action {action!r}")
