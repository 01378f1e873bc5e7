"""How the ConnectWise hook reaches its server, for the sync and the async path alike.

The connection holds what the seed's steps 1-4 ask for: the ConnectWise Company ID (login), the
Public key, the Private key (password) and the Site URL (host), plus the Client ID ConnectWise
requires. Everything here is plain data and decisions, no sending: the credentials read from the
connection, the headers, the error family, the arguments of a request client and the codebase
discovery (``GET /login/companyinfo/{company}``, one answer cached per process). The sync hook
sends with ``requests`` and the triggers' path with ``httpx``; only that send differs.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from airflow_provider_connectwise import exceptions as cw_errors
from airflow_provider_connectwise.core.site import (
    FALLBACK_CODEBASE,
    Site,
    normalise_codebase,
    site_from_connection,
)
from airflow_provider_connectwise.hooks._answers import ErrorFamily
from airflow_provider_connectwise.hooks._rate import RateBudget
from airflow_provider_connectwise.hooks._retry import RetryPolicy

API_VERSION = "2025.1"
ACCEPT = f"application/vnd.connectwise.com+json; version={API_VERSION}"
DEFAULT_TIMEOUT = 30.0
# ConnectWise throttles above about 1,000 requests a minute; stay under it by default.
DEFAULT_REQUESTS_PER_MINUTE = 900

CONNECTWISE_ERRORS = ErrorFamily(
    base=cw_errors.ConnectWiseError,
    auth=cw_errors.ConnectWiseAuthError,
    not_found=cw_errors.ConnectWiseNotFoundError,
    validation=cw_errors.ConnectWiseValidationError,
    conflict=cw_errors.ConnectWiseConflictError,
    rate_limited=cw_errors.ConnectWiseRateLimitedError,
    server=cw_errors.ConnectWiseServerError,
    transport=cw_errors.ConnectWiseTransportError,
    response_lost=cw_errors.ConnectWiseResponseLostError,
    auth_hint=(
        "check the ConnectWise Company ID, the Public and Private keys (My Account > API Keys), "
        "the Client ID, and that the API member's security role grants this module"
    ),
    text_errors=(("Cannot route", cw_errors.ConnectWiseRoutingError),),
)

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

    @property
    def headers(self) -> dict[str, str]:
        """What every request carries: Basic auth, the Client ID and the pinned API version."""
        return {"Authorization": self.authorization, "clientId": self.client_id, "Accept": ACCEPT}

    @property
    def company_info_path(self) -> str:
        """Where the codebase is discovered (no auth needed)."""
        return f"login/companyinfo/{quote(self.company_id, safe='')}"


def credentials_from_connection(conn: Any) -> ConnectWiseCredentials:
    """Read and validate a ``connectwise`` connection; register its secrets with the masker.

    :param conn: an Airflow ``Connection``.
    :raises ValueError: naming the missing or wrong field (never its value).
    """
    extras = conn.extra_dejson or {}
    # public_api_key: the name Airflow masks (form, REST API); public_key: connections made before
    public_key = str(_extra(extras, "public_api_key") or _extra(extras, "public_key") or "").strip()
    private_key = str(conn.password or "").strip()
    _mask(public_key, private_key)
    missing = [
        label
        for label, value in (
            ("ConnectWise Company ID (login)", conn.login),
            ("Public key", public_key),
            ("Private key (password)", private_key),
            ("Client ID", _extra(extras, "client_id")),
        )
        if not str(value or "").strip()
    ]
    if missing:
        raise ValueError(f"connection {conn.conn_id!r} lacks: {', '.join(missing)}")
    codebase = _extra(extras, "codebase")
    timeout = _extra(extras, "timeout")
    creds = ConnectWiseCredentials(
        company_id=str(conn.login).strip(),
        public_key=public_key,
        private_key=private_key,
        client_id=str(_extra(extras, "client_id")).strip(),
        site=site_from_connection(conn.host, conn.port),
        codebase=normalise_codebase(codebase) if codebase else None,
        timeout=float(timeout) if timeout not in (None, "") else DEFAULT_TIMEOUT,
    )
    _mask(creds.authorization, creds.authorization.removeprefix("Basic "))
    return creds


def client_arguments(
    creds: ConnectWiseCredentials,
    *,
    timeout: float | None,
    retry: RetryPolicy | None,
    requests_per_minute: float | None,
    budget_scope: str = "",
) -> dict[str, Any]:
    """The arguments of a sync or async request client for this connection.

    :param creds: the connection's values.
    :param timeout: the hook's timeout (overrides the connection's).
    :param retry: the retry policy.
    :param requests_per_minute: the budget shared by this server and company.
    :param budget_scope: keeps apart budgets of one account (the triggers' ``/async``).
    """
    key = f"{creds.site.api_host}/{creds.company_id}{budget_scope}"
    return {
        "base_url": creds.site.api_root,
        "headers": creds.headers,
        "family": CONNECTWISE_ERRORS,
        "timeout": timeout or creds.timeout,
        "retry": retry,
        "budget": RateBudget.shared(key, requests_per_minute),
    }


class CodebaseDiscovery:
    """Which codebase a connection's requests go to, decided without sending anything.

    The connection's override wins, then the codebase an earlier task found, then the process's
    cache. Otherwise the caller sends ``GET`` :attr:`path` (sync or async) and hands the answer
    to :meth:`found`, or the error to :meth:`failed`.

    :param creds: the connection's values.
    :param hint: the codebase an earlier task recorded, or None.
    :param log: where a fallback is reported.
    """

    def __init__(self, creds: ConnectWiseCredentials, hint: str | None, log: Any) -> None:
        self.creds = creds
        self.hint = hint
        self.log = log
        self._key = (creds.site.api_root, creds.company_id.casefold())

    @property
    def path(self) -> str:
        """What to ``GET`` when :attr:`known` is None."""
        return self.creds.company_info_path

    @property
    def known(self) -> str | None:
        """The codebase without asking the server, or None."""
        if self.creds.codebase:
            return self.creds.codebase
        if self.hint:
            return normalise_codebase(self.hint)
        return _DISCOVERED_CODEBASES.get(self._key)

    def found(self, info: Any) -> str:
        """The codebase of a company-info answer (remembered for the process)."""
        codebase = info.get("Codebase") if isinstance(info, Mapping) else None
        _DISCOVERED_CODEBASES[self._key] = normalise_codebase(codebase) if codebase else FALLBACK_CODEBASE
        return _DISCOVERED_CODEBASES[self._key]

    def failed(self, exc: cw_errors.ConnectWiseError) -> str:
        """A wrong company is the user's to fix; a missing or failing route falls back to
        ``v4_6_release/`` (not remembered: the next hook asks again)."""
        if isinstance(exc, cw_errors.ConnectWiseRoutingError):
            exc.hint = (
                "the ConnectWise Company ID is not known on this site; check the login and the Site URL"
            )
            raise exc
        if isinstance(exc, cw_errors.ConnectWiseNotFoundError | cw_errors.ConnectWiseServerError):
            self.log.warning("codebase discovery failed (%s); using %s", exc, FALLBACK_CODEBASE)
            return FALLBACK_CODEBASE
        raise exc


def _extra(extras: Mapping[str, Any], name: str, conn_type: str = "connectwise") -> Any:
    # Airflow stores conn-fields under their plain name; older forms used a prefixed name.
    value = extras.get(name)
    if value in (None, ""):
        value = extras.get(f"extra__{conn_type}__{name}")
    return value


def _mask(*secrets: str) -> None:
    from airflow.sdk.log import mask_secret

    for secret in secrets:
        if secret:
            mask_secret(secret)
