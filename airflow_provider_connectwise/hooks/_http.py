"""The one request path every hook uses: session, rate budget, retries, error mapping, paging.

Shared by the ConnectWise and Addigy hooks (sync, ``requests``) and by the triggers (async,
``httpx``): URL building, headers, the retry rule (:mod:`._retry`), the rate budget
(:mod:`._rate`) and the reading of answers and errors (:mod:`._answers`) exist once; only the
send differs. A POST that may have been applied (its answer was lost) is never re-sent
blindly: the caller's ``find_existing`` looks first, and without one the request fails with
:class:`~airflow_provider_connectwise.exceptions.ResponseLostError`.

The names of those rooms stay importable from here (``RateBudget``, ``RetryPolicy``,
``is_retryable``, ``parse_retry_after`` …), as hooks, tests and the bench import them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
import tenacity
from requests.adapters import HTTPAdapter

from airflow_provider_connectwise.exceptions import ApiError, ServerError, TransportError
from airflow_provider_connectwise.hooks._answers import (
    ApiResponse,
    ErrorFamily,
    RawAnswer,
    answer_text,
    error_from_response,
    link_targets,
    parse_answer,
    parse_retry_after,
    query_param,
    tls_error,
)
from airflow_provider_connectwise.hooks._rate import RateBudget
from airflow_provider_connectwise.hooks._retry import RetryPolicy, is_retryable, stop_for, wait_for

__all__ = [
    "ApiResponse",
    "AsyncRestClient",
    "ErrorFamily",
    "RateBudget",
    "RawAnswer",
    "RestClient",
    "RetryPolicy",
    "error_from_response",
    "is_retryable",
    "link_targets",
    "parse_answer",
    "parse_retry_after",
    "query_param",
    "tls_error",
]

log = logging.getLogger(__name__)

USER_AGENT = "airflow-provider-connectwise"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


# --- the client --------------------------------------------------------------------------------


class _ServiceClient:
    """What the sync and the async client share: where to send, which headers, which errors."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        family: ErrorFamily,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url
        self.family = family
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._headers = {"User-Agent": USER_AGENT, **headers}

    def __repr__(self) -> str:  # never show headers: they hold credentials
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    @property
    def host(self) -> str:
        """``host[:port]`` of the service, for errors that got no answer (the URL has no credentials)."""
        return urlsplit(self.base_url).netloc.rpartition("@")[2]


class RestClient(_ServiceClient):
    """One pooled session to one service, with the shared retry path, budget and errors.

    :param base_url: prefix for every request path, ending in ``/``.
    :param headers: sent on every request (auth included; never logged or quoted).
    :param family: the service's exception classes.
    :param timeout: seconds for connect and for each read; reaches every transport call.
    :param retry: the retry policy.
    :param budget: requests-per-minute budget shared by this account's clients, or None.
    :param max_connections: connection-pool size (match the write concurrency).
    :param session: a ready ``requests.Session`` (tests); a pooled one is made otherwise.
    """

    def __init__(
        self,
        *,
        budget: RateBudget | None = None,
        max_connections: int = 16,
        session: requests.Session | None = None,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.budget = budget or RateBudget(None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max_connections, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        self.sleep: Callable[[float], None] = time.sleep  # tests replace it to skip real waits

    # -- one request, with retries --

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        find_existing: Callable[[], Any] | None = None,
        idempotent: bool | None = None,
    ) -> ApiResponse:
        """Send a request with the retry rule; return the parsed answer or raise ``ApiError``.

        :param method: HTTP method.
        :param path: path under ``base_url``.
        :param params: query parameters.
        :param json_body: JSON body.
        :param headers: extra headers for this request.
        :param find_existing: for a non-idempotent request (POST): called before re-sending
            when an earlier attempt may have been applied; a non-None result is returned as
            the answer's ``data`` instead of sending again.
        :param idempotent: override for POSTs that only read (search and query endpoints).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        maybe_applied = False

        def attempt() -> ApiResponse:
            nonlocal maybe_applied
            if maybe_applied and find_existing is not None:
                found = find_existing()
                if found is not None:
                    log.info("%s %s: the earlier attempt was applied; using it", method, path)
                    return ApiResponse(status=200, headers={}, data=found)
            try:
                return self._send(method, path, params=params, json_body=json_body, headers=headers)
            except ApiError as error:
                if not idempotent and _may_have_applied(error):
                    if find_existing is None:
                        raise self.family.response_lost(
                            f"the answer was lost ({error.message}); the {method} may have been "
                            "applied, so it is not re-sent without a look-up",
                            method=method,
                            path=path,
                            status=error.status,
                        ) from error
                    maybe_applied = True
                raise

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_retryable),
            stop=stop_for(self.retry),
            wait=wait_for(self.retry),
            sleep=lambda seconds: self.sleep(seconds),
            before_sleep=_log_retry,
            reraise=True,
        )
        return retrying(attempt)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> ApiResponse:
        self.budget.acquire()
        merged = {**self._headers, **(headers or {})}
        try:
            response = self.session.request(
                method,
                self.url(path),
                params=params,
                json=json_body,
                headers=merged,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as error:
            raise self._transport_error(error, method, path) from None
        return self._parse(response, method, path)

    def _parse(self, response: requests.Response, method: str, path: str) -> ApiResponse:
        return parse_answer(
            self.family,
            RawAnswer(
                method,
                path,
                response.status_code,
                response.headers,
                answer_text(response.content, response.headers),
            ),
        )

    def _transport_error(self, error: Exception, method: str, path: str) -> TransportError:
        if isinstance(error, requests.exceptions.SSLError):
            return tls_error(self.family, method, path, self.host)
        sent = not _never_sent(error)
        kind = type(error).__name__
        return self.family.transport(
            f"{kind} after {self.timeout:g}s timeout" if "Timeout" in kind else f"{kind}: connection failed",
            method=method,
            path=path,
            sent=sent,
            host=self.host,
        )

    # -- paging --

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        forward_only: bool = False,
        page_size: int = 1000,
    ) -> Iterator[Any]:
        """Yield every item of a ConnectWise list, page after page.

        Conditions, ``fields`` and every other parameter are sent on every page. Forward-only
        paging (``pagination-type: forward-only``, ``pageId`` from the ``Link`` next) is stable
        while records are inserted; numbered pages are used elsewhere.

        :param path: the list's path.
        :param params: query parameters kept on every page.
        :param forward_only: page by id instead of by page number.
        :param page_size: items per page (ConnectWise's maximum is 1000).
        """
        base = {k: v for k, v in (params or {}).items() if v is not None}
        base["pageSize"] = page_size
        headers = {"pagination-type": "forward-only"} if forward_only else None
        page, page_id = 1, None
        while True:
            query = dict(base)
            if forward_only:
                if page_id is not None:
                    query["pageId"] = page_id
            else:
                query["page"] = page
            answer = self.request("GET", path, params=query, headers=headers)
            items = answer.data or []
            yield from items
            next_url = answer.links.get("next")
            if not next_url or not items:
                return
            if forward_only:
                page_id = query_param(next_url, "pageId") or items[-1].get("id")
            else:
                page += 1


class AsyncRestClient(_ServiceClient):
    """The async twin of :class:`RestClient` for triggers: same URLs, headers, errors, retry rule.

    Only the send differs (``httpx.AsyncClient``); it never blocks the event loop. Used for
    reads (triggers poll), so it has no ``find_existing`` path.

    :param base_url: prefix for every request path, ending in ``/``.
    :param headers: sent on every request (never logged).
    :param family: the service's exception classes.
    :param timeout: seconds per request.
    :param retry: the retry policy.
    :param budget: requests-per-minute budget shared by the triggers of this process, or None.
    :param transport: an httpx transport (tests); the default opens real connections.
    """

    def __init__(
        self,
        *,
        budget: RateBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.budget = budget or RateBudget(None)
        self._transport = transport  # tests inject httpx.MockTransport

    async def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> ApiResponse:
        """Send an idempotent request with the shared retry rule; return the parsed answer."""
        method = method.upper()
        if method not in IDEMPOTENT_METHODS:
            raise ValueError(f"AsyncRestClient only sends idempotent requests, not {method}")
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(is_retryable),
            stop=stop_for(self.retry),
            wait=wait_for(self.retry),
            before_sleep=_log_retry,
            reraise=True,
        )
        async with httpx.AsyncClient(
            headers=self._headers, timeout=self.timeout, transport=self._transport
        ) as session:
            async for attempt in retrying:
                with attempt:
                    # reserve() never blocks: the wait happens on the event loop
                    await asyncio.sleep(self.budget.reserve())
                    try:
                        response = await session.request(method, self.url(path), params=params)
                    except httpx.HTTPError as error:
                        if _is_tls_failure(error):
                            raise tls_error(self.family, method, path, self.host) from None
                        sent = not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                        raise self.family.transport(
                            f"{type(error).__name__}: no usable answer",
                            method=method,
                            path=path,
                            sent=sent,
                            host=self.host,
                        ) from None
                    return parse_answer(
                        self.family,
                        RawAnswer(
                            method,
                            path,
                            response.status_code,
                            response.headers,
                            answer_text(response.content, response.headers),
                        ),
                    )
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


def _is_tls_failure(error: BaseException) -> bool:
    import ssl

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _may_have_applied(error: ApiError) -> bool:
    if isinstance(error, TransportError):
        return error.sent
    return isinstance(error, ServerError)


def _never_sent(error: Exception) -> bool:
    """True when the connection could not even be opened (nothing reached the service)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = error.args[0] if error.args else None
        inner = getattr(reason, "reason", reason)
        import urllib3.exceptions as u3

        return isinstance(inner, u3.NewConnectionError | u3.NameResolutionError)
    return False


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "attempt %d failed (%s); retrying in %.1fs",
        state.attempt_number,
        error,
        state.upcoming_sleep,
    )
