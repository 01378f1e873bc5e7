"""Input -> record, shared by every resource: references, typed values, required fields, lengths,
inactive targets and the ``_info`` stamp.

Each check appends ``field_error`` dicts to ``errors`` so one request reports every problem; the
caller raises ``InvalidObject`` with them. Plain Python over the backend's collections.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .. import spec
from ..conditions import fold, parse_datetime
from ..exceptions import BadRequest, field_error
from .resources import RefSpec, Resource

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend

Record = dict[str, Any]
FieldErrors = list[dict[str, str]]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def parse_ref(
    backend: ConnectWiseBackend, resource: Resource, name: str, value: Any, errors: FieldErrors
) -> dict[str, Any] | None:
    """A reference as stored (``{"id": n}``), looked up by name where the spec allows it; ``None``
    (and an error) when it is malformed or names nothing."""
    rspec = resource.refs.get(name, RefSpec(None))
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(
            field_error(
                "InvalidField",
                f'{name} must be a reference object like {{"id": 1}}.',
                resource.label,
                name,
            )
        )
        return None
    rid = value.get("id")
    if rid is not None and (not isinstance(rid, int) or isinstance(rid, bool)):
        errors.append(
            field_error("InvalidField", f"{name}/id must be an integer.", resource.label, f"{name}/id")
        )
        return None
    if rspec.target is None:
        return {k: v for k, v in value.items() if k != "_info"}
    target = backend.collections[rspec.target]
    if rid is None and rspec.lookup and isinstance(value.get(rspec.lookup), str):
        wanted = fold(value[rspec.lookup])
        attr = dict(rspec.attrs).get(rspec.lookup, rspec.lookup)
        for entity in target:
            if isinstance(entity.get(attr), str) and fold(entity[attr]) == wanted:
                rid = entity["id"]
                break
        else:
            errors.append(
                field_error(
                    "NotFound",
                    f"{target.resource.title} '{value[rspec.lookup]}' not found.",
                    resource.label,
                    f"{name}/{rspec.lookup}",
                )
            )
            return None
    if rid is None:
        return {}
    if rid not in target.records:
        errors.append(
            field_error("NotFound", f"{target.resource.title} {rid} not found.", resource.label, f"{name}/id")
        )
        return None
    return {"id": rid}


def parse_value(
    resource: Resource, name: str, prop: Mapping[str, Any], value: Any, errors: FieldErrors
) -> tuple[bool, Any]:
    """Type-check one scalar/array value against its OpenAPI property; ``(ok, normalised value)``."""
    if value is None:
        return True, None
    expected = prop.get("type")
    actual = _json_type(value)
    ok = (
        expected is None
        or actual == expected
        or (expected == "number" and actual == "integer")
        or (expected == "object" and actual == "object")
    )
    if not ok:
        errors.append(
            field_error(
                "InvalidField", f"{name} must be of type {expected}, not {actual}.", resource.label, name
            )
        )
        return False, None
    if expected == "string" and (prop.get("format") == "date-time" or name in resource.extra_datetime_fields):
        normalised = parse_datetime(value)
        if normalised is None:
            errors.append(
                field_error(
                    "InvalidField",
                    f"{name} must be a datetime like 2025-01-31T10:00:00Z.",
                    resource.label,
                    name,
                )
            )
            return False, None
        return True, normalised
    if "enum" in prop and value not in prop["enum"]:
        errors.append(
            field_error(
                "InvalidField", f"{name} must be one of {', '.join(prop['enum'])}.", resource.label, name
            )
        )
        return False, None
    return True, copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def read_body(
    backend: ConnectWiseBackend, resource: Resource, body: Any
) -> tuple[Record, set[str], FieldErrors]:
    """A new record from a POST body: ``(record, references set, errors so far)``.

    :raises BadRequest: the body is not a JSON object.
    """
    if not isinstance(body, Mapping):
        raise BadRequest("The request body must be a JSON object.")
    errors: FieldErrors = []
    record: Record = {"id": None}
    changed = apply_input(backend, resource, record, body, errors)
    return record, changed, errors


def apply_input(
    backend: ConnectWiseBackend,
    resource: Resource,
    record: Record,
    body: Mapping[str, Any],
    errors: FieldErrors,
) -> set[str]:
    """Copy the writable fields of ``body`` into ``record``; returns the names of references set."""
    props = spec.properties(resource.schema)
    changed_refs: set[str] = set()
    for name, value in body.items():
        if name in ("id", "_info") or name not in props:
            continue  # like ConnectWise: read-only and unknown members are ignored
        if name in resource.refs:
            if isinstance(value, list) or name == "types":
                record[name] = value
                continue
            record[name] = parse_ref(backend, resource, name, value, errors)
            changed_refs.add(name)
            continue
        ok, normalised = parse_value(resource, name, props[name], value, errors)
        if ok:
            record[name] = normalised
    return changed_refs


def check_common(resource: Resource, record: Record, errors: FieldErrors) -> None:
    """Required fields present, strings within their maximum length."""
    for name in spec.required(resource.schema):
        value = record.get(name)
        missing = value is None or (isinstance(value, str) and not value.strip())
        if name in resource.refs and isinstance(value, dict) and value.get("id") is None:
            missing = True
        if missing and not any(e["field"].split("/")[0] == name for e in errors):
            errors.append(field_error("MissingRequiredField", f"{name} is required.", resource.label, name))
    for name, limit in spec.max_lengths(resource.schema).items():
        value = record.get(name)
        if isinstance(value, str) and len(value) > limit:
            errors.append(
                field_error(
                    "MaxLengthField",
                    f"The field {name} must be a string with a maximum length of {limit}.",
                    resource.label,
                    name,
                )
            )


def check_active_refs(
    backend: ConnectWiseBackend,
    resource: Resource,
    record: Record,
    changed: Iterable[str],
    errors: FieldErrors,
) -> None:
    """Inactive/deleted targets cannot be newly referenced."""
    for name in changed:
        ref = record.get(name)
        rspec = resource.refs.get(name)
        if not isinstance(ref, dict) or rspec is None or rspec.target is None or ref.get("id") is None:
            continue
        entity = backend.collections[rspec.target].records.get(ref["id"])
        if entity is None:
            continue
        title = backend.collections[rspec.target].resource.title
        label = entity.get(backend.collections[rspec.target].resource.display)
        if entity.get("deletedFlag"):
            errors.append(
                field_error(
                    "Inactive",
                    f"{title} '{label}' ({ref['id']}) is deleted.",
                    resource.label,
                    f"{name}/id",
                )
            )
        elif entity.get("inactiveFlag") or entity.get("inactive"):
            errors.append(
                field_error(
                    "Inactive",
                    f"{title} '{label}' ({ref['id']}) is inactive.",
                    resource.label,
                    f"{name}/id",
                )
            )


def stamp(backend: ConnectWiseBackend, record: Record, *, creating: bool, actor: str | None) -> None:
    """Set ``_info``: last updated (and, when ``creating``, entered) now by ``actor``."""
    now = backend.now()
    who = actor or backend.member_identifier
    info = dict(record.get("_info") or {})
    if creating:
        info["dateEntered"] = now
        info["enteredBy"] = who
    info["lastUpdated"] = now
    info["updatedBy"] = who
    record["_info"] = info
