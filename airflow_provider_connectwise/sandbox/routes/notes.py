"""Ticket note routes: ``/service/tickets/{parentId}/notes`` (+ ``/{id}``) and ``/allNotes``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..models import notes
from .common import cw_json_body, cw_response, int_param, runtime
from .connectwise import PREFIX, _fields, _list_response, connectwise_guard

router = APIRouter(prefix=PREFIX, dependencies=[Depends(connectwise_guard)])


def _ticket_id(request: Request) -> int:
    return int_param(request.path_params["parentId"], "parentId")


def _note_ids(request: Request) -> tuple[int, int]:
    ticket_id = _ticket_id(request)
    return ticket_id, int_param(request.path_params["id"], "id")


@router.get("/service/tickets/{parentId}/notes")
async def list_notes(request: Request) -> Response:
    ticket_id = _ticket_id(request)
    notes.materialise_initial(runtime(request).state.connectwise, ticket_id)
    return _list_response(request, notes.TICKET_NOTES.key, parent_id=ticket_id)


@router.get("/service/tickets/{parentId}/allNotes")
async def list_all_notes(request: Request) -> Response:
    ticket_id = _ticket_id(request)
    notes.materialise_initial(runtime(request).state.connectwise, ticket_id)
    return _list_response(request, notes.ALL_NOTES.key, parent_id=ticket_id)


@router.post("/service/tickets/{parentId}/notes", status_code=201)
async def create_note(request: Request) -> Response:
    ticket_id = _ticket_id(request)
    body = await cw_json_body(request)
    return cw_response(request, notes.create_note(runtime(request).state.connectwise, ticket_id, body), 201)


@router.get("/service/tickets/{parentId}/notes/{id}")
async def get_note(request: Request) -> Response:
    ticket_id, note_id = _note_ids(request)
    note = notes.get_note(runtime(request).state.connectwise, ticket_id, note_id)
    return cw_response(request, _fields(request, note))


@router.patch("/service/tickets/{parentId}/notes/{id}")
async def patch_note(request: Request) -> Response:
    ticket_id, note_id = _note_ids(request)
    body = await cw_json_body(request)
    return cw_response(
        request, notes.patch_note(runtime(request).state.connectwise, ticket_id, note_id, body)
    )


@router.delete("/service/tickets/{parentId}/notes/{id}", status_code=204)
async def delete_note(request: Request) -> Response:
    ticket_id, note_id = _note_ids(request)
    notes.delete_note(runtime(request).state.connectwise, ticket_id, note_id)
    return Response(status_code=204, headers={"api-current-version": "2025.1"})
