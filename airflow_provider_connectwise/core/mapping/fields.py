"""The mapping's tables: ConnectWise field -> MDM fact (the seed's table), identity fields, maximum lengths."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

DEFAULT_MANAGEMENT_LINK_TEMPLATE = "https://app.addigy.com/devices/{agentid}"

#: ConnectWise configuration field -> Addigy fact identifier (the seed's table).
DEFAULT_FIELD_MAPPING: Mapping[str, str] = MappingProxyType(
    {
        "name": "device_name",
        "serialNumber": "serial_number",
        "macAddress": "ethernet_mac_address",
        "ipAddress": "local_ip",
        "osType": "os_platform",
        "osInfo": "system_version",
        "cpuSpeed": "processor_speed_ghz",
        "ram": "total_memory_gb",
        "lastLoginName": "current_user",
    }
)

#: The fields filled from facts (and so the only ones ``field_mapping`` may name).
MAPPED_FIELDS: tuple[str, ...] = tuple(DEFAULT_FIELD_MAPPING)

#: Fields that identify the device and mark the configuration as ours; never from facts.
IDENTITY_FIELDS: tuple[str, ...] = ("deviceIdentifier", "managementLink")

#: ConnectWise's maximum lengths (the API answers 400 beyond them).
MAX_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        "name": 100,
        "deviceIdentifier": 100,
        "serialNumber": 250,
        "macAddress": 25,
        "ipAddress": 50,
        "osType": 250,
        "osInfo": 250,
        "cpuSpeed": 100,
        "ram": 25,
        "lastLoginName": 100,
        "managementLink": 1000,
    }
)
