"""AddigyHook: the device and alert source (Addigy public API v2), on the shared request path.

Auth is the ``x-api-key`` header (the connection's password, masked). Everything else —
retries, rate budget, error mapping — is :class:`~._http.RestClient`, the same code the
ConnectWise hook uses. A paged read (devices, alerts) is returned whole or not at all: page counts,
totals and page sizes must prove it complete, else :class:`AddigyIncompleteReadError` (retryable)
is raised before the caller sees a single item, so a short read never looks like removed devices.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseHook

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.site import SiteError, site_from_connection
from airflow_provider_connectwise.exceptions import (
    AddigyAuthError,
    AddigyConflictError,
    AddigyError,
    AddigyIncompleteReadError,
    AddigyNotFoundError,
    AddigyRateLimitedError,
    AddigyResponseLostError,
    AddigyServerError,
    AddigyTransportError,
    AddigyValidationError,
    ApiError,
)
from airflow_provider_connectwise.hooks._http import ErrorFamily, RateBudget, RestClient, RetryPolicy

DEFAULT_HOST = "api.addigy.com"
DEVICES_PER_PAGE = 500  # the query has no documented maximum; paging follows page_count
ALERTS_PER_PAGE = 100  # the API's maximum
ALERT_ACTIONS = ("acknowledge", "resolve", "mute")

ADDIGY_ERRORS = ErrorFamily(
    base=AddigyError,
    auth=AddigyAuthError,
    not_found=AddigyNotFoundError,
    validation=AddigyValidationError,
    conflict=AddigyConflictError,
    rate_limited=AddigyRateLimitedError,
    server=AddigyServerError,
    transport=AddigyTransportError,
    response_lost=AddigyResponseLostError,
    auth_hint="check the Addigy API key (Account > Integrations > API) and its permissions",
)


class AddigyHook(BaseHook):
    """Read policies, devices with facts and monitoring alerts from Addigy; resolve alerts.

    :param addigy_conn_id: the ``addigy`` connection (API key in the password field).
    :param timeout: seconds per request (overrides the connection's timeout).
    :param retry: retry policy for 429, 5xx and transport failures.
    :param requests_per_minute: rate budget shared by this process's Addigy hooks.
    """

    conn_name_attr = "addigy_conn_id"
    default_conn_name = "addigy_default"
    conn_type = "addigy"
    hook_name = "Addigy"

    def __init__(
        self,
        addigy_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        requests_per_minute: float | None = None,
    ) -> None:
        super().__init__()
        self.addigy_conn_id = addigy_conn_id
        self._timeout = timeout
        self._retry = retry
        self._requests_per_minute = requests_per_minute

    def __repr__(self) -> str:
        return f"{type(self).__name__}(addigy_conn_id={self.addigy_conn_id!r})"

    @cached_property
    def client(self) -> RestClient:
        conn = self.get_connection(self.addigy_conn_id)
        api_key = str(conn.password or "").strip()
        if not api_key:
            raise ValueError(f"connection {self.addigy_conn_id!r} lacks the Addigy API key (password)")
        from airflow.sdk.log import mask_secret

        mask_secret(api_key)
        extras = conn.extra_dejson or {}
        timeout = extras.get("timeout") or extras.get("extra__addigy__timeout")
        site = site_from_connection(conn.host or DEFAULT_HOST, conn.port)
        return RestClient(
            base_url=f"{site.api_root}api/v2/",
            headers={"x-api-key": api_key, "Accept": "application/json"},
            family=ADDIGY_ERRORS,
            timeout=self._timeout or (float(timeout) if timeout else 30.0),
            retry=self._retry,
            budget=RateBudget.shared(f"addigy/{site.api_host}", self._requests_per_minute),
        )

    def _post_query(self, path: str, body: Mapping[str, Any]) -> Any:
        # Addigy's query endpoints are POSTs that only read: safe to re-send.
        return self.client.request("POST", path, json_body=dict(body), idempotent=True).data

    # -- identity -----------------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        """``GET /configuration/whoami``: the key's name and organization id."""
        return self.client.request("GET", "configuration/whoami").data

    @cached_property
    def organization_id(self) -> str:
        """The organization the API key belongs to (from whoami, once per hook)."""
        org = (self.whoami() or {}).get("organization_id")
        if not org:
            raise AddigyError("whoami returned no organization_id", method="GET", path="configuration/whoami")
        return str(org)

    def _org(self, path: str) -> str:
        return f"o/{quote(self.organization_id, safe='')}/{path}"

    def test_connection(self) -> tuple[bool, str]:
        """Check the API key with whoami (Airflow's Test button)."""
        try:
            me = self.whoami()
        except (ApiError, SiteError, ValueError) as exc:
            return False, str(exc)
        return (
            True,
            f"Connected to Addigy as {me.get('name', '?')} (organization {me.get('organization_id')})",
        )

    # -- policies and devices -----------------------------------------------------------------

    def list_policies(self, policy_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Policies (all, or the given ids) with ``connectwise_account_id`` (the MDM's own link)."""
        ids = [str(p) for p in policy_ids]
        return self._post_query("oa/policies/query", {"policies": ids} if ids else {}) or []

    def iter_policy_devices(
        self, policy_id: str, fact_identifiers: Sequence[str], *, per_page: int = DEVICES_PER_PAGE
    ) -> Iterator[dict[str, Any]]:
        """Every device of a policy with the given facts: all pages, proven complete first.

        The policy filter is the nested ``query.policy_id``; Addigy silently ignores a
        top-level one.

        :param policy_id: the Addigy policy id.
        :param fact_identifiers: the facts to read (duplicates dropped).
        :param per_page: page size asked for.
        :raises AddigyIncompleteReadError: the pages do not prove the read complete.
        """
        body = {
            "desired_fact_identifiers": list(dict.fromkeys(fact_identifiers)),
            "per_page": per_page,
            "query": {"policy_id": str(policy_id)},
        }
        yield from self._pages(self._org("devices"), body, key="agentid")

    def list_policy_devices(self, policy_id: str, fact_identifiers: Sequence[str]) -> list[dict[str, Any]]:
        """Every device of a policy, each tagged with ``policy_id`` (the sync's device records).

        :param policy_id: the Addigy policy id.
        :param fact_identifiers: the facts to read.
        :raises AddigyIncompleteReadError: the pages do not prove the read complete.
        """
        return [
            {**device, "policy_id": str(policy_id)}
            for device in self.iter_policy_devices(policy_id, fact_identifiers)
        ]

    def count_policy_devices(self, policy_id: str) -> int | None:
        """How many devices a policy has (``metadata.total`` of a one-device page; ``None`` if unknown).

        :param policy_id: the policy.
        """
        body = {
            "desired_fact_identifiers": [],
            "page": 1,
            "per_page": 1,
            "query": {"policy_id": str(policy_id)},
        }
        total = ((self._post_query(self._org("devices"), body) or {}).get("metadata") or {}).get("total")
        return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None

    def _pages(self, path: str, body: Mapping[str, Any], *, key: str) -> list[Any]:
        """Read every page of a paged query; return all items or raise -- never part of them.

        Each answer must be ``{items: [...], metadata: {page_count, total, ...}}`` with the same
        ``page_count`` and ``total`` on every page, full pages before the last, and as many items
        in all as ``total`` says, no item listed twice (a repeated or overlapping page). Two
        different records with one ``key`` are not a duplicate: two Macs can report one agent id.

        :raises AddigyIncompleteReadError: the answers do not prove the read complete.
        """
        reader = _PageReader(path, int(body.get("per_page") or 0), key)
        while reader.wants_more:
            reader.add(self._post_query(path, {**body, "page": reader.next_page}))
        return reader.items

    # -- alerts -------------------------------------------------------------------------------

    def iter_alerts(
        self,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        statuses: Iterable[str] = (),
        agent_ids: Iterable[str] = (),
        ids: Iterable[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Monitoring alerts (all pages, proven complete), filtered by time window, status, device or id.

        :raises AddigyIncompleteReadError: the pages do not prove the read complete.
        """
        query: dict[str, Any] = {}
        if start is not None:
            query["start_date"] = _iso(start)
        if end is not None:
            query["end_date"] = _iso(end)
        for key, values in (("statuses", statuses), ("agent_ids", agent_ids), ("ids", ids)):
            values = [str(v) for v in values]
            if values:
                query[key] = values
        body = {
            "per_page": ALERTS_PER_PAGE,
            "sort_field": "created_date",
            "sort_direction": "asc",
            "query": query,
        }
        yield from self._pages("oa/monitoring/alerts/query", body, key="id")

    def alert_action(self, action: str, alert_ids: Iterable[str]) -> Any:
        """Acknowledge, resolve or mute alerts (repeating it is harmless, so it is retried)."""
        if action not in ALERT_ACTIONS:
            raise ValueError(f"alert action must be one of {', '.join(ALERT_ACTIONS)}, not {action!r}")
        ids = [str(a) for a in alert_ids]
        if not ids:
            return None
        path = self._org(f"monitoring/alerts/{action}")
        return self.client.request("POST", path, json_body={"alert_ids": ids}, idempotent=True).data

    def resolve_alerts(self, alert_ids: Iterable[str]) -> Any:
        """Resolve alerts in Addigy (the direction Addigy itself does not do)."""
        return self.alert_action("resolve", alert_ids)


def _digest(item: Any) -> bytes | None:
    """A fingerprint of one decoded JSON item, ``None`` when it cannot be serialised."""
    try:
        text = json.dumps(item, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return None
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _count(value: Any) -> int | None:
    """A count from metadata: a non-negative integer (not a boolean), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


class _PageReader:
    """Check a paged read page by page, so that a read that is not provably whole raises."""

    def __init__(self, path: str, per_page: int, key: str) -> None:
        self.path = path
        self.requested = per_page
        self.key = key
        self.items: list[Any] = []
        self.next_page = 1
        self.shape: tuple[int, int, int] | None = None  # page_count, total, per_page of page 1
        self.seen: set[bytes | None] = set()

    @property
    def wants_more(self) -> bool:
        return self.shape is None or self.next_page <= self.shape[0]

    def fail(self, why: str) -> AddigyIncompleteReadError:
        return AddigyIncompleteReadError(
            f"the read cannot be proven complete at page {self.next_page}: {why}; nothing is planned from it",
            method="POST",
            path=self.path,
        )

    def add(self, answer: Any) -> None:
        page = self.next_page
        if not isinstance(answer, Mapping) or not isinstance(answer.get("metadata"), Mapping):
            raise self.fail("the answer has no metadata")
        items, meta = answer.get("items"), answer["metadata"]
        if not isinstance(items, list):
            raise self.fail(f"items is {type(items).__name__}, not a list")
        page_count, total = _count(meta.get("page_count")), _count(meta.get("total"))
        if page_count is None or total is None:
            raise self.fail("metadata lacks a page_count or total")
        per_page = _count(meta.get("per_page")) or self.requested
        shape = (page_count, total, per_page)
        if self.shape is None:
            expected = -(-total // per_page) if per_page else None
            if expected is None or (page_count != expected and not (total == 0 and page_count <= 1)):
                raise self.fail(f"page_count {page_count} does not fit total {total} at {per_page} per page")
            self.shape = shape
        elif shape != self.shape:
            raise self.fail(f"page_count/total/per_page changed from {self.shape} to {shape} while reading")
        if meta.get("page") is not None and meta.get("page") != page:
            raise self.fail(f"asked for page {page}, got page {meta.get('page')!r}")
        if _count(meta.get("result_count")) not in (None, len(items)):
            raise self.fail(f"result_count {meta.get('result_count')!r} but {len(items)} items")
        last = page >= max(page_count, 1)
        wanted = total - per_page * (page - 1) if last else per_page
        if len(items) != wanted:
            raise self.fail(
                f"{len(items)} items on page {page} of {page_count}, expected {wanted} (total {total})"
            )
        for item in items:
            digest = _digest(item)
            if digest is not None and digest in self.seen:
                ident = item.get(self.key) if isinstance(item, Mapping) else None
                raise self.fail(f"the same item ({self.key} {printable(repr(ident), 60)}) is listed twice")
            self.seen.add(digest)
        self.items.extend(items)
        self.next_page = page + 1
        if last:
            self.next_page = max(page_count, 1) + 1


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("alert query datetimes must be timezone-aware")
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
