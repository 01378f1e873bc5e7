"""ConnectWiseHook: ConnectWise PSA (Manage) REST API 3.0 through one pooled, retrying session.

The hook is assembled from rooms of one kind each; every public method is a few lines over the
one request path (:mod:`._http`) and returns parsed JSON, never a ``requests.Response``:

* :mod:`._connection`: the connection's credentials, headers, error family and codebase
  discovery, shared by the sync and the async (triggers') path;
* :mod:`._base`: the clients, the request helpers, the connection test and the UI's deep links;
* :mod:`._catalogue`: boards, statuses, configuration types, priorities, classification;
* :mod:`._companies`: companies, their sites and contacts;
* :mod:`._configurations`: configurations (bulk creates in :mod:`._bulk`);
* :mod:`._tickets`: tickets, their notes and the triggers' async read.

The names other modules, tests and the bench import from here stay importable from here.
"""

from __future__ import annotations

from airflow_provider_connectwise.hooks._base import ConnectWiseBaseHook, to_json_patch
from airflow_provider_connectwise.hooks._catalogue import CatalogueMethods
from airflow_provider_connectwise.hooks._companies import CompanyMethods
from airflow_provider_connectwise.hooks._configurations import CONFIGURATION_FIELDS, ConfigurationMethods
from airflow_provider_connectwise.hooks._connection import (
    _DISCOVERED_CODEBASES,
    ACCEPT,
    API_VERSION,
    CONNECTWISE_ERRORS,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TIMEOUT,
    ConnectWiseCredentials,
    credentials_from_connection,
)
from airflow_provider_connectwise.hooks._tickets import TICKET_FIELDS, TicketMethods

__all__ = [
    "ACCEPT",
    "API_VERSION",
    "CONFIGURATION_FIELDS",
    "CONNECTWISE_ERRORS",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "DEFAULT_TIMEOUT",
    "TICKET_FIELDS",
    "_DISCOVERED_CODEBASES",
    "ConnectWiseBaseHook",
    "ConnectWiseCredentials",
    "ConnectWiseHook",
    "credentials_from_connection",
    "to_json_patch",
]


class ConnectWiseHook(CatalogueMethods, CompanyMethods, ConfigurationMethods, TicketMethods):
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
