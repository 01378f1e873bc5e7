"""The configurations attached to a ticket (``/service/tickets/{id}/configurations``).

A client attaches a configuration by ``id`` or by ``deviceIdentifier`` (matched against the
configuration's name, case-insensitively); attaching one twice is refused. The links live in
``backend.ticket_configurations`` (ticket id -> configuration ids, in the order attached).
Plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from ..conditions import fold
from ..exceptions import BadRequest, InvalidObject, field_error
from ..paging import Page, PageRequest, page_forward, page_slice

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend

Record = dict[str, Any]
_LABEL = "configuration"


def add_ticket_configuration(backend: ConnectWiseBackend, ticket_id: int, body: Any) -> Record:
    """POST /service/tickets/{id}/configurations with ``{"id": configurationId}``."""
    with backend.lock:
        backend.get("tickets", ticket_id)
        if not isinstance(body, Mapping):
            raise BadRequest("The request body must be a JSON object.")
        config = _named_configuration(backend, body)
        linked = backend.ticket_configurations.setdefault(ticket_id, [])
        if config["id"] in linked:
            _refuse(
                "ObjectExists", f"Configuration {config['id']} is already attached to ticket {ticket_id}."
            )
        linked.append(config["id"])
        backend.bump()
        return _configuration_reference(backend, config)


def list_ticket_configurations(
    backend: ConnectWiseBackend, ticket_id: int, page: PageRequest
) -> tuple[list[Record], Page]:
    """One page of the ticket's configuration references, and the page (for the Link header)."""
    with backend.lock:
        backend.get("tickets", ticket_id)
        configs = [backend.configurations.get(c) for c in backend.ticket_configurations.get(ticket_id, [])]
        refs = [_configuration_reference(backend, c) for c in configs if c is not None]
        if page.forward_only:
            after = page.page_id or 0
            result = page_forward((r for r in refs if r["id"] > after), page, lambda r: r["id"])
        else:
            result = page_slice(refs, page)
        return result.items, result


def _named_configuration(backend: ConnectWiseBackend, body: Mapping[str, Any]) -> Record:
    cid = body.get("id")
    ident = body.get("deviceIdentifier")
    if isinstance(cid, int) and not isinstance(cid, bool):
        config = backend.configurations.get(cid)
        missing = f"Configuration {cid} not found."
    elif isinstance(ident, str) and ident:
        config = next((c for c in backend.configurations if fold(c.get("name") or "") == fold(ident)), None)
        missing = f"Configuration '{ident}' not found."
    else:
        _refuse("MissingRequiredField", "id or deviceIdentifier is required.")
    if config is None:
        _refuse("NotFound", missing)
    return config


def _refuse(code: str, message: str) -> NoReturn:
    raise InvalidObject(_LABEL, [field_error(code, message, _LABEL, "id")])


def _configuration_reference(backend: ConnectWiseBackend, config: Record) -> Record:
    out: Record = {"id": config["id"]}
    if config.get("name") is not None:
        out["deviceIdentifier"] = config["name"]
    out["_info"] = {"configuration_href": f"{backend.href_base}/company/configurations/{config['id']}"}
    return out
