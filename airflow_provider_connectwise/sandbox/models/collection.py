"""One resource's records: storage in id order, equality indexes, conditions and paged queries.

Plain Python. A ``Collection`` belongs to a ``ConnectWiseBackend`` (it bumps the backend's version
on every write, which empties the query cache) and reads its condition fields from ``fields.py``.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..conditions import CompiledConditions, ConditionsError, FieldInfo, compile_conditions, fold
from ..exceptions import BadRequest
from ..paging import Page, PageRequest, page_forward, page_slice
from ..query import parse_order_by, sort_records
from .fields import build_fields
from .resources import Resource

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend

Record = dict[str, Any]
# Named here because ConnectWiseBackend.list shadows the builtin inside the class body.
Records = list[Record]
#: ``field_error`` dicts gathered while validating one request.
FieldErrors = list[dict[str, str]]


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
            self._fields = build_fields(self.resource, self.backend.collections)
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
