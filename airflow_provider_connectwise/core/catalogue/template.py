"""A ready-to-edit settings document from the catalogue: the likeliest choices, and every choice listed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from airflow_provider_connectwise.core import printable
from airflow_provider_connectwise.core.catalogue.catalogue import Catalogue
from airflow_provider_connectwise.core.catalogue.records import Board, NamedRecord
from airflow_provider_connectwise.core.mapping import DEFAULT_FIELD_MAPPING, DEFAULT_MANAGEMENT_LINK_TEMPLATE

__all__ = ["render_settings_template", "settings_template"]


def _first(items: Iterable[Any]) -> Any:
    return next(iter(items), None)


def _named_like(items: Iterable[Any], *words: str, attr: str = "name") -> Any:
    """Return the first item whose name contains the first word that matches anything."""
    items = list(items)
    for word in words:
        found = _first(item for item in items if word in getattr(item, attr).casefold())
        if found is not None:
            return found
    return None


def _template_reference(item: Any, siblings: Iterable[Any], attr: str = "name") -> str | int | None:
    """Return an item's name, or its id when another sibling shares the name (a name must resolve)."""
    if item is None:
        return None
    name = getattr(item, attr)
    same = [other for other in siblings if getattr(other, attr).casefold() == name.casefold()]
    return name if name and len(same) == 1 else item.id


def _board_choice(catalogue: Catalogue, *words: str) -> dict[str, str | int | None]:
    active = [board for board in catalogue.boards if not board.inactive]
    board = _named_like(active, *words) or _first(active)
    if board is None:
        return {"board": None, "open_status": None, "closed_status": None}
    opens = [status for status in board.statuses if status.usable_as_open]
    closes = [status for status in board.statuses if status.usable_as_closed]
    open_status = _first(s for s in opens if s.default) or _first(opens)
    closed_status = _first(closes)
    return {
        "board": _template_reference(board, catalogue.boards),
        "open_status": _template_reference(open_status, board.statuses),
        "closed_status": _template_reference(closed_status, board.statuses),
    }


def settings_template(catalogue: Catalogue) -> dict[str, Any]:
    """Return a ready-to-edit settings document pre-filled with the catalogue's likeliest choices.

    Picks: a board named like "Monitoring" (else the first active board) with its default open
    status and its first closed status; a board named like "Self Service" or "Help Desk" for Self
    Service; the configuration statuses described "Active" and "Inactive" (else the default open
    one and the first closed one); the first usable configuration type. A choice the catalogue
    cannot offer is left ``None`` so that loading the document fails until someone fills it in.
    :func:`render_settings_template` shows the same document with every choice listed.

    :param catalogue: what "Next" fetched.
    """
    statuses = catalogue.configuration_statuses
    active = (
        _first(s for s in statuses if s.description.casefold() == "active")
        or _first(s for s in statuses if s.default and not s.closed)
        or _first(s for s in statuses if not s.closed)
    )
    inactive = (
        _first(s for s in statuses if s.description.casefold() == "inactive" and s is not active)
        or _first(s for s in statuses if s.closed and s is not active)
        or _first(s for s in statuses if s is not active)
    )
    usable_types = [kind for kind in catalogue.configuration_types if kind.usable]
    return {
        "monitoring": _board_choice(catalogue, "monitor"),
        "self_service": _board_choice(catalogue, "self service", "self-service", "help desk", "helpdesk"),
        "configuration_statuses": {
            "active": _template_reference(active, statuses, "description"),
            "inactive": _template_reference(inactive, statuses, "description"),
        },
        "configuration_types": {
            "default": _template_reference(_first(usable_types), catalogue.configuration_types),
            "conditional": [],
        },
        "policy_links": [],
        "use_mdm_links": True,
        "field_mapping": dict(DEFAULT_FIELD_MAPPING),
        "protected_fields": [],
        "adopt_by_serial": True,
        "management_link_template": DEFAULT_MANAGEMENT_LINK_TEMPLATE,
    }


def _classification_comments(boards: Iterable[Board], priorities: Iterable[NamedRecord]) -> list[str]:
    """Commented-out classification settings of a board section, with their choices."""
    lines = []
    for board in boards:
        for kind, records in (("type", board.types), ("subtype", board.subtypes), ("item", board.items)):
            active = [r for r in records if not r.inactive]
            if active:
                lines.append(f"  # {printable(board.name, 60)}: ticket {kind}s: {_choices(active)}")
    active_priorities = [p for p in priorities if not p.inactive]
    if active_priorities:
        lines.append(f"  # priorities: {_choices(active_priorities)}")
    lines.append("  # type: ..., subtype: ..., item: ..., priority: ..., source: ...")
    lines.append("  # priority_by_severity: {critical: ..., warning: ...}")
    lines.append("  # notes: internal  (or discussion: the customer sees the integration's notes)")
    lines.append("  # keep_touched_tickets_open: true  (a ticket a technician works is not closed)")
    return lines


def _choices(items: Iterable[Any], attr: str = "name") -> str:
    return "; ".join(f"{printable(getattr(item, attr), 60)} (id {item.id})" for item in items) or "none"


def render_settings_template(catalogue: Catalogue) -> str:
    """Render :func:`settings_template` as YAML, each setting preceded by its choices as comments.

    The result loads with :func:`~airflow_provider_connectwise.core.settings.load_settings` once
    saved to a ``.yaml`` file. Names are JSON-quoted (valid YAML) and comments are log-escaped, so a
    name holding ``#``, ``:`` or a newline cannot change the document.

    :param catalogue: what "Next" fetched.
    """
    doc = settings_template(catalogue)
    boards = [board for board in catalogue.boards if not board.inactive]

    def value(item: Any) -> str:
        return json.dumps(item, ensure_ascii=False)

    lines = ["# ConnectWise integration settings (seed steps 6-16). Names or ids are accepted."]
    for key, title in (("monitoring", "Monitoring"), ("self_service", "Self Service")):
        lines.append(f"{key}:  # {title} service board")
        lines.append(f"  # boards: {_choices(boards)}")
        lines.append(f"  board: {value(doc[key]['board'])}")
        for board in boards:
            opens = [s for s in board.statuses if s.usable_as_open]
            closes = [s for s in board.statuses if s.usable_as_closed]
            lines.append(f"  # {printable(board.name, 60)}: open statuses: {_choices(opens)}")
            lines.append(f"  # {printable(board.name, 60)}: closed statuses: {_choices(closes)}")
        lines.append(f"  open_status: {value(doc[key]['open_status'])}")
        lines.append(f"  closed_status: {value(doc[key]['closed_status'])}")
        lines += _classification_comments(boards, catalogue.priorities)
    statuses = catalogue.configuration_statuses
    lines.append("configuration_statuses:")
    lines.append(f"  # open: {_choices([s for s in statuses if not s.closed], 'description')}")
    lines.append(f"  active: {value(doc['configuration_statuses']['active'])}")
    lines.append(f"  # closed: {_choices([s for s in statuses if s.closed], 'description')}")
    lines.append(f"  inactive: {value(doc['configuration_statuses']['inactive'])}")
    lines.append("configuration_types:")
    usable = [kind for kind in catalogue.configuration_types if kind.usable]
    lines.append(f"  # usable types (active, no required questions): {_choices(usable)}")
    lines.append(f"  default: {value(doc['configuration_types']['default'])}")
    lines.append("  # rules: - {type: ..., fact: hardware_model, op: prefix, value: Macmini}")
    lines.append("  #   op: equals | one_of (value is a list) | contains | prefix | regex; first match wins")
    lines.append("  conditional: []")
    lines.append(
        "# policy_links: - {policy: <MDM policy id>, company: <ConnectWise company identifier or id>}"
    )
    lines.append("policy_links: []")
    lines.append("# use the company each MDM policy records itself (explicit policy_links win)")
    lines.append(f"use_mdm_links: {value(doc['use_mdm_links'])}")
    lines.append("# ConnectWise field: MDM fact identifier (null = do not sync the field)")
    lines.append("field_mapping:")
    for field, fact in doc["field_mapping"].items():
        lines.append(f"  {field}: {value(fact)}")
    lines.append("# fields set on create but never overwritten on update")
    lines.append("protected_fields: []")
    lines.append(f"adopt_by_serial: {value(doc['adopt_by_serial'])}")
    lines.append(f"management_link_template: {value(doc['management_link_template'])}")
    return "\n".join(lines) + "\n"
