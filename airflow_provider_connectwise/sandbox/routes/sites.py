"""Company sites routes: ``GET /company/companies/{parentId}/sites`` and ``.../sites/{id}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..models import sites
from ..paging import PageRequest, link_header
from ..query import parse_fields, project
from .common import cw_query, cw_response, forward_only, int_param, runtime
from .connectwise import PREFIX, connectwise_guard

router = APIRouter(prefix=PREFIX, dependencies=[Depends(connectwise_guard)])


def _fields(request: Request, data: object) -> object:
    fields = cw_query(request).get("fields")
    return project(data, parse_fields(fields)) if fields else data


@router.get("/company/companies/{parentId}/sites")
async def list_sites(request: Request) -> Response:
    company_id = int_param(request.path_params["parentId"], "parentId")
    query = cw_query(request)
    page = PageRequest.from_query(query, forward_only=forward_only(request))
    items, result = sites.list_sites(
        runtime(request).state.connectwise,
        company_id,
        page,
        conditions=query.get("conditions"),
        order_by=query.get("orderBy"),
    )
    link = link_header(
        str(request.url.remove_query_params(list(request.query_params.keys()))),
        request.query_params.multi_items(),
        result,
    )
    return cw_response(request, _fields(request, items), headers={"Link": link} if link else None)


@router.get("/company/companies/{parentId}/sites/{id}")
async def get_site(request: Request) -> Response:
    company_id = int_param(request.path_params["parentId"], "parentId")
    site_id = int_param(request.path_params["id"], "id")
    site = sites.get_site(runtime(request).state.connectwise, company_id, site_id)
    return cw_response(request, _fields(request, site))
