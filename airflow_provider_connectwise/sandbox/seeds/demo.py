"""The ``demo`` seed: the catalogue, client companies with sites and contacts, three Addigy
policies of messy devices, configurations (adoption candidates, an earlier binding, others'),
tickets and alerts. What they are is in ``data.py``; the package docstring lists the labels."""

from __future__ import annotations

import random
from typing import Any

from ..models import SandboxState, SeedInfo
from ..models.sites import seed_demo_sites
from . import data as D
from .catalogue import seed_catalogue, seed_contacts, ts

MANAGEMENT_LINK = "https://app.addigy.com/devices/{agentid}"


def seed_demo(state: SandboxState) -> SeedInfo:
    """The demo MSP: catalogue, clients, contacts, policies, messy devices, configurations,
    tickets and alerts (see the module docstring)."""
    rng = random.Random(4242)
    info = seed_catalogue(state, SeedInfo(name="demo"))
    company = info.notes.pop("company")
    assert callable(company)
    for identifier, name, extra in D.DEMO_COMPANIES:
        company(identifier, name, **extra)
    info.notes["sites"] = seed_demo_sites(state.connectwise, info.companies)
    seed_contacts(state, info)
    _demo_policies(state, info)
    _demo_devices(state, info, rng)
    _demo_configurations(state, info)
    _demo_tickets(state, info)
    _demo_alerts(state, info)
    return info


def _demo_policies(state: SandboxState, info: SeedInfo) -> None:
    for name, policy_id, company, created in D.DEMO_POLICIES:
        account = info.companies[company] if company else None
        policy = state.addigy.add_policy(
            name, policy_id=policy_id, connectwise_account_id=account, creation_time=ts(created)
        )
        info.policies[name] = policy["policyId"]


def _mac(rng: random.Random) -> str:
    return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))


def _serial(rng: random.Random) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return "C02" + "".join(rng.choice(alphabet) for _ in range(9))


def _agent_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def clean_facts(rng: random.Random, index: int, prefix: str) -> dict[str, Any]:
    """A device's facts with Addigy's identifiers and JSON types (numbers, lists, booleans)."""
    user = rng.choice(D.FIRST_NAMES)
    model, kind = rng.choice(D.MODELS)
    mac = _mac(rng)
    return {
        "device_name": f"{prefix}-{user}s-{kind.replace(' ', '')}-{index:02d}",
        "serial_number": _serial(rng),
        "ethernet_mac_address": mac,
        "ethernet_ma_cs": [mac],
        "local_ip": f"10.{rng.randrange(1, 20)}.{rng.randrange(0, 255)}.{rng.randrange(2, 254)}",
        "os_platform": "macOS",
        "system_version": rng.choice(D.VERSIONS),
        "processor_speed_ghz": rng.choice([2.3, 2.6, 3.2, 3.49, 4.05]),
        "total_memory_gb": rng.choice([8, 16, 32, 64]),
        "current_user": user.lower(),
        "hardware_model": model,
        "online": rng.random() < 0.8,
        "agent_version": "1.0.25",
    }


def _demo_devices(state: SandboxState, info: SeedInfo, rng: random.Random) -> None:
    for policy, count, prefix, specials in D.DEMO_DEVICES:
        for i in range(count):
            overrides = dict(specials[i]) if i < len(specials) else {}
            label = overrides.pop("label", None)
            facts = clean_facts(rng, i + 1, prefix)
            for key, value in overrides.items():
                if value is D.MISSING:
                    facts.pop(key, None)
                else:
                    facts[key] = value
            aid = _agent_id(rng)
            state.addigy.add_device(
                info.policies[policy], facts, agentid=aid, audit_date=ts(-1 + (i + 1) / 100)
            )
            if label:
                info.devices[label] = aid
        if policy == "Globex Fleet":
            _unenrolled_device(state, info, info.policies[policy])


def _unenrolled_device(state: SandboxState, info: SeedInfo, policy_id: str) -> None:
    # A device that cannot have a configuration: Addigy lists it without an agent id and without
    # any facts (an enrolment that never completed). Nothing identifies it in ConnectWise, so it
    # fails and Globex Fleet shows the seed's red icon (partially linked) until it enrols or is
    # removed. Added without drawing from the RNG, so every other device is as it was.
    state.addigy.add_device_record(
        {
            "agentid": "",
            "orgid": state.addigy.org_id,
            "policy_id": policy_id,
            "audit_date": ts(-1),
            "agent_audit_date": ts(-1),
            "facts": None,
        }
    )
    info.devices["no-agent-id"] = ""


def _add_configuration(state: SandboxState, info: SeedInfo, label: str, **fields: Any) -> int:
    rec = state.connectwise.insert("configurations", {"activeFlag": True, **fields}, entered=ts(-120))
    status_id = fields.get("status", {}).get("id")
    rec["activeFlag"] = status_id != info.configuration_statuses["Inactive"]
    info.configurations[label] = rec["id"]
    return rec["id"]


def _demo_configurations(state: SandboxState, info: SeedInfo) -> None:
    """Adoption candidates and an earlier binding of policy-1 devices, then the others' devices."""
    ad, acme = state.addigy, info.companies["AcmeCorp"]
    types, statuses = info.configuration_types, info.configuration_statuses
    for n in (1, 2):
        d = ad.device(info.devices[f"historical-{n}"])["facts"]
        _add_configuration(
            state,
            info,
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
    _add_configuration(
        state,
        info,
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
    for spec in D.DEMO_CONFIGURATIONS:
        fields = {k: _configuration_field(info, k, v) for k, v in spec.items() if k != "label"}
        _add_configuration(state, info, spec["label"], **fields)


def _configuration_field(info: SeedInfo, key: str, value: Any) -> Any:
    """A data value with its named target turned into a reference by id."""
    if key == "type":
        return {"id": info.configuration_types[value]}
    if key == "status":
        return {"id": info.configuration_statuses[value]}
    if key in ("company", "vendor"):
        return {"id": info.companies[value]}
    if key == "questions":
        return [{**q, "questionId": info.configuration_type_questions[q["questionId"]]} for q in value]
    return value


def _demo_tickets(state: SandboxState, info: SeedInfo) -> None:
    for spec in D.DEMO_TICKETS:
        board = spec["board"]
        refs = {
            "board": info.boards[board],
            "status": info.board_statuses[board][spec["status"]],
            "company": info.companies[spec["company"]],
            "priority": info.priorities[spec["priority"]],
        }
        fields = {
            k: {"id": refs[k]} if k in refs else v for k, v in spec.items() if k not in ("label", "entered")
        }
        rec = state.connectwise.insert("tickets", fields, entered=ts(spec["entered"]))
        info.tickets[spec["label"]] = rec["id"]


def _demo_alerts(state: SandboxState, info: SeedInfo) -> None:
    ad = state.addigy
    for spec in D.DEMO_ALERTS:
        device = ad.devices_in(info.policies[spec["policy"]])[spec["device"]]
        options = {
            k: v for k, v in spec.items() if k not in ("label", "policy", "device", "name", "created", "then")
        }
        alert = ad.raise_alert(device["agentid"], spec["name"], **options, created_date=ts(spec["created"]))
        info.alerts[spec["label"]] = alert["id"]
        if spec.get("then") == "acknowledge":
            ad.acknowledge_alert(alert["id"])
        elif spec.get("then") == "resolve":
            ad.resolve_alert(alert["id"])
