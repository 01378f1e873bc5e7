"""Reading a company's raw ConnectWise configurations: field readers, ownership, the index.

Ownership (``docs/design.md``): ``managementLink`` equals the template rendered with the
configuration's own ``deviceIdentifier`` (trimmed, case-insensitive). ``null`` and a missing field
read as empty. Serial numbers are compared cleaned and case-insensitively; placeholders that
firmware and virtual machines report ("Not Available", "0000000") are no real serial.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from airflow_provider_connectwise.core import clean_text, printable
from airflow_provider_connectwise.core.mapping import render_management_link

__all__ = [
    "ConfigurationIndex",
    "field_text",
    "identity",
    "index_configurations",
    "is_owned",
    "is_real_serial",
    "prefer",
    "ref_id",
    "serial_key",
]

# Serial numbers that firmware and virtual machines report when they have none.
_PLACEHOLDER_SERIALS = frozenset(
    {
        "0",
        "123456789",
        "0123456789",
        "default string",
        "n/a",
        "na",
        "none",
        "not applicable",
        "not available",
        "not specified",
        "null",
        "system serial number",
        "to be filled by o.e.m.",
        "unknown",
    }
)


def field_text(value: Any) -> str:
    """A configuration field as text: ``null``/missing are empty, the ends trimmed."""
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value)).strip()


def ref_id(configuration: Mapping[str, Any], key: str) -> int | None:
    """The integer id of a reference field (``{"id": n}``), ``None`` when it holds none."""
    ref = configuration.get(key)
    value = ref.get("id") if isinstance(ref, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def identity(configuration: Mapping[str, Any]) -> str:
    """The configuration's ``deviceIdentifier`` as compared with agent ids (trimmed, casefolded)."""
    return field_text(configuration.get("deviceIdentifier")).casefold()


def is_owned(configuration: Mapping[str, Any], template: str) -> bool:
    """Return whether this integration created or adopted the configuration (the ownership marker).

    :param configuration: a raw ConnectWise configuration.
    :param template: the settings' management link template.
    """
    identifier = field_text(configuration.get("deviceIdentifier"))
    if not identifier:
        return False
    link = field_text(configuration.get("managementLink"))
    return link.casefold() == render_management_link(template, identifier).casefold()


def serial_key(value: Any) -> str:
    """A serial number as compared: cleaned and casefolded."""
    return clean_text(field_text(value)).casefold()


def is_real_serial(key: str) -> bool:
    """Whether a :func:`serial_key` is a real serial number rather than a placeholder."""
    # A placeholder would "adopt" some unrelated machine's configuration.
    return bool(key) and key not in _PLACEHOLDER_SERIALS and len(set(re.sub(r"[\W_]", "", key))) > 1


def prefer(matches: Sequence[Mapping[str, Any]], link: str, active_status_id: int) -> list[Mapping[str, Any]]:
    """Order the configurations of one agent id: ours, then active, then lowest id."""

    def rank(configuration: Mapping[str, Any]) -> tuple[bool, bool, int]:
        ours = field_text(configuration.get("managementLink")).casefold() == link.casefold()
        return (not ours, ref_id(configuration, "status") != active_status_id, configuration["id"])

    return sorted(matches, key=rank)


class ConfigurationIndex:
    """A company's configurations, by agent id (``deviceIdentifier``), by id and by serial number.

    :param configurations: raw ConnectWise configuration dicts; records without an integer id
        are skipped and described in :attr:`problems`.
    """

    def __init__(self, configurations: Iterable[Mapping[str, Any]]) -> None:
        self._by_id: dict[int, Mapping[str, Any]] = {}
        self._by_agentid: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self._unidentified_by_serial: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self.problems: list[str] = []
        for configuration in configurations:
            config_id = configuration.get("id") if isinstance(configuration, Mapping) else None
            if not isinstance(config_id, int) or isinstance(config_id, bool):
                self.problems.append(
                    f"configuration without an integer id skipped: {printable(repr(config_id), 40)}"
                )
                continue
            self._by_id[config_id] = configuration
            agentid = identity(configuration)
            if agentid:
                self._by_agentid[agentid].append(configuration)
            else:
                serial = serial_key(configuration.get("serialNumber"))
                if serial:
                    self._unidentified_by_serial[serial].append(configuration)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(sorted(self._by_id.values(), key=lambda configuration: configuration["id"]))

    def __len__(self) -> int:
        return len(self._by_id)

    def by_id(self, configuration_id: int | None) -> Mapping[str, Any] | None:
        """Return the configuration with this id, if read.

        :param configuration_id: a configuration id.
        """
        return self._by_id.get(configuration_id) if configuration_id is not None else None

    def for_agentid(self, agentid: str) -> list[Mapping[str, Any]]:
        """Return the configurations whose ``deviceIdentifier`` is this agent id (case-insensitive).

        :param agentid: the device's agent id.
        """
        return list(self._by_agentid.get(agentid.strip().casefold(), ()))

    def unidentified_with_serial(self, serial: str) -> list[Mapping[str, Any]]:
        """Return the configurations with an empty ``deviceIdentifier`` and this serial number.

        :param serial: a serial number (compared trimmed and case-insensitively).
        """
        return list(self._unidentified_by_serial.get(serial_key(serial), ()))


def index_configurations(configurations: Iterable[Mapping[str, Any]]) -> ConfigurationIndex:
    """Index raw configurations for planning and re-planning.

    :param configurations: raw ConnectWise configuration dicts (e.g. a fresh read after a retry).
    """
    return ConfigurationIndex(configurations)
