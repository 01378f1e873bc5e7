"""One error hierarchy for every service the provider talks to.

``ApiError`` carries the structured facts (service, method, path, status, code, message, field
errors); the *kind* of failure is a mixin class (``AuthError``, ``NotFoundError`` …) and the
*service* is a root (``ConnectWiseError``, ``AddigyError``). Callers catch types, never message
text::

    except ConnectWiseValidationError as exc:   # 400 from ConnectWise
        for err in exc.errors: ...
    except RateLimitedError:                     # 429 from either service

Messages name method, path, status and the server's code/message. They never contain a
credential: the request path is logged without its query string and no header is ever quoted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ApiError(Exception):
    """Root of every error raised for a request to an outside service.

    :param message: what went wrong, in words a person can act on.
    :param method: HTTP method of the request.
    :param path: request path without the query string.
    :param status: HTTP status, when a response arrived.
    :param code: the service's own error code (ConnectWise ``code``, e.g. ``InvalidObject``).
    :param errors: the service's field errors (ConnectWise ``errors[]``).
    :param hint: what to check next.
    :param retry_after: seconds the service asked us to wait (429).
    :param host: the host (and port) the request went to; set when no answer came back, since
        then the host is what to check (never credentials: URLs here carry none).
    """

    service = "API"

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        code: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        hint: str | None = None,
        retry_after: float | None = None,
        host: str | None = None,
    ) -> None:
        if not message:
            message = f"HTTP {status}" if status else "request failed"
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.errors = [dict(e) for e in errors]
        self.hint = hint
        self.retry_after = retry_after
        self.host = host
        super().__init__(str(self))

    def __str__(self) -> str:
        where = " ".join(p for p in (self.method, self.path) if p)
        head = f"{self.service} {where}".rstrip()
        if getattr(self, "host", None):  # getattr: errors pickled before the field existed
            head += f" on {self.host}"
        if self.status is not None:
            head += f" -> {self.status}"
        text = f"{head}: {self.code + ': ' if self.code else ''}{self.message}"
        if self.errors:
            details = "; ".join(_describe_field_error(e) for e in self.errors)
            text += f" [{details}]"
        if self.hint:
            text += f" Hint: {self.hint}"
        return text

    def __reduce__(self):  # keep structured fields across pickling (Airflow ships exceptions around)
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[ApiError], state: dict[str, Any]) -> ApiError:
    exc = cls.__new__(cls)
    exc.__dict__.update(state)
    Exception.__init__(exc, str(exc))
    return exc


def _describe_field_error(err: Mapping[str, Any]) -> str:
    field = err.get("field") or err.get("resource") or "?"
    return f"{field}: {err.get('message') or err.get('code') or 'invalid'}"


# --- kinds -------------------------------------------------------------------------------------


class AuthError(ApiError):
    """401/403: credentials or permissions are wrong. Never retried."""


class NotFoundError(ApiError):
    """404: the entity or route does not exist. Never retried."""


class ValidationError(ApiError):
    """400: the service refused the request body or query. Never retried."""


class ConflictError(ApiError):
    """409: the request conflicts with the entity's state. Never retried."""


class RateLimitedError(ApiError):
    """429: too many requests; ``retry_after`` says how long the service asked us to wait."""


class ServerError(ApiError):
    """5xx: the service failed. Retried when ``retryable`` (502/503/504, or a 500 timeout)."""

    @property
    def retryable(self) -> bool:
        if self.status in (502, 503, 504):
            return True
        return self.status == 500 and "timeout" in (self.message or "").lower()


class TransportError(ApiError):
    """No usable response: connection refused/reset, timeout.

    ``sent`` is False only when the request certainly never reached the service (the connection
    could not be opened); otherwise a write may have been applied although we saw no answer.
    """

    def __init__(self, message: str, *, sent: bool = True, retryable: bool = True, **kwargs: Any) -> None:
        self.sent = sent
        self.retryable = retryable  # False for what waiting cannot fix (a certificate that does not verify)
        super().__init__(message, **kwargs)


class ResponseLostError(TransportError):
    """A create may have been applied but its answer was lost, and nobody could look first.

    Raised instead of blindly re-sending a POST; callers that can look the entity up pass a
    ``find_existing`` callable to the hook and never see this.
    """


# --- services ----------------------------------------------------------------------------------


class ConnectWiseError(ApiError):
    """Root of errors from ConnectWise PSA (Manage)."""

    service = "ConnectWise"


class ConnectWiseAuthError(ConnectWiseError, AuthError):
    """ConnectWise refused the credentials (401) or the API member's security role (403)."""


class ConnectWiseNotFoundError(ConnectWiseError, NotFoundError):
    """ConnectWise answered 404 (on cloud servers this can also mean bad credentials)."""


class ConnectWiseValidationError(ConnectWiseError, ValidationError):
    """ConnectWise answered 400; ``errors`` holds its field list."""


class ConnectWiseConflictError(ConnectWiseError, ConflictError):
    """ConnectWise answered 409."""


class ConnectWiseRateLimitedError(ConnectWiseError, RateLimitedError):
    """ConnectWise answered 429 (its own JSON body, or a bare Cloudflare page)."""


class ConnectWiseServerError(ConnectWiseError, ServerError):
    """ConnectWise answered 5xx."""


class ConnectWiseTransportError(ConnectWiseError, TransportError):
    """No usable answer from ConnectWise."""


class ConnectWiseResponseLostError(ConnectWiseTransportError, ResponseLostError):
    """A ConnectWise create may have been applied but its answer was lost."""


class ConnectWiseRoutingError(ConnectWiseError, NotFoundError):
    """``Cannot route. Codebase/company is invalid``: wrong company id or codebase."""


class AddigyError(ApiError):
    """Root of errors from the Addigy API."""

    service = "Addigy"


class AddigyAuthError(AddigyError, AuthError):
    """Addigy refused the API key."""


class AddigyNotFoundError(AddigyError, NotFoundError):
    """Addigy answered 404."""


class AddigyValidationError(AddigyError, ValidationError):
    """Addigy answered 400."""


class AddigyConflictError(AddigyError, ConflictError):
    """Addigy answered 409."""


class AddigyRateLimitedError(AddigyError, RateLimitedError):
    """Addigy answered 429."""


class AddigyServerError(AddigyError, ServerError):
    """Addigy answered 5xx."""


class AddigyTransportError(AddigyError, TransportError):
    """No usable answer from Addigy."""


class AddigyResponseLostError(AddigyTransportError, ResponseLostError):
    """An Addigy write may have been applied but its answer was lost."""


class AddigyIncompleteReadError(AddigyTransportError):
    """A paged Addigy read could not be proven complete (page counts, totals, short or repeated pages).

    Raised instead of returning part of a list: devices missing from a short read would look
    removed. Transient like a lost answer (the set may have changed while it was read), so the
    task is retried; nothing is planned from it.
    """
