"""Errors the sandbox answers with. Each renders ConnectWise's (or Addigy's) body and HTTP status.

No HTTP library here: ``render()`` returns ``(status, content_type, body_bytes, headers)`` and the HTTP
layer sends it. One class per condition, like moto's.
"""

from __future__ import annotations

import json
from typing import Any

JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


class SandboxError(Exception):
    """Root of everything the sandbox answers with an error."""

    status = 500
    content_type = JSON

    def body(self) -> Any:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    def render(self) -> tuple[int, str, bytes, dict[str, str]]:
        body = self.body()
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return self.status, self.content_type, data, self.headers()


# ---------------------------------------------------------------- ConnectWise


class ConnectWiseError(SandboxError):
    """``{"code", "message", "errors"?}`` with an HTTP status."""

    status = 400
    code = "ConnectWiseApi"
    #: the message when none is given (conditions with one fixed answer)
    default_message = ""

    def __init__(
        self,
        message: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        *,
        code: str | None = None,
    ):
        message = self.default_message if message is None else message
        super().__init__(message)
        self.message = message
        self.errors = errors
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def field_error(code: str, message: str, resource: str, field: str) -> dict[str, str]:
    """One entry of ``errors[]`` in ConnectWise's shape."""
    return {"code": code, "message": message, "resource": resource, "field": field}


class InvalidObject(ConnectWiseError):
    """400: the posted/patched entity breaks a rule; ``errors[]`` names each field."""

    status = 400
    code = "InvalidObject"

    def __init__(self, resource: str, errors: list[dict[str, Any]]):
        super().__init__(f"{resource} object is invalid", errors)
        self.resource = resource


class BadRequest(ConnectWiseError):
    """400 for a malformed request that is not about one entity (conditions, orderBy, paging, JSON)."""

    status = 400
    code = "InvalidObject"


class ContractRefused(ConnectWiseError):
    """400 from strict mode: the request breaks the official OpenAPI document."""

    status = 400
    code = "InvalidObject"

    def __init__(self, message: str):
        super().__init__(f"Request does not match the ConnectWise API contract: {message}")


class ClientIdRequired(ConnectWiseError):
    status = 400
    code = "InvalidClientId"
    default_message = "A valid clientId header is required (https://developer.connectwise.com/ClientID)."


class Unauthorized(ConnectWiseError):
    status = 401
    code = "Unauthorized"
    default_message = "Incorrect public/private key"


class Forbidden(ConnectWiseError):
    status = 403
    code = "Security"
    default_message = "You do not have security permission to perform this action."


class NotFound(ConnectWiseError):
    status = 404
    code = "NotFound"


class NotImplementedBySandbox(ConnectWiseError):
    """501: an operation of the official document that the sandbox does not implement."""

    status = 501
    code = "NotImplemented"


class PlainTextError(SandboxError):
    """An answer that is plain text, not JSON (``text``), as ConnectWise's front end sends some."""

    content_type = TEXT
    text = ""

    def body(self) -> str:
        return self.text


class CannotRoute(PlainTextError):
    """Wrong company or codebase: ConnectWise answers plain text, not JSON."""

    status = 404
    text = "Cannot route. Codebase/company is invalid"


class ServerError(ConnectWiseError):
    status = 500
    code = "ConnectWiseApi"


class ServiceUnavailable(PlainTextError):
    status = 503
    text = "Service Unavailable"


class RateLimited(SandboxError):
    """429 with ``Retry-After``. ConnectWise's JSON body uses ``error`` (not ``code``); ``html`` mimics a
    Cloudflare page that is not JSON at all."""

    status = 429

    def __init__(self, retry_after: int, *, style: str = "json", service: str = "connectwise"):
        super().__init__("Too many requests")
        self.retry_after = max(1, int(retry_after))
        self.style = style
        self.service = service
        self.content_type = "text/html; charset=utf-8" if style == "html" else JSON

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def body(self) -> Any:
        if self.style == "html":
            return (
                "<!DOCTYPE html><html><head><title>Access denied | rate limited</title></head>"
                "<body><h1>Error 1015</h1><p>You are being rate limited.</p></body></html>"
            )
        if self.service == "addigy":
            return {"code": 429, "message": "Too many requests, please slow down.", "error_chain": {}}
        return {"error": "ConnectWiseAPI", "message": "Too many requests, please try again later."}


# ---------------------------------------------------------------- Addigy


class AddigyError(SandboxError):
    """Addigy's error body: ``{code: int, message, error_chain}``."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, error_chain: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.error_chain = error_chain or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "message": self.message, "error_chain": self.error_chain}


class AddigyUnauthorized(AddigyError):
    status = 401


class AddigyForbidden(AddigyError):
    status = 403


class AddigyNotFound(AddigyError):
    status = 404
