"""Bulk configurations: ``POST`` and ``PUT /company/configurations/bulk`` (plain Python, no HTTP).

The body is a JSON array of ``Company.Configuration``. Every item is validated exactly like a
single POST (``configurations.validated_configuration``) and succeeds or fails on its own; the
answer is ``207 Multi-Status`` with a ``BulkResult``-shaped body::

    {"payload": [{"success": true, "originalIndex": 0, "statusCode": 201, "data": {"id": 812}},
                 {"success": false, "originalIndex": 1, "statusCode": 400,
                  "error": {"code": "InvalidObject", "message": "...", "errors": [...]}}]}

The official document types the 207 body as one ``Company.Configuration``; ``BulkResult`` is the
one bulk schema it defines (for ``DELETE .../bulk``), so the sandbox answers that shape. Clients
must not depend on it (the provider reads the configurations back).

``PUT`` replaces whole records: each item needs the ``id`` of an existing configuration, and every
field the item leaves out is cleared (``_info.dateEntered``/``enteredBy`` are kept).

More than ``max_items`` items answer ``413 Payload Too Large`` for the whole request (nothing is
written), the way an overloaded server refuses a body it will not process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exceptions import BadRequest, ConnectWiseError, InvalidObject, field_error
from . import resources as R
from .configurations import add_configuration, validated_configuration
from .connectwise import ConnectWiseBackend, Record
from .validation import stamp

__all__ = ["PayloadTooLarge", "bulk_create", "bulk_replace"]


class PayloadTooLarge(ConnectWiseError):
    """413: the bulk request holds more items than the server takes in one request."""

    status = 413
    code = "RequestTooLarge"


def bulk_create(
    backend: ConnectWiseBackend, items: Any, *, max_items: int, actor: str | None = None
) -> dict[str, Any]:
    """``POST /company/configurations/bulk``: create each valid item; one result per item.

    :param backend: the ConnectWise state.
    :param items: the parsed body (anything: it is checked here).
    :param max_items: most items per request (more: 413, nothing written).
    :param actor: recorded as ``_info.enteredBy``/``updatedBy``.
    """
    return _each(backend, items, max_items, lambda item: add_configuration(backend, item, actor=actor), 201)


def bulk_replace(
    backend: ConnectWiseBackend, items: Any, *, max_items: int, actor: str | None = None
) -> dict[str, Any]:
    """``PUT /company/configurations/bulk``: replace each valid item's whole record; one result per item.

    :param backend: the ConnectWise state.
    :param items: the parsed body.
    :param max_items: most items per request (more: 413, nothing written).
    :param actor: recorded as ``_info.updatedBy``.
    """
    return _each(backend, items, max_items, lambda item: _replace(backend, item, actor), 200)


def _each(
    backend: ConnectWiseBackend,
    items: Any,
    max_items: int,
    write: Callable[[Any], Record],
    status: int,
) -> dict[str, Any]:
    if not isinstance(items, list):
        raise BadRequest("The request body must be a JSON array of configurations.")
    if len(items) > max_items:
        raise PayloadTooLarge(
            f"The request holds {len(items)} configurations; at most {max_items} are accepted in one request."
        )
    payload = []
    with backend.lock:  # one request is applied as a whole before any other request sees it
        for index, item in enumerate(items):
            try:
                record = write(item)
            except ConnectWiseError as exc:  # this item only: the others go on
                payload.append(
                    {"success": False, "originalIndex": index, "statusCode": exc.status, "error": _error(exc)}
                )
                continue
            payload.append(
                {"success": True, "originalIndex": index, "statusCode": status, "data": {"id": record["id"]}}
            )
    return {"payload": payload}


def _error(exc: ConnectWiseError) -> dict[str, Any]:
    body = exc.body()
    return {"code": body.get("code"), "message": body.get("message"), "errors": body.get("errors") or []}


def _replace(backend: ConnectWiseBackend, item: Any, actor: str | None) -> Record:
    rid = item.get("id") if isinstance(item, dict) else None
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise InvalidObject(
            R.CONFIGURATIONS.label,
            [
                field_error(
                    "MissingRequiredField",
                    "id is required to replace a configuration.",
                    R.CONFIGURATIONS.label,
                    "id",
                )
            ],
        )
    current = backend.get_configuration(rid)  # NotFound (404) for this item
    record = validated_configuration(backend, item)
    record["id"] = rid
    record["_info"] = dict(current.get("_info") or {})
    stamp(backend, record, creating=False, actor=actor)
    return backend.configurations.put(record)
