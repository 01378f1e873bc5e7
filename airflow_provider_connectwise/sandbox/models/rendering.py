"""How the API shows a stored record: references filled in from their targets, nulls left out,
``_info`` hrefs. Plain Python over the backend's collections."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import resources as R
from .resources import RefSpec, Resource

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend

Record = dict[str, Any]


def render(backend: ConnectWiseBackend, resource: Resource, record: Record) -> Record:
    """The record as the API returns it: references filled in, nulls omitted, ``_info`` with hrefs."""
    out: Record = {}
    for key, value in record.items():
        if value is None or key in R.TICKET_POST_ONLY:
            continue
        rspec = resource.refs.get(key)
        if rspec is not None and isinstance(value, dict):
            out[key] = render_ref(backend, rspec, value)
        elif rspec is not None and isinstance(value, list):
            out[key] = [render_ref(backend, rspec, v) if isinstance(v, dict) else v for v in value]
        elif isinstance(value, (dict, list)):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = value
    return out


def render_ref(backend: ConnectWiseBackend, rspec: RefSpec, ref: Mapping[str, Any]) -> Record:
    """A reference as the API shows it: id, the attributes filled from the target, its href."""
    out: Record = {}
    rid = ref.get("id")
    if rid is not None:
        out["id"] = rid
    if rspec.target is not None and rid is not None:
        col = backend.collections[rspec.target]
        entity = col.records.get(rid)
        if entity is not None:
            for attr, target_attr in rspec.attrs:
                value = entity.get(target_attr)
                if value is not None:
                    out[attr] = value
            if rspec.info_key:
                out["_info"] = {rspec.info_key: f"{backend.href_base}/{href(col.resource, entity)}"}
    else:
        for key, value in ref.items():
            if key not in ("id", "_info") and value is not None:
                out[key] = value
    return out


def href(resource: Resource, record: Record) -> str:
    """The path of one record relative to ``apis/3.0`` (parent ids filled in)."""
    path = resource.path.replace("{id}", str(record["id"]))
    if resource.parent:
        parent_field = resource.parent[0].split("/")[0]
        parent_id = (record.get(parent_field) or {}).get("id")
        path = path.replace("{board}", str(parent_id)).replace("{type}", str(parent_id))
    return path
