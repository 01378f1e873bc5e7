"""Fetch the catalogue ("Next", seed step 5) and validate the settings ("the switch", step 16)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_connectwise.core.catalogue import Catalogue
from airflow_provider_connectwise.core.settings import (
    IntegrationSettings,
    ResolvedSettings,
    load_settings,
    referenced_companies,
    resolve_settings,
)
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook


def fetch_catalogue(
    cw: ConnectWiseHook,
    *,
    company_name: str | None = None,
    company_identifiers: Iterable[str] = (),
    company_ids: Iterable[int] = (),
) -> Catalogue:
    """Read boards with their statuses, configuration statuses, types with their questions and
    the companies asked for (by name fragment, identifier or id).

    :param cw: the ConnectWise hook.
    :param company_name: a fragment of company names to list (the seed's "search the organization").
    :param company_identifiers: companies to include by identifier.
    :param company_ids: companies to include by id.
    """
    boards = cw.list_boards()
    types = cw.list_configuration_types()
    identifiers, ids = list(company_identifiers), list(company_ids)
    companies = (
        cw.find_companies(name_contains=company_name, identifiers=identifiers, ids=ids)
        if company_name or identifiers or ids
        else []
    )
    return Catalogue.from_connectwise(
        boards=boards,
        board_statuses={b["id"]: cw.list_board_statuses(b["id"]) for b in boards},
        configuration_statuses=cw.list_configuration_statuses(),
        configuration_types=types,
        type_questions={t["id"]: cw.list_configuration_type_questions(t["id"]) for t in types},
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
    catalogue = fetch_catalogue(cw, company_identifiers=identifiers, company_ids=ids)
    return resolve_settings(settings, catalogue)
