"""Seeds: ``demo`` (a small MSP with messy devices), ``empty`` (catalogue only) and ``bench:N``.

Everything is deterministic (a seeded RNG, a fixed epoch for seed timestamps). What a seed creates
is recorded in ``state.seed`` (a ``SeedInfo``) so tests look ids up by name.

``demo`` at a glance
--------------------
ConnectWise: companies ``DemoMSP`` (own), ``AcmeCorp``, ``Globex``, ``Initech``, ``OldCo`` (deleted) and
the vendor ``Apple``; boards ``Monitoring`` and ``Help Desk`` (self service) with open ``New`` statuses,
closed ``Resolved``/``Closed``/``Cancelled`` statuses and an inactive status each, plus the inactive board
``Projects Archive``; configuration statuses ``Active`` (default), ``Inactive`` (closed) and
``In Repair``; configuration types ``Managed Mac``, ``Laptop``, ``Desktop``, ``Network Switch``,
``Legacy Workstation`` (inactive) and ``Server`` (a REQUIRED active question); priorities 1-4; per board
ticket types, subtypes and items (``CLASSIFICATION``, the last of each inactive); contacts of AcmeCorp
(``ann``, ``ben`` with two e-mail addresses, ``desk``) and Globex (``carl``, ``nomail``).

Existing configurations (labels in ``seed.configurations``): ``acme-historical-1``/``-2`` (AcmeCorp,
Managed Mac, no deviceIdentifier, serial number of a policy-1 device: adoption candidates),
``acme-ours-inactive`` (an earlier binding of a policy-1 device, already deactivated), and configurations
the integration must never touch: ``acme-core-switch``, ``acme-rmm-laptop``, ``acme-server``,
``acme-printer``, ``globex-firewall``.

Addigy: policies ``Acme Workstations`` (linked to AcmeCorp), ``Globex Fleet`` (linked to Globex) and
``Lab Macs`` (not linked), 51 devices (20/19/12). Notable devices (``seed.devices``): ``overlong-name``,
``quoted-name`` (double quotes and a backslash), ``unicode-name-1..3``, ``missing-facts``, ``null-facts``,
``error-facts``, ``mac-dashes``, ``mac-dots``, ``mac-bare``, ``ram-gb-text``, ``ram-bytes``, ``ram-mb``,
``cpu-ghz-text``, ``cpu-mhz``, ``historical-1``/``-2`` (serials of the historical configurations),
``ours-inactive``, ``dup-serial-1``/``-2`` (same serial number), ``bad-mac`` (Globex; an Ethernet
MAC address that is not one: linked with a warning, its MAC address not written) and ``no-agent-id``
(Globex; listed without an agent id and with ``"facts": null``, an enrolment that never completed:
it cannot have a configuration, so Globex Fleet is partially linked). Facts use Addigy's identifiers
and JSON types (``processor_speed_ghz``/``total_memory_gb`` numbers, ``ethernet_ma_cs`` and
``policy_ids`` lists, ``online`` a boolean); the ``ram-*``/``cpu-*`` devices hold numbers in units
or precisions agents actually report. Alerts (``seed.alerts``):
``disk-full`` and ``cpu-high`` (Unattended, send_ticket), ``battery`` (Acknowledged), ``resolved-old``
(Resolved), ``no-ticket`` (Unattended, send_ticket false).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from .models import FactError, SandboxState, SeedInfo
from .models.sites import seed_demo_sites

EPOCH = datetime(2025, 1, 6, 9, 0, 0, tzinfo=timezone.utc)
MANAGEMENT_LINK = "https://app.addigy.com/devices/{agentid}"


def _ts(days: float) -> str:
    return (EPOCH + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_seed(state: SandboxState, seed: str) -> SeedInfo:
    """Fill ``state`` from a seed name: ``demo``, ``empty`` or ``bench:N`` / ``bench:N:C``
    (N devices over C companies, default 10)."""
    name = seed.strip().lower()
    if name == "demo":
        info = seed_demo(state)
    elif name == "empty":
        info = seed_catalogue(state, SeedInfo(name="empty"))
    elif name.startswith("bench"):
        parts = name.split(":")
        try:
            n = int(parts[1]) if len(parts) > 1 else 1000
            c = int(parts[2]) if len(parts) > 2 else 10
        except ValueError:
            raise ValueError(f"bad bench seed {seed!r}: use bench:N or bench:N:C") from None
        info = generate(state, n_devices=n, n_companies=c)
    else:
        raise ValueError(f"unknown seed {seed!r} (demo, empty, bench:N[:C])")
    state.seed = info
    return info


def seed_catalogue(state: SandboxState, info: SeedInfo) -> SeedInfo:
    """Boards, statuses, configuration statuses/types, priorities and the MSP's own company."""
    cw = state.connectwise
    ins = cw.insert

    def company(identifier: str, name: str, **extra: Any) -> int:
        rec = ins(
            "companies",
            {
                "identifier": identifier,
                "name": name,
                "status": {"id": 1, "name": "Active"},
                "addressLine1": extra.pop("addressLine1", "1 Main Street"),
                "city": extra.pop("city", "Tampa"),
                "state": extra.pop("state", "FL"),
                "zip": extra.pop("zip", "33602"),
                "phoneNumber": extra.pop("phoneNumber", "8135550100"),
                "website": extra.pop("website", f"www.{identifier.lower()}.example"),
                "types": [{"id": 1, "name": "Client"}],
                "deletedFlag": extra.pop("deletedFlag", False),
                **extra,
            },
            entered=_ts(-400),
        )
        info.companies[identifier] = rec["id"]
        return rec["id"]

    company("DemoMSP", "Demo MSP", types=[{"id": 5, "name": "Owner"}])

    def board(name: str, *, inactive: bool = False) -> int:
        rec = ins(
            "boards",
            {
                "name": name,
                "location": {"id": 2, "name": "Tampa Office"},
                "department": {"id": 10, "name": "Services"},
                "inactiveFlag": inactive,
                "projectFlag": False,
                "billTime": "Billable",
                "billExpense": "Billable",
                "billProduct": "Billable",
            },
            entered=_ts(-300),
        )
        info.boards[name] = rec["id"]
        info.board_statuses[name] = {}
        return rec["id"]

    def status(
        board_name: str,
        name: str,
        sort: int,
        *,
        closed: bool = False,
        default: bool = False,
        inactive: bool = False,
    ) -> int:
        rec = ins(
            "board_statuses",
            {
                "name": name,
                "board": {"id": info.boards[board_name]},
                "sortOrder": sort,
                "displayOnBoard": not closed,
                "inactive": inactive,
                "closedStatus": closed,
                "timeEntryNotAllowed": False,
                "defaultFlag": default,
                "escalationStatus": "Resolved" if closed else "NoEscalation",
                "customerPortalFlag": False,
            },
            entered=_ts(-300),
        )
        info.board_statuses[board_name][name] = rec["id"]
        return rec["id"]

    board("Monitoring")
    status("Monitoring", "New", 0, default=True)
    status("Monitoring", "In Progress", 1)
    status("Monitoring", "Waiting on Client", 2)
    status("Monitoring", "Resolved", 3, closed=True)
    status("Monitoring", "Closed", 4, closed=True)
    status("Monitoring", "Legacy Open", 9, inactive=True)

    board("Help Desk")
    status("Help Desk", "New", 0, default=True)
    status("Help Desk", "Assigned", 1)
    status("Help Desk", "Closed", 5, closed=True)
    status("Help Desk", "Cancelled", 6, closed=True)
    status("Help Desk", "Old Closed", 9, closed=True, inactive=True)

    board("Projects Archive", inactive=True)
    status("Projects Archive", "New", 0, default=True)
    status("Projects Archive", "Closed", 1, closed=True)

    for desc, closed, default in (
        ("Active", False, True),
        ("Inactive", True, False),
        ("In Repair", False, False),
    ):
        rec = ins(
            "configuration_statuses",
            {"description": desc, "closedFlag": closed, "defaultFlag": default},
            entered=_ts(-300),
        )
        info.configuration_statuses[desc] = rec["id"]

    for tname, inactive in (
        ("Managed Mac", False),
        ("Laptop", False),
        ("Desktop", False),
        ("Network Switch", False),
        ("Legacy Workstation", True),
        ("Server", False),
    ):
        rec = ins(
            "configuration_types",
            {"name": tname, "inactiveFlag": inactive, "systemFlag": False},
            entered=_ts(-300),
        )
        info.configuration_types[tname] = rec["id"]

    def question(
        type_name: str, label: str, text: str, seq: float, *, required: bool, inactive: bool = False
    ) -> None:
        rec = ins(
            "configuration_type_questions",
            {
                "configurationType": {"id": info.configuration_types[type_name]},
                "fieldType": "Text",
                "entryType": "EntryField",
                "sequenceNumber": seq,
                "question": text,
                "numberOfDecimals": 0,
                "requiredFlag": required,
                "inactiveFlag": inactive,
            },
            entered=_ts(-300),
        )
        info.configuration_type_questions[label] = rec["id"]

    question("Server", "server-rack", "Rack location", 1.0, required=True)
    question("Server", "server-warranty", "Warranty contract", 2.0, required=False)
    question("Laptop", "laptop-retired-asset-tag", "Asset tag (retired)", 1.0, required=True, inactive=True)
    question("Managed Mac", "mac-notes", "Owner notes", 1.0, required=False)

    for pid, (pname, level, default) in enumerate(
        (
            ("Priority 1 - Emergency Response", "High", False),
            ("Priority 2 - Quick Response", "High", False),
            ("Priority 3 - Normal Response", "Medium", True),
            ("Priority 4 - Schedule Maintenance", "Low", False),
        ),
        start=1,
    ):
        color = ("Red", "Orange", "Yellow", "Green")[pid - 1]
        rec = ins(
            "priorities",
            {
                "id": pid,
                "name": pname,
                "color": color,
                "sort": pid * 2,
                "sortOrder": pid * 2,
                "level": level,
                "defaultFlag": default,
            },
        )
        info.priorities[pname] = rec["id"]
    seed_classification(state, info)

    info.notes["company"] = company
    return info


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


def seed_classification(state: SandboxState, info: SeedInfo) -> None:
    """Board types, subtypes and items of the Monitoring and Help Desk boards."""
    for board_name, kinds in CLASSIFICATION.items():
        board_id = info.boards.get(board_name)
        if board_id is None:
            continue
        for key, names in kinds.items():
            for index, name in enumerate(names):
                rec = state.connectwise.insert(
                    key,
                    {"name": name, "board": {"id": board_id}, "inactiveFlag": index == len(names) - 1},
                )
                info.classification.setdefault(board_name, {}).setdefault(key, {})[name] = rec["id"]


def seed_contacts(state: SandboxState, info: SeedInfo) -> None:
    """Contacts of AcmeCorp and Globex, with e-mail addresses (one contact has two, one none)."""
    people: tuple[tuple[str, str, str, str, list[str]], ...] = (
        ("ann", "AcmeCorp", "Ann", "Archer", ["ann@acme.example"]),
        ("ben", "AcmeCorp", "Ben", "Baker", ["ben.baker@acme.example", "Ben@Home.example"]),
        ("desk", "AcmeCorp", "Service", "Desk", ["it@acme.example"]),
        ("carl", "Globex", "Carl", "Cole", ["carl@globex.example"]),
        ("nomail", "Globex", "Dana", "Doe", []),
    )
    for label, company, first, last, emails in people:
        items = [
            {
                "type": {"id": 1, "name": "Email"},
                "communicationType": "Email",
                "value": e,
                "defaultFlag": i == 0,
            }
            for i, e in enumerate(emails)
        ]
        rec = state.connectwise.insert(
            "contacts",
            {
                "firstName": first,
                "lastName": last,
                "company": {"id": info.companies[company]},
                "inactiveFlag": False,
                "communicationItems": items,
            },
        )
        info.contacts[label] = rec["id"]


# ---------------------------------------------------------------- demo


def _mac(rng: random.Random) -> str:
    return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))


def _serial(rng: random.Random) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return "C02" + "".join(rng.choice(alphabet) for _ in range(9))


_FIRST = [
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
_MODELS = [
    ("MacBookPro18,3", "MacBook Pro"),
    ("MacBookAir10,1", "MacBook Air"),
    ("iMac21,1", "iMac"),
    ("Mac14,3", "Mac mini"),
    ("Mac13,1", "Mac Studio"),
]
_VERSIONS = ["macOS 14.4.1 (23E224)", "macOS 13.6.6 (22G630)", "macOS 15.1 (24B83)", "macOS 12.7.4 (21H1123)"]


def _clean_facts(rng: random.Random, index: int, prefix: str) -> dict[str, Any]:
    """A device's facts with Addigy's identifiers and JSON types (numbers, lists, booleans)."""
    user = rng.choice(_FIRST)
    model, kind = rng.choice(_MODELS)
    mac = _mac(rng)
    return {
        "device_name": f"{prefix}-{user}s-{kind.replace(' ', '')}-{index:02d}",
        "serial_number": _serial(rng),
        "ethernet_mac_address": mac,
        "ethernet_ma_cs": [mac],
        "local_ip": f"10.{rng.randrange(1, 20)}.{rng.randrange(0, 255)}.{rng.randrange(2, 254)}",
        "os_platform": "macOS",
        "system_version": rng.choice(_VERSIONS),
        "processor_speed_ghz": rng.choice([2.3, 2.6, 3.2, 3.49, 4.05]),
        "total_memory_gb": rng.choice([8, 16, 32, 64]),
        "current_user": user.lower(),
        "hardware_model": model,
        "online": rng.random() < 0.8,
        "agent_version": "1.0.25",
    }


def seed_demo(state: SandboxState) -> SeedInfo:
    rng = random.Random(4242)
    info = seed_catalogue(state, SeedInfo(name="demo"))
    company = info.notes.pop("company")
    assert callable(company)
    acme = company("AcmeCorp", "Acme Corporation")
    globex = company("Globex", "Globex Corporation", city="Springfield")
    company("Initech", "Initech", city="Austin")
    company("OldCo", "Old Company (closed)", deletedFlag=True, dateDeleted=_ts(-30), deletedBy="admin")
    company("Apple", "Apple Inc.", isVendorFlag=True, city="Cupertino", state="CA")
    info.notes["sites"] = seed_demo_sites(state.connectwise, info.companies)
    seed_contacts(state, info)

    ad = state.addigy
    p_acme = ad.add_policy(
        "Acme Workstations",
        policy_id="7a1c0f3e-0001-4c55-9a3b-acme00000001",
        connectwise_account_id=acme,
        creation_time=_ts(-200),
    )["policyId"]
    p_globex = ad.add_policy(
        "Globex Fleet",
        policy_id="7a1c0f3e-0002-4c55-9a3b-globex000002",
        connectwise_account_id=globex,
        creation_time=_ts(-190),
    )["policyId"]
    p_lab = ad.add_policy(
        "Lab Macs", policy_id="7a1c0f3e-0003-4c55-9a3b-lab000000003", creation_time=_ts(-180)
    )["policyId"]
    info.policies = {"Acme Workstations": p_acme, "Globex Fleet": p_globex, "Lab Macs": p_lab}

    def agent_id() -> str:
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def device(policy: str, index: int, prefix: str, label: str | None = None, **overrides: Any) -> str:
        facts = _clean_facts(rng, index, prefix)
        for key, value in overrides.items():
            if value is _MISSING:
                facts.pop(key, None)
            else:
                facts[key] = value
        aid = agent_id()
        ad.add_device(policy, facts, agentid=aid, audit_date=_ts(-1 + index / 100))
        if label:
            info.devices[label] = aid
        return aid

    # Policy 1: Acme (20 devices, several messy).
    acme_devices: list[dict[str, Any]] = [
        dict(label="historical-1"),
        dict(label="historical-2"),
        dict(label="ours-inactive"),
        dict(
            label="overlong-name",
            device_name="Acme " + "Extremely Long Device Name " * 4 + "MacBook Pro 16-inch",
        ),
        dict(label="quoted-name", device_name='Bob\'s "Work" Mac\\Book'),
        dict(label="unicode-name-1", device_name="Zoë’s MacBook Pro"),
        dict(label="mac-dashes", ethernet_mac_address="aa-bb-cc-dd-ee-01"),
        dict(label="mac-dots", ethernet_mac_address="aabb.ccdd.ee02"),
        dict(label="mac-bare", ethernet_mac_address="AABBCCDDEE03"),
        # Numbers as Addigy reports them, not always round (labels kept from the text forms).
        dict(label="ram-gb-text", total_memory_gb=16.0),
        dict(label="ram-bytes", total_memory_gb=17179869184),  # an agent reporting bytes
        dict(label="cpu-ghz-text", processor_speed_ghz=2.2999999523),
        dict(
            label="missing-facts",
            serial_number=_MISSING,
            ethernet_mac_address=_MISSING,
            ethernet_ma_cs=_MISSING,
            current_user=_MISSING,
        ),
        dict(label="null-facts", serial_number=None, local_ip=None, current_user=None),
        dict(
            label="error-facts",
            serial_number=FactError("fact collection timed out"),
            ethernet_mac_address=FactError("no ethernet interface"),
        ),
    ]
    for i in range(20):
        spec = acme_devices[i] if i < len(acme_devices) else {}
        spec = dict(spec)
        device(p_acme, i + 1, "ACME", **spec)

    # Policy 2: Globex (18 devices, and one without an agent id).
    globex_devices: list[dict[str, Any]] = [
        dict(label="unicode-name-2", device_name="山田のMacBook Air"),
        dict(label="ram-mb", total_memory_gb=15.99),
        dict(label="cpu-mhz", processor_speed_ghz=2300),  # an agent reporting MHz
        dict(label="mac-upper-colons", ethernet_mac_address="A4:83:E7:0B:1C:2D"),
        # A fact the integration cannot normalise: the device is linked, its MAC address is not
        # written, and its result carries a warning saying so.
        dict(label="bad-mac", ethernet_mac_address="not-a-mac"),
    ]
    for i in range(18):
        spec = dict(globex_devices[i]) if i < len(globex_devices) else {}
        device(p_globex, i + 1, "GLX", **spec)
    # A device that cannot have a configuration: Addigy lists it without an agent id and without
    # any facts (an enrolment that never completed). Nothing identifies it in ConnectWise, so it
    # fails and Globex Fleet shows the seed's red icon (partially linked) until it enrols or is
    # removed. Added without drawing from the RNG, so every other device is as it was.
    ad.add_device_record(
        {
            "agentid": "",
            "orgid": ad.org_id,
            "policy_id": p_globex,
            "audit_date": _ts(-1),
            "agent_audit_date": _ts(-1),
            "facts": None,
        }
    )
    info.devices["no-agent-id"] = ""

    # Policy 3: Lab (12 devices, not linked).
    dup_serial = "VMWVK1D9CE5ZZ"
    lab_devices = [
        dict(label="unicode-name-3", device_name="Ольга iMac"),
        dict(label="dup-serial-1", serial_number=dup_serial, hardware_model="VMware7,1"),
        dict(label="dup-serial-2", serial_number=dup_serial, hardware_model="VMware7,1"),
    ]
    for i in range(12):
        spec = dict(lab_devices[i]) if i < len(lab_devices) else {}
        device(p_lab, i + 1, "LAB", **spec)

    # ---------------------------------------------------------------- existing configurations
    cw = state.connectwise
    types, statuses = info.configuration_types, info.configuration_statuses

    def config(label: str, **fields: Any) -> int:
        rec = cw.insert("configurations", {"activeFlag": True, **fields}, entered=_ts(-120))
        status_id = fields.get("status", {}).get("id")
        rec["activeFlag"] = status_id != statuses["Inactive"]
        info.configurations[label] = rec["id"]
        return rec["id"]

    for n in (1, 2):
        d = ad.device(info.devices[f"historical-{n}"])["facts"]
        config(
            f"acme-historical-{n}",
            name=f"{d['device_name']['value']} (imported)",
            type={"id": types["Managed Mac"]},
            status={"id": statuses["Active"]},
            company={"id": acme},
            serialNumber=d["serial_number"]["value"],
            osType="Mac OS X",
            notes="Imported from the old spreadsheet in 2021.",
        )
    ours = ad.device(info.devices["ours-inactive"])
    config(
        "acme-ours-inactive",
        name=ours["facts"]["device_name"]["value"],
        type={"id": types["Managed Mac"]},
        status={"id": statuses["Inactive"]},
        company={"id": acme},
        deviceIdentifier=ours["agentid"],
        serialNumber=ours["facts"]["serial_number"]["value"],
        macAddress=ours["facts"]["ethernet_mac_address"]["value"],
        managementLink=MANAGEMENT_LINK.format(agentid=ours["agentid"]),
    )
    config(
        "acme-core-switch",
        name="ACME-CORE-SW01",
        type={"id": types["Network Switch"]},
        status={"id": statuses["Active"]},
        company={"id": acme},
        serialNumber="FOC1234X0AB",
        ipAddress="10.0.0.2",
        vendor={"id": info.companies["Apple"]},
        managementLink="https://unifi.acme.example/switch/1",
    )
    config(
        "acme-rmm-laptop",
        name="ACME-LT-0042",
        type={"id": types["Laptop"]},
        status={"id": statuses["Active"]},
        company={"id": acme},
        deviceIdentifier="RMM-000042",
        serialNumber="5CG1234XYZ",
        managementLink="https://rmm.example.net/devices/RMM-000042",
    )
    config(
        "acme-server",
        name="ACME-FS01",
        type={"id": types["Server"]},
        status={"id": statuses["Active"]},
        company={"id": acme},
        serialNumber="CZJ0123ABC",
        questions=[
            {
                "questionId": info.configuration_type_questions["server-rack"],
                "question": "Rack location",
                "answer": "Rack 2, U14",
                "fieldType": "Text",
                "requiredFlag": True,
                "sequenceNumber": 1.0,
            }
        ],
    )
    config(
        "acme-printer",
        name="ACME-PRN-2F",
        type={"id": types["Desktop"]},
        status={"id": statuses["In Repair"]},
        company={"id": acme},
        ipAddress="10.0.3.40",
    )
    config(
        "globex-firewall",
        name="GLX-FW01",
        type={"id": types["Network Switch"]},
        status={"id": statuses["Active"]},
        company={"id": globex},
        serialNumber="FGT60F0000001",
    )

    # ---------------------------------------------------------------- tickets and alerts
    mon = info.boards["Monitoring"]
    t_open = cw.insert(
        "tickets",
        {
            "summary": "Disk space low on ACME-FS01",
            "recordType": "ServiceTicket",
            "board": {"id": mon},
            "status": {"id": info.board_statuses["Monitoring"]["New"]},
            "company": {"id": acme},
            "priority": {"id": info.priorities["Priority 3 - Normal Response"]},
            "severity": "Medium",
            "impact": "Medium",
            "closedFlag": False,
        },
        entered=_ts(-3),
    )
    t_closed = cw.insert(
        "tickets",
        {
            "summary": "Backup failed on ACME-FS01",
            "recordType": "ServiceTicket",
            "board": {"id": mon},
            "status": {"id": info.board_statuses["Monitoring"]["Closed"]},
            "company": {"id": acme},
            "priority": {"id": info.priorities["Priority 3 - Normal Response"]},
            "severity": "Medium",
            "impact": "Medium",
            "closedFlag": True,
            "closedDate": _ts(-5),
            "closedBy": "jtech",
        },
        entered=_ts(-7),
    )
    info.tickets = {"acme-open": t_open["id"], "acme-closed": t_closed["id"]}

    acme_dev = ad.devices_in(p_acme)
    info.alerts["disk-full"] = ad.raise_alert(
        acme_dev[3]["agentid"],
        "Disk almost full",
        level="critical",
        category="Storage",
        fact_identifier="free_disk_space_percent",
        value=3,
        created_date=_ts(-0.5),
        alert_id="65a0c0ffee00000000000001",
    )["id"]
    info.alerts["cpu-high"] = ad.raise_alert(
        acme_dev[4]["agentid"],
        "CPU usage high",
        level="warning",
        category="Performance",
        fact_identifier="cpu_usage_percent",
        value=97,
        created_date=_ts(-0.4),
        alert_id="65a0c0ffee00000000000002",
    )["id"]
    info.alerts["battery"] = ad.raise_alert(
        acme_dev[5]["agentid"],
        "Battery health poor",
        level="info",
        category="Hardware",
        fact_identifier="battery_health",
        value="Service Recommended",
        created_date=_ts(-2),
        alert_id="65a0c0ffee00000000000003",
    )["id"]
    ad.acknowledge_alert(info.alerts["battery"])
    info.alerts["resolved-old"] = ad.raise_alert(
        ad.devices_in(p_globex)[0]["agentid"],
        "Disk almost full",
        level="critical",
        category="Storage",
        fact_identifier="free_disk_space_percent",
        value=4,
        created_date=_ts(-10),
        alert_id="65a0c0ffee00000000000004",
    )["id"]
    ad.resolve_alert(info.alerts["resolved-old"])
    info.alerts["no-ticket"] = ad.raise_alert(
        acme_dev[6]["agentid"],
        "Software update available",
        level="info",
        category="Updates",
        fact_identifier="pending_updates",
        value=2,
        send_ticket=False,
        created_date=_ts(-0.2),
        alert_id="65a0c0ffee00000000000005",
    )["id"]
    return info


class _Missing:
    def __repr__(self) -> str:
        return "<missing fact>"


_MISSING: Any = _Missing()


# ---------------------------------------------------------------- bench


def generate(state: SandboxState, n_devices: int, n_companies: int = 10, *, linked: bool = True) -> SeedInfo:
    """``n_devices`` clean devices spread over ``n_companies`` policies, each linked to its own company.

    Fast (no per-device validation): 20,000 devices take well under a second.
    """
    if n_devices < 0 or n_companies < 1:
        raise ValueError("n_devices must be >= 0 and n_companies >= 1")
    info = seed_catalogue(state, SeedInfo(name=f"bench:{n_devices}:{n_companies}"))
    company = info.notes.pop("company")
    assert callable(company)
    ad = state.addigy
    policies = []
    for c in range(n_companies):
        cid = company(f"BenchCo{c + 1:04d}", f"Bench Company {c + 1}")
        pid = f"bench-policy-{c + 1:04d}"
        ad.add_policy(f"Bench Policy {c + 1}", policy_id=pid, connectwise_account_id=cid if linked else None)
        info.policies[f"Bench Policy {c + 1}"] = pid
        policies.append(pid)
    org = ad.org_id
    stamp = _ts(0)
    versions = _VERSIONS
    for i in range(n_devices):
        pid = policies[i % n_companies]
        aid = f"bench-{i:08d}-0000-4000-8000-000000000000"
        n = i + 1
        ad.add_device_record(
            {
                "agentid": aid,
                "orgid": org,
                "policy_id": pid,
                "audit_date": stamp,
                "agent_audit_date": stamp,
                "facts": {
                    "device_name": {"value": f"BENCH-MAC-{n:06d}", "type": "string", "error_msg": None},
                    "serial_number": {"value": f"C02B{n:08d}", "type": "string", "error_msg": None},
                    "ethernet_mac_address": {
                        "value": f"02:00:{(n >> 24) & 255:02x}:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}",
                        "type": "string",
                        "error_msg": None,
                    },
                    "local_ip": {
                        "value": f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
                        "type": "string",
                        "error_msg": None,
                    },
                    "os_platform": {"value": "macOS", "type": "string", "error_msg": None},
                    "system_version": {
                        "value": versions[n % len(versions)],
                        "type": "string",
                        "error_msg": None,
                    },
                    "ethernet_ma_cs": {
                        "value": [
                            f"02:00:{(n >> 24) & 255:02x}:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"
                        ],
                        "type": "list",
                        "error_msg": None,
                    },
                    "processor_speed_ghz": {"value": 3.2, "type": "number", "error_msg": None},
                    "total_memory_gb": {"value": 16, "type": "number", "error_msg": None},
                    "current_user": {"value": f"user{n}", "type": "string", "error_msg": None},
                    "hardware_model": {"value": "MacBookPro18,3", "type": "string", "error_msg": None},
                    "policy_ids": {"value": [pid], "type": "list", "error_msg": None},
                },
            }
        )
    info.notes["devices"] = n_devices
    return info
