"""Devices Binding end to end: real Airflow (dag.test()), real hooks, the sandbox's demo seed.

ConnectWise's state afterwards is asserted field by field; devices are added, removed and moved
between companies; historical configurations are adopted; protected fields are kept; faults
and Retry Pending converge without duplicates.
"""

from __future__ import annotations

import pytest

from tests.flows.conftest import (
    EXAMPLE_SETTINGS,
    configurations_by_device,
    run_dag,
    task_states,
    try_numbers,
    use_settings,
    writes,
    xcom,
)

pytestmark = pytest.mark.integration

ACME, GLOBEX = "Acme Workstations", "Globex Fleet"


def binding_record(run, task_id: str = "link_status") -> dict:

    from tests.flows.conftest import binding_record as read_record

    record = read_record(run, task_id)
    assert record is not None, f"no binding recorded by {task_id}"
    return record


def icons(record: dict) -> dict[str, str]:
    return {p["name"]: p["icon"] for p in record["report"]["policies"]}


def fix_bad_mac(sb) -> None:
    """The demo's one unbindable device (no agent id) is removed (then everything can bind)."""
    sb.state.addigy.remove_device(sb.seed.devices["no-agent-id"])


def only(configs: list[dict]) -> dict:
    assert len(configs) == 1, f"expected exactly one configuration, got {[c['id'] for c in configs]}"
    return configs[0]


def test_initial_bind_field_by_field(airflow_env):
    sb = airflow_env
    cw, seed = sb.state.connectwise, sb.seed
    foreign_before = {
        label: cw.get_configuration(seed.configurations[label])
        for label in ("acme-core-switch", "acme-rmm-laptop", "acme-server", "acme-printer", "globex-firewall")
    }

    run = run_dag("connectwise_device_binding")

    states = task_states(run)
    assert states["apply_binding"] == ["success"] * len(states["apply_binding"])
    assert states["link_status"] == ["failed"]  # one device cannot bind: the run says so
    record = binding_record(run)
    assert icons(record) == {ACME: "blue", GLOBEX: "red", "Lab Macs": "gray"}
    failed = [r for r in record["results"] if r["state"] == "failed"]
    assert [(r["agentid"], r["action"]) for r in failed] == [(None, "fail")]  # listed without agent id
    assert "agentid: missing" in failed[0]["error"]
    (bad_mac,) = [r for r in record["results"] if r["agentid"] == seed.devices["bad-mac"]]
    assert bad_mac["state"] == "linked" and any("not-a-mac" in w for w in bad_mac["warnings"])
    # no XCom row holds the whole plan: the plan task returns references to one row per batch
    refs = xcom(run, "plan_binding")
    assert refs and all("actions" not in ref and ref["key"].startswith("binding_batch_") for ref in refs)
    sizes = [len(xcom(run, "plan_binding", key=ref["key"])["actions"]) for ref in refs]
    assert sizes == [ref["size"] for ref in refs] and sum(sizes) > 30

    acme = configurations_by_device(sb, "AcmeCorp")
    globex = configurations_by_device(sb, "Globex")
    active = seed.configuration_statuses["Active"]
    # every device of a linked policy has exactly one configuration in its company, active
    for label, company in (("mac-dashes", acme), ("ram-mb", globex)):
        config = only(company[seed.devices[label]])
        assert config["status"]["id"] == active
    policy_devices = {
        name: {d["agentid"] for d in sb.state.addigy.devices_in(seed.policies[name])}
        for name in (ACME, GLOBEX, "Lab Macs")
    }
    assert policy_devices[ACME] <= set(acme)
    assert policy_devices[GLOBEX] - {seed.devices["no-agent-id"]} <= set(globex)
    assert not only(globex[seed.devices["bad-mac"]]).get("macAddress")  # linked, its MAC not written
    assert not policy_devices["Lab Macs"] & (set(acme) | set(globex))

    # the seed's field table, normalised
    agent = seed.devices["mac-dashes"]
    facts = {k: v["value"] for k, v in sb.state.addigy.device(agent)["facts"].items()}
    config = only(acme[agent])
    assert config["deviceIdentifier"] == agent
    assert config["name"] == facts["device_name"]
    assert config["serialNumber"] == facts["serial_number"]
    assert config["macAddress"] == "AA:BB:CC:DD:EE:01"
    assert config["ipAddress"] == facts["local_ip"]
    assert config["osType"] == facts["os_platform"]
    assert config["osInfo"] == facts["system_version"]
    assert config["lastLoginName"] == facts["current_user"]
    assert config["managementLink"] == f"https://app.addigy.com/devices/{agent}"
    assert config["company"]["id"] == seed.companies["AcmeCorp"]
    expected_type = "Laptop" if str(facts.get("hardware_model", "")).startswith("MacBook") else "Managed Mac"
    assert config["type"]["id"] == seed.configuration_types[expected_type]
    assert only(acme[seed.devices["mac-dots"]])["macAddress"] == "AA:BB:CC:DD:EE:02"
    assert only(acme[seed.devices["ram-gb-text"]])["ram"] == "16"
    assert only(acme[seed.devices["ram-bytes"]])["ram"] == "16"
    assert only(globex[seed.devices["ram-mb"]])["ram"] == "16"
    assert only(acme[seed.devices["cpu-ghz-text"]])["cpuSpeed"] == "2.3"
    assert only(globex[seed.devices["cpu-mhz"]])["cpuSpeed"] == "2.3"
    long_name = only(acme[seed.devices["overlong-name"]])["name"]
    assert len(long_name) <= 100 and long_name.startswith("Acme Extremely Long Device Name")
    assert only(acme[seed.devices["quoted-name"]])["name"] == 'Bob\'s "Work" Mac\\Book'
    # a fact the MDM could not read leaves the field alone (and says so), it is never wiped
    errors = only(acme[seed.devices["error-facts"]])
    assert not errors.get("serialNumber")
    warned = next(r for r in record["results"] if r["agentid"] == seed.devices["error-facts"])
    assert any("fact collection timed out" in w for w in warned["warnings"])

    # historical configurations are adopted, not duplicated; the earlier binding is reactivated
    for label in ("historical-1", "historical-2"):
        adopted = cw.get_configuration(seed.configurations[f"acme-{label}"])
        assert adopted["deviceIdentifier"] == seed.devices[label]
        assert only(acme[seed.devices[label]])["id"] == adopted["id"]
    reactivated = cw.get_configuration(seed.configurations["acme-ours-inactive"])
    assert reactivated["status"]["id"] == active
    # configurations that are not the integration's are never touched
    for label, before in foreign_before.items():
        assert cw.get_configuration(seed.configurations[label]) == before, label


def test_resync_writes_nothing_and_changes_write_only_what_changed(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    first = run_dag("connectwise_device_binding")
    assert task_states(first)["link_status"] == ["success"]
    assert icons(binding_record(first))[GLOBEX] == "blue"

    sb.clear_stats()
    again = run_dag("connectwise_device_binding")
    assert writes(sb) == 0
    assert task_states(again)["apply_binding"] == ["skipped"]  # a no-op re-sync maps nothing
    assert sb.stats()["by_service"]["connectwise"] <= 1 + 20  # ⌈N/1000⌉ + 20

    # one changed fact -> one PATCH of that field only
    agent = sb.seed.devices["mac-dashes"]
    sb.state.addigy.set_facts(agent, {"current_user": "new.owner"})
    sb.clear_stats()
    run_dag("connectwise_device_binding")
    assert writes(sb) == 1
    patched = [e for e in sb.request_log() if e["method"] == "PATCH"]
    assert len(patched) == 1
    assert only(configurations_by_device(sb, "AcmeCorp")[agent])["lastLoginName"] == "new.owner"


def test_devices_added_removed_and_moved_between_companies(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")
    seed, ad = sb.seed, sb.state.addigy
    moved, removed = seed.devices["mac-bare"], seed.devices["cpu-ghz-text"]
    new = ad.add_device(
        seed.policies[ACME],
        {
            "device_name": "New Mac",
            "serial_number": "C02NEW000001",
            "ethernet_mac_address": "aa:bb:cc:00:00:99",
        },
    )["agentid"]
    ad.move_device(moved, seed.policies[GLOBEX])
    ad.remove_device(removed)

    run = run_dag("connectwise_device_binding")
    assert task_states(run)["link_status"] == ["success"]
    acme, globex = configurations_by_device(sb, "AcmeCorp"), configurations_by_device(sb, "Globex")
    active, inactive = seed.configuration_statuses["Active"], seed.configuration_statuses["Inactive"]
    assert only(acme[new])["status"]["id"] == active
    assert only(acme[moved])["status"]["id"] == inactive  # left every policy linked to AcmeCorp
    assert only(globex[moved])["status"]["id"] == active  # created in its new company
    assert only(acme[removed])["status"]["id"] == inactive
    unlinked = {r["agentid"] for r in binding_record(run)["results"] if r["state"] == "unlinked"}
    assert unlinked == {moved, removed}

    # the device comes back: its configuration is activated again, not duplicated
    ad.move_device(moved, seed.policies[ACME])
    run_dag("connectwise_device_binding")
    acme, globex = configurations_by_device(sb, "AcmeCorp"), configurations_by_device(sb, "Globex")
    assert only(acme[moved])["status"]["id"] == active
    assert only(globex[moved])["status"]["id"] == inactive


def test_an_unlinked_policy_deactivates_only_its_configurations(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")
    sb.state.addigy.link_policy(sb.seed.policies[GLOBEX], None)  # unlinked in the MDM
    run = run_dag("connectwise_device_binding")
    assert icons(binding_record(run))[GLOBEX] == "gray"
    inactive = sb.seed.configuration_statuses["Inactive"]
    globex = configurations_by_device(sb, "Globex")
    assert globex and all(only(c)["status"]["id"] == inactive for c in globex.values())
    firewall = sb.state.connectwise.get_configuration(sb.seed.configurations["globex-firewall"])
    assert firewall["status"]["id"] != inactive


def test_protected_fields_are_set_on_create_and_never_overwritten(airflow_env, monkeypatch):
    sb = airflow_env
    use_settings(monkeypatch, {**EXAMPLE_SETTINGS, "protected_fields": ["name"]})
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")
    agent = sb.seed.devices["mac-dashes"]
    original = only(configurations_by_device(sb, "AcmeCorp")[agent])["name"]
    sb.state.addigy.set_facts(agent, {"device_name": "Renamed in the MDM", "current_user": "someone.else"})
    run_dag("connectwise_device_binding")
    config = only(configurations_by_device(sb, "AcmeCorp")[agent])
    assert config["name"] == original
    assert config["lastLoginName"] == "someone.else"


def test_faults_converge_within_retries_without_duplicates(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    # answers lost after the write was applied, throttling, outages, resets
    sb.queue_fault("lost", 3, scope="connectwise", methods=["POST"])
    sb.queue_fault("lost-504", 2, scope="connectwise", methods=["PATCH"])
    sb.set_faults(
        fail_503=0.1, reset=0.05, fail_500=0.05, fail_500_text="timeout", scope="connectwise", seed=7
    )
    sb.queue_fault("429", 2, scope="connectwise")
    sb.queue_fault("503", 2, scope="addigy")

    run = run_dag("connectwise_device_binding")

    states = task_states(run)
    assert states["link_status"] == ["success"], states
    assert sb.stats()["faults"], "no fault was injected"
    for company in ("AcmeCorp", "Globex"):
        duplicates = {
            a: [c["id"] for c in cs] for a, cs in configurations_by_device(sb, company).items() if len(cs) > 1
        }
        assert not duplicates, duplicates
    for company, policy in (("AcmeCorp", ACME), ("Globex", GLOBEX)):
        agents = {d["agentid"] for d in sb.state.addigy.devices_in(sb.seed.policies[policy])}
        assert agents <= set(configurations_by_device(sb, company))


def test_retry_pending_writes_only_the_devices_still_pending(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    # creates go in bulk: a chunk answered 500 is looked up and the absent devices sent again, as many
    # rounds as the request path's attempts (6); six 500s in a row fail the try with a summary
    sb.queue_fault("500", 6, scope="connectwise", methods=["POST"], path_contains="/company/configurations")
    before = len(sb.state.connectwise.configurations)

    run = run_dag("connectwise_device_binding")

    assert task_states(run)["link_status"] == ["success"]
    assert max(try_numbers(run, "apply_binding")) == 2  # Retry Pending = the task's retry
    creates_needed = 35  # 38 bound devices - 3 existing configurations (2 adopted, 1 reactivated)
    # try 2 re-read ConnectWise and sent only what was still missing: never a second configuration
    assert sb.stats()["faults"]["500"] == 6
    assert sb.count("POST", "/company/configurations") == 0
    assert len(sb.state.connectwise.configurations) - before == creates_needed
    assert sb.count("PATCH", "/company/configurations/{id}") == 3
    assert sum(len(c) for c in configurations_by_device(sb, "Globex").values()) == 18


def test_manual_sync_dry_run_writes_nothing_and_a_policy_can_be_linked_for_the_run(airflow_env):
    sb = airflow_env
    dry = run_dag("connectwise_manual_sync", conf={"policy": sb.seed.policies[GLOBEX], "dry_run": True})
    assert task_states(dry)["sync_devices"] == ["success"]
    assert writes(sb) == 0
    assert binding_record(dry, "sync_devices")["dry_run"] is True

    lab = sb.seed.policies["Lab Macs"]
    run = run_dag("connectwise_manual_sync", conf={"policy": lab, "company": "Initech"})
    record = binding_record(run, "sync_devices")
    assert {p["name"]: p["company_name"] for p in record["report"]["policies"]} == {"Lab Macs": "Initech"}
    initech = configurations_by_device(sb, "Initech")
    devices = {d["agentid"] for d in sb.state.addigy.devices_in(lab)}
    assert set(initech) == devices
    assert not configurations_by_device(sb, "Globex")  # other companies untouched by this sync
