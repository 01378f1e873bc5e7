"""What comes back from a service, read the same way by the sync and the async client.

A raw answer (status, headers, text) becomes an :class:`ApiResponse` with parsed JSON and
``Link`` targets, or the service's own exception class (:class:`ErrorFamily`) with ConnectWise's
or Addigy's ``code``, ``message`` and field ``errors``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from airflow_provider_connectwise.exceptions import ApiError, TransportError


@dataclass
class ApiResponse:
    """A parsed answer: status, headers, JSON ``data`` (``None`` when empty) and ``Link`` targets."""

    status: int
    headers: Mapping[str, str]
    data: Any
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RawAnswer:
    """An answer as the transport handed it over, with the request it answers."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    text: str


def answer_text(content: bytes, headers: Mapping[str, str]) -> str:
    """The answer's body as text: the charset its ``Content-Type`` names, else UTF-8.

    Not ``requests``' ``Response.text``: without a charset it *guesses* the encoding from the bytes
    (charset_normalizer), and a body of mostly non-Latin text (a device named in CJK or with
    astral characters) came back as mojibake, so a configuration never looked like what was
    written and every sync patched it again. JSON is UTF-8 (RFC 8259, section 8.1); a BOM is
    dropped, and bytes that are not UTF-8 are replaced rather than misread.
    """
    charset = ""
    for part in (headers.get("content-type") or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if charset and charset not in ("utf-8", "utf8"):
        try:
            return content.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know: the JSON default
            pass
    return content.decode("utf-8-sig", errors="replace")


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


def error_from_response(family: ErrorFamily, answer: RawAnswer) -> ApiError:
    """Build the right exception from an error response."""
    where: dict[str, Any] = {"method": answer.method, "path": answer.path, "status": answer.status}
    text = answer.text or ""
    for marker, cls in family.text_errors:
        if text.lstrip().startswith(marker):
            return cls(_text_excerpt(text), **where)
    try:
        body: Any = json.loads(text) if text else None
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
    cls = family.for_status(answer.status)
    return cls(
        str(message or _text_excerpt(text) or f"HTTP {answer.status}"),
        **where,
        code=str(code) if code is not None else None,
        errors=errors,
        hint=family.auth_hint if cls is family.auth else None,
        retry_after=parse_retry_after(answer.headers.get("Retry-After")) if answer.status == 429 else None,
    )


def parse_answer(family: ErrorFamily, answer: RawAnswer) -> ApiResponse:
    """Turn a raw answer into an ``ApiResponse`` or raise the mapped error."""
    text = answer.text or ""
    if answer.status >= 300 or any(text.lstrip().startswith(m) for m, _ in family.text_errors):
        raise error_from_response(family, answer)
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        raise family.server(
            f"expected JSON, got {_text_excerpt(text, 120)!r}",
            method=answer.method,
            path=answer.path,
            status=answer.status,
        ) from None
    return ApiResponse(
        status=answer.status,
        headers=answer.headers,
        data=data,
        links=link_targets(answer.headers.get("Link")),
    )


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


def _text_excerpt(text: str, limit: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
