"""The one request path every hook uses: session, rate budget, retries, error mapping, paging.

Shared by the ConnectWise and Addigy hooks (sync, ``requests``) and by the triggers (async,
``httpx``): URL building, headers, the retry rule and error mapping exist once here; only the
send differs.

Retry rule (:func:`is_retryable`): 429 (waiting ``Retry-After`` when given, JSON body or not),
502/503/504, a 500 whose text says timeout, and transport failures. 400/401/403/404/409 are
never retried. A POST that may have been applied (its answer was lost) is never re-sent
blindly: the caller's ``find_existing`` looks first, and without one the request fails with
:class:`~airflow_provider_connectwise.exceptions.ResponseLostError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import requests
import tenacity
from requests.adapters import HTTPAdapter

from airflow_provider_connectwise import exceptions as exc_mod
from airflow_provider_connectwise.exceptions import (
    ApiError,
    RateLimitedError,
    ServerError,
    TransportError,
)

log = logging.getLogger(__name__)

USER_AGENT = "airflow-provider-connectwise"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


# --- retry policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on one request.

    :param max_attempts: attempts in total, the first included.
    :param initial_wait: base of the exponential backoff, in seconds.
    :param max_wait: cap on one backoff wait (a longer ``Retry-After`` is still honoured,
        within ``max_total_wait``).
    :param max_total_wait: give up when the next wait would pass this many seconds in total.
    """

    max_attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 20.0
    max_total_wait: float = 120.0

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): ``Retry-After``, else full jitter."""
        if retry_after is not None and retry_after >= 0:
            return retry_after
        ceiling = min(self.max_wait, self.initial_wait * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed request may succeed if sent again (the retry rule, in one place)."""
    if isinstance(exc, TransportError):
        return exc.retryable and not isinstance(exc, exc_mod.ResponseLostError)
    if isinstance(exc, RateLimitedError):
        return True
    if isinstance(exc, ServerError):
        return exc.retryable
    return False


# --- rate budget -------------------------------------------------------------------------------


class RateBudget:
    """A requests-per-minute budget shared by every thread of a process for one account.

    Requests are spaced ``60 / per_minute`` seconds apart, so no 60-second window ever holds
    more than ``per_minute`` of them (a burst allowance would let two windows' worth through).

    :param per_minute: the budget; ``None`` or ``0`` means unlimited.
    """

    _shared: dict[str, RateBudget] = {}
    _shared_lock = threading.Lock()

    def __init__(self, per_minute: float | None) -> None:
        self.per_minute = per_minute or 0
        self._interval = 60.0 / self.per_minute if self.per_minute else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, key: str, per_minute: float | None) -> RateBudget:
        """Return the process-wide budget for ``key`` (e.g. an API host and company)."""
        with cls._shared_lock:
            budget = cls._shared.get(key)
            if budget is None or budget.per_minute != (per_minute or 0):
                budget = cls._shared[key] = cls(per_minute)
            return budget

    def reserve(self) -> float:
        """Claim the next slot; return how many seconds the caller must wait for it."""
        if not self._interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
            return slot - now

    def acquire(self) -> None:
        """Block until the next slot (thread-safe)."""
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)


# --- responses and error mapping ---------------------------------------------------------------


@dataclass
class ApiResponse:
    """A parsed answer: status, headers, JSON ``data`` (``None`` when empty) and ``Link`` targets."""

    status: int
    headers: Mapping[str, str]
    data: Any
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorFamily:
    """The exception classes one service raises, by kind."""

    base: type[ApiError]
    auth: type[ApiError]
    not_found: type[ApiError]
    validation: type[ApiError]
    conflict: type[ApiError]
    rate_limited: type[ApiError]
    server: type[ApiError]
    transport: type[TransportError]
    response_lost: type[TransportError]
    auth_hint: str = ""
    # A plain-text answer that means a specific error whatever the status (ConnectWise answers
    # "Cannot route. Codebase/company is invalid" for a wrong company or codebase).
    text_errors: tuple[tuple[str, type[ApiError]], ...] = ()

    def for_status(self, status: int) -> type[ApiError]:
        if status in (401, 403):
            return self.auth
        if status == 404:
            return self.not_found
        if status == 409:
            return self.conflict
        if status == 429:
            return self.rate_limited
        if status >= 500:
            return self.server
        if status >= 400:
            return self.validation
        return self.base


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_response(
    family: ErrorFamily,
    *,
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str],
    text: str,
) -> ApiError:
    """Build the right exception from an error response (used by the sync and async sends)."""
    for marker, cls in family.text_errors:
        if (text or "").lstrip().startswith(marker):
            return cls(_text_excerpt(text), method=method, path=path, status=status)
    body: Any = None
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    code = message = None
    errors: list[Mapping[str, Any]] = []
    if isinstance(body, dict):
        code = body.get("code") or body.get("error")
        message = body.get("message")
        raw_errors = body.get("errors")
        if isinstance(raw_errors, list):
            errors = [e for e in raw_errors if isinstance(e, dict)]
    if code is not None:
        code = str(code)
    if not message:
        message = _text_excerpt(text) or f"HTTP {status}"
    cls = family.for_status(status)
    hint = family.auth_hint if cls is family.auth else None
    retry_after = parse_retry_after(headers.get("Retry-After")) if status == 429 else None
    return cls(
        str(message),
        method=method,
        path=path,
        status=status,
        code=code,
        errors=errors,
        hint=hint,
        retry_after=retry_after,
    )


def parse_answer(
    family: ErrorFamily,
    *,
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str],
    text: str,
) -> ApiResponse:
    """Turn a raw answer into an ``ApiResponse`` or raise the mapped error (sync and async)."""
    if status >= 300 or any((text or "").lstrip().startswith(m) for m, _ in family.text_errors):
        raise error_from_response(family, method=method, path=path, status=status, headers=headers, text=text)
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        raise family.server(
            f"expected JSON, got {_text_excerpt(text, 120)!r}", method=method, path=path, status=status
        ) from None
    return ApiResponse(status=status, headers=headers, data=data, links=link_targets(headers.get("Link")))


def _text_excerpt(text: str, limit: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def link_targets(link_header: str | None) -> dict[str, str]:
    """Parse an RFC 5988 ``Link`` header into ``{rel: url}``."""
    if not link_header:
        return {}
    return {
        link["rel"]: link["url"]
        for link in requests.utils.parse_header_links(link_header)
        if link.get("rel") and link.get("url")
    }


def query_param(url: str, name: str) -> str | None:
    """One query parameter of a URL (e.g. ``pageId`` from a ``Link`` next)."""
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


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
            stop=_stop(self.retry),
            wait=_wait(self.retry),
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
            method=method,
            path=path,
            status=response.status_code,
            headers=response.headers,
            text=response.text,
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
            stop=_stop(self.retry),
            wait=_wait(self.retry),
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
                        method=method,
                        path=path,
                        status=response.status_code,
                        headers=response.headers,
                        text=response.text,
                    )
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


def tls_error(family: ErrorFamily, method: str, path: str, host: str | None = None) -> TransportError:
    """The server's certificate did not verify: not retried (waiting does not fix it)."""
    return family.transport(
        "TLS certificate verification failed: the server is not who it claims to be, or its "
        "certificate authority is not trusted here (REQUESTS_CA_BUNDLE / SSL_CERT_FILE)",
        method=method,
        path=path,
        sent=False,
        retryable=False,
        host=host,
    )


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


def _wait(policy: RetryPolicy):
    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.backoff(state.attempt_number, getattr(error, "retry_after", None))

    return wait


def _stop(policy: RetryPolicy):
    # tenacity computes the wait first: ``upcoming_sleep`` is the next wait, ``idle_for`` the
    # time already spent waiting for this request.
    def stop(state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        return state.idle_for + state.upcoming_sleep > policy.max_total_wait

    return stop


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "attempt %d failed (%s); retrying in %.1fs",
        state.attempt_number,
        error,
        state.upcoming_sleep,
    )
