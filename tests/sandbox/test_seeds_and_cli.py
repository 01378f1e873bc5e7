"""Seeds (demo shape, determinism, the bench generator), connection dicts/URIs and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_connectwise.sandbox import Sandbox, SandboxState
from airflow_provider_connectwise.sandbox.paging import PageRequest
from airflow_provider_connectwise.sandbox.seeds import generate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo() -> SandboxState:
    return SandboxState.seeded("demo")


def fact(device: dict[str, Any], name: str) -> Any:
    return device["facts"].get(name, {}).get("value")


def test_demo_policies_and_links(demo: SandboxState) -> None:
    s = demo.seed
    policies = demo.addigy.query_policies({})
    assert len(policies) == 3
    links = {p["name"]: p["connectwise_account_id"] for p in policies}
    assert links == {
        "Acme Workstations": s.companies["AcmeCorp"],
        "Globex Fleet": s.companies["Globex"],
        "Lab Macs": None,
    }
    counts = {name: len(demo.addigy.devices_in(name)) for name in links}
    assert counts == {"Acme Workstations": 20, "Globex Fleet": 19, "Lab Macs": 12}


def test_demo_catalogue(demo: SandboxState) -> None:
    cw, s = demo.connectwise, demo.seed
    assert set(s.companies) >= {"AcmeCorp", "Globex", "Initech", "OldCo"}
    assert cw.company("OldCo")["deletedFlag"] is True
    assert set(s.boards) == {"Monitoring", "Help Desk", "Projects Archive"}
    assert cw.board("Projects Archive")["inactiveFlag"] is True
    assert cw.board_status("Monitoring", "New")["closedStatus"] is False
    assert cw.board_status("Help Desk", "Closed")["closedStatus"] is True
    assert cw.board_status("Monitoring", "Legacy Open")["inactive"] is True
    assert cw.configuration_status("Inactive")["closedFlag"] is True
    assert cw.configuration_status("Active")["defaultFlag"] is True
    assert cw.configuration_type("Legacy Workstation")["inactiveFlag"] is True
    questions, _ = cw.list(
        "configuration_type_questions", PageRequest(), parent_id=s.configuration_types["Server"]
    )
    assert any(q["requiredFlag"] and not q["inactiveFlag"] for q in questions)


def test_demo_messy_devices(demo: SandboxState) -> None:
    ad, d = demo.addigy, demo.seed.devices
    assert len(fact(ad.device(d["overlong-name"]), "device_name")) > 100
    quoted = fact(ad.device(d["quoted-name"]), "device_name")
    assert '"' in quoted and "\\" in quoted
    assert all(
        any(ord(ch) > 127 for ch in fact(ad.device(d[f"unicode-name-{i}"]), "device_name")) for i in (1, 2, 3)
    )
    assert fact(ad.device(d["mac-dashes"]), "ethernet_mac_address") == "aa-bb-cc-dd-ee-01"
    assert fact(ad.device(d["mac-dots"]), "ethernet_mac_address") == "aabb.ccdd.ee02"
    assert fact(ad.device(d["mac-bare"]), "ethernet_mac_address") == "AABBCCDDEE03"
    # Addigy's number facts hold numbers, in the units and precisions agents report.
    assert fact(ad.device(d["ram-gb-text"]), "total_memory_gb") == 16.0
    assert fact(ad.device(d["ram-bytes"]), "total_memory_gb") == 17179869184
    assert fact(ad.device(d["ram-mb"]), "total_memory_gb") == 15.99
    assert fact(ad.device(d["cpu-ghz-text"]), "processor_speed_ghz") == 2.2999999523
    assert fact(ad.device(d["cpu-mhz"]), "processor_speed_ghz") == 2300
    assert fact(ad.device(d["bad-mac"]), "ethernet_mac_address") == "not-a-mac"
    unenrolled = ad.device(d["no-agent-id"])
    assert (unenrolled["agentid"], unenrolled["facts"]) == ("", None)
    assert len(ad.devices_in("Globex Fleet")) == 19  # 18 enrolled and the one without an agent id
    missing = ad.device(d["missing-facts"])["facts"]
    assert "serial_number" not in missing and "ethernet_mac_address" not in missing
    nulls = ad.device(d["null-facts"])["facts"]
    assert nulls["serial_number"] == {"value": None, "type": "string", "error_msg": None}
    errors = ad.device(d["error-facts"])["facts"]
    assert errors["serial_number"]["value"] is None and errors["serial_number"]["error_msg"]
    dup1, dup2 = (fact(ad.device(d[f"dup-serial-{i}"]), "serial_number") for i in (1, 2))
    assert dup1 == dup2


def test_demo_existing_configurations(demo: SandboxState) -> None:
    cw, s, ad = demo.connectwise, demo.seed, demo.addigy
    for n in (1, 2):
        conf = cw.configuration(s.configurations[f"acme-historical-{n}"])
        assert "deviceIdentifier" not in conf
        assert conf["serialNumber"] == fact(ad.device(s.devices[f"historical-{n}"]), "serial_number")
        assert conf["company"]["identifier"] == "AcmeCorp"
    ours = cw.configuration(s.configurations["acme-ours-inactive"])
    assert ours["deviceIdentifier"] == s.devices["ours-inactive"]
    assert ours["managementLink"] == f"https://app.addigy.com/devices/{s.devices['ours-inactive']}"
    assert ours["activeFlag"] is False
    for label in ("acme-core-switch", "acme-rmm-laptop", "acme-server", "acme-printer"):
        conf = cw.configuration(s.configurations[label])
        assert not (conf.get("managementLink") or "").startswith("https://app.addigy.com/")
    assert len(cw.configurations_of("AcmeCorp")) == 7


def test_demo_is_deterministic(demo: SandboxState) -> None:
    again = SandboxState.seeded("demo")
    assert again.seed.devices == demo.seed.devices
    assert sorted(again.addigy.devices) == sorted(demo.addigy.devices)
    assert again.seed.configurations == demo.seed.configurations


def test_generator_for_benchmarks() -> None:
    started = time.monotonic()
    state = SandboxState.seeded("bench:20000:8")
    elapsed = time.monotonic() - started
    assert len(state.addigy.devices) == 20000
    assert len(state.seed.policies) == 8
    per_policy = state.addigy.query_devices({"query": {"policy_id": "bench-policy-0001"}, "per_page": 1})
    assert per_policy["metadata"]["total"] == 2500
    assert all(p["connectwise_account_id"] for p in state.addigy.query_policies({}))
    assert elapsed < 30  # ~0.3 s; generous bound for slow CI machines
    small = SandboxState()
    info = generate(small, 10, n_companies=2, linked=False)
    assert info.name == "bench:10:2" and all(
        p["connectwise_account_id"] is None for p in small.addigy.query_policies({})
    )


def test_unknown_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown seed"):
        SandboxState.seeded("nope")


def test_listing_ten_thousand_configurations_is_quick() -> None:
    state = SandboxState.seeded("bench:0:4")
    cw, s = state.connectwise, state.seed
    companies = list(s.companies.values())[1:]
    started = time.monotonic()
    for i in range(12000):
        cw.create_configuration(
            {
                "name": f"c{i}",
                "type": {"id": s.configuration_types["Managed Mac"]},
                "company": {"id": companies[i % 4]},
                "deviceIdentifier": f"agent-{i}",
            }
        )
    created = time.monotonic() - started
    started = time.monotonic()
    seen = 0
    for company in companies:
        page_no = 1
        while True:
            items, page = cw.list(
                "configurations",
                PageRequest(page=page_no, page_size=1000),
                conditions=f"company/id={company}",
            )
            seen += len(items)
            if not page.has_next:
                break
            page_no += 1
    listed = time.monotonic() - started
    assert seen == 12000
    one, _ = cw.list("configurations", PageRequest(), conditions='deviceIdentifier="agent-11999"')
    assert [c["name"] for c in one] == ["c11999"]
    assert created < 20 and listed < 20  # both well under 2 s normally: no O(n^2)


# ---------------------------------------------------------------- connections


def test_connection_dicts(sandbox: Sandbox) -> None:
    cw = sandbox.connectwise_connection()
    assert cw == {
        "conn_type": "connectwise",
        "host": sandbox.url,
        "login": "demo",
        "password": "demo-private-key",
        "extra": {"public_key": "demo-public-key", "client_id": "3f0b5c2e-1d4a-4c8e-9b7a-2e6f1a9c0d11"},
    }
    ad = sandbox.addigy_connection()
    assert (ad["conn_type"], ad["host"], ad["password"], ad["extra"]) == (
        "addigy",
        sandbox.url,
        "demo-addigy-api-key",
        {},
    )
    assert sandbox.url.startswith("http://127.0.0.1:")
    whoami = requests.get(
        ad["host"] + "/api/v2/configuration/whoami", headers={"x-api-key": ad["password"]}, timeout=5
    )
    assert whoami.status_code == 200


def test_connection_uris_round_trip_through_airflow(sandbox: Sandbox) -> None:
    pytest.importorskip("airflow")
    from airflow.models.connection import Connection

    conn = Connection(conn_id="cw", uri=sandbox.connectwise_connection_uri())
    assert (conn.conn_type, conn.host, conn.login, conn.password) == (
        "connectwise",
        sandbox.url,
        "demo",
        "demo-private-key",
    )
    assert conn.extra_dejson == sandbox.connectwise_connection()["extra"]
    addigy = Connection(conn_id="ad", uri=sandbox.addigy_connection_uri())
    assert (addigy.conn_type, addigy.host, addigy.password) == ("addigy", sandbox.url, "demo-addigy-api-key")
    as_json = json.loads(sandbox.airflow_env(form="json")["AIRFLOW_CONN_CONNECTWISE_DEFAULT"])
    assert as_json["host"] == sandbox.url and as_json["extra"]["public_key"] == "demo-public-key"


def test_cli_prints_connections_and_serves() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_connectwise.sandbox",
            "--port",
            "0",
            "--seed",
            "demo",
            "--latency-ms",
            "1",
            "--fail-503",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        out = "\n".join(lines)
        assert (
            "AIRFLOW_CONN_CONNECTWISE_DEFAULT='connectwise://http://demo:demo-private-key@127.0.0.1%3A" in out
        )
        assert "export AIRFLOW_CONN_ADDIGY_DEFAULT=addigy://http://:demo-addigy-api-key@127.0.0.1%3A" in out
        assert '"conn_type": "connectwise"' in out and '"conn_type": "addigy"' in out
        url = lines[0].split(" on ")[1].split(" ")[0]
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/login/companyinfo/demo", timeout=5).json()["Codebase"] == "v2025_1/"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert "sandbox stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_refuses_bad_knobs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "airflow_provider_connectwise.sandbox", "--fail-500", "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "probability" in proc.stderr


def test_sandbox_does_not_import_airflow() -> None:
    code = (
        "import sys, airflow_provider_connectwise.sandbox as s; s.Sandbox; import airflow_provider_connectwise.sandbox.testing;"
        "import airflow_provider_connectwise.sandbox.contract;"
        "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert out.stdout.strip() == "False", out.stderr
