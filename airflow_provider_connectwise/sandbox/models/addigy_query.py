"""Addigy's query bodies: paging, device filters and search, alert filters, ``metadata``.

``device_query``/``alert_query`` check a body the way Addigy does (``AddigyError`` with its
message) and return what to select; ``select_devices``/``select_alerts`` apply it. Plain Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..exceptions import AddigyError

Record = dict[str, Any]
MAX_ALERTS_PER_PAGE = 100


def object_body(body: Any) -> Mapping[str, Any]:
    """The body as a JSON object (no body: ``{}``)."""
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise AddigyError("request body must be a JSON object")
    return body


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _query_object(body: Mapping[str, Any]) -> Mapping[str, Any]:
    query = body.get("query") or {}
    if not isinstance(query, Mapping):
        raise AddigyError("query must be an object")
    return query


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- devices


@dataclass(frozen=True)
class DeviceQuery:
    """A checked ``POST /devices`` body."""

    page: int
    per_page: int
    desired: list[str] | None
    policy_id: Any
    search_any: Any
    checks: list[Callable[[Record], bool]]
    sort_field: Any
    descending: bool


def device_query(body: Any) -> DeviceQuery:
    """Check a device query body. Only the NESTED ``query.policy_id`` filters by policy (a
    top-level ``policy_id`` is ignored, like Addigy does)."""
    body = object_body(body)
    page_no = body.get("page", 1)
    per_page = body.get("per_page", 10)
    for name, value in (("page", page_no), ("per_page", per_page)):
        if not _is_int(value) or value < 1:
            raise AddigyError(f"{name} must be a positive integer")
    desired = body.get("desired_fact_identifiers")
    if desired is not None and not _strings(desired):
        raise AddigyError("desired_fact_identifiers must be an array of strings")
    query = _query_object(body)
    filters = query.get("filters") or []
    if not isinstance(filters, list):
        raise AddigyError("query.filters must be an array")
    return DeviceQuery(
        page=page_no,
        per_page=per_page,
        desired=desired,
        policy_id=query.get("policy_id"),
        search_any=query.get("search_any") or "",
        checks=[_compile_filter(f) for f in filters],
        sort_field=body.get("sort_field"),
        descending=str(body.get("sort_direction", "asc")).lower() == "desc",
    )


def select_devices(devices: Iterable[Record], q: DeviceQuery) -> list[Record]:
    """The devices ``q`` selects, in its order."""
    if q.policy_id:
        devices = [d for d in devices if d["policy_id"] == q.policy_id]
    if q.search_any:
        needle = str(q.search_any).casefold()
        devices = [d for d in devices if _searchable(d, needle)]
    for check in q.checks:
        devices = [d for d in devices if check(d)]
    devices = list(devices)
    if q.sort_field:
        field = q.sort_field
        devices.sort(key=lambda d: _sort_key(_fact_value(d, field)), reverse=q.descending)
    return devices


# ---------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertQuery:
    """A checked ``POST /oa/monitoring/alerts/query`` body."""

    page: int
    per_page: int
    query: Mapping[str, Any]
    sort_field: str
    descending: bool
    start: str | None
    end: str | None


def alert_query(body: Any) -> AlertQuery:
    """Check an alert query body: ``per_page`` must be 1..100, dates like 2023-12-31."""
    body = object_body(body)
    page_no = body.get("page", 1)
    per_page = body.get("per_page", 10)
    if not _is_int(page_no) or page_no < 1:
        raise AddigyError("page must be an integer >= 1")
    if not _is_int(per_page) or not 1 <= per_page <= MAX_ALERTS_PER_PAGE:
        raise AddigyError(f"per_page must be an integer between 1 and {MAX_ALERTS_PER_PAGE}")
    query = _query_object(body)
    direction = str(body.get("sort_direction") or "asc").lower()
    if direction not in ("asc", "desc"):
        raise AddigyError("sort_direction must be asc or desc")
    return AlertQuery(
        page=page_no,
        per_page=per_page,
        query=query,
        sort_field=body.get("sort_field") or "created_date",
        descending=direction == "desc",
        start=_date_bound(query.get("start_date"), "start_date", end=False),
        end=_date_bound(query.get("end_date"), "end_date", end=True),
    )


def _casefold_equal(field: str, wanted: Any) -> Callable[[Record], bool]:
    return lambda a: (a.get(field) or "").casefold() == str(wanted).casefold()


def select_alerts(alerts: Iterable[Record], q: AlertQuery) -> list[Record]:
    """The alerts ``q`` selects, sorted (ties by id)."""
    query = q.query
    keep: list[Callable[[Record], bool]] = []
    if query.get("agent_ids"):
        agents = set(query["agent_ids"])
        keep.append(lambda a: a["agentid"] in agents)
    if query.get("ids"):
        ids = set(query["ids"])
        keep.append(lambda a: a["id"] in ids)
    if query.get("statuses"):
        statuses = {str(s).casefold() for s in query["statuses"]}
        keep.append(lambda a: a["status"].casefold() in statuses)
    if query.get("category"):
        keep.append(_casefold_equal("category", query["category"]))
    if query.get("name_contains"):
        needle = str(query["name_contains"]).casefold()
        keep.append(lambda a: needle in (a.get("name") or "").casefold())
    if query.get("remediation_status"):
        keep.append(lambda a: a.get("remediation_status") == query["remediation_status"])
    if q.start:
        start = q.start
        keep.append(lambda a: a["created_date"] >= start)
    if q.end:
        end = q.end
        keep.append(lambda a: a["created_date"] <= end)
    selected = [a for a in alerts if all(k(a) for k in keep)]
    selected.sort(key=lambda a: a["id"])
    selected.sort(key=lambda a: _sort_key(a.get(q.sort_field)), reverse=q.descending)
    return selected


# ---------------------------------------------------------------- helpers


def metadata(page: Any, count: int) -> Record:
    return {
        "page": page.request.page,
        "per_page": page.request.page_size,
        "page_count": -(-page.total // page.request.page_size) if page.total else 0,
        "result_count": count,
        "total": page.total,
    }


def _fact_value(device: Record, ident: str) -> Any:
    fact = (device["facts"] or {}).get(ident)
    return fact.get("value") if isinstance(fact, dict) else None


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value).casefold())


def _searchable(device: Record, needle: str) -> bool:
    if needle in device["agentid"].casefold():
        return True
    for fact in (device["facts"] or {}).values():
        value = fact.get("value")
        if value is not None and needle in str(value).casefold():
            return True
    return False


def _date_bound(raw: Any, name: str, *, end: bool) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise AddigyError(f"{name} must be a date string like 2023-12-31")
    text = raw.strip()
    try:
        if len(text) == 10:
            datetime.strptime(text, "%Y-%m-%d")
            return f"{text}T23:59:59Z" if end else f"{text}T00:00:00Z"
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AddigyError(f"{name} must be a date string like 2023-12-31") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return iso(dt)


_FILTER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: _eq(a, b),
    "equal": lambda a, b: _eq(a, b),
    "!=": lambda a, b: not _eq(a, b),
    "not_equal": lambda a, b: not _eq(a, b),
    "contains": lambda a, b: str(b).casefold() in str(a).casefold(),
    "not_contains": lambda a, b: str(b).casefold() not in str(a).casefold(),
    "begins_with": lambda a, b: str(a).casefold().startswith(str(b).casefold()),
    "ends_with": lambda a, b: str(a).casefold().endswith(str(b).casefold()),
    ">": lambda a, b: _num(a) > _num(b),
    "<": lambda a, b: _num(a) < _num(b),
    ">=": lambda a, b: _num(a) >= _num(b),
    "<=": lambda a, b: _num(a) <= _num(b),
}


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return a == b


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _compile_filter(spec: Any) -> Callable[[Record], bool]:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("audit_field"), str):
        raise AddigyError("each filter needs an audit_field")
    op = str(spec.get("operation") or "=").lower()
    fn = _FILTER_OPS.get(op)
    if fn is None:
        raise AddigyError(f"unsupported filter operation '{op}'")
    field, wanted = spec["audit_field"], spec.get("value")

    def check(device: Record) -> bool:
        value = _fact_value(device, field)
        return value is not None and fn(value, wanted)

    return check
