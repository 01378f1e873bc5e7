"""Fetch the catalogue ("Next", seed step 5) and validate the settings ("the switch", step 16).

Loading the document (a dict, JSON/YAML text or a file) is ``settings_loading``'s; its
``load_settings`` is importable from here too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_connectwise.core.catalogue import Catalogue
from airflow_provider_connectwise.core.settings import (
    IntegrationSettings,
    ResolvedSettings,
    SettingsError,
    name_key,
    referenced_companies,
    resolve_settings,
)
from airflow_provider_connectwise.flows.settings_loading import load_settings
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

__all__ = ["fetch_catalogue", "load_settings", "validate_settings"]


def fetch_catalogue(
    cw: ConnectWiseHook,
    *,
    company_name: str | None = None,
    company_identifiers: Iterable[str] = (),
    company_ids: Iterable[int] = (),
    only_boards: Iterable[int | str] | None = None,
    only_types: Iterable[int | str] | None = None,
    classify_boards: Iterable[int | str] | None = None,
    priorities: bool = True,
    contacts_of: Iterable[int | str] | None = None,
) -> Catalogue:
    """Read boards with their statuses, configuration statuses, types with their questions and
    the companies asked for (by name fragment, identifier or id).

    :param cw: the ConnectWise hook.
    :param company_name: a fragment of company names to list (the seed's "search the organization").
    :param company_identifiers: companies to include by identifier.
    :param company_ids: companies to include by id.
    :param only_boards: read the statuses of these boards only (names or ids; default all).
    :param only_types: read the questions of these types only (names or ids; default all).
    :param classify_boards: read the ticket types, subtypes and items of these boards only
        (names or ids; default all).
    :param priorities: read the ticket priorities.
    :param contacts_of: read the contacts of these companies (identifiers or ids; default none).
    """
    boards = cw.list_boards()
    types = cw.list_configuration_types()
    identifiers, ids = list(company_identifiers), list(company_ids)
    companies = (
        cw.find_companies(name_contains=company_name, identifiers=identifiers, ids=ids)
        if company_name or identifiers or ids
        else []
    )
    wanted = {name_key(str(c)) for c in contacts_of or ()}
    contact_companies = [
        c["id"]
        for c in companies
        if {name_key(str(c["id"])), name_key(str(c.get("identifier", "")))} & wanted
    ]
    return Catalogue.from_connectwise(
        boards=boards,
        board_classification={
            b["id"]: {
                kind: cw.list_board_classification(b["id"], kind) for kind in ("types", "subtypes", "items")
            }
            for b in _named(boards, classify_boards)
        },
        priorities=cw.list_priorities() if priorities else (),
        contacts=cw.find_contacts(contact_companies) if contact_companies else (),
        board_statuses={b["id"]: cw.list_board_statuses(b["id"]) for b in _named(boards, only_boards)},
        configuration_statuses=cw.list_configuration_statuses(),
        configuration_types=types,
        type_questions={
            t["id"]: cw.list_configuration_type_questions(t["id"]) for t in _named(types, only_types)
        },
        companies=companies,
    )


def validate_settings(
    cw: ConnectWiseHook, source: IntegrationSettings | Mapping[str, Any] | str | os.PathLike[str]
) -> ResolvedSettings:
    """Load the settings, fetch what they name, resolve every name to its id ("the switch").

    :param cw: the ConnectWise hook.
    :param source: the settings document: a dict, JSON text, or a path to a JSON/YAML file.
    :raises SettingsError: listing every problem at once.
    """
    settings = load_settings(source)
    identifiers, ids = referenced_companies(settings)
    # Every hour only what the settings name is read (statuses of their boards, questions of
    # their types), so the cost does not grow with the catalogue; when something is wrong the
    # whole catalogue is read, so each problem can list the choices.
    kinds = settings.configuration_types
    sections = (settings.monitoring, settings.self_service)
    contacts_of = [entry.company for entry in settings.default_contacts]
    lean = fetch_catalogue(
        cw,
        company_identifiers=identifiers,
        company_ids=ids,
        only_boards=[s.board for s in sections],
        only_types=[kinds.default, *(rule.type for rule in kinds.conditional)],
        # classification lookups only for what the settings name: no extra request otherwise
        classify_boards=[s.board for s in sections if s.type or s.subtype or s.item],
        priorities=any(s.priority or s.priority_by_severity for s in sections),
        contacts_of=contacts_of,
    )
    try:
        return resolve_settings(settings, lean)
    except SettingsError:
        full = fetch_catalogue(cw, company_identifiers=identifiers, company_ids=ids, contacts_of=contacts_of)
        return resolve_settings(settings, full)


def _named(records: list[dict[str, Any]], references: Iterable[int | str] | None) -> list[dict[str, Any]]:
    """The records a settings reference may mean (by id, or by name as the resolution compares)."""
    if references is None:
        return records
    wanted = {name_key(str(r)) for r in references}
    return [r for r in records if str(r["id"]) in wanted or name_key(str(r.get("name", ""))) in wanted]
