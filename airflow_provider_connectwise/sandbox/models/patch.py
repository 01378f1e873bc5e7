"""JSON Patch (``PATCH`` of one record) for every resource: parse the operations, refuse what
ConnectWise refuses, apply them to a copy, validate the result and store it.

A resource adds its own rules through ``fixed`` (fields that cannot be patched, with the reason)
and ``finish`` (what the server derives after the change: a ticket's ``closedFlag``, a
configuration's ``activeFlag`` and required answers). Plain Python.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from .. import spec
from ..exceptions import BadRequest, InvalidObject, field_error
from .rendering import render
from .resources import Resource
from .validation import apply_input, check_active_refs, check_common, stamp

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend

Record = dict[str, Any]
FieldErrors = list[dict[str, str]]
#: ``finish(backend, record, current, changed, errors, actor)``: derive fields after the operations.
Finish = Callable[["ConnectWiseBackend", Record, Record, set[str], FieldErrors, "str | None"], None]

_OPS = ("replace", "add", "remove")


def patch(
    backend: ConnectWiseBackend,
    resource: Resource,
    rid: int,
    operations: Any,
    actor: str | None,
    *,
    fixed: Mapping[str, str] | None = None,
    finish: Finish | None = None,
) -> Record:
    """Apply a JSON Patch array to record ``rid``; return the rendered record.

    :param fixed: field -> why it cannot be patched (besides ``id``).
    :param finish: derives fields of the patched record and adds its errors.
    :raises BadRequest: the body is not a JSON Patch array of supported operations.
    :raises InvalidObject: a path names no patchable field, or the result is invalid.
    """
    with backend.lock:
        current = backend.get(resource.key, rid)
        if not isinstance(operations, list) or not operations:
            raise BadRequest("The request body must be a non-empty JSON Patch array.")
        record = copy.deepcopy(current)
        errors: FieldErrors = []
        changed: set[str] = set()
        refused = {"id": "id cannot be changed.", **(fixed or {})}
        for i, op in enumerate(operations):
            parsed = _operation(backend, resource, i, op, refused)
            if parsed is None:
                continue
            name, value = parsed
            changed |= apply_input(backend, resource, record, {name: value}, errors)
            if value is None:
                record[name] = None
            if name == "questions":
                changed.add("questions")  # answers are re-checked against the type's required questions
        check_common(resource, record, errors)
        if finish is not None:
            finish(backend, record, current, changed, errors, actor)
        check_active_refs(backend, resource, record, changed, errors)
        if errors:
            raise InvalidObject(resource.label, errors)
        stamp(backend, record, creating=False, actor=actor)
        backend.collections[resource.key].put(record)
        return render(backend, resource, record)


def _operation(
    backend: ConnectWiseBackend, resource: Resource, i: int, op: Any, refused: Mapping[str, str]
) -> tuple[str, Any] | None:
    """``(field, value)`` of operation ``i``; ``None`` for a nested path the server ignores."""
    if not isinstance(op, dict):
        raise BadRequest(f"Patch operation {i} must be an object.")
    kind = str(op.get("op", "")).lower()
    path = op.get("path")
    if kind not in _OPS:
        raise BadRequest(f"Patch operation '{op.get('op')}' is not supported (use replace, add or remove).")
    if not isinstance(path, str) or not path.strip("/"):
        raise BadRequest(f"Patch operation {i} needs a path.")
    name = path[1:] if path.startswith("/") else path
    if "/" in name:
        if backend.nested_patch == "ignore":
            return None  # the real server can answer 200 without applying a nested path
        _refuse(
            resource,
            name,
            f"Cannot patch nested path '{path}': replace the whole '{name.split('/')[0]}' reference instead.",
        )
    if name not in spec.properties(resource.schema) or name == "_info":
        _refuse(resource, name, f"'{name}' is not a field of {resource.label}.")
    if name in refused:
        _refuse(resource, name, refused[name])
    if kind != "remove" and "value" not in op:
        raise BadRequest(f"Patch operation {i} ({kind} {path}) needs a value.")
    return name, None if kind == "remove" else op.get("value")


def _refuse(resource: Resource, name: str, message: str) -> NoReturn:
    raise InvalidObject(resource.label, [field_error("InvalidField", message, resource.label, name)])
