"""What "Next" fetches (seed step 5): boards, statuses, configuration statuses, types, companies.

The hook returns ConnectWise's raw JSON; :meth:`Catalogue.from_connectwise` turns it into small
frozen records and :meth:`Catalogue.to_dict` / :meth:`Catalogue.from_dict` carry them through XCom.

Decisions:

- A flag ConnectWise leaves out (or sends as ``null``) is ``False``; a missing name is ``""``.
- A record without an integer ``id`` raises :class:`CatalogueError` naming the record: the
  catalogue is the ground truth of "the switch" and a half-parsed one would hide problems.
- ``required_questions`` lists the *active* questions with ``requiredFlag`` of a type. A type with
  no entry in ``type_questions`` is taken to have no questions: the caller fetches the questions of
  every type it offers (or at least of every type the settings name).
- Companies may be partial: only the companies the settings reference are usually fetched.

The rooms: ``records`` (the small records, :data:`NameOrId`), ``readers`` (ConnectWise's JSON ->
records), ``catalogue`` (:class:`Catalogue` and its XCom form), ``render`` (the log tables),
``template`` (the settings template).
"""

from __future__ import annotations

from airflow_provider_connectwise.core.catalogue.catalogue import Catalogue
from airflow_provider_connectwise.core.catalogue.records import (
    Board,
    BoardStatus,
    CatalogueError,
    Company,
    ConfigurationStatus,
    ConfigurationType,
    Contact,
    NamedRecord,
    NameOrId,
    check_name_or_id,
)
from airflow_provider_connectwise.core.catalogue.render import render_catalogue
from airflow_provider_connectwise.core.catalogue.template import render_settings_template, settings_template

__all__ = [
    "Board",
    "BoardStatus",
    "Catalogue",
    "CatalogueError",
    "Company",
    "ConfigurationStatus",
    "ConfigurationType",
    "Contact",
    "NameOrId",
    "NamedRecord",
    "check_name_or_id",
    "render_catalogue",
    "render_settings_template",
    "settings_template",
]
