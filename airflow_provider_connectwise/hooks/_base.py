"""The ConnectWise hook's foundation: its connection, its two clients and its few request helpers.

:class:`ConnectWiseBaseHook` holds what every group of methods stands on: the credentials, the
pooled sync :class:`~._http.RestClient`, the async :class:`~._http.AsyncRestClient` of the
triggers (both built by :func:`~._connection.client_arguments` and pointed at one codebase by
:class:`~._connection.CodebaseDiscovery`), the connection test and the web UI's deep links. The
groups of public methods (catalogue, companies, configurations, tickets) are mixins over it,
assembled in :class:`~.connectwise.ConnectWiseHook`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_connectwise.core.site import SiteError
from airflow_provider_connectwise.exceptions import ApiError, ConnectWiseError
from airflow_provider_connectwise.hooks._bulk import DEFAULT_BULK_CHUNK_SIZE, valid_chunk_size
from airflow_provider_connectwise.hooks._connection import (
    DEFAULT_REQUESTS_PER_MINUTE,
    CodebaseDiscovery,
    ConnectWiseCredentials,
    client_arguments,
    credentials_from_connection,
)
from airflow_provider_connectwise.hooks._http import AsyncRestClient, RestClient, RetryPolicy

_PATCH_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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


class ConnectWiseBaseHook(BaseHook):
    """The connection, the clients and the request helpers of :class:`~.connectwise.ConnectWiseHook`.

    Its arguments are documented on :class:`~.connectwise.ConnectWiseHook`, the class to use.
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
        self._bulk_chunk_size = valid_chunk_size(bulk_chunk_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(connectwise_conn_id={self.connectwise_conn_id!r})"

    # -- connection ---------------------------------------------------------------------------

    @cached_property
    def credentials(self) -> ConnectWiseCredentials:
        """The connection's values, validated; secrets are registered with the masker."""
        return credentials_from_connection(self.get_connection(self.connectwise_conn_id))

    def _client_arguments(self, creds: ConnectWiseCredentials, budget_scope: str = "") -> dict[str, Any]:
        return client_arguments(
            creds,
            timeout=self._timeout,
            retry=self._retry,
            requests_per_minute=self._requests_per_minute,
            budget_scope=budget_scope,
        )

    @cached_property
    def client(self) -> RestClient:
        return RestClient(**self._client_arguments(self.credentials), max_connections=self._max_connections)

    @cached_property
    def codebase(self) -> str:
        """The server's codebase: the connection's override, else discovered, else the fallback."""
        discovery = CodebaseDiscovery(self.credentials, self._codebase_hint, self.log)
        if discovery.known:
            return discovery.known
        try:
            return discovery.found(self.client.request("GET", discovery.path).data)
        except ConnectWiseError as exc:
            return discovery.failed(exc)

    # -- requests -----------------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return f"{self.codebase}apis/3.0/{path.lstrip('/')}"

    def _get(self, path: str, **params: Any) -> Any:
        return self.client.request("GET", self._api(path), params=params or None).data

    def _list(self, path: str, *, forward_only: bool = False, **params: Any) -> list[dict[str, Any]]:
        return list(self.client.paginate(self._api(path), params, forward_only=forward_only))

    def _post(self, path: str, body: Any, find_existing: Callable[[], Any] | None = None) -> Any:
        return self.client.request("POST", self._api(path), json_body=body, find_existing=find_existing).data

    def _patch(self, path: str, changes: Mapping[str, Any]) -> Any:
        return self.client.request("PATCH", self._api(path), json_body=to_json_patch(changes)).data

    # -- connection test ----------------------------------------------------------------------

    def get_company_info(self) -> dict[str, Any]:
        """``GET /login/companyinfo/{company}`` (no auth needed): codebase and version."""
        return self.client.request("GET", self.credentials.company_info_path).data

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

    # -- async reads (triggers) ---------------------------------------------------------------

    async def _async_client(self) -> tuple[AsyncRestClient, str]:
        # The connection is looked up asynchronously: nothing here blocks the triggerer's loop.
        # Triggers of one triggerer share one budget, apart from the pooled tasks' budgets.
        if self._async is None:
            creds = credentials_from_connection(await self.aget_connection(self.connectwise_conn_id))
            client = AsyncRestClient(**self._client_arguments(creds, budget_scope="/async"))
            discovery = CodebaseDiscovery(creds, self._codebase_hint, self.log)
            codebase = discovery.known
            if not codebase:
                try:
                    codebase = discovery.found((await client.request("GET", discovery.path)).data)
                except ConnectWiseError as exc:
                    codebase = discovery.failed(exc)
            self._async = (client, codebase)
        return self._async

    async def _aget(self, path: str, **params: Any) -> Any:
        client, codebase = await self._async_client()
        answer = await client.request("GET", f"{codebase}apis/3.0/{path.lstrip('/')}", params=params or None)
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
