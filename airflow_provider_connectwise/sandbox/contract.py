"""Validate ConnectWise requests against the official OpenAPI subset (openapi-core).

Used by the sandbox's strict mode and by other tests on requests captured with requests-mock::

    from airflow_provider_connectwise.sandbox.contract import ContractViolation, validate_connectwise_request

    for req in requests_mock.request_history:
        validate_connectwise_request(req.method, req.url, req.headers, req.body)

What is checked, beyond what the document says literally:

* the URL has ``/{codebase}/apis/3.0/`` with a ``v2025_1``-like codebase (or ``v4_6_release``);
* ``Authorization: Basic base64("{company}+{public}:{private}")`` is present and well formed
  (``validate_connectwise_request`` only; the server checks the actual keys itself);
* query parameters the operation does not declare are refused (the real API ignores some of them,
  but a client sending them has a bug) and so are body members the schema does not declare (the real
  API silently drops them, losing data);
* a body needs ``Content-Type: application/json``.

The document is loaded and the openapi-core objects are built once per process (module cache); a
validation costs well under a millisecond.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .spec import connectwise_spec

__all__ = [
    "ContractViolation",
    "OperationMatch",
    "check_request",
    "match_operation",
    "spec_templates",
    "validate_connectwise_request",
]

CODEBASE_RE = re.compile(r"v\d+_\d+(?:_release)?")
_API_MARKER = "apis/3.0"


class ContractViolation(Exception):
    """The request would not be accepted under the official contract; the message says why."""

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None):
        self.reason = message
        self.method = method
        self.path = path
        where = f"{method} {path}: " if method and path else ""
        super().__init__(f"{where}{message}")


# ------------------------------------------------------------------ path matching


@dataclass(frozen=True)
class OperationMatch:
    """A concrete path matched to a spec path template."""

    template: str
    path_params: dict[str, str]
    methods: tuple[str, ...]


@lru_cache(maxsize=1)
def _path_table() -> list[tuple[re.Pattern[str], str, tuple[str, ...]]]:
    table = []
    for template, item in connectwise_spec()["paths"].items():
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "/?$"
        methods = tuple(m.upper() for m in item if m in ("get", "post", "put", "patch", "delete"))
        literal_segments = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
        table.append((literal_segments, template, re.compile(regex), methods))
    table.sort(key=lambda t: (-t[0], t[1]))
    return [(rx, tpl, methods) for _, tpl, rx, methods in table]


def spec_templates() -> list[str]:
    """Every path template of the document (relative to ``apis/3.0``)."""
    return [tpl for _, tpl, _ in _path_table()]


def match_operation(path: str) -> OperationMatch | None:
    """Match ``/company/configurations/12`` to ``/company/configurations/{id}`` (literal paths first)."""
    for rx, template, methods in _path_table():
        m = rx.match(path)
        if m:
            return OperationMatch(template, {k: unquote(v) for k, v in m.groupdict().items()}, methods)
    return None


# ------------------------------------------------------------------ openapi-core, built once


@lru_cache(maxsize=1)
def _openapi() -> Any:
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(connectwise_spec())


@lru_cache(maxsize=1)
def _validator() -> Any:
    """A V30 request validator with caches (path look-up, schema validators, parameter lists)."""
    from .contract_validator import CachedRequestValidator

    return CachedRequestValidator(_openapi().spec, forbid_unspecified_additional_properties=True)


@cache
def _declared_query_params(template: str, method: str) -> frozenset[str]:
    item = connectwise_spec()["paths"][template]
    op = item.get(method.lower(), {})
    params = [*item.get("parameters", []), *op.get("parameters", [])]
    return frozenset(p["name"] for p in params if p.get("in") == "query")


@cache
def _has_body(template: str, method: str) -> bool:
    return "requestBody" in connectwise_spec()["paths"][template].get(method.lower(), {})


class _Request:
    """The minimal request object openapi-core needs (path pattern supplied: no path finding)."""

    host_url = "http://sandbox"

    def __init__(
        self,
        method: str,
        path: str,
        template: str,
        path_params: Mapping[str, str],
        query: Any,
        headers: Any,
        body: bytes | None,
        content_type: str,
    ):
        from openapi_core.datatypes import RequestParameters

        self.method = method.lower()
        self.path = path
        self.path_pattern = template
        self.body = body
        self.content_type = content_type
        self.parameters = RequestParameters(path=dict(path_params), query=query, header=headers)


# ------------------------------------------------------------------ public API


def check_request(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes | None,
) -> OperationMatch:
    """Validate one request whose ``path`` is relative to ``apis/3.0`` (e.g. ``/company/configurations``).

    Raises ``ContractViolation``; returns the matched operation.
    """
    from werkzeug.datastructures import Headers, ImmutableMultiDict

    method = method.upper()
    match = _operation(method, path)
    _check_query(method, path, match, query)
    header_obj = Headers(list(headers.items()))
    content_type = (header_obj.get("Content-Type") or "").lower()
    _check_body(method, path, match, content_type, body)
    request = _Request(
        method,
        path,
        match.template,
        match.path_params,
        ImmutableMultiDict(list(query)),
        header_obj,
        body or None,
        content_type or "application/json",
    )
    errors = list(_validator().iter_errors(request))
    if errors:
        raise ContractViolation("; ".join(_describe(e) for e in errors), method=method, path=path)
    return match


def _operation(method: str, path: str) -> OperationMatch:
    match = match_operation(path)
    if match is None:
        raise ContractViolation(
            f"no such path in the ConnectWise API document: {path}", method=method, path=path
        )
    if method not in match.methods:
        raise ContractViolation(
            f"{method} is not an operation of {match.template} (allowed: {', '.join(match.methods)})",
            method=method,
            path=path,
        )
    return match


def _check_query(method: str, path: str, match: OperationMatch, query: Sequence[tuple[str, str]]) -> None:
    declared = _declared_query_params(match.template, method)
    unknown = sorted({name for name, _ in query if name not in declared})
    if unknown:
        raise ContractViolation(
            f"unknown query parameter(s) {', '.join(unknown)} for {method} {match.template} "
            f"(declared: {', '.join(sorted(declared)) or 'none'})",
            method=method,
            path=path,
        )


def _check_body(method: str, path: str, match: OperationMatch, content_type: str, body: bytes | None) -> None:
    if not _has_body(match.template, method):
        return
    if not body:
        raise ContractViolation("a JSON request body is required", method=method, path=path)
    mimetype = content_type.split(";")[0].strip()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ContractViolation(
            f"the body needs Content-Type: application/json (got {content_type or 'none'})",
            method=method,
            path=path,
        )


def split_api_url(url: str) -> tuple[str, str, list[tuple[str, str]]]:
    """``(codebase, path relative to apis/3.0, query pairs)`` of a full ConnectWise API URL."""
    parts = urlsplit(url)
    full_path = parts.path
    idx = full_path.find(_API_MARKER)
    if idx < 0:
        raise ContractViolation(f"not a ConnectWise API URL (no '{_API_MARKER}' segment): {url}")
    prefix = full_path[:idx].strip("/")
    rest = full_path[idx + len(_API_MARKER) :] or "/"
    return prefix, rest, parse_qsl(parts.query, keep_blank_values=True)


def validate_connectwise_request(
    method: str, url: str, headers: Mapping[str, str] | None, body: bytes | str | None
) -> None:
    """Validate a request exactly as a client sent it; raise ``ContractViolation`` with a readable message.

    :param method: HTTP method.
    :param url: the full URL, e.g. ``https://api-na.myconnectwise.net/v2025_1/apis/3.0/company/configurations?pageSize=1000``.
    :param headers: request headers (any mapping; names are matched case-insensitively).
    :param body: the raw body (bytes or str) or ``None``.
    """
    codebase, path, query = split_api_url(url)
    method = method.upper()
    if not CODEBASE_RE.fullmatch(codebase):
        raise ContractViolation(
            f"the URL must be /{{codebase}}/apis/3.0/... with a codebase like v2025_1 or v4_6_release, got '/{codebase}/'",
            method=method,
            path=path,
        )
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    _check_authorization(lowered.get("authorization"), method, path)
    if isinstance(body, str):
        body = body.encode("utf-8")
    check_request(method, path, query, headers or {}, body)


def _check_authorization(value: str | None, method: str, path: str) -> None:
    if not value:
        raise ContractViolation("missing Authorization header", method=method, path=path)
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic" or not token:
        raise ContractViolation(
            "Authorization must be Basic base64(company+publicKey:privateKey)", method=method, path=path
        )
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ContractViolation(
            "Authorization Basic token is not valid base64", method=method, path=path
        ) from None
    user, sep, private = decoded.partition(":")
    company, plus, public = user.partition("+")
    if not sep or not plus or not company or not public or not private:
        raise ContractViolation(
            "Authorization must encode 'company+publicKey:privateKey'", method=method, path=path
        )


def _describe(error: BaseException) -> str:
    cause = error.__cause__
    schema_errors: Iterable[Any] = (
        getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None) or ()
    )
    name, location = getattr(error, "name", None), getattr(error, "location", None)
    subject = f"{location} parameter {name}" if name and location else "body"
    parts = []
    for err in schema_errors:
        where = "/".join(str(p) for p in getattr(err, "absolute_path", []))
        parts.append(
            f"{subject} {where or '(root)'}: {err.message}"
            if subject == "body"
            else f"{subject}: {err.message}"
        )
    if parts:
        return "; ".join(parts)
    text = str(error)
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text} ({cause})"
    return text


def parse_json_body(body: bytes | str | None) -> Any:
    """Helper for tests: decode a captured body (``None`` for no body)."""
    if body in (None, b"", ""):
        return None
    return json.loads(body)
