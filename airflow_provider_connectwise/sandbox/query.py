"""``orderBy`` and ``fields`` (partial responses) for ConnectWise lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from .conditions import FieldInfo, fold, parse_datetime
from .exceptions import BadRequest

OrderKey = tuple[FieldInfo, bool]  # (field, descending)


def parse_order_by(text: str, resolve: Callable[[str], FieldInfo | None]) -> list[OrderKey]:
    """``"name asc, company/name desc"`` -> keys; 400 for an unknown field or direction."""
    keys: list[OrderKey] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            raise BadRequest(f"orderBy '{text}' is invalid: empty sort expression.")
        if len(words) > 2:
            raise BadRequest(f"orderBy '{text}' is invalid near '{part.strip()}'.")
        info = resolve(words[0])
        if info is None:
            raise BadRequest(f"orderBy '{text}' is invalid: unknown field '{words[0]}'.")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise BadRequest(f"orderBy '{text}' is invalid: direction must be asc or desc, not '{words[1]}'.")
        keys.append((info, direction == "desc"))
    return keys


def _sort_value(info: FieldInfo, value: Any) -> Any:
    if value is None:
        return (0, 0)
    if info.type == "string":
        return (1, fold(value) if isinstance(value, str) else fold(str(value)))
    if info.type == "datetime":
        return (1, parse_datetime(value) or "") if isinstance(value, str) else (0, 0)
    if info.type == "boolean":
        return (1, int(bool(value)))
    return (1, value)


def _sort_key(info: FieldInfo) -> Callable[[Any], Any]:
    """Return the sort key of one ``orderBy`` field (NULLs first).

    :param info: the field to sort by.
    """
    getter = info.getter
    return lambda record: _sort_value(info, getter(record))


def sort_records(records: list[Any], keys: list[OrderKey]) -> list[Any]:
    """Stable multi-key sort; NULLs first ascending (SQL Server). ``records`` are in id order already."""
    out = list(records)
    for info, desc in reversed(keys):
        out.sort(key=_sort_key(info), reverse=desc)
    return out


# A selected field maps to True, a partly selected object to the tree of its selected fields.
FieldTree = dict[str, "FieldTree | Literal[True]"]


def parse_fields(text: str) -> FieldTree:
    """``"id,name,status/id"`` -> ``{"id": True, "name": True, "status": {"id": True}}`` (lowercase keys)."""
    tree: FieldTree = {}
    for raw in text.split(","):
        path = [p for p in raw.strip().split("/") if p]
        if not path:
            continue
        node = tree
        for i, part in enumerate(path):
            key = part.lower()
            if i == len(path) - 1:
                node[key] = True
            else:
                child = node.get(key)
                if child is True:
                    break  # the whole object is already selected
                if child is None:
                    child = node[key] = {}
                node = child
    return tree


def project(value: Any, tree: FieldTree) -> Any:
    """Keep only the selected fields (case-insensitive names; unknown names are ignored, like CW)."""
    if isinstance(value, list):
        return [project(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        sel = tree.get(key.lower())
        if sel is None:
            continue
        out[key] = item if sel is True else project(item, sel)
    return out
