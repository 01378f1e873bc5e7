"""ConnectWise Manage routes: ``/login/companyinfo/{company}`` and ``/{codebase}/apis/3.0/...``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..config import API_VERSION, CODEBASE
from ..contract import CODEBASE_RE, ContractViolation, check_request, match_operation
from ..exceptions import BadRequest, CannotRoute, ContractRefused, NotFound, NotImplementedBySandbox
from ..models.connectwise import ConnectWiseBackend
from ..paging import PageRequest, link_header
from ..query import parse_fields, project
from .common import (
    authenticate_connectwise,
    cw_json_body,
    cw_query,
    cw_response,
    forward_only,
    int_param,
    runtime,
)

PREFIX = "/{codebase}/apis/3.0"


async def connectwise_guard(request: Request) -> None:
    """Codebase, credentials, clientId, then (strict mode) the OpenAPI contract."""
    rt = runtime(request)
    if not CODEBASE_RE.fullmatch(request.path_params.get("codebase", "")):
        raise CannotRoute()
    authenticate_connectwise(request.headers, rt.config.credentials)
    if rt.config.strict:
        rest = request.url.path.split("/apis/3.0", 1)[1] or "/"
        query = parse_qsl(request.url.query, keep_blank_values=True)
        try:
            check_request(request.method, rest, query, request.headers, await request.body())
        except ContractViolation as exc:
            raise ContractRefused(exc.reason) from None


login = APIRouter()
router = APIRouter(prefix=PREFIX, dependencies=[Depends(connectwise_guard)])


@login.get("/login/companyinfo/{company_id}")
async def company_info(request: Request, company_id: str) -> Response:
    creds = runtime(request).config.credentials
    if company_id.casefold() != creds.company.casefold():
        raise CannotRoute()
    return cw_response(
        request,
        {
            "CompanyName": "Demo MSP",
            "Codebase": CODEBASE,
            "VersionCode": f"v{API_VERSION}",
            "VersionNumber": f"v{API_VERSION}.0",
            "CompanyID": creds.company,
            "IsCloud": False,
            "SiteUrl": request.url.netloc,
        },
    )


def _backend(request: Request) -> ConnectWiseBackend:
    return runtime(request).state.connectwise


def _fields(request: Request, data: Any) -> Any:
    fields = cw_query(request).get("fields")
    return project(data, parse_fields(fields)) if fields else data


def _unsupported_filters(query: dict[str, str]) -> None:
    for name in ("childConditions", "customFieldConditions"):
        if query.get(name):
            raise BadRequest(f"{name} is not supported by the sandbox.")


def _list_response(
    request: Request,
    key: str,
    *,
    parent_id: int | None = None,
    conditions: str | None = None,
    order_by: str | None = None,
    from_body: bool = False,
) -> Response:
    query = cw_query(request)
    _unsupported_filters(query)
    page = PageRequest.from_query(query, forward_only=forward_only(request))
    items, result = _backend(request).list(
        key,
        page,
        conditions=conditions if from_body else query.get("conditions"),
        order_by=order_by if from_body else query.get("orderBy"),
        parent_id=parent_id,
    )
    link = link_header(
        str(request.url.remove_query_params(list(request.query_params.keys()))),
        request.query_params.multi_items(),
        result,
    )
    return cw_response(request, _fields(request, items), headers={"Link": link} if link else None)


def _lister(key: str, parent: str | None) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        parent_id = int_param(request.path_params[parent], parent) if parent else None
        return _list_response(request, key, parent_id=parent_id)

    handler.__name__ = f"list_{key}"
    return handler


def _getter(key: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        rid = int_param(request.path_params["id"], "id")
        return cw_response(request, _fields(request, _backend(request).get_rendered(key, rid)))

    handler.__name__ = f"get_{key}"
    return handler


@router.get("/system/info")
async def system_info(request: Request) -> Response:
    return cw_response(
        request,
        {
            "version": f"v{API_VERSION}.0.0",
            "isCloud": False,
            "serverTimeZone": "Eastern Standard Time",
            "licenseBits": [],
            "cloudRegion": "NA",
            "maxWorkFlowRecordsAllowed": 0,
        },
    )


@router.post("/service/tickets/search")
async def search_tickets(request: Request) -> Response:
    body = await cw_json_body(request)
    if not isinstance(body, dict):
        raise BadRequest('The request body must be a JSON object like {"conditions": "..."}.')
    for name in ("childconditions", "customfieldconditions"):
        if body.get(name):
            raise BadRequest(f"{name} is not supported by the sandbox.")
    return _list_response(
        request,
        "tickets",
        conditions=body.get("conditions") or None,
        order_by=body.get("orderBy") or None,
        from_body=True,
    )


# Literal paths before templated ones (``/company/configurations/statuses`` before ``/{id}``).
for _path, _key, _parent in (
    ("/service/boards", "boards", None),
    ("/service/boards/{parentId}/statuses", "board_statuses", "parentId"),
    ("/company/companies", "companies", None),
    ("/company/configurations/statuses", "configuration_statuses", None),
    ("/company/configurations/types", "configuration_types", None),
    ("/company/configurations/types/{parentId}/questions", "configuration_type_questions", "parentId"),
    ("/company/configurations", "configurations", None),
    ("/service/tickets", "tickets", None),
):
    router.add_api_route(_path, _lister(_key, _parent), methods=["GET"])


@router.post("/company/configurations", status_code=201)
async def create_configuration(request: Request) -> Response:
    body = await cw_json_body(request)
    return cw_response(request, _backend(request).create_configuration(body), status=201)


@router.post("/service/tickets", status_code=201)
async def create_ticket(request: Request) -> Response:
    body = await cw_json_body(request)
    return cw_response(request, _backend(request).create_ticket(body), status=201)


@router.get("/service/tickets/{parentId}/configurations")
async def list_ticket_configurations(request: Request) -> Response:
    ticket_id = int_param(request.path_params["parentId"], "parentId")
    page = PageRequest.from_query(cw_query(request), forward_only=forward_only(request))
    items, result = _backend(request).list_ticket_configurations(ticket_id, page)
    link = link_header(
        str(request.url.remove_query_params(list(request.query_params.keys()))),
        request.query_params.multi_items(),
        result,
    )
    return cw_response(request, _fields(request, items), headers={"Link": link} if link else None)


@router.post("/service/tickets/{parentId}/configurations", status_code=201)
async def add_ticket_configuration(request: Request) -> Response:
    ticket_id = int_param(request.path_params["parentId"], "parentId")
    body = await cw_json_body(request)
    return cw_response(request, _backend(request).add_ticket_configuration(ticket_id, body), status=201)


@router.patch("/company/configurations/{id}")
async def patch_configuration(request: Request) -> Response:
    rid = int_param(request.path_params["id"], "id")
    body = await cw_json_body(request)
    return cw_response(request, _backend(request).update_configuration(rid, body))


@router.patch("/service/tickets/{id}")
async def patch_ticket(request: Request) -> Response:
    rid = int_param(request.path_params["id"], "id")
    body = await cw_json_body(request)
    return cw_response(request, _backend(request).update_ticket(rid, body))


for _path, _key in (
    ("/service/boards/{id}", "boards"),
    ("/company/companies/{id}", "companies"),
    ("/company/configurations/{id}", "configurations"),
    ("/service/tickets/{id}", "tickets"),
):
    router.add_api_route(_path, _getter(_key), methods=["GET"])


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown(request: Request, rest: str) -> Response:
    op = match_operation("/" + rest)
    if op is not None and request.method in op.methods:
        raise NotImplementedBySandbox(f"The sandbox does not implement {request.method} {op.template}.")
    raise NotFound(f"No endpoint {request.method} /{rest}.")
