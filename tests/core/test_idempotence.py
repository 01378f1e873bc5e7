"""Property-style: plan -> apply on an in-memory ConnectWise -> plan again gives no write.

Devices are generated from a seeded ``random.Random`` (messy names, every accepted MAC, IP, CPU
and RAM format, missing and errored facts, historical configurations to adopt, foreign ones to
leave alone), then changed and moved between companies, and re-synced.
"""

from __future__ import annotations

import copy
import random

import pytest

from airflow_provider_connectwise.core.apply import apply_actions
from airflow_provider_connectwise.core.planning import CompanyPlan, is_owned, plan_company

from .helpers import ACME, ACTIVE, BETA, INACTIVE, TEMPLATE, FakeConnectWise, configuration, resolved

NAMES = ["Ann's MacBook", "  Reception\tMac ", "Café 😀", 'Server "rack" *2*', "back\\slash", "x" * 130, ""]
MACS = ["a4:83:e7:0b:12:{:02x}", "A4-83-E7-0B-12-{:02X}", "a483.e70b.12{:02x}", "a483e70b12{:02x}"]
RAMS = ["16 GB", "16384 MB", "17179869184", 8, "12.5 GB"]
CPUS = ["2.3 GHz", "2300", 3.2, "Intel(R) Core(TM) i7 CPU @ 2.60GHz"]


def random_device(rng: random.Random, n: int, policy: str) -> dict:
    facts: dict = {
        "device_name": rng.choice(NAMES) + (f" {n}" if rng.random() < 0.7 else ""),
        "serial_number": f"C02SER{n:05}",
        "ethernet_mac_address": rng.choice(MACS).format(n % 256),
        "local_ip": rng.choice(
            [f"10.0.{n // 256}.{n % 256 or 1}", f"fe80::{n:x}%en0", ["0.0.0.0", f"10.1.0.{n % 250 + 1}"]]  # noqa: S104 - an MDM fact, not a bind
        ),
        "total_memory_gb": rng.choice(RAMS),
        "processor_speed_ghz": rng.choice(CPUS),
        "os_platform": "macOS",
        "system_version": f"macOS 14.{rng.randint(0, 6)}",
    }
    for fact in list(facts):
        roll = rng.random()
        if fact != "serial_number" and roll < 0.1:
            del facts[fact]
        elif roll < 0.15:
            facts[fact] = {"value": None, "type": "string", "error_msg": "collection failed"}
        elif roll < 0.3:
            facts[fact] = {"value": facts[fact], "type": "string", "error_msg": None}
    return {"agentid": f"agent-{n:05}", "policy_id": policy, "facts": facts}


def sync(cw: FakeConnectWise, devices_by_company: dict[int, list[dict]], settings) -> list[CompanyPlan]:
    plans = [
        plan_company(company, devices, cw.company_configurations(company), settings)
        for company, devices in devices_by_company.items()
    ]
    for plan in plans:
        for batch in plan.batches(size=7):
            results = apply_actions(batch.actions, cw, concurrency=3)
            assert all(r.state != "failed" for r in results), [r.error for r in results if r.error]
    return plans


def writes(cw: FakeConnectWise, devices_by_company: dict[int, list[dict]], settings) -> list:
    return [
        action
        for company, devices in devices_by_company.items()
        for action in plan_company(
            company, devices, cw.company_configurations(company), settings
        ).write_actions()
    ]


@pytest.mark.parametrize("seed", range(20))
def test_resync_is_a_no_op_and_converges_after_changes(seed):
    rng = random.Random(seed)
    settings = resolved(
        configuration_types={
            "default": "Managed Workstation",
            "conditional": [{"type": "Laptop", "fact": "device_name", "op": "contains", "value": "book"}],
        }
    )
    count = rng.randint(5, 30)
    acme = [random_device(rng, n, rng.choice(["pol-1", "pol-2"])) for n in range(count)]
    foreign = configuration(900, "rmm-1", owned=False, name="Ann's MacBook", serialNumber="C02SER00000")
    history = [
        configuration(800 + n, None, owned=False, serialNumber=f"c02ser{n:05} ", status=INACTIVE)
        for n in range(count)
        if rng.random() < 0.3
    ]
    departed = [configuration(700 + n, f"gone-{n}") for n in range(rng.randint(0, 3))]
    cw = FakeConnectWise([foreign, *history, *departed])

    first = sync(cw, {ACME: acme, BETA: []}, settings)
    assert sum(p.counts["fail"] for p in first) == 0
    assert writes(cw, {ACME: acme, BETA: []}, settings) == []
    assert cw.configurations[900] == foreign  # never touched

    # Change things: rename some, drop some, move some to another company, add new ones.
    changed = copy.deepcopy(acme)
    for record in changed:
        if rng.random() < 0.3:
            record["facts"]["device_name"] = f"Renamed {record['agentid']}"
    dropped = [record for record in changed if rng.random() < 0.2]
    moved = [record for record in changed if record not in dropped and rng.random() < 0.2]
    stay = [record for record in changed if record not in dropped and record not in moved]
    stay += [random_device(rng, 10_000 + n, "pol-1") for n in range(rng.randint(0, 5))]
    beta = [{**record, "policy_id": "pol-beta"} for record in moved]

    sync(cw, {ACME: stay, BETA: beta}, settings)
    assert writes(cw, {ACME: stay, BETA: beta}, settings) == []

    # Every present device has exactly one active configuration of ours in its company...
    for company, devices in ((ACME, stay), (BETA, beta)):
        for record in devices:
            ours = [
                c
                for c in cw.company_configurations(company)
                if c["deviceIdentifier"] == record["agentid"] and is_owned(c, TEMPLATE)
            ]
            assert [c["status"]["id"] for c in ours] == [ACTIVE]
    # ...and the configurations of devices that left a company are inactive there.
    for record in dropped + moved:
        for c in cw.company_configurations(ACME):
            if c["deviceIdentifier"] == record["agentid"]:
                assert c["status"]["id"] == INACTIVE
    for c in departed:
        assert cw.configurations[c["id"]]["status"]["id"] == INACTIVE
    assert cw.configurations[900] == foreign
