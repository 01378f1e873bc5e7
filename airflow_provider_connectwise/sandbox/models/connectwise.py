"""ConnectWise Manage state: collections, validation, queries and technician-driven transitions.

Plain Python: nothing here knows about HTTP. Public methods raise the sandbox exceptions
(``NotFound``, ``InvalidObject``, ``BadRequest``) that render ConnectWise's error bodies.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from .. import spec
from ..conditions import (
    CompiledConditions,
    ConditionsError,
    FieldInfo,
    compile_conditions,
    fold,
    parse_datetime,
)
from ..exceptions import BadRequest, InvalidObject, NotFound, field_error
from ..paging import Page, PageRequest, page_forward, page_slice
from ..query import parse_order_by, sort_records
from . import resources as R
from .resources import RefSpec, Resource
from .sites import SITES

Record = dict[str, Any]
# Named here because ConnectWiseBackend.list shadows the builtin inside the class body.
Records = list[Record]
FieldErrors = list[dict[str, str]]

_INFO_ALIASES = {
    "lastupdated": ("lastUpdated", "datetime"),
    "dateentered": ("dateEntered", "datetime"),
    "updatedby": ("updatedBy", "string"),
    "enteredby": ("enteredBy", "string"),
}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def format_datetime(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


class Collection:
    """The records of one resource, in id order, with optional equality indexes."""

    def __init__(self, resource: Resource, backend: ConnectWiseBackend):
        self.resource = resource
        self.backend = backend
        self.records: dict[int, Record] = {}
        self._ids: list[int] = []
        self._next_id = resource.first_id
        self._fields: dict[str, FieldInfo] | None = None
        self.indexes: dict[str, dict[Any, set[int]]] = {path: {} for path in resource.indexed}
        self._compiled: OrderedDict[str, CompiledConditions] = OrderedDict()

    # ---- storage

    def new_id(self) -> int:
        rid = self._next_id
        self._next_id += 1
        return rid

    def add(self, record: Record) -> Record:
        rid = record.get("id")
        if rid is None:
            rid = record["id"] = self.new_id()
        elif rid >= self._next_id:
            self._next_id = rid + 1
        if rid in self.records:
            raise ValueError(f"{self.resource.title} {rid} already exists")
        self.records[rid] = record
        if not self._ids or rid > self._ids[-1]:
            self._ids.append(rid)
        else:
            bisect.insort(self._ids, rid)
        self._index(record)
        self.backend.bump()
        return record

    def put(self, record: Record) -> Record:
        rid = record["id"]
        old = self.records[rid]
        self._unindex(old)
        self.records[rid] = record
        self._index(record)
        self.backend.bump()
        return record

    def remove(self, rid: int) -> None:
        rec = self.records.pop(rid)
        self._unindex(rec)
        del self._ids[bisect.bisect_left(self._ids, rid)]
        self.backend.bump()

    def get(self, rid: int | None) -> Record | None:
        # Callers pass references read from records, which may be missing (None).
        return self.records.get(rid) if rid is not None else None

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        records = self.records
        return (records[i] for i in list(self._ids))

    def _index_value(self, path: str, record: Record) -> Any:
        info = self.fields[path.lower()]
        value = info.getter(record)
        return fold(value) if isinstance(value, str) else value

    def _index(self, record: Record) -> None:
        for path, index in self.indexes.items():
            value = self._index_value(path, record)
            if value is not None:
                index.setdefault(value, set()).add(record["id"])

    def _unindex(self, record: Record) -> None:
        for path, index in self.indexes.items():
            value = self._index_value(path, record)
            ids = index.get(value)
            if ids is not None:
                ids.discard(record["id"])
                if not ids:
                    del index[value]

    # ---- fields (conditions / orderBy)

    @property
    def fields(self) -> dict[str, FieldInfo]:
        if self._fields is None:
            self._fields = self.backend.build_fields(self.resource)
        return self._fields

    def resolve(self, name: str) -> FieldInfo | None:
        return self.fields.get(name.lower())

    def compile(self, conditions: str) -> CompiledConditions:
        compiled = self._compiled.get(conditions)
        if compiled is None:
            try:
                compiled = compile_conditions(conditions, self.resolve)
            except ConditionsError as exc:
                raise BadRequest(f"Invalid conditions: {exc}") from None
            self._compiled[conditions] = compiled
            if len(self._compiled) > 256:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(conditions)
        return compiled

    # ---- queries

    def _candidate_ids(self, hints: Mapping[str, set[Any]], after: int | None) -> Iterable[int]:
        chosen: set[int] | None = None
        for path, values in hints.items():
            if path == "id":
                ids = {int(v) for v in values if isinstance(v, (int, float)) and int(v) == v}
            else:
                index = self.indexes.get(path)
                if index is None:
                    continue
                ids = set()
                for v in values:
                    ids |= index.get(v, set())
            chosen = ids if chosen is None else chosen & ids
        if chosen is None:
            start = 0 if after is None else bisect.bisect_right(self._ids, after)
            return self._ids[start:]
        ordered = sorted(chosen)
        return ordered if after is None else ordered[bisect.bisect_right(ordered, after) :]

    def matching(
        self,
        conditions: str | None,
        *,
        parent: tuple[str, int | None] | None = None,
        after: int | None = None,
    ) -> Iterator[Record]:
        """Records matching ``conditions`` (and the parent scope) in ascending id order."""
        compiled = self.compile(conditions) if conditions else None
        hints: dict[str, set[Any]] = dict(compiled.hints) if compiled else {}
        if parent is not None:
            path, pid = parent
            hints[path] = hints.get(path, {pid}) & {pid}
        predicate = compiled.predicate if compiled else None
        records = self.records
        for rid in self._candidate_ids(hints, after):
            rec = records.get(rid)
            if rec is None:
                continue
            if parent is not None and self.fields[parent[0].lower()].getter(rec) != parent[1]:
                continue
            if predicate is None or predicate(rec) is True:
                yield rec

    def query(
        self,
        page: PageRequest,
        *,
        conditions: str | None = None,
        order_by: str | None = None,
        parent: tuple[str, int] | None = None,
    ) -> Page:
        """One page of matching records (raw, not rendered)."""
        if page.forward_only:
            if order_by:
                raise BadRequest("orderBy is not supported with forward-only pagination (pagination-type).")
            return page_forward(
                self.matching(conditions, parent=parent, after=page.page_id), page, lambda r: r["id"]
            )
        key = (self.backend.version, conditions or "", order_by or "", parent)
        cached = self.backend.query_cache.get((self.resource.key, key))
        if cached is None:
            keys = parse_order_by(order_by, self.resolve) if order_by else []
            matches = list(self.matching(conditions, parent=parent))
            if keys:
                matches = sort_records(matches, keys)
            cached = matches
            self.backend.remember((self.resource.key, key), cached)
        return page_slice(cached, page)


class ConnectWiseBackend:
    """All ConnectWise state of one sandbox.

    :param member_identifier: recorded as ``_info.updatedBy`` for writes made through the API.
    :param clock: returns "now" (UTC); tests may inject a fake clock.
    :param nested_patch: ``"refuse"`` or ``"ignore"`` (see ``SandboxConfig``).
    """

    def __init__(
        self,
        *,
        member_identifier: str = "AirflowAPI",
        clock: Callable[[], datetime] = utc_now,
        nested_patch: str = "refuse",
        href_base: str = "https://sandbox.invalid/v4_6_release/apis/3.0",
    ):
        self.lock = threading.RLock()
        self.member_identifier = member_identifier
        self.clock = clock
        self.nested_patch = nested_patch
        self.href_base = href_base
        self.version = 0
        self.query_cache: OrderedDict[Any, list[Record]] = OrderedDict()
        self.collections: dict[str, Collection] = {
            r.key: Collection(r, self) for r in (*R.ALL, SITES, *_extra_resources())
        }
        self.ticket_configurations: dict[int, list[int]] = {}
        self.ticket_post_only: dict[int, dict[str, str]] = {}

    # ------------------------------------------------------------ plumbing

    def bump(self) -> None:
        self.version += 1
        if self.query_cache:
            self.query_cache.clear()

    def remember(self, key: Any, value: list[Record]) -> None:
        self.query_cache[key] = value
        if len(self.query_cache) > 64:
            self.query_cache.popitem(last=False)

    def now(self) -> str:
        return format_datetime(self.clock())

    def col(self, key: str) -> Collection:
        return self.collections[key]

    @property
    def companies(self) -> Collection:
        return self.collections["companies"]

    @property
    def boards(self) -> Collection:
        return self.collections["boards"]

    @property
    def board_statuses(self) -> Collection:
        return self.collections["board_statuses"]

    @property
    def configuration_statuses(self) -> Collection:
        return self.collections["configuration_statuses"]

    @property
    def configuration_types(self) -> Collection:
        return self.collections["configuration_types"]

    @property
    def configuration_type_questions(self) -> Collection:
        return self.collections["configuration_type_questions"]

    @property
    def configurations(self) -> Collection:
        return self.collections["configurations"]

    @property
    def priorities(self) -> Collection:
        return self.collections["priorities"]

    @property
    def tickets(self) -> Collection:
        return self.collections["tickets"]

    # ------------------------------------------------------------ fields for conditions / orderBy

    def build_fields(self, resource: Resource) -> dict[str, FieldInfo]:
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
                    out[path.lower()] = FieldInfo(path, ftype, self._ref_getter(name, attr, rspec))
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

    def _ref_getter(self, name: str, attr: str, rspec: RefSpec) -> Callable[[Record], Any]:
        if attr == "id":

            def get_id(rec: Record) -> Any:
                ref = rec.get(name)
                return ref.get("id") if isinstance(ref, dict) else None

            return get_id
        target_attr = dict(rspec.attrs).get(attr)
        if rspec.target is not None and target_attr is not None:
            target = self.collections[rspec.target]

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

    # ------------------------------------------------------------ rendering

    def render(self, resource: Resource, record: Record) -> Record:
        """The record as the API returns it: references filled in, nulls omitted, ``_info`` with hrefs."""
        out: Record = {}
        for key, value in record.items():
            if value is None or key in R.TICKET_POST_ONLY:
                continue
            rspec = resource.refs.get(key)
            if rspec is not None and isinstance(value, dict):
                out[key] = self.render_ref(rspec, value)
            elif rspec is not None and isinstance(value, list):
                out[key] = [self.render_ref(rspec, v) if isinstance(v, dict) else v for v in value]
            elif isinstance(value, (dict, list)):
                out[key] = copy.deepcopy(value)
            else:
                out[key] = value
        return out

    def render_ref(self, rspec: RefSpec, ref: Mapping[str, Any]) -> Record:
        out: Record = {}
        rid = ref.get("id")
        if rid is not None:
            out["id"] = rid
        if rspec.target is not None and rid is not None:
            col = self.collections[rspec.target]
            entity = col.records.get(rid)
            if entity is not None:
                for attr, target_attr in rspec.attrs:
                    value = entity.get(target_attr)
                    if value is not None:
                        out[attr] = value
                if rspec.info_key:
                    out["_info"] = {rspec.info_key: f"{self.href_base}/{self.href(col.resource, entity)}"}
        else:
            for key, value in ref.items():
                if key not in ("id", "_info") and value is not None:
                    out[key] = value
        return out

    def href(self, resource: Resource, record: Record) -> str:
        path = resource.path.replace("{id}", str(record["id"]))
        if resource.parent:
            parent_field = resource.parent[0].split("/")[0]
            parent_id = (record.get(parent_field) or {}).get("id")
            path = path.replace("{board}", str(parent_id)).replace("{type}", str(parent_id))
        return path

    # ------------------------------------------------------------ generic reads

    def get(self, key: str, rid: int, *, parent_id: int | None = None) -> Record:
        """The stored record or ``NotFound`` (raw; use ``render`` for the API shape)."""
        col = self.collections[key]
        rec = col.get(rid)
        parent = col.resource.parent
        if rec is not None and parent_id is not None and parent is not None:
            rec = rec if col.fields[parent[0].lower()].getter(rec) == parent_id else None
        if rec is None:
            raise NotFound(f"{col.resource.title} with id {rid} not found.")
        return rec

    def get_company(self, rid: int) -> Record:
        """Raw company record; ``NotFound`` (404, ConnectWise's body) if there is none."""
        return self.get("companies", rid)

    def get_board(self, rid: int) -> Record:
        return self.get("boards", rid)

    def get_configuration(self, rid: int) -> Record:
        return self.get("configurations", rid)

    def get_ticket(self, rid: int) -> Record:
        return self.get("tickets", rid)

    def get_rendered(self, key: str, rid: int) -> Record:
        with self.lock:
            col = self.collections[key]
            return self.render(col.resource, self.get(key, rid))

    def require_parent(self, key: str, parent_id: int) -> None:
        col = self.collections[key]
        assert col.resource.parent is not None
        parent_ref = col.resource.refs.get(col.resource.parent[0].split("/")[0])
        target = parent_ref.target if parent_ref and parent_ref.target else "tickets"
        if parent_id not in self.collections[target].records:
            raise NotFound(f"{col.resource.parent[1]} with id {parent_id} not found.")

    def list(
        self,
        key: str,
        page: PageRequest,
        *,
        conditions: str | None = None,
        order_by: str | None = None,
        parent_id: int | None = None,
    ) -> tuple[list[Record], Page]:
        """Rendered records of one page, and the page (for the Link header)."""
        with self.lock:
            col = self.collections[key]
            parent = None
            if parent_id is not None:
                self.require_parent(key, parent_id)
                assert col.resource.parent is not None
                parent = (col.resource.parent[0], parent_id)
            result = col.query(page, conditions=conditions, order_by=order_by, parent=parent)
            return [self.render(col.resource, r) for r in result.items], result

    # ------------------------------------------------------------ input -> record

    def _parse_ref(
        self, resource: Resource, name: str, value: Any, errors: FieldErrors
    ) -> dict[str, Any] | None:
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
        target = self.collections[rspec.target]
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
                field_error(
                    "NotFound", f"{target.resource.title} {rid} not found.", resource.label, f"{name}/id"
                )
            )
            return None
        return {"id": rid}

    def _parse_value(
        self, resource: Resource, name: str, prop: Mapping[str, Any], value: Any, errors: FieldErrors
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
        if expected == "string" and (
            prop.get("format") == "date-time" or name in resource.extra_datetime_fields
        ):
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

    def _apply_input(
        self, resource: Resource, record: Record, body: Mapping[str, Any], errors: FieldErrors
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
                record[name] = self._parse_ref(resource, name, value, errors)
                changed_refs.add(name)
                continue
            ok, normalised = self._parse_value(resource, name, props[name], value, errors)
            if ok:
                record[name] = normalised
        return changed_refs

    def _check_common(self, resource: Resource, record: Record, errors: FieldErrors) -> None:
        for name in spec.required(resource.schema):
            value = record.get(name)
            missing = value is None or (isinstance(value, str) and not value.strip())
            if name in resource.refs and isinstance(value, dict) and value.get("id") is None:
                missing = True
            if missing and not any(e["field"].split("/")[0] == name for e in errors):
                errors.append(
                    field_error("MissingRequiredField", f"{name} is required.", resource.label, name)
                )
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

    def _check_active_refs(
        self, resource: Resource, record: Record, changed: Iterable[str], errors: FieldErrors
    ) -> None:
        """Inactive/deleted targets cannot be newly referenced."""
        for name in changed:
            ref = record.get(name)
            rspec = resource.refs.get(name)
            if not isinstance(ref, dict) or rspec is None or rspec.target is None or ref.get("id") is None:
                continue
            entity = self.collections[rspec.target].records.get(ref["id"])
            if entity is None:
                continue
            title = self.collections[rspec.target].resource.title
            label = entity.get(self.collections[rspec.target].resource.display)
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

    def _stamp(self, record: Record, *, creating: bool, actor: str | None) -> None:
        now = self.now()
        who = actor or self.member_identifier
        info = dict(record.get("_info") or {})
        if creating:
            info["dateEntered"] = now
            info["enteredBy"] = who
        info["lastUpdated"] = now
        info["updatedBy"] = who
        record["_info"] = info

    # ------------------------------------------------------------ configurations

    def _finish_configuration(
        self, record: Record, changed: set[str], errors: FieldErrors, *, creating: bool
    ) -> None:
        label = R.CONFIGURATIONS.label
        if record.get("status") is None and creating:
            default = next((s for s in self.configuration_statuses if s.get("defaultFlag")), None)
            if default is not None:
                record["status"] = {"id": default["id"]}
        status = self.configuration_statuses.get((record.get("status") or {}).get("id"))
        record["activeFlag"] = not bool(status and status.get("closedFlag"))
        questions = record.get("questions")
        if isinstance(questions, list):
            for q in questions:
                if isinstance(q, dict) and q.get("answer") is not None and not isinstance(q["answer"], str):
                    q["answer"] = (
                        str(q["answer"]).lower() if isinstance(q["answer"], bool) else str(q["answer"])
                    )
        type_ref = record.get("type") or {}
        if ("type" in changed or "questions" in changed) and type_ref.get("id") is not None:
            answered = {
                q.get("questionId")
                for q in (questions or [])
                if isinstance(q, dict) and q.get("answer") not in (None, "")
            }
            for question in self.configuration_type_questions.matching(
                None, parent=("configurationType/id", type_ref["id"])
            ):
                if (
                    question.get("requiredFlag")
                    and not question.get("inactiveFlag")
                    and question["id"] not in answered
                ):
                    errors.append(
                        field_error(
                            "MissingRequiredField",
                            f"Question '{question.get('question')}' ({question['id']}) of configuration type "
                            f"{type_ref['id']} requires an answer.",
                            label,
                            "questions",
                        )
                    )

    def validated_configuration(self, body: Any) -> Record:
        """Validate a whole configuration as POST takes it (bulk POST and PUT reuse it); return the
        record to store, without id or ``_info``; raise ``BadRequest``/``InvalidObject``."""
        if not isinstance(body, Mapping):
            raise BadRequest("The request body must be a JSON object.")
        with self.lock:
            errors: FieldErrors = []
            record: Record = {"id": None}
            changed = self._apply_input(R.CONFIGURATIONS, record, body, errors)
            changed |= {k for k in ("type", "company", "status") if record.get(k)}
            self._check_common(R.CONFIGURATIONS, record, errors)
            self._check_active_refs(R.CONFIGURATIONS, record, changed, errors)
            self._finish_configuration(record, changed, errors, creating=True)
            if errors:
                raise InvalidObject(R.CONFIGURATIONS.label, errors)
            return record

    def create_configuration(self, body: Mapping[str, Any], *, actor: str | None = None) -> Record:
        """POST /company/configurations: validate, store, return the rendered entity."""
        with self.lock:
            record = self.validated_configuration(body)
            record["id"] = self.configurations.new_id()
            self._stamp(record, creating=True, actor=actor)
            self.configurations.add(record)
            return self.render(R.CONFIGURATIONS, record)

    def update_configuration(self, rid: int, operations: Any, *, actor: str | None = None) -> Record:
        """PATCH /company/configurations/{id} with a JSON Patch array."""
        return self._patch(R.CONFIGURATIONS, rid, operations, actor)

    # ------------------------------------------------------------ tickets

    def _finish_ticket(
        self,
        record: Record,
        previous: Record | None,
        changed: set[str],
        errors: FieldErrors,
        actor: str,
    ) -> None:
        label = R.TICKETS.label
        creating = previous is None
        if creating:
            record.setdefault("recordType", "ServiceTicket")
            record.setdefault("severity", "Medium")
            record.setdefault("impact", "Medium")
            if record.get("board") is None:
                board = next((b for b in self.boards if not b.get("inactiveFlag")), None)
                if board is not None:
                    record["board"] = {"id": board["id"]}
            if record.get("priority") is None:
                prio = next((p for p in self.priorities if p.get("defaultFlag")), None)
                if prio is not None:
                    record["priority"] = {"id": prio["id"]}
        board_id = (record.get("board") or {}).get("id")
        if board_id is None:
            return
        if record.get("status") is None and (creating or "board" in changed):
            default = self._default_status(board_id)
            if default is not None:
                record["status"] = {"id": default["id"]}
                changed.add("status")
        status_id = (record.get("status") or {}).get("id")
        status = self.board_statuses.get(status_id) if status_id is not None else None
        if status is not None and (status.get("board") or {}).get("id") != board_id:
            errors.append(
                field_error(
                    "NotFound",
                    f"Service Status {status_id} not found for Service Board {board_id}",
                    label,
                    "status/id",
                )
            )
            return
        if status is None:
            return
        closed = bool(status.get("closedStatus"))
        was_closed = bool(previous and previous.get("closedFlag"))
        record["closedFlag"] = closed
        if closed and not was_closed:
            record["closedDate"] = self.now()
            record["closedBy"] = actor
        elif not closed:
            record.pop("closedDate", None)
            record.pop("closedBy", None)

    def _default_status(self, board_id: int) -> Record | None:
        statuses = [
            s
            for s in self.board_statuses.matching(None, parent=("board/id", board_id))
            if not s.get("inactive") and not s.get("closedStatus")
        ]
        for s in statuses:
            if s.get("defaultFlag"):
                return s
        statuses.sort(key=lambda s: (s.get("sortOrder") or 0, s["id"]))
        return statuses[0] if statuses else None

    def create_ticket(self, body: Mapping[str, Any], *, actor: str | None = None) -> Record:
        """POST /service/tickets."""
        if not isinstance(body, Mapping):
            raise BadRequest("The request body must be a JSON object.")
        with self.lock:
            errors: FieldErrors = []
            record: Record = {"id": None}
            changed = self._apply_input(R.TICKETS, record, body, errors)
            post_only = {k: body[k] for k in R.TICKET_POST_ONLY if isinstance(body.get(k), str)}
            for k in R.TICKET_POST_ONLY:
                record.pop(k, None)
            self._check_common(R.TICKETS, record, errors)
            self._finish_ticket(record, None, changed, errors, actor or self.member_identifier)
            _check_ticket_extras(self, record, errors)
            changed |= {k for k in ("board", "status", "company", "priority") if record.get(k)}
            self._check_active_refs(R.TICKETS, record, changed, errors)
            if errors:
                raise InvalidObject(R.TICKETS.label, errors)
            record["id"] = self.tickets.new_id()
            self._stamp(record, creating=True, actor=actor)
            self.tickets.add(record)
            if post_only:
                self.ticket_post_only[record["id"]] = post_only
            return self.render(R.TICKETS, record)

    def update_ticket(self, rid: int, operations: Any, *, actor: str | None = None) -> Record:
        """PATCH /service/tickets/{id}."""
        return self._patch(R.TICKETS, rid, operations, actor)

    def ticket_initial_text(self, ticket_id: int) -> dict[str, str]:
        """``initialDescription`` & co. as posted (the API never returns them; tests may look)."""
        with self.lock:
            self.get("tickets", ticket_id)
            return dict(self.ticket_post_only.get(ticket_id, {}))

    # ------------------------------------------------------------ PATCH (JSON Patch)

    def _patch(self, resource: Resource, rid: int, operations: Any, actor: str | None) -> Record:
        with self.lock:
            col = self.collections[resource.key]
            current = self.get(resource.key, rid)
            if not isinstance(operations, list) or not operations:
                raise BadRequest("The request body must be a non-empty JSON Patch array.")
            props = spec.properties(resource.schema)
            record = copy.deepcopy(current)
            errors: FieldErrors = []
            changed: set[str] = set()
            for i, op in enumerate(operations):
                if not isinstance(op, dict):
                    raise BadRequest(f"Patch operation {i} must be an object.")
                kind = str(op.get("op", "")).lower()
                path = op.get("path")
                if kind not in ("replace", "add", "remove"):
                    raise BadRequest(
                        f"Patch operation '{op.get('op')}' is not supported (use replace, add or remove)."
                    )
                if not isinstance(path, str) or not path.strip("/"):
                    raise BadRequest(f"Patch operation {i} needs a path.")
                name = path[1:] if path.startswith("/") else path
                if "/" in name:
                    if self.nested_patch == "ignore":
                        continue  # the real server can answer 200 without applying a nested path
                    raise InvalidObject(
                        resource.label,
                        [
                            field_error(
                                "InvalidField",
                                f"Cannot patch nested path '{path}': replace the whole '{name.split('/')[0]}' "
                                "reference instead.",
                                resource.label,
                                name,
                            )
                        ],
                    )
                if name not in props or name == "_info":
                    raise InvalidObject(
                        resource.label,
                        [
                            field_error(
                                "InvalidField",
                                f"'{name}' is not a field of {resource.label}.",
                                resource.label,
                                name,
                            )
                        ],
                    )
                if name == "id":
                    raise InvalidObject(
                        resource.label,
                        [field_error("InvalidField", "id cannot be changed.", resource.label, "id")],
                    )
                if resource is R.TICKETS and name in R.TICKET_POST_ONLY:
                    raise InvalidObject(
                        resource.label,
                        [
                            field_error(
                                "InvalidField", f"{name} is only available on POST.", resource.label, name
                            )
                        ],
                    )
                if resource is R.TICKETS and name == "closedFlag":
                    raise InvalidObject(
                        resource.label,
                        [
                            field_error(
                                "InvalidField",
                                "closedFlag follows the ticket's status: patch 'status' with a closed status of the board.",
                                resource.label,
                                name,
                            )
                        ],
                    )
                value = None if kind == "remove" else op.get("value")
                if kind != "remove" and "value" not in op:
                    raise BadRequest(f"Patch operation {i} ({kind} {path}) needs a value.")
                changed |= self._apply_input(resource, record, {name: value}, errors)
                if value is None:
                    record[name] = None
                if name == "questions":
                    changed.add("questions")  # answers are re-checked against the type's required questions
            self._check_common(resource, record, errors)
            if resource is R.TICKETS:
                self._finish_ticket(record, current, changed, errors, actor or self.member_identifier)
                _check_ticket_extras(self, record, errors)
            elif resource is R.CONFIGURATIONS:
                self._finish_configuration(record, changed, errors, creating=False)
            self._check_active_refs(resource, record, changed, errors)
            if errors:
                raise InvalidObject(resource.label, errors)
            self._stamp(record, creating=False, actor=actor)
            col.put(record)
            return self.render(resource, record)

    # ------------------------------------------------------------ ticket <-> configuration

    def add_ticket_configuration(self, ticket_id: int, body: Any) -> Record:
        """POST /service/tickets/{id}/configurations with ``{"id": configurationId}``."""
        with self.lock:
            self.get("tickets", ticket_id)
            if not isinstance(body, Mapping):
                raise BadRequest("The request body must be a JSON object.")
            cid = body.get("id")
            ident = body.get("deviceIdentifier")
            config = None
            if isinstance(cid, int) and not isinstance(cid, bool):
                config = self.configurations.get(cid)
                missing = f"Configuration {cid} not found."
            elif isinstance(ident, str) and ident:
                config = next(
                    (c for c in self.configurations if fold(c.get("name") or "") == fold(ident)), None
                )
                missing = f"Configuration '{ident}' not found."
            else:
                raise InvalidObject(
                    "configuration",
                    [
                        field_error(
                            "MissingRequiredField",
                            "id or deviceIdentifier is required.",
                            "configuration",
                            "id",
                        )
                    ],
                )
            if config is None:
                raise InvalidObject(
                    "configuration", [field_error("NotFound", missing, "configuration", "id")]
                )
            linked = self.ticket_configurations.setdefault(ticket_id, [])
            if config["id"] in linked:
                raise InvalidObject(
                    "configuration",
                    [
                        field_error(
                            "ObjectExists",
                            f"Configuration {config['id']} is already attached to ticket {ticket_id}.",
                            "configuration",
                            "id",
                        )
                    ],
                )
            linked.append(config["id"])
            self.bump()
            return self._configuration_reference(config)

    def _configuration_reference(self, config: Record) -> Record:
        out: Record = {"id": config["id"]}
        if config.get("name") is not None:
            out["deviceIdentifier"] = config["name"]
        out["_info"] = {"configuration_href": f"{self.href_base}/company/configurations/{config['id']}"}
        return out

    def list_ticket_configurations(self, ticket_id: int, page: PageRequest) -> tuple[Records, Page]:
        with self.lock:
            self.get("tickets", ticket_id)
            configs = [self.configurations.get(c) for c in self.ticket_configurations.get(ticket_id, [])]
            refs = [self._configuration_reference(c) for c in configs if c is not None]
            if page.forward_only:
                after = page.page_id or 0
                result = page_forward((r for r in refs if r["id"] > after), page, lambda r: r["id"])
            else:
                result = page_slice(refs, page)
            return result.items, result

    # ------------------------------------------------------------ technician-driven transitions

    def close_ticket(
        self, ticket_id: int, status_name: str | None = None, *, technician: str = "jtech"
    ) -> Record:
        """Simulate a technician closing a ticket in the ConnectWise UI.

        :param ticket_id: the ticket.
        :param status_name: a closed status of the ticket's board; default: the first closed one.
        :param technician: member identifier recorded as ``closedBy`` / ``updatedBy``.
        """
        return self._technician_status(ticket_id, status_name, technician, closed=True)

    def reopen_ticket(
        self, ticket_id: int, status_name: str | None = None, *, technician: str = "jtech"
    ) -> Record:
        """Simulate a technician reopening a ticket (default: the board's default open status)."""
        return self._technician_status(ticket_id, status_name, technician, closed=False)

    def _technician_status(
        self, ticket_id: int, status_name: str | None, technician: str, *, closed: bool
    ) -> Record:
        with self.lock:
            ticket = self.get("tickets", ticket_id)
            board_id = (ticket.get("board") or {}).get("id")
            statuses = [
                s
                for s in self.board_statuses.matching(None, parent=("board/id", board_id))
                if bool(s.get("closedStatus")) == closed
            ]
            if status_name is not None:
                chosen = next((s for s in statuses if fold(s.get("name", "")) == fold(status_name)), None)
                if chosen is None:
                    kind = "closed" if closed else "open"
                    raise ValueError(f"board {board_id} has no {kind} status named {status_name!r}")
            else:
                active = sorted(
                    (s for s in statuses if not s.get("inactive")),
                    key=lambda s: (s.get("sortOrder") or 0, s["id"]),
                )
                defaults = [s for s in active if s.get("defaultFlag")]
                if not active:
                    raise ValueError(f"board {board_id} has no {'closed' if closed else 'open'} status")
                chosen = defaults[0] if defaults and not closed else active[0]
            ops = [{"op": "replace", "path": "status", "value": {"id": chosen["id"]}}]
            return self._patch(R.TICKETS, ticket_id, ops, technician)

    # ------------------------------------------------------------ seeding (no validation)

    def insert(self, key: str, record: Record, *, entered: str | None = None, by: str = "admin") -> Record:
        """Store ``record`` as is (seeds and admin set-up); fills ``_info``. Returns the stored record."""
        with self.lock:
            rec = {"id": record.get("id"), **record}
            stamp = entered or self.now()
            rec.setdefault(
                "_info", {"lastUpdated": stamp, "updatedBy": by, "dateEntered": stamp, "enteredBy": by}
            )
            return self.collections[key].add(rec)

    # ------------------------------------------------------------ look-ups for tests

    def find(self, key: str, **attrs: Any) -> Records:
        """Rendered records whose attributes equal ``attrs`` (strings compared case-insensitively;
        ``company="AcmeCorp"`` matches a reference by identifier/name, ``company=250`` by id)."""
        with self.lock:
            col = self.collections[key]
            out = []
            for rec in col:
                if all(_matches_attr(self, col.resource, rec, k, v) for k, v in attrs.items()):
                    out.append(self.render(col.resource, rec))
            return out

    def find_one(self, key: str, **attrs: Any) -> Record:
        found = self.find(key, **attrs)
        if len(found) != 1:
            raise LookupError(f"expected exactly one {key} with {attrs}, found {len(found)}")
        return found[0]

    def company(self, identifier: str) -> Record:
        return self.find_one("companies", identifier=identifier)

    def board(self, name: str) -> Record:
        return self.find_one("boards", name=name)

    def board_status(self, board: str | int, name: str) -> Record:
        board_id = board if isinstance(board, int) else self.board(board)["id"]
        return self.find_one("board_statuses", board=board_id, name=name)

    def configuration_status(self, description: str) -> Record:
        return self.find_one("configuration_statuses", description=description)

    def configuration_type(self, name: str) -> Record:
        return self.find_one("configuration_types", name=name)

    def configuration(self, rid: int) -> Record:
        return self.get_rendered("configurations", rid)

    def ticket(self, rid: int) -> Record:
        return self.get_rendered("tickets", rid)

    def configurations_of(self, company: str | int) -> Records:
        return self.find("configurations", company=company)


def _extra_resources() -> tuple[Resource, ...]:
    # Resources kept in their own modules (one per resource, like moto); imported late: they
    # import this module's types for checking only.
    from . import classification, contacts, notes

    return classification.RESOURCES + contacts.RESOURCES + notes.RESOURCES


def _check_ticket_extras(backend: ConnectWiseBackend, record: Record, errors: list[dict[str, str]]) -> None:
    from . import classification, contacts

    classification.check_ticket(backend, record, errors)
    contacts.check_ticket(backend, record, errors)


def _matches_attr(backend: ConnectWiseBackend, resource: Resource, rec: Record, key: str, want: Any) -> bool:
    value = rec.get(key)
    rspec = resource.refs.get(key)
    if rspec is not None:
        if not isinstance(value, dict):
            return want is None
        if isinstance(want, int) and not isinstance(want, bool):
            return value.get("id") == want
        rendered = backend.render_ref(rspec, value)
        return any(
            isinstance(v, str) and isinstance(want, str) and fold(v) == fold(want) for v in rendered.values()
        )
    if isinstance(value, str) and isinstance(want, str):
        return fold(value) == fold(want)
    return value == want


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
