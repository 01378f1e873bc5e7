"""Ticket classification and contact look-ups: priorities, board types/subtypes/items, contacts."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..models import classification, contacts
from .connectwise import PREFIX, _getter, _lister, connectwise_guard

router = APIRouter(prefix=PREFIX, dependencies=[Depends(connectwise_guard)])

for _path, _key, _parent in (
    ("/service/priorities", "priorities", None),
    ("/service/boards/{parentId}/types", classification.BOARD_TYPES.key, "parentId"),
    ("/service/boards/{parentId}/subtypes", classification.BOARD_SUBTYPES.key, "parentId"),
    ("/service/boards/{parentId}/items", classification.BOARD_ITEMS.key, "parentId"),
    ("/company/contacts", contacts.CONTACTS.key, None),
):
    router.add_api_route(_path, _lister(_key, _parent), methods=["GET"])

router.add_api_route("/company/contacts/{id}", _getter(contacts.CONTACTS.key), methods=["GET"])
