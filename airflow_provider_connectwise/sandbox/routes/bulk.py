"""Bulk configuration routes: ``POST``/``PUT /company/configurations/bulk`` (answered 207)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..models.bulk import bulk_create, bulk_replace
from .common import cw_json_body, cw_response, runtime
from .connectwise import PREFIX, connectwise_guard

router = APIRouter(prefix=PREFIX, dependencies=[Depends(connectwise_guard)])


@router.post("/company/configurations/bulk", status_code=207)
async def create_configurations(request: Request) -> Response:
    return await _bulk(request, bulk_create)


@router.put("/company/configurations/bulk", status_code=207)
async def replace_configurations(request: Request) -> Response:
    return await _bulk(request, bulk_replace)


async def _bulk(request: Request, write: Callable[..., dict[str, Any]]) -> Response:
    rt = runtime(request)
    body = await cw_json_body(request)
    result = write(rt.state.connectwise, body, max_items=rt.config.bulk_max_items)
    return cw_response(request, result, status=207)
