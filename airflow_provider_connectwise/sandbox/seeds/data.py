"""What the seeds create, as data: the catalogue every seed shares and the ``demo`` seed's MSP.

``catalogue.py``, ``demo.py`` and ``bench.py`` read this in order (the order fixes the ids).
``entered`` and ``created`` are days from ``catalogue.EPOCH`` (2025-01-06 09:00 UTC); dates stored
on records are written out. References name their target (a company identifier, a board, a status,
a configuration type, a question label) and the seed turns them into ids.
"""

from __future__ import annotations

from typing import Any

from ..models.addigy import FactError


class _Missing:
    def __repr__(self) -> str:
        return "<missing fact>"


#: A device fact override that leaves the fact out (the agent does not report it).
MISSING: Any = _Missing()

# ---------------------------------------------------------------- catalogue (every seed)

#: The MSP's own company (``catalogue.add_company`` fills the address and flags).
OWN_COMPANY: tuple[str, str, dict[str, Any]] = (
    "DemoMSP",
    "Demo MSP",
    {"types": [{"id": 5, "name": "Owner"}]},
)

#: Service boards and their statuses: ``(name, sortOrder, flags)``.
BOARDS: dict[str, dict[str, Any]] = {
    "Monitoring": {
        "inactive": False,
        "statuses": (
            ("New", 0, {"default": True}),
            ("In Progress", 1, {}),
            ("Waiting on Client", 2, {}),
            ("Resolved", 3, {"closed": True}),
            ("Closed", 4, {"closed": True}),
            ("Legacy Open", 9, {"inactive": True}),
        ),
    },
    "Help Desk": {
        "inactive": False,
        "statuses": (
            ("New", 0, {"default": True}),
            ("Assigned", 1, {}),
            ("Closed", 5, {"closed": True}),
            ("Cancelled", 6, {"closed": True}),
            ("Old Closed", 9, {"closed": True, "inactive": True}),
        ),
    },
    "Projects Archive": {
        "inactive": True,
        "statuses": (
            ("New", 0, {"default": True}),
            ("Closed", 1, {"closed": True}),
        ),
    },
}

#: Configuration statuses: ``(description, closedFlag, defaultFlag)``.
CONFIGURATION_STATUSES: tuple[tuple[str, bool, bool], ...] = (
    ("Active", False, True),
    ("Inactive", True, False),
    ("In Repair", False, False),
)

#: Configuration types: ``(name, inactiveFlag)``.
CONFIGURATION_TYPES: tuple[tuple[str, bool], ...] = (
    ("Managed Mac", False),
    ("Laptop", False),
    ("Desktop", False),
    ("Network Switch", False),
    ("Legacy Workstation", True),
    ("Server", False),
)

#: Questions of configuration types: ``(type, label, question, sequenceNumber, required, inactive)``.
CONFIGURATION_TYPE_QUESTIONS: tuple[tuple[str, str, str, float, bool, bool], ...] = (
    ("Server", "server-rack", "Rack location", 1.0, True, False),
    ("Server", "server-warranty", "Warranty contract", 2.0, False, False),
    ("Laptop", "laptop-retired-asset-tag", "Asset tag (retired)", 1.0, True, True),
    ("Managed Mac", "mac-notes", "Owner notes", 1.0, False, False),
)

#: Priorities (ids 1-4 in this order): ``(name, level, defaultFlag, color)``.
PRIORITIES: tuple[tuple[str, str, bool, str], ...] = (
    ("Priority 1 - Emergency Response", "High", False, "Red"),
    ("Priority 2 - Quick Response", "High", False, "Orange"),
    ("Priority 3 - Normal Response", "Medium", True, "Yellow"),
    ("Priority 4 - Schedule Maintenance", "Low", False, "Green"),
)

#: Ticket types, subtypes and items per board (the last of each list is inactive).
CLASSIFICATION: dict[str, dict[str, tuple[str, ...]]] = {
    "Monitoring": {
        "board_types": ("Alert", "Maintenance", "Retired Type"),
        "board_subtypes": ("Hardware", "Software", "Retired Subtype"),
        "board_items": ("Disk", "Battery", "CPU", "Retired Item"),
    },
    "Help Desk": {
        "board_types": ("Request", "Incident", "Retired Type"),
        "board_subtypes": ("Printing", "Access", "Retired Subtype"),
        "board_items": ("Printer", "Laptop", "Retired Item"),
    },
}

# ---------------------------------------------------------------- demo: ConnectWise

#: Client companies and the vendor: ``(identifier, name, extra fields)``.
DEMO_COMPANIES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("AcmeCorp", "Acme Corporation", {}),
    ("Globex", "Globex Corporation", {"city": "Springfield"}),
    ("Initech", "Initech", {"city": "Austin"}),
    (
        "OldCo",
        "Old Company (closed)",
        {"deletedFlag": True, "dateDeleted": "2024-12-07T09:00:00Z", "deletedBy": "admin"},
    ),
    ("Apple", "Apple Inc.", {"isVendorFlag": True, "city": "Cupertino", "state": "CA"}),
)

#: Contacts: ``(label, company, firstName, lastName, e-mail addresses)`` (the first is the default).
CONTACTS: tuple[tuple[str, str, str, str, list[str]], ...] = (
    ("ann", "AcmeCorp", "Ann", "Archer", ["ann@acme.example"]),
    ("ben", "AcmeCorp", "Ben", "Baker", ["ben.baker@acme.example", "Ben@Home.example"]),
    ("desk", "AcmeCorp", "Service", "Desk", ["it@acme.example"]),
    ("carl", "Globex", "Carl", "Cole", ["carl@globex.example"]),
    ("nomail", "Globex", "Dana", "Doe", []),
)

#: Configurations the integration must never touch (entered 120 days before the epoch). ``type``,
#: ``status``, ``company`` and ``vendor`` name their target; a question's ``questionId`` its label.
DEMO_CONFIGURATIONS: tuple[dict[str, Any], ...] = (
    {
        "label": "acme-core-switch",
        "name": "ACME-CORE-SW01",
        "type": "Network Switch",
        "status": "Active",
        "company": "AcmeCorp",
        "serialNumber": "FOC1234X0AB",
        "ipAddress": "10.0.0.2",
        "vendor": "Apple",
        "managementLink": "https://unifi.acme.example/switch/1",
    },
    {
        "label": "acme-rmm-laptop",
        "name": "ACME-LT-0042",
        "type": "Laptop",
        "status": "Active",
        "company": "AcmeCorp",
        "deviceIdentifier": "RMM-000042",
        "serialNumber": "5CG1234XYZ",
        "managementLink": "https://rmm.example.net/devices/RMM-000042",
    },
    {
        "label": "acme-server",
        "name": "ACME-FS01",
        "type": "Server",
        "status": "Active",
        "company": "AcmeCorp",
        "serialNumber": "CZJ0123ABC",
        "questions": [
            {
                "questionId": "server-rack",
                "question": "Rack location",
                "answer": "Rack 2, U14",
                "fieldType": "Text",
                "requiredFlag": True,
                "sequenceNumber": 1.0,
            }
        ],
    },
    {
        "label": "acme-printer",
        "name": "ACME-PRN-2F",
        "type": "Desktop",
        "status": "In Repair",
        "company": "AcmeCorp",
        "ipAddress": "10.0.3.40",
    },
    {
        "label": "globex-firewall",
        "name": "GLX-FW01",
        "type": "Network Switch",
        "status": "Active",
        "company": "Globex",
        "serialNumber": "FGT60F0000001",
    },
)

#: Tickets on the Monitoring board; ``board``/``status``/``company``/``priority`` by name.
DEMO_TICKETS: tuple[dict[str, Any], ...] = (
    {
        "label": "acme-open",
        "entered": -3,
        "summary": "Disk space low on ACME-FS01",
        "recordType": "ServiceTicket",
        "board": "Monitoring",
        "status": "New",
        "company": "AcmeCorp",
        "priority": "Priority 3 - Normal Response",
        "severity": "Medium",
        "impact": "Medium",
        "closedFlag": False,
    },
    {
        "label": "acme-closed",
        "entered": -7,
        "summary": "Backup failed on ACME-FS01",
        "recordType": "ServiceTicket",
        "board": "Monitoring",
        "status": "Closed",
        "company": "AcmeCorp",
        "priority": "Priority 3 - Normal Response",
        "severity": "Medium",
        "impact": "Medium",
        "closedFlag": True,
        "closedDate": "2025-01-01T09:00:00Z",
        "closedBy": "jtech",
    },
)

# ---------------------------------------------------------------- demo: Addigy

#: Policies: ``(name, policyId, linked company identifier or None, created)``.
DEMO_POLICIES: tuple[tuple[str, str, str | None, float], ...] = (
    ("Acme Workstations", "7a1c0f3e-0001-4c55-9a3b-acme00000001", "AcmeCorp", -200),
    ("Globex Fleet", "7a1c0f3e-0002-4c55-9a3b-globex000002", "Globex", -190),
    ("Lab Macs", "7a1c0f3e-0003-4c55-9a3b-lab000000003", None, -180),
)

#: The random device-name parts (``demo.clean_facts``).
FIRST_NAMES = [
    "Ann",
    "Ben",
    "Chloe",
    "Dev",
    "Erin",
    "Farid",
    "Gia",
    "Hugo",
    "Ines",
    "Jon",
    "Kai",
    "Lena",
    "Mo",
    "Nia",
]
MODELS = [
    ("MacBookPro18,3", "MacBook Pro"),
    ("MacBookAir10,1", "MacBook Air"),
    ("iMac21,1", "iMac"),
    ("Mac14,3", "Mac mini"),
    ("Mac13,1", "Mac Studio"),
]
VERSIONS = ["macOS 14.4.1 (23E224)", "macOS 13.6.6 (22G630)", "macOS 15.1 (24B83)", "macOS 12.7.4 (21H1123)"]

_DUP_SERIAL = "VMWVK1D9CE5ZZ"

#: Devices per policy: ``(policy, count, name prefix, the first devices' label and fact overrides)``;
#: the devices after the listed ones are clean.
DEMO_DEVICES: tuple[tuple[str, int, str, list[dict[str, Any]]], ...] = (
    (
        "Acme Workstations",
        20,
        "ACME",
        [
            {"label": "historical-1"},
            {"label": "historical-2"},
            {"label": "ours-inactive"},
            {
                "label": "overlong-name",
                "device_name": "Acme " + "Extremely Long Device Name " * 4 + "MacBook Pro 16-inch",
            },
            {"label": "quoted-name", "device_name": 'Bob\'s "Work" Mac\\Book'},
            {"label": "unicode-name-1", "device_name": "Zoë’s MacBook Pro"},
            {"label": "mac-dashes", "ethernet_mac_address": "aa-bb-cc-dd-ee-01"},
            {"label": "mac-dots", "ethernet_mac_address": "aabb.ccdd.ee02"},
            {"label": "mac-bare", "ethernet_mac_address": "AABBCCDDEE03"},
            # Numbers as Addigy reports them, not always round (labels kept from the text forms).
            {"label": "ram-gb-text", "total_memory_gb": 16.0},
            {"label": "ram-bytes", "total_memory_gb": 17179869184},  # an agent reporting bytes
            {"label": "cpu-ghz-text", "processor_speed_ghz": 2.2999999523},
            {
                "label": "missing-facts",
                "serial_number": MISSING,
                "ethernet_mac_address": MISSING,
                "ethernet_ma_cs": MISSING,
                "current_user": MISSING,
            },
            {"label": "null-facts", "serial_number": None, "local_ip": None, "current_user": None},
            {
                "label": "error-facts",
                "serial_number": FactError("fact collection timed out"),
                "ethernet_mac_address": FactError("no ethernet interface"),
            },
        ],
    ),
    (
        "Globex Fleet",
        18,
        "GLX",
        [
            {"label": "unicode-name-2", "device_name": "山田のMacBook Air"},
            {"label": "ram-mb", "total_memory_gb": 15.99},
            {"label": "cpu-mhz", "processor_speed_ghz": 2300},  # an agent reporting MHz
            {"label": "mac-upper-colons", "ethernet_mac_address": "A4:83:E7:0B:1C:2D"},
            # A fact the integration cannot normalise: the device is linked, its MAC address is not
            # written, and its result carries a warning saying so.
            {"label": "bad-mac", "ethernet_mac_address": "not-a-mac"},
        ],
    ),
    (
        "Lab Macs",
        12,
        "LAB",
        [
            {"label": "unicode-name-3", "device_name": "Ольга iMac"},
            {"label": "dup-serial-1", "serial_number": _DUP_SERIAL, "hardware_model": "VMware7,1"},
            {"label": "dup-serial-2", "serial_number": _DUP_SERIAL, "hardware_model": "VMware7,1"},
        ],
    ),
)

#: Alerts, raised in this order: ``policy``/``device`` (its index in the policy) say where; ``then``
#: acknowledges or resolves it right away.
DEMO_ALERTS: tuple[dict[str, Any], ...] = (
    {
        "label": "disk-full",
        "policy": "Acme Workstations",
        "device": 3,
        "name": "Disk almost full",
        "level": "critical",
        "category": "Storage",
        "fact_identifier": "free_disk_space_percent",
        "value": 3,
        "created": -0.5,
        "alert_id": "65a0c0ffee00000000000001",
    },
    {
        "label": "cpu-high",
        "policy": "Acme Workstations",
        "device": 4,
        "name": "CPU usage high",
        "level": "warning",
        "category": "Performance",
        "fact_identifier": "cpu_usage_percent",
        "value": 97,
        "created": -0.4,
        "alert_id": "65a0c0ffee00000000000002",
    },
    {
        "label": "battery",
        "policy": "Acme Workstations",
        "device": 5,
        "name": "Battery health poor",
        "level": "info",
        "category": "Hardware",
        "fact_identifier": "battery_health",
        "value": "Service Recommended",
        "created": -2,
        "alert_id": "65a0c0ffee00000000000003",
        "then": "acknowledge",
    },
    {
        "label": "resolved-old",
        "policy": "Globex Fleet",
        "device": 0,
        "name": "Disk almost full",
        "level": "critical",
        "category": "Storage",
        "fact_identifier": "free_disk_space_percent",
        "value": 4,
        "created": -10,
        "alert_id": "65a0c0ffee00000000000004",
        "then": "resolve",
    },
    {
        "label": "no-ticket",
        "policy": "Acme Workstations",
        "device": 6,
        "name": "Software update available",
        "level": "info",
        "category": "Updates",
        "fact_identifier": "pending_updates",
        "value": 2,
        "send_ticket": False,
        "created": -0.2,
        "alert_id": "65a0c0ffee00000000000005",
    },
)
