"""ConnectWise, read for the page's company picker: the hook, its errors, what a company shows.

Reads happen when a person searches or saves (never to render the overview), so the page stays
cheap; an error answers 502 naming what could not be read and the connection's id, never what
the connection holds.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import HTTPException, status

from airflow_provider_connectwise.exceptions import ApiError
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.plugins.config import connectwise_conn_id

log = logging.getLogger(__name__)


def hook() -> ConnectWiseHook:
    """A hook on the page's connection (``[connectwise] connectwise_conn_id``), unthrottled: people type."""
    return ConnectWiseHook(connectwise_conn_id(), requests_per_minute=None)


def read(what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the hook; a failure answers 502 naming what could not be read, never the connection."""
    try:
        return call(*args, **kwargs)
    except ApiError as exc:
        code = getattr(exc, "status", None)
        log.warning("ConnectWise page: reading %s failed: %s", what, type(exc).__name__)
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY,
            f"ConnectWise did not answer the {what} ({type(exc).__name__}{f', HTTP {code}' if code else ''})",
        ) from None
    except Exception as exc:  # a missing or broken connection: say which, not what it holds
        log.warning("ConnectWise page: reading %s failed: %s", what, type(exc).__name__)
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY,
            f"ConnectWise could not be read for the {what}: check the connection {connectwise_conn_id()!r}",
        ) from None


def company_json(company: dict[str, Any]) -> dict[str, Any]:
    """What the picker shows of a company (untrusted values made text)."""
    types: list[Any] = company["types"] if isinstance(company.get("types"), list) else []
    status_: dict[str, Any] = company["status"] if isinstance(company.get("status"), dict) else {}
    return {
        "id": company.get("id"),
        "identifier": str(company.get("identifier") or ""),
        "name": str(company.get("name") or ""),
        "status": str(status_.get("name") or ""),
        "types": [str((t or {}).get("name") or "") for t in types if isinstance(t, dict)],
    }


def hook_search(text: str, company_status: str, company_type: str) -> list[dict[str, Any]]:
    """Search companies for the picker (``status`` empty: any; ``type`` empty: any).

    :param text: a fragment of the name or identifier.
    :param company_status: a status name, or empty.
    :param company_type: a type name, or empty.
    """
    return read(
        "company search",
        hook().search_companies,
        text,
        status=company_status.strip() or None,
        company_type=company_type.strip() or None,
    )
