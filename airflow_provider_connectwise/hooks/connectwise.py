"""ConnectWiseHook: ConnectWise PSA (Manage) REST API 3.0 through one pooled, retrying session.

The connection holds what the seed's steps 1-4 ask for: the ConnectWise Company ID (login), the
Public key, the Private key (password) and the Site URL (host), plus the Client ID ConnectWise
requires. Every public method is a few lines over :class:`~._http.RestClient` and returns parsed
JSON, never a ``requests.Response``.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseHook

from airflow_provider_connectwise.core.conditions import Condition, Field, UnsafeConditionValue, chunked_in
from airflow_provider_connectwise.core.site import (
    FALLBACK_CODEBASE,
    Site,
    SiteError,
    normalise_codebase,
    site_from_connection,
)
from airflow_provider_connectwise.exceptions import (
    ApiError,
    ConnectWiseAuthError,
    ConnectWiseConflictError,
    ConnectWiseError,
    ConnectWiseNotFoundError,
    ConnectWiseRateLimitedError,
    ConnectWiseResponseLostError,
    ConnectWiseRoutingError,
    ConnectWiseServerError,
    ConnectWiseTransportError,
    ConnectWiseValidationError,
)
from airflow_provider_connectwise.hooks._bulk import (
    DEFAULT_BULK_CHUNK_SIZE,
    BulkCreator,
    CreatedConfiguration,
)
from airflow_provider_connectwise.hooks._http import (
    AsyncRestClient,
    ErrorFamily,
    RateBudget,
    RestClient,
    RetryPolicy,
)

API_VERSION = "2025.1"
ACCEPT = f"application/vnd.connectwise.com+json; version={API_VERSION}"
DEFAULT_TIMEOUT = 30.0
# ConnectWise throttles above about 1,000 requests a minute; stay under it by default.
DEFAULT_REQUESTS_PER_MINUTE = 900

# What the binding reads of each configuration (partial responses keep pages small).
CONFIGURATION_FIELDS = (
    "id",
    "name",
    "deviceIdentifier",
    "serialNumber",
    "macAddress",
    "ipAddress",
    "osType",
    "osInfo",
    "cpuSpeed",
    "ram",
    "lastLoginName",
    "managementLink",
    "status/id",
    "type/id",
    "company/id",
    "site/id",
)
TICKET_FIELDS = (
    "id",
    "summary",
    "board/id",
    "status/id",
    "status/name",
    "company/id",
    "externalXRef",
    "closedFlag",
    "closedDate",
    "_info/lastUpdated",
)

CONNECTWISE_ERRORS = ErrorFamily(
    base=ConnectWiseError,
    auth=ConnectWiseAuthError,
    not_found=ConnectWiseNotFoundError,
    validation=ConnectWiseValidationError,
    conflict=ConnectWiseConflictError,
    rate_limited=ConnectWiseRateLimitedError,
    server=ConnectWiseServerError,
    transport=ConnectWiseTransportError,
    response_lost=ConnectWiseResponseLostError,
    auth_hint=(
        "check the ConnectWise Company ID, the Public and Private keys (My Account > API Keys), "
        "the Client ID, and that the API member's security role grants this module"
    ),
    text_errors=(("Cannot route", ConnectWiseRoutingError),),
)

_PATCH_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Discovered codebases by (API root, company): every hook of a process asks the server once.
_DISCOVERED_CODEBASES: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class ConnectWiseCredentials:
    """The connection's values; the keys never appear in ``repr``."""

    company_id: str
    public_key: str = field(repr=False)
    private_key: str = field(repr=False)
    client_id: str
    site: Site
    codebase: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def authorization(self) -> str:
        token = f"{self.company_id}+{self.public_key}:{self.private_key}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")


def to_json_patch(changes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Turn ``{field: value}`` into JSON Patch ``replace`` operations.

    References are replaced whole as ``{"id": n}`` (a nested path such as ``company/identifier``
    can answer a false 200 on ConnectWise).

    :param changes: top-level field names to their new values.
    :raises ValueError: for a field name that is not a top-level ConnectWise field.
    """
    operations = []
    for name, value in changes.items():
        if not _PATCH_PATH.match(name):
            raise ValueError(f"{name!r} is not a top-level ConnectWise field name")
        if isinstance(value, Mapping) and "id" in value:
            value = {"id": value["id"]}
        operations.append({"op": "replace", "path": name, "value": value})
    return operations


def _extra(extras: Mapping[str, Any], name: str, conn_type: str) -> Any:
    # Airflow stores conn-fields under their plain name; older forms used a prefixed name.
    value = extras.get(name)
    if value in (None, ""):
        value = extras.get(f"extra__{conn_type}__{name}")
    return value


class ConnectWiseHook(BaseHook):
    """Talk to ConnectWise PSA (Manage) with the credentials of an Airflow connection.

    :param connectwise_conn_id: the ``connectwise`` connection to use.
    :param timeout: seconds per request (overrides the connection's timeout).
    :param retry: retry policy for 429, 5xx and transport failures.
    :param requests_per_minute: rate budget shared by every hook of this process for the same
        server and company (ConnectWise throttles above about 1,000 a minute).
    :param max_connections: connection-pool size; match the write concurrency.
    :param codebase: the codebase an earlier task found (``ConnectWiseValidateSettingsOperator``
        records it), so this task needs no discovery request; the connection's own wins.
    :param bulk_chunk_size: configurations per ``POST /company/configurations/bulk`` (halved when
        ConnectWise refuses a chunk as too large).
    """

    conn_name_attr = "connectwise_conn_id"
    default_conn_name = "connectwise_default"
    conn_type = "connectwise"
    hook_name = "ConnectWise PSA"

    def __init__(
        self,
        connectwise_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        requests_per_minute: float | None = DEFAULT_REQUESTS_PER_MINUTE,
        max_connections: int = 16,
        codebase: str | None = None,
        bulk_chunk_size: int = DEFAULT_BULK_CHUNK_SIZE,
    ) -> None:
        super().__init__()
        self.connectwise_conn_id = connectwise_conn_id
        self._codebase_hint = codebase
        self._timeout = timeout
        self._retry = retry
        self._requests_per_minute = requests_per_minute
        self._max_connections = max_connections
        self._async: tuple[AsyncRestClient, str] | None = None
        self._bulk = BulkCreator(self, bulk_chunk_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(connectwise_conn_id={self.connectwise_conn_id!r})"

    # -- connection ---------------------------------------------------------------------------

    @cached_property
    def credentials(self) -> ConnectWiseCredentials:
        """The connection's values, validated; secrets are registered with the masker."""
        conn = self.get_connection(self.connectwise_conn_id)
        return credentials_from_connection(conn)

    @cached_property
    def client(self) -> RestClient:
        creds = self.credentials
        return RestClient(
            base_url=creds.site.api_root,
            headers=_headers(creds),
            family=CONNECTWISE_ERRORS,
            timeout=self._timeout or creds.timeout,
            retry=self._retry,
            budget=RateBudget.shared(f"{creds.site.api_host}/{creds.company_id}", self._requests_per_minute),
            max_connections=self._max_connections,
        )

    @cached_property
    def codebase(self) -> str:
        """The server's codebase: the connection's override, else discovered, else the fallback."""
        creds = self.credentials
        if creds.codebase:
            return creds.codebase
        if self._codebase_hint:
            return normalise_codebase(self._codebase_hint)
        key = (creds.site.api_root, creds.company_id.casefold())
        if key not in _DISCOVERED_CODEBASES:
            try:
                _DISCOVERED_CODEBASES[key] = _codebase_from_info(self.get_company_info())
            except ConnectWiseError as exc:
                return _codebase_after_error(exc, self.log)
        return _DISCOVERED_CODEBASES[key]

    def _api(self, path: str) -> str:
        return f"{self.codebase}apis/3.0/{path.lstrip('/')}"

    def _get(self, path: str, **params: Any) -> Any:
        return self.client.request("GET", self._api(path), params=params or None).data

    def _list(self, path: str, *, forward_only: bool = False, **params: Any) -> list[dict[str, Any]]:
        return list(self.client.paginate(self._api(path), params, forward_only=forward_only))

    # -- connection test ----------------------------------------------------------------------

    def get_company_info(self) -> dict[str, Any]:
        """``GET /login/companyinfo/{company}`` (no auth needed): codebase and version."""
        return self.client.request("GET", _company_info_path(self.credentials)).data

    def get_system_info(self) -> dict[str, Any]:
        """``GET /system/info``: version, cloud flag, region."""
        return self._get("system/info")

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection end to end (Airflow's Test button)."""
        try:
            info = self.get_system_info()
        except (ApiError, SiteError, ValueError) as exc:
            return False, str(exc)
        version = info.get("version", "?") if isinstance(info, dict) else "?"
        return True, f"Connected to ConnectWise {version} (codebase {self.codebase})"

    # -- settings catalogue ("Next") ----------------------------------------------------------

    def list_boards(self) -> list[dict[str, Any]]:
        """Service boards (``id``, ``name``, ``inactiveFlag`` …)."""
        return self._list("service/boards", fields="id,name,inactiveFlag")

    def list_board_statuses(self, board_id: int) -> list[dict[str, Any]]:
        """Statuses of one board (``name``, ``closedStatus``, ``inactive``, ``defaultFlag`` …)."""
        return self._list(
            f"service/boards/{int(board_id)}/statuses",
            fields="id,name,board/id,closedStatus,inactive,defaultFlag,sortOrder",
        )

    def list_configuration_statuses(self) -> list[dict[str, Any]]:
        """Configuration statuses (``description``, ``closedFlag``, ``defaultFlag``)."""
        return self._list("company/configurations/statuses", fields="id,description,closedFlag,defaultFlag")

    def list_configuration_types(self) -> list[dict[str, Any]]:
        """Configuration types (``name``, ``inactiveFlag``, ``systemFlag``)."""
        return self._list("company/configurations/types", fields="id,name,inactiveFlag,systemFlag")

    def list_configuration_type_questions(self, type_id: int) -> list[dict[str, Any]]:
        """Questions of a configuration type (``requiredFlag``, ``inactiveFlag`` …)."""
        return self._list(
            f"company/configurations/types/{int(type_id)}/questions",
            fields="id,question,requiredFlag,inactiveFlag,fieldType,entryType",
        )

    def find_companies(
        self,
        *,
        name_contains: str | None = None,
        identifiers: Iterable[str] = (),
        ids: Iterable[int] = (),
    ) -> list[dict[str, Any]]:
        """Companies by a name fragment, by identifiers and/or by ids (deduplicated by id).

        A name fragment or identifier that cannot be quoted safely is matched in Python over a
        broader, safe query instead of being pasted into ``conditions``.
        """
        fields = "id,identifier,name,deletedFlag"
        found: dict[int, dict[str, Any]] = {}
        queries: list[tuple[Condition | None, Callable[[dict[str, Any]], bool]]] = []
        if name_contains:
            try:
                queries.append((Field("name").contains(name_contains), lambda c: True))
            except UnsafeConditionValue:
                needle = name_contains.casefold()
                queries.append((None, lambda c: needle in str(c.get("name", "")).casefold()))
        wanted = [i for i in identifiers if i]
        safe, unsafe = _split_safe(wanted)
        queries += [(cond, lambda c: True) for cond in chunked_in(Field("identifier"), safe)]
        if unsafe:
            folded = {u.casefold() for u in unsafe}
            queries.append((None, lambda c: str(c.get("identifier", "")).casefold() in folded))
        queries += [(cond, lambda c: True) for cond in chunked_in(Field("id"), [int(i) for i in ids])]
        for condition, keep in queries:
            params = {"fields": fields}
            if condition is not None:
                params["conditions"] = str(condition)
            for company in self._list("company/companies", forward_only=True, **params):
                if keep(company):
                    found[company["id"]] = company
        return list(found.values())

    def get_company(self, company_id: int) -> dict[str, Any]:
        """One company by id."""
        return self._get(f"company/companies/{int(company_id)}")

    # -- linking policies: company search and sites (the ConnectWise page) ---------------------

    def search_companies(
        self,
        text: str = "",
        *,
        status: str | None = "Active",
        company_type: str | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Companies whose name or identifier contains ``text`` (the page's type-ahead), by name.

        Deleted companies never match. ``name``, ``identifier``, ``status`` and ``deletedFlag``
        are filtered by ConnectWise (``conditions``); the type is matched here over the streamed
        pages, because ConnectWise filters its array ``types`` only through ``childConditions``.
        Text that cannot be quoted safely is matched here too, over the safe query.

        :param text: a fragment of the name or identifier (empty: every company).
        :param status: only companies of this status name (``None``: any status).
        :param company_type: only companies with a type of this name (``None``: any type).
        :param limit: companies at most.
        """
        condition = Field("deletedFlag").eq(False)
        keep: Callable[[dict[str, Any]], bool] = lambda c: True  # noqa: E731
        needle = text.strip()
        if needle:
            try:
                condition = condition & (
                    Field("name").contains(needle) | Field("identifier").contains(needle)
                )
            except UnsafeConditionValue:
                folded = needle.casefold()
                keep = lambda c: any(  # noqa: E731
                    folded in str(c.get(k) or "").casefold() for k in ("name", "identifier")
                )
        if status:
            condition = condition & Field("status/name").eq(status)
        wanted_type = (company_type or "").casefold()
        params = {
            "conditions": str(condition),
            "fields": "id,identifier,name,status,types,deletedFlag",
            "orderBy": "name asc",
        }
        found = []
        pages = self.client.paginate(self._api("company/companies"), params, page_size=max(limit, 25))
        for company in pages:
            types = company.get("types") if isinstance(company.get("types"), list) else []
            if wanted_type and wanted_type not in {str((t or {}).get("name", "")).casefold() for t in types}:
                continue
            if keep(company):
                found.append(company)
                if len(found) >= limit:
                    break
        return found

    def list_company_sites(self, company_id: int) -> list[dict[str, Any]]:
        """Sites of a company (``GET /company/companies/{id}/sites``): ``id``, ``name``, ``inactiveFlag``.

        :param company_id: the company.
        """
        return self._list(f"company/companies/{int(company_id)}/sites", fields="id,name,inactiveFlag")

    # -- configurations -----------------------------------------------------------------------

    def iter_configurations(
        self, condition: Condition, fields: Iterable[str] = CONFIGURATION_FIELDS
    ) -> Iterator[dict[str, Any]]:
        """Stream configurations matching a built condition, all pages, only ``fields``."""
        params = {"conditions": str(condition), "fields": ",".join(fields)}
        yield from self.client.paginate(self._api("company/configurations"), params, forward_only=True)

    def list_company_configurations(
        self, company_id: int, fields: Iterable[str] = CONFIGURATION_FIELDS
    ) -> list[dict[str, Any]]:
        """Every configuration of a company (all pages, only ``fields``): the binding's one read."""
        return list(self.iter_configurations(Field("company/id").eq(int(company_id)), fields))

    def list_configurations_of_companies(
        self, company_ids: Iterable[int], fields: Iterable[str] = CONFIGURATION_FIELDS
    ) -> dict[int, list[dict[str, Any]]]:
        """Every configuration of several companies, read together (``company/id in (...)``, all
        pages), grouped by company: reads grow with the number of configurations, not of companies."""
        ids = sorted({int(c) for c in company_ids})
        grouped: dict[int, list[dict[str, Any]]] = {c: [] for c in ids}
        for condition in chunked_in(Field("company/id"), ids):
            for configuration in self.iter_configurations(condition, fields):
                company = (configuration.get("company") or {}).get("id")
                if company in grouped:
                    grouped[company].append(configuration)
        return grouped

    def find_configurations(self, company_id: int | None, device_identifier: str) -> list[dict[str, Any]]:
        """Configurations whose ``deviceIdentifier`` equals ``device_identifier``.

        :param company_id: only this company's, or ``None`` for every company.
        :param device_identifier: the device's agent id. It comes from outside: when it cannot be
            quoted safely the (company's) configurations are read and matched here instead.
        """
        scope = Field("company/id").eq(int(company_id)) if company_id is not None else None
        try:
            by_device = Field("deviceIdentifier").eq(device_identifier)
            condition = by_device if scope is None else scope & by_device
        except UnsafeConditionValue:
            if scope is None:
                raise
            condition = scope
        wanted = device_identifier.casefold()
        return [
            c
            for c in self.iter_configurations(condition)
            if str(c.get("deviceIdentifier") or "").casefold() == wanted
        ]

    def find_configuration(self, company_id: int, agentid: str) -> dict[str, Any] | None:
        """The configuration of a company for a device (lowest id when several), or None."""
        matches = self.find_configurations(company_id, agentid)
        return min(matches, key=lambda c: c["id"]) if matches else None

    def get_configuration(self, configuration_id: int) -> dict[str, Any]:
        """One configuration by id."""
        return self._get(f"company/configurations/{int(configuration_id)}")

    def create_configuration(
        self, body: Mapping[str, Any], *, find_existing: Callable[[], dict | None] | None = None
    ) -> dict[str, Any]:
        """Create a configuration (``name``, ``type``, ``company`` are required).

        :param body: the configuration; references as ``{"id": n}``.
        :param find_existing: looks the configuration up if an earlier attempt's answer was lost;
            without it such a POST is not re-sent (:class:`ConnectWiseResponseLostError`).
        """
        return self.client.request(
            "POST", self._api("company/configurations"), json_body=dict(body), find_existing=find_existing
        ).data

    def create_configurations(
        self, bodies: Sequence[Mapping[str, Any]], *, concurrency: int = 1
    ) -> list[CreatedConfiguration]:
        """Create many configurations through ``POST /company/configurations/bulk``; one result per body.

        Each result holds the configuration read back from ConnectWise (the device is linked) or
        ConnectWise's own error for that item; a chunk whose answer was lost is looked up, never
        re-sent blindly. A server without the bulk route gets one POST per body (see ``_bulk``).

        :param bodies: configurations, each with ``deviceIdentifier`` (how it is read back).
        :param concurrency: simultaneous single POSTs when the server has no bulk route.
        """
        return self._bulk.create(bodies, concurrency=concurrency)

    def patch_configuration(self, configuration_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the given top-level fields of a configuration (one JSON Patch)."""
        return self.client.request(
            "PATCH",
            self._api(f"company/configurations/{int(configuration_id)}"),
            json_body=to_json_patch(changes),
        ).data

    # -- tickets ------------------------------------------------------------------------------

    def create_ticket(
        self, body: Mapping[str, Any], *, find_existing: Callable[[], dict | None] | None = None
    ) -> dict[str, Any]:
        """Create a service ticket (``summary`` and ``company`` are required).

        :param body: the ticket; references as ``{"id": n}``.
        :param find_existing: looks the ticket up (e.g. by ``externalXRef``) if an earlier
            attempt's answer was lost.
        """
        return self.client.request(
            "POST", self._api("service/tickets"), json_body=dict(body), find_existing=find_existing
        ).data

    def get_ticket(self, ticket_id: int, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """One ticket by id (optionally only ``fields``)."""
        params = {"fields": ",".join(fields)} if fields else {}
        return self._get(f"service/tickets/{int(ticket_id)}", **params)

    def patch_ticket(self, ticket_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the given top-level fields of a ticket (one JSON Patch)."""
        return self.client.request(
            "PATCH", self._api(f"service/tickets/{int(ticket_id)}"), json_body=to_json_patch(changes)
        ).data

    def find_tickets(
        self,
        *,
        board_id: int | None = None,
        company_id: int | None = None,
        external_ref: str | None = None,
        open_only: bool = False,
        closed_only: bool = False,
        updated_since: dt.datetime | None = None,
        fields: Iterable[str] = TICKET_FIELDS,
    ) -> list[dict[str, Any]]:
        """Tickets by board, company, ``externalXRef``, open/closed and last update (all pages).

        An external reference that cannot be quoted safely is matched in Python over the
        board/company query instead; a server-side match is re-checked in Python too, so a server
        that folds case or treats the value as a pattern never hands over another alert's ticket.
        """
        parts: list[Condition] = []
        if board_id is not None:
            parts.append(Field("board/id").eq(int(board_id)))
        if company_id is not None:
            parts.append(Field("company/id").eq(int(company_id)))
        if open_only or closed_only:
            parts.append(Field("closedFlag").eq(not open_only))
        if updated_since is not None:
            parts.append(Field("lastUpdated").ge(updated_since))
        if external_ref is not None:
            try:
                parts.append(Field("externalXRef").eq(external_ref))
            except UnsafeConditionValue:
                if not parts:
                    raise UnsafeConditionValue(
                        "an external reference holding quotes or backslashes needs a board or company "
                        "to narrow the search"
                    ) from None
        params: dict[str, Any] = {"fields": ",".join(fields)}
        if parts:
            condition = parts[0]
            for part in parts[1:]:
                condition = condition & part
            params["conditions"] = str(condition)
        tickets = self._list("service/tickets", forward_only=True, **params)
        if external_ref is not None:
            tickets = [t for t in tickets if t.get("externalXRef") == external_ref]
        return tickets

    def attach_configuration(self, ticket_id: int, configuration_id: int) -> dict[str, Any]:
        """Link a configuration to a ticket."""
        return self.client.request(
            "POST",
            self._api(f"service/tickets/{int(ticket_id)}/configurations"),
            json_body={"id": int(configuration_id)},
            find_existing=lambda: next(
                (
                    c
                    for c in self.list_ticket_configurations(ticket_id)
                    if c.get("id") == int(configuration_id)
                ),
                None,
            ),
        ).data

    def list_ticket_configurations(self, ticket_id: int) -> list[dict[str, Any]]:
        """Configurations linked to a ticket."""
        return self._list(f"service/tickets/{int(ticket_id)}/configurations")

    # -- ticket notes, classification, contacts -----------------------------------------------

    def list_ticket_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        """The notes of a ticket (text and flags), all pages."""
        return self._list(
            f"service/tickets/{int(ticket_id)}/notes",
            forward_only=True,
            fields="id,text,detailDescriptionFlag,internalAnalysisFlag,resolutionFlag,dateCreated,createdBy",
        )

    def list_ticket_all_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every note of a ticket, time-entry and meeting notes included (``noteType``), all pages."""
        return self._list(
            f"service/tickets/{int(ticket_id)}/allNotes",
            forward_only=True,
            fields="id,noteType,text,member/identifier,_info/dateEntered",
        )

    def create_ticket_note(
        self,
        ticket_id: int,
        body: Mapping[str, Any],
        *,
        find_existing: Callable[[], dict | None] | None = None,
    ) -> dict[str, Any]:
        """Add a note to a ticket (``text`` and a Discussion, Internal or Resolution flag).

        :param ticket_id: the ticket.
        :param body: the ``ServiceNote``.
        :param find_existing: looks the note up if an earlier attempt's answer was lost.
        """
        return self.client.request(
            "POST",
            self._api(f"service/tickets/{int(ticket_id)}/notes"),
            json_body=dict(body),
            find_existing=find_existing,
        ).data

    def list_priorities(self) -> list[dict[str, Any]]:
        """Ticket priorities (``name``, ``level``, ``defaultFlag``)."""
        return self._list("service/priorities", fields="id,name,level,sortOrder,defaultFlag")

    def list_board_classification(self, board_id: int, kind: str) -> list[dict[str, Any]]:
        """The ticket ``types``, ``subtypes`` or ``items`` of a board (``name``, ``inactiveFlag``)."""
        if kind not in ("types", "subtypes", "items"):
            raise ValueError(f"kind must be types, subtypes or items, not {kind!r}")
        return self._list(f"service/boards/{int(board_id)}/{kind}", fields="id,name,inactiveFlag")

    def find_contacts(self, company_ids: Iterable[int]) -> list[dict[str, Any]]:
        """The contacts of some companies with their e-mail addresses (``communicationItems``).

        Contacts are selected by company id only: names and e-mail addresses are matched by the
        caller, never pasted into ``conditions``.
        """
        fields = "id,firstName,lastName,company/id,inactiveFlag,defaultFlag,communicationItems"
        ids = sorted({int(c) for c in company_ids})
        return [
            contact
            for condition in chunked_in(Field("company/id"), ids)
            for contact in self._list(
                "company/contacts", forward_only=True, conditions=str(condition), fields=fields
            )
        ]

    # -- async reads (triggers) ---------------------------------------------------------------

    async def _async_client(self) -> tuple[AsyncRestClient, str]:
        # The connection is looked up asynchronously: nothing here blocks the triggerer's loop.
        if self._async is None:
            conn = await self.aget_connection(self.connectwise_conn_id)
            creds = credentials_from_connection(conn)
            client = AsyncRestClient(
                base_url=creds.site.api_root,
                headers=_headers(creds),
                family=CONNECTWISE_ERRORS,
                timeout=self._timeout or creds.timeout,
                retry=self._retry,
                # triggers of one triggerer share one budget, apart from the pooled tasks' budgets
                budget=RateBudget.shared(
                    f"{creds.site.api_host}/{creds.company_id}/async", self._requests_per_minute
                ),
            )
            codebase = creds.codebase
            if not codebase:
                try:
                    codebase = _codebase_from_info(
                        (await client.request("GET", _company_info_path(creds))).data
                    )
                except ConnectWiseError as exc:
                    codebase = _codebase_after_error(exc, self.log)
            self._async = (client, codebase)
        return self._async

    async def aget_ticket(self, ticket_id: int, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """One ticket by id, without blocking the event loop."""
        client, codebase = await self._async_client()
        params = {"fields": ",".join(fields)} if fields else None
        answer = await client.request(
            "GET", f"{codebase}apis/3.0/service/tickets/{int(ticket_id)}", params=params
        )
        return answer.data

    # -- links a person can click -------------------------------------------------------------

    def ui_url_template(self, route: str) -> str:
        """A deep link into the ConnectWise web UI with ``{id}`` for the record (``ServiceFV``,
        ``ConfigFV``, ``AccountFV``): what a page renders links from without asking ConnectWise."""
        root = self.credentials.site.browser_root
        return f"{root}{self.codebase}ConnectWise.aspx?routeTo={route}&recid={{id}}"

    def ui_url(self, route: str, record_id: int) -> str:
        """A deep link into the ConnectWise web UI for one record."""
        return self.ui_url_template(route).format(id=int(record_id))

    def ticket_url(self, ticket_id: int) -> str:
        """Where a person opens a ticket."""
        return self.ui_url("ServiceFV", ticket_id)

    def configuration_url(self, configuration_id: int) -> str:
        """Where a person opens a configuration."""
        return self.ui_url("ConfigFV", configuration_id)

    def company_url(self, company_id: int) -> str:
        """Where a person opens a company."""
        return self.ui_url("AccountFV", company_id)


def credentials_from_connection(conn: Any) -> ConnectWiseCredentials:
    """Read and validate a ``connectwise`` connection; register its secrets with the masker.

    :param conn: an Airflow ``Connection``.
    :raises ValueError: naming the missing or wrong field (never its value).
    """
    extras = conn.extra_dejson or {}
    # public_api_key: the name Airflow masks (form, REST API); public_key: connections made before
    public_key = str(
        _extra(extras, "public_api_key", "connectwise") or _extra(extras, "public_key", "connectwise") or ""
    ).strip()
    private_key = str(conn.password or "").strip()
    _mask(public_key, private_key)
    missing = [
        label
        for label, value in (
            ("ConnectWise Company ID (login)", conn.login),
            ("Public key", public_key),
            ("Private key (password)", private_key),
            ("Client ID", _extra(extras, "client_id", "connectwise")),
        )
        if not str(value or "").strip()
    ]
    if missing:
        raise ValueError(f"connection {conn.conn_id!r} lacks: {', '.join(missing)}")
    codebase = _extra(extras, "codebase", "connectwise")
    timeout = _extra(extras, "timeout", "connectwise")
    creds = ConnectWiseCredentials(
        company_id=str(conn.login).strip(),
        public_key=public_key,
        private_key=private_key,
        client_id=str(_extra(extras, "client_id", "connectwise")).strip(),
        site=site_from_connection(conn.host, conn.port),
        codebase=normalise_codebase(codebase) if codebase else None,
        timeout=float(timeout) if timeout not in (None, "") else DEFAULT_TIMEOUT,
    )
    _mask(creds.authorization, creds.authorization.removeprefix("Basic "))
    return creds


def _headers(creds: ConnectWiseCredentials) -> dict[str, str]:
    return {"Authorization": creds.authorization, "clientId": creds.client_id, "Accept": ACCEPT}


def _company_info_path(creds: ConnectWiseCredentials) -> str:
    return f"login/companyinfo/{quote(creds.company_id, safe='')}"


def _codebase_from_info(info: Any) -> str:
    codebase = info.get("Codebase") if isinstance(info, dict) else None
    return normalise_codebase(codebase) if codebase else FALLBACK_CODEBASE


def _codebase_after_error(exc: ConnectWiseError, log: Any) -> str:
    """A wrong company is the user's to fix; anything else falls back to ``v4_6_release/``."""
    if isinstance(exc, ConnectWiseRoutingError):
        exc.hint = "the ConnectWise Company ID is not known on this site; check the login and the Site URL"
        raise exc
    if isinstance(exc, ConnectWiseNotFoundError | ConnectWiseServerError):
        log.warning("codebase discovery failed (%s); using %s", exc, FALLBACK_CODEBASE)
        return FALLBACK_CODEBASE
    raise exc


def _mask(*secrets: str) -> None:
    from airflow.sdk.log import mask_secret

    for secret in secrets:
        if secret:
            mask_secret(secret)


def _split_safe(values: Iterable[str]) -> tuple[list[str], list[str]]:
    safe, unsafe = [], []
    for value in values:
        try:
            Field("identifier").eq(value)
            safe.append(value)
        except UnsafeConditionValue:
            unsafe.append(value)
    return safe, unsafe
