"""The condition / ``orderBy`` fields of a resource, read from its OpenAPI schema.

A field is a ``FieldInfo`` (path, type, getter). Reference fields give ``name/id`` and the
reference's own attributes; attributes the server fills from the target (``company/identifier``)
are read from the target collection at query time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import spec
from ..conditions import FieldInfo
from .resources import RefSpec, Resource

if TYPE_CHECKING:
    from .collection import Collection

Record = dict[str, Any]

_INFO_ALIASES = {
    "lastupdated": ("lastUpdated", "datetime"),
    "dateentered": ("dateEntered", "datetime"),
    "updatedby": ("updatedBy", "string"),
    "enteredby": ("enteredBy", "string"),
}


def build_fields(resource: Resource, collections: Mapping[str, Collection]) -> dict[str, FieldInfo]:
    """Every condition path of ``resource`` (lower-cased) -> its ``FieldInfo``."""
    out: dict[str, FieldInfo] = {}
    props = spec.properties(resource.schema)
    for name, prop in props.items():
        if name == "_info":
            continue
        if name in resource.refs or prop.get("$ref"):
            ref_schema = spec.ref_name(prop) or ""
            rspec = resource.refs.get(name, RefSpec(None))
            sub = (
                spec.properties(ref_schema)
                if ref_schema in spec.connectwise_spec()["components"]["schemas"]
                else {}
            )
            for attr, aprop in sub.items():
                if attr == "_info":
                    continue
                ftype = _scalar_type(aprop)
                if ftype is None:
                    continue
                path = f"{name}/{attr}"
                out[path.lower()] = FieldInfo(path, ftype, _ref_getter(collections, name, attr, rspec))
            continue
        ftype = _scalar_type(prop)
        if ftype is None:
            continue
        if name in resource.extra_datetime_fields:
            ftype = "datetime"
        out[name.lower()] = FieldInfo(name, ftype, _plain_getter(name))
    for alias, (key, ftype) in _INFO_ALIASES.items():
        getter = _info_getter(key)
        out[alias] = FieldInfo(key, ftype, getter)
        out[f"_info/{alias}"] = FieldInfo(f"_info/{key}", ftype, getter)
    return out


def _ref_getter(
    collections: Mapping[str, Collection], name: str, attr: str, rspec: RefSpec
) -> Callable[[Record], Any]:
    if attr == "id":

        def get_id(rec: Record) -> Any:
            ref = rec.get(name)
            return ref.get("id") if isinstance(ref, dict) else None

        return get_id
    target_attr = dict(rspec.attrs).get(attr)
    if rspec.target is not None and target_attr is not None:
        target = collections[rspec.target]

        def get_target_attr(rec: Record) -> Any:
            ref = rec.get(name)
            if not isinstance(ref, dict):
                return None
            entity = target.get(ref.get("id"))
            return entity.get(target_attr) if entity else None

        return get_target_attr

    def get_stored(rec: Record) -> Any:
        ref = rec.get(name)
        return ref.get(attr) if isinstance(ref, dict) else None

    return get_stored


def _scalar_type(prop: Mapping[str, Any]) -> str | None:
    t = prop.get("type")
    if t == "string":
        return "datetime" if prop.get("format") == "date-time" else "string"
    if t in ("integer", "number", "boolean"):
        return t
    return None


def _plain_getter(name: str) -> Callable[[Record], Any]:
    def get(rec: Record) -> Any:
        return rec.get(name)

    return get


def _info_getter(key: str) -> Callable[[Record], Any]:
    def get(rec: Record) -> Any:
        info = rec.get("_info")
        return info.get(key) if isinstance(info, dict) else None

    return get
