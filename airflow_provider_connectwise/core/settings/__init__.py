"""The settings document (seed steps 6-16) and "the switch": its resolution to ids.

Users write :class:`IntegrationSettings` (a dict, JSON or YAML; names or ids everywhere).
:func:`resolve_settings` checks it against the :class:`~..catalogue.Catalogue` that "Next" fetched
and returns :class:`ResolvedSettings` (ids only, plus display names for logs), or raises one
:class:`SettingsError` listing every problem, each naming the setting, the value given and the
choices.

Rooms:

- ``document``: the document's sections and shape rules; ``as_settings`` checks parsed data.
- ``problems``: ``SettingsProblem``/``SettingsError`` and pydantic's errors turned into problems.
- ``resolved``: ``ResolvedSettings`` and its parts, the XCom contract of the tasks after the switch.
- ``resolution``: ``resolve_settings`` (the switch) and ``referenced_companies``.

Reading a file or a text (JSON/YAML, duplicate keys refused) is the flow layer's:
``flows.settings_loading.load_settings``.

Decisions:

- Names are compared trimmed, whitespace-collapsed and case-insensitively; an int is an id; a
  numeric text is tried as an id first, then as a name. A name two records share is ambiguous and
  must be replaced by the id.
- Companies are referenced by ConnectWise *identifier* (unique) or id, never by name (not unique).
- The active configuration status must be open: a closed one would hide the linked devices'
  configurations (an error). An inactive status that is not closed works but leaves retired
  devices in every configuration list, so it is only a warning (``ResolvedSettings.warnings``).
- Duplicate keys in a JSON or YAML file are errors (the last one would silently win otherwise).
- ``use_mdm_links`` defaults to true: linking happens on the policy in the MDM (seed "Setup"),
  and Addigy records that link itself; ``policy_links`` add to it and win on conflict. Companies
  known only from MDM links are not in the settings, so the caller checks them at run time.
- ``field_mapping`` may set a field to ``null`` to stop syncing it (``name`` excepted: ConnectWise
  requires it). ``protected_fields`` are still written when a configuration is created.
"""

from __future__ import annotations

from airflow_provider_connectwise.core.settings.document import (
    BoardSettings,
    ConfigurationStatusSettings,
    ConfigurationTypeSettings,
    DefaultContact,
    FieldMapping,
    IntegrationSettings,
    PolicyLink,
    as_settings,
    name_key,
)
from airflow_provider_connectwise.core.settings.problems import SettingsError, SettingsProblem
from airflow_provider_connectwise.core.settings.resolution import referenced_companies, resolve_settings
from airflow_provider_connectwise.core.settings.resolved import (
    ResolvedBoard,
    ResolvedPolicyLink,
    ResolvedSettings,
)

__all__ = [
    "BoardSettings",
    "ConfigurationStatusSettings",
    "ConfigurationTypeSettings",
    "DefaultContact",
    "FieldMapping",
    "IntegrationSettings",
    "PolicyLink",
    "ResolvedBoard",
    "ResolvedPolicyLink",
    "ResolvedSettings",
    "SettingsError",
    "SettingsProblem",
    "as_settings",
    "name_key",
    "referenced_companies",
    "resolve_settings",
]
