"""Helpers shared by the route modules: responses, JSON bodies, query parameters, authentication."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ..config import API_VERSION, Credentials
from ..exceptions import AddigyError, BadRequest, CannotRoute, ClientIdRequired, Unauthorized
from ..runtime import Runtime

CW_JSON = "application/json; charset=utf-8"
CW_VND = f"application/vnd.connectwise.com+json; version={API_VERSION}"

#: ConnectWise list parameters, by lower-case name (the real server matches names case-insensitively).
CANONICAL_PARAMS = {
    name.lower(): name
    for name in (
        "conditions",
        "childConditions",
        "customFieldConditions",
        "orderBy",
        "fields",
        "page",
        "pageSize",
        "pageId",
        "managedIdentifier",
    )
}


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def cw_response(
    request: Request, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A ConnectWise answer: the versioned media type when the client asked for it, plus
    ``api-current-version``."""
    media = CW_VND if "vnd.connectwise.com" in request.headers.get("accept", "") else CW_JSON
    out = {"api-current-version": API_VERSION}
    if headers:
        out.update(headers)
    return Response(dumps(data), status_code=status, headers=out, media_type=media)


def addigy_response(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json; charset=utf-8")


async def cw_json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("A JSON request body is required.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None


async def addigy_json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise AddigyError("invalid JSON request body") from None


def cw_query(request: Request) -> dict[str, str]:
    """Query parameters by their canonical spelling (last value wins)."""
    out: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        out[CANONICAL_PARAMS.get(key.lower(), key)] = value
    return out


def int_param(raw: Any, name: str) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"The value '{raw}' is not valid for {name}.") from None


def forward_only(request: Request) -> bool:
    return request.headers.get("pagination-type", "").strip().lower() == "forward-only"


def authenticate_connectwise(headers: Mapping[str, str], creds: Credentials) -> None:
    """``Authorization: Basic base64(company+public:private)`` and a ``clientId`` header.

    A wrong company answers ConnectWise's plain-text "Cannot route"; wrong keys 401; a missing (or,
    when the sandbox pins one, unknown) clientId 400.
    """
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if not value:
        raise Unauthorized("Authorization has been denied for this request: no Authorization header.")
    if scheme.lower() != "basic" or not token.strip():
        raise Unauthorized("Authorization has been denied for this request: use Basic authentication.")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Authorization has been denied for this request: malformed Basic token.") from None
    user, _, private = decoded.partition(":")
    company, plus, public = user.partition("+")
    if not plus:
        raise Unauthorized("Authorization has been denied for this request: expected company+publicKey.")
    if company.casefold() != creds.company.casefold():
        raise CannotRoute()
    if not (
        hmac.compare_digest(public, creds.public_key) and hmac.compare_digest(private, creds.private_key)
    ):
        raise Unauthorized()
    client_id = headers.get("clientid")
    if not client_id:
        raise ClientIdRequired()
    if creds.client_id is not None and client_id.strip().lower() != creds.client_id.lower():
        raise ClientIdRequired(f"clientId '{client_id}' is not a registered clientId.")
