"""Addigy API v2 routes under ``/api/v2`` (``x-api-key`` auth)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..exceptions import AddigyForbidden, AddigyNotFound, AddigyUnauthorized
from ..models.addigy import AddigyBackend
from .common import addigy_json_body, addigy_response, runtime


async def addigy_guard(request: Request) -> None:
    key = request.headers.get("x-api-key")
    expected = runtime(request).config.credentials.addigy_api_key
    if not key:
        raise AddigyUnauthorized("missing x-api-key header")
    if not hmac.compare_digest(key, expected):
        raise AddigyUnauthorized("invalid API key")


router = APIRouter(prefix="/api/v2", dependencies=[Depends(addigy_guard)])


def _backend(request: Request) -> AddigyBackend:
    return runtime(request).state.addigy


def _check_org(request: Request, organization_id: str) -> None:
    if organization_id != runtime(request).config.credentials.addigy_org_id:
        raise AddigyForbidden(f"API key has no access to organization {organization_id}")


@router.get("/configuration/whoami")
async def whoami(request: Request) -> Response:
    creds = runtime(request).config.credentials
    return addigy_response({"name": creds.addigy_key_name, "organization_id": creds.addigy_org_id})


@router.post("/oa/policies/query")
async def query_policies(request: Request) -> Response:
    return addigy_response(_backend(request).query_policies(await addigy_json_body(request)))


@router.post("/devices")
async def query_devices(request: Request) -> Response:
    return addigy_response(_backend(request).query_devices(await addigy_json_body(request)))


@router.post("/o/{organization_id}/devices")
async def query_org_devices(request: Request, organization_id: str) -> Response:
    _check_org(request, organization_id)
    return addigy_response(_backend(request).query_devices(await addigy_json_body(request)))


@router.get("/o/{organization_id}/devices/{agent_id}/policy-assignments")
async def policy_assignments(request: Request, organization_id: str, agent_id: str) -> Response:
    _check_org(request, organization_id)
    return addigy_response(_backend(request).policy_assignments(agent_id))


@router.get("/o/{organization_id}/facts")
async def facts(request: Request, organization_id: str) -> Response:
    _check_org(request, organization_id)
    return addigy_response(_backend(request).fact_catalogue())


@router.post("/oa/monitoring/alerts/query")
async def query_alerts(request: Request) -> Response:
    return addigy_response(_backend(request).query_alerts(await addigy_json_body(request)))


@router.post("/o/{organization_id}/monitoring/alerts/{action}")
async def alert_action(request: Request, organization_id: str, action: str) -> Response:
    _check_org(request, organization_id)
    return addigy_response(_backend(request).alert_action(action, await addigy_json_body(request)))


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown(request: Request, rest: str) -> Response:
    raise AddigyNotFound(f"no endpoint {request.method} /api/v2/{rest}")
