"""ConnectWise Manage state of one sandbox: the collections, and the operations routes and tests call.

``ConnectWiseBackend`` is thin: it holds one ``Collection`` per resource (``collection.py``), the
lock, the clock and the query cache, and hands each operation to the module of its resource, the
way moto splits a service's models:

- ``resources.py`` (and ``sites``, ``contacts``, ``classification``, ``notes``): what each
  resource is and what it references;
- ``validation.py``: input -> record for every resource; ``patch.py``: JSON Patch;
  ``rendering.py``: record -> what the API returns; ``fields.py``: condition / orderBy fields;
- ``configurations.py``, ``tickets.py``, ``ticket_configurations.py``, ``bulk.py``, ``notes.py``,
  ``sites.py``: each resource's own rules and transitions.

Plain Python: nothing here knows about HTTP. Public methods raise the sandbox exceptions
(``NotFound``, ``InvalidObject``, ``BadRequest``) that render ConnectWise's error bodies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from ..conditions import FieldInfo, fold
from ..exceptions import NotFound
from ..paging import Page, PageRequest
from . import classification, configurations, contacts, notes, rendering, ticket_configurations, tickets
from . import resources as R
from .collection import Collection, FieldErrors, Record, Records
from .fields import build_fields
from .resources import RefSpec, Resource
from .sites import SITES

__all__ = [
    "Collection",
    "ConnectWiseBackend",
    "FieldErrors",
    "Record",
    "Records",
    "format_datetime",
    "utc_now",
]

#: Every resource the backend keeps a collection of.
RESOURCES: tuple[Resource, ...] = (
    *R.ALL,
    SITES,
    *classification.RESOURCES,
    *contacts.RESOURCES,
    *notes.RESOURCES,
)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def format_datetime(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self.collections: dict[str, Collection] = {r.key: Collection(r, self) for r in RESOURCES}
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

    # ------------------------------------------------------------ fields, rendering

    def build_fields(self, resource: Resource) -> dict[str, FieldInfo]:
        return build_fields(resource, self.collections)

    def render(self, resource: Resource, record: Record) -> Record:
        """The record as the API returns it: references filled in, nulls omitted, ``_info`` with hrefs."""
        return rendering.render(self, resource, record)

    def render_ref(self, rspec: RefSpec, ref: Mapping[str, Any]) -> Record:
        return rendering.render_ref(self, rspec, ref)

    def href(self, resource: Resource, record: Record) -> str:
        return rendering.href(resource, record)

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

    # ------------------------------------------------------------ writes (each resource's module)

    def validated_configuration(self, body: Any) -> Record:
        """Validate a whole configuration as POST takes it; see ``configurations.validated_configuration``."""
        return configurations.validated_configuration(self, body)

    def create_configuration(self, body: Mapping[str, Any], *, actor: str | None = None) -> Record:
        """POST /company/configurations: validate, store, return the rendered entity."""
        return configurations.create_configuration(self, body, actor=actor)

    def update_configuration(self, rid: int, operations: Any, *, actor: str | None = None) -> Record:
        """PATCH /company/configurations/{id} with a JSON Patch array."""
        return configurations.update_configuration(self, rid, operations, actor=actor)

    def create_ticket(self, body: Mapping[str, Any], *, actor: str | None = None) -> Record:
        """POST /service/tickets."""
        return tickets.create_ticket(self, body, actor=actor)

    def update_ticket(self, rid: int, operations: Any, *, actor: str | None = None) -> Record:
        """PATCH /service/tickets/{id}."""
        return tickets.update_ticket(self, rid, operations, actor=actor)

    def ticket_initial_text(self, ticket_id: int) -> dict[str, str]:
        """``initialDescription`` & co. as posted (the API never returns them; tests may look)."""
        return tickets.ticket_initial_text(self, ticket_id)

    def add_ticket_configuration(self, ticket_id: int, body: Any) -> Record:
        """POST /service/tickets/{id}/configurations with ``{"id": configurationId}``."""
        return ticket_configurations.add_ticket_configuration(self, ticket_id, body)

    def list_ticket_configurations(self, ticket_id: int, page: PageRequest) -> tuple[Records, Page]:
        return ticket_configurations.list_ticket_configurations(self, ticket_id, page)

    # ------------------------------------------------------------ technician-driven transitions

    def close_ticket(
        self, ticket_id: int, status_name: str | None = None, *, technician: str = "jtech"
    ) -> Record:
        """Simulate a technician closing a ticket in the ConnectWise UI.

        :param ticket_id: the ticket.
        :param status_name: a closed status of the ticket's board; default: the first closed one.
        :param technician: member identifier recorded as ``closedBy`` / ``updatedBy``.
        """
        return tickets.close_ticket(self, ticket_id, status_name, technician=technician)

    def reopen_ticket(
        self, ticket_id: int, status_name: str | None = None, *, technician: str = "jtech"
    ) -> Record:
        """Simulate a technician reopening a ticket (default: the board's default open status)."""
        return tickets.reopen_ticket(self, ticket_id, status_name, technician=technician)

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
