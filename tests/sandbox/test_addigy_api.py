"""The Addigy side over HTTP (TestClient): auth, policies, devices and facts, alerts, admin operations."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_connectwise.sandbox.models import FactError

from .conftest import ADDIGY

V2 = "/api/v2"


def post(client: Any, path: str, body: Any = None) -> Any:
    return client.post(V2 + path, json=body if body is not None else {}, headers=ADDIGY)


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"X-API-KEY": "Demo-Addigy-Api-Key"}])
def test_api_key_required(client: Any, headers: dict[str, str]) -> None:
    resp = client.get(V2 + "/configuration/whoami", headers=headers)
    assert resp.status_code == 401
    body = resp.json()
    assert body["code"] == 401 and body["message"] and body["error_chain"] == {}


def test_whoami(client: Any) -> None:
    resp = client.get(V2 + "/configuration/whoami", headers=ADDIGY)
    assert resp.json() == {"name": "Airflow sandbox key", "organization_id": "org-demo"}


def test_policies(client: Any, seed: Any) -> None:
    policies = post(client, "/oa/policies/query").json()
    assert isinstance(policies, list) and len(policies) == 3
    by_name = {p["name"]: p for p in policies}
    assert by_name["Acme Workstations"]["connectwise_account_id"] == seed.companies["AcmeCorp"]
    assert by_name["Globex Fleet"]["connectwise_account_id"] == seed.companies["Globex"]
    assert by_name["Lab Macs"]["connectwise_account_id"] is None
    assert all(p["orgid"] == "org-demo" and "policyId" in p and "parent" in p for p in policies)
    only = post(client, "/oa/policies/query", {"policies": [seed.policies["Lab Macs"]]}).json()
    assert [p["name"] for p in only] == ["Lab Macs"]
    assert post(client, "/oa/policies/query", {"policies": "nope"}).status_code == 400


def test_devices_nested_policy_filter(client: Any, seed: Any) -> None:
    lab = seed.policies["Lab Macs"]
    nested = post(client, "/o/org-demo/devices", {"query": {"policy_id": lab}, "per_page": 100}).json()
    assert nested["metadata"]["total"] == 12
    ignored = post(client, "/o/org-demo/devices", {"policy_id": lab, "per_page": 100}).json()
    assert ignored["metadata"]["total"] == 51  # a top-level policy_id is silently ignored
    same = post(client, "/devices", {"query": {"policy_id": lab}, "per_page": 100}).json()
    assert [d["agentid"] for d in same["items"]] == [d["agentid"] for d in nested["items"]]


def test_devices_paging_and_desired_facts(client: Any, seed: Any) -> None:
    acme = seed.policies["Acme Workstations"]
    body = {
        "query": {"policy_id": acme},
        "per_page": 8,
        "page": 1,
        "desired_fact_identifiers": ["device_name", "serial_number"],
    }
    seen = []
    while True:
        page = post(client, "/o/org-demo/devices", body).json()
        meta = page["metadata"]
        assert meta["per_page"] == 8 and meta["total"] == 20 and meta["page_count"] == 3
        assert meta["result_count"] == len(page["items"])
        for item in page["items"]:
            assert set(item) == {"agentid", "orgid", "audit_date", "agent_audit_date", "facts"}
            assert set(item["facts"]) <= {"device_name", "serial_number"}
        seen += [d["agentid"] for d in page["items"]]
        if meta["page"] >= meta["page_count"]:
            break
        body["page"] += 1
    assert len(seen) == len(set(seen)) == 20
    everything = post(client, "/o/org-demo/devices", {"query": {"policy_id": acme}, "per_page": 1}).json()
    assert "policy_ids" in everything["items"][0]["facts"]


def test_device_filters_and_search(client: Any, seed: Any) -> None:
    dup = post(
        client,
        "/o/org-demo/devices",
        {
            "query": {
                "filters": [{"audit_field": "serial_number", "operation": "=", "value": "VMWVK1D9CE5ZZ"}]
            }
        },
    ).json()
    assert {d["agentid"] for d in dup["items"]} == {
        seed.devices["dup-serial-1"],
        seed.devices["dup-serial-2"],
    }
    found = post(client, "/o/org-demo/devices", {"query": {"search_any": "ольга"}}).json()
    assert [d["agentid"] for d in found["items"]] == [seed.devices["unicode-name-3"]]
    bad = post(
        client, "/o/org-demo/devices", {"query": {"filters": [{"audit_field": "x", "operation": "~"}]}}
    )
    assert bad.status_code == 400 and bad.json()["code"] == 400


def test_bad_device_bodies(client: Any) -> None:
    assert post(client, "/o/org-demo/devices", {"per_page": 0}).status_code == 400
    assert post(client, "/o/org-demo/devices", {"desired_fact_identifiers": "device_name"}).status_code == 400
    resp = client.post(
        V2 + "/o/org-demo/devices", content=b"{", headers={**ADDIGY, "content-type": "application/json"}
    )
    assert resp.status_code == 400


def test_other_organization_is_forbidden(client: Any) -> None:
    resp = post(client, "/o/org-other/devices", {})
    assert resp.status_code == 403
    assert client.get(V2 + "/o/org-other/facts", headers=ADDIGY).status_code == 403


def test_fact_catalogue(client: Any) -> None:
    facts = {f["identifier"]: f for f in client.get(V2 + "/o/org-demo/facts", headers=ADDIGY).json()}
    expected = {
        "device_name": "Device Name",
        "serial_number": "Serial Number",
        "ethernet_mac_address": "Ethernet MAC Address",
        "local_ip": "Local IP",
        "os_platform": "OS Platform",
        "system_version": "System Version",
        "processor_speed_ghz": "Processor Speed (GHz)",
        "total_memory_gb": "Total Memory (GB)",
        "current_user": "Current User",
        "hardware_model": "Hardware Model",
        "policy_ids": "Policy IDs",
    }
    assert {k: facts[k]["name"] for k in expected} == expected
    assert all("return_type" in f for f in facts.values())
    # Addigy's identifiers and types: there is no processor_speed or total_memory fact.
    assert "processor_speed" not in facts and "total_memory" not in facts
    types = {k: facts[k]["return_type"] for k in ("processor_speed_ghz", "total_memory_gb", "ethernet_ma_cs")}
    assert types == {"processor_speed_ghz": "number", "total_memory_gb": "number", "ethernet_ma_cs": "list"}
    assert (facts["policy_ids"]["return_type"], facts["online"]["return_type"]) == ("list", "boolean")


def test_served_facts_have_their_json_types(client: Any, seed: Any) -> None:
    body = {"query": {"policy_id": seed.policies["Lab Macs"]}, "per_page": 100}
    for item in post(client, "/o/org-demo/devices", body).json()["items"]:
        facts = {k: v["value"] for k, v in item["facts"].items()}
        assert isinstance(facts["processor_speed_ghz"], float)
        assert isinstance(facts["total_memory_gb"], int)
        assert isinstance(facts["ethernet_ma_cs"], list) and isinstance(facts["policy_ids"], list)
        assert isinstance(facts["online"], bool)
        assert item["facts"]["total_memory_gb"]["type"] == "number"


def test_a_device_without_facts_is_served_with_null_facts(rt: Any, client: Any, seed: Any) -> None:
    """Regression: a device whose facts are null answered 500."""
    lab = seed.policies["Lab Macs"]
    new = rt.state.addigy.add_device(lab, None, agentid="nofacts-0001")
    assert new["facts"] is None
    for desired in (None, ["device_name"]):
        body = {"query": {"policy_id": lab}, "per_page": 100, "desired_fact_identifiers": desired}
        resp = post(client, "/o/org-demo/devices", {k: v for k, v in body.items() if v is not None})
        assert resp.status_code == 200
        (item,) = [d for d in resp.json()["items"] if d["agentid"] == "nofacts-0001"]
        assert item["facts"] is None
    search = {"query": {"search_any": "nofacts", "filters": [{"audit_field": "device_name", "value": "x"}]}}
    assert post(client, "/o/org-demo/devices", search).status_code == 200
    rt.state.addigy.set_facts("nofacts-0001", {"device_name": "Enrolled"})
    assert rt.state.addigy.device("nofacts-0001")["facts"]["device_name"]["value"] == "Enrolled"


def test_policy_assignments(client: Any, seed: Any) -> None:
    agent = seed.devices["quoted-name"]
    resp = client.get(V2 + f"/o/org-demo/devices/{agent}/policy-assignments", headers=ADDIGY)
    assert resp.json() == [seed.policies["Acme Workstations"]]
    assert client.get(V2 + "/o/org-demo/devices/nope/policy-assignments", headers=ADDIGY).status_code == 404


def test_alerts_query(client: Any, seed: Any) -> None:
    page = post(client, "/oa/monitoring/alerts/query", {"page": 1, "per_page": 100}).json()
    assert page["metadata"]["total"] == 5
    alert = next(a for a in page["items"] if a["id"] == seed.alerts["disk-full"])
    assert {
        "id",
        "agentid",
        "name",
        "level",
        "category",
        "status",
        "fact_identifier",
        "created_date",
        "resolved_date",
        "send_ticket",
        "value",
    } <= set(alert)
    assert alert["status"] == "Unattended" and alert["send_ticket"] is True
    open_ = post(
        client, "/oa/monitoring/alerts/query", {"per_page": 100, "query": {"statuses": ["Unattended"]}}
    ).json()
    assert {a["id"] for a in open_["items"]} == {
        seed.alerts[k] for k in ("disk-full", "cpu-high", "no-ticket")
    }
    by_id = post(client, "/oa/monitoring/alerts/query", {"query": {"ids": [seed.alerts["battery"]]}}).json()
    assert [a["status"] for a in by_id["items"]] == ["Acknowledged"]
    by_agent = post(
        client, "/oa/monitoring/alerts/query", {"query": {"agent_ids": [alert["agentid"]]}}
    ).json()
    assert [a["id"] for a in by_agent["items"]] == [alert["id"]]
    dated = post(
        client,
        "/oa/monitoring/alerts/query",
        {"query": {"start_date": "2025-01-01", "end_date": "2025-01-05"}},
    ).json()
    # end_date is inclusive of its whole day; "no-ticket" was raised on the 6th, "resolved-old" in 2024
    assert {a["id"] for a in dated["items"]} == {
        seed.alerts["battery"],
        seed.alerts["disk-full"],
        seed.alerts["cpu-high"],
    }
    paged = post(client, "/oa/monitoring/alerts/query", {"page": 2, "per_page": 2}).json()
    assert paged["metadata"] == {"page": 2, "per_page": 2, "page_count": 3, "result_count": 2, "total": 5}


@pytest.mark.parametrize("per_page", [0, 101, "10"])
def test_alerts_per_page_bounds(client: Any, per_page: Any) -> None:
    assert post(client, "/oa/monitoring/alerts/query", {"per_page": per_page}).status_code == 400


def test_alert_actions(client: Any, seed: Any) -> None:
    ids = [seed.alerts["disk-full"], seed.alerts["cpu-high"]]
    resp = post(client, "/o/org-demo/monitoring/alerts/acknowledge", {"alert_ids": ids})
    assert [a["status"] for a in resp.json()] == ["Acknowledged", "Acknowledged"]
    resp = post(client, "/o/org-demo/monitoring/alerts/resolve", {"alert_ids": ids[:1]})
    assert resp.json()[0]["status"] == "Resolved" and resp.json()[0]["resolved_date"]
    assert (
        post(client, "/o/org-demo/monitoring/alerts/mute", {"alert_ids": ids[1:]}).json()[0]["muted"] is True
    )
    assert post(client, "/o/org-demo/monitoring/alerts/explode", {"alert_ids": ids}).status_code == 400
    assert post(client, "/o/org-demo/monitoring/alerts/resolve", {"alert_ids": []}).status_code == 400


def test_admin_operations_python(rt: Any, client: Any, seed: Any) -> None:
    ad = rt.state.addigy
    lab, acme = seed.policies["Lab Macs"], seed.policies["Acme Workstations"]
    new = ad.add_device(
        lab, {"device_name": "New Mac", "serial_number": None, "local_ip": FactError("no network")}
    )
    assert new["facts"]["serial_number"] == {"value": None, "type": "string", "error_msg": None}
    assert new["facts"]["local_ip"]["error_msg"] == "no network"
    assert "ethernet_mac_address" not in new["facts"]
    ad.move_device(new["agentid"], acme)
    assert new["agentid"] in {d["agentid"] for d in ad.devices_in("Acme Workstations")}
    ad.set_facts(new["agentid"], {"device_name": "Renamed Mac"})
    assert ad.device(new["agentid"])["facts"]["device_name"]["value"] == "Renamed Mac"
    ad.remove_device(new["agentid"])
    with pytest.raises(KeyError):
        ad.device(new["agentid"])
    ad.link_policy(lab, seed.companies["Initech"])
    assert ad.policy("Lab Macs")["connectwise_account_id"] == seed.companies["Initech"]
    alert = ad.raise_alert(ad.devices_in(lab)[0]["agentid"], "Disk full", send_ticket=True)
    assert ad.resolve_alert(alert["id"])["status"] == "Resolved"


def test_admin_operations_http(client: Any, seed: Any) -> None:
    lab = seed.policies["Lab Macs"]
    resp = client.post(
        "/_sandbox/addigy/devices",
        json={
            "policy_id": lab,
            "facts": {"device_name": "Via HTTP", "serial_number": {"error_msg": "timeout"}},
        },
    )
    assert resp.status_code == 200
    agent = resp.json()["agentid"]
    assert resp.json()["facts"]["serial_number"]["error_msg"] == "timeout"
    moved = client.post(
        f"/_sandbox/addigy/devices/{agent}/move", json={"policy_id": seed.policies["Globex Fleet"]}
    )
    assert moved.json()["facts"]["policy_ids"]["value"] == [seed.policies["Globex Fleet"]]
    assert (
        client.patch(f"/_sandbox/addigy/devices/{agent}/facts", json={"current_user": "ann"}).status_code
        == 200
    )
    alert = client.post(
        "/_sandbox/addigy/alerts", json={"agentid": agent, "name": "Hot", "level": "critical"}
    ).json()
    assert alert["status"] == "Unattended"
    assert client.post(f"/_sandbox/addigy/alerts/{alert['id']}/resolve").json()["status"] == "Resolved"
    link = client.post(
        f"/_sandbox/addigy/policies/{lab}/link", json={"connectwise_account_id": seed.companies["Initech"]}
    )
    assert link.json()["connectwise_account_id"] == seed.companies["Initech"]
    assert client.delete(f"/_sandbox/addigy/devices/{agent}").status_code == 200
    assert client.delete(f"/_sandbox/addigy/devices/{agent}").status_code == 404
    assert client.post("/_sandbox/addigy/devices/nope/move", json={"policy_id": lab}).status_code == 404
