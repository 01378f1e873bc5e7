"""A sync touches only what is in play: the companies whose complete device set it holds.

Regression tests for data loss found by hand: a sync of handed-over devices deactivated every
other company's configurations; unlinking the last policy deactivated nothing; one bad device
kept the hourly binding red for ever.
"""

from __future__ import annotations

import pendulum
import pytest

from tests.flows.conftest import configurations_by_device, run_dag, task_states, writes

pytestmark = pytest.mark.integration

ACME, GLOBEX = "Acme Workstations", "Globex Fleet"


def snapshot(sb, *companies: str) -> dict[int, dict]:
    """Every configuration of these companies, by id, as ConnectWise holds it."""
    return {c["id"]: c for company in companies for c in sb.state.connectwise.configurations_of(company)}


def ours(sb, company: str) -> list[dict]:
    """The company's configurations this integration created or adopted (its management link)."""
    return [
        c
        for c in sb.state.connectwise.configurations_of(company)
        if (c.get("managementLink") or "").startswith("https://app.addigy.com/devices/")
    ]


def fix_bad_mac(sb) -> None:
    """The demo's one unbindable device (no agent id) is removed (then everything can bind)."""
    sb.state.addigy.remove_device(sb.seed.devices["no-agent-id"])


def binding(run, task_id: str = "link_status") -> dict:
    from tests.flows.conftest import binding_record

    return binding_record(run, task_id)


def sync_handed_over_devices(devices: list[dict], policies: list[dict], *, complete: bool = False):
    """A user's DAG (``tests/dags/user_sync_devices.py``): ConnectWiseSyncDevicesOperator with devices from another MDM."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.flows.conftest import ROOT

    dag = DagBag(dag_folder=str(ROOT / "tests" / "dags")).get_dag("user_sync_devices")
    return dag.test(run_conf={"devices": devices, "policies": policies, "complete": complete})


def other_mdm_devices(count: int) -> list[dict]:
    return [
        {
            "agentid": f"other-mdm-{n:04d}",
            "policy_id": "other-mdm",
            "facts": {"device_name": f"Initech laptop {n}", "serial_number": f"INITECH{n:05d}"},
        }
        for n in range(count)
    ]


def test_a_sync_of_handed_over_devices_leaves_every_other_company_as_it_was(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")
    before = snapshot(sb, "AcmeCorp", "Globex")
    assert len(before) > 30

    initech = sb.seed.companies["Initech"]
    run = sync_handed_over_devices(
        other_mdm_devices(10), [{"policy_id": "other-mdm", "name": "Other MDM", "company_id": initech}]
    )

    assert task_states(run)["sync_devices"] == ["success"]
    assert snapshot(sb, "AcmeCorp", "Globex") == before  # not one field of another company changed
    assert len(configurations_by_device(sb, "Initech")) == 10


def test_handed_over_devices_deactivate_within_their_company_only_when_declared_complete(airflow_env):
    sb = airflow_env
    initech = sb.seed.companies["Initech"]
    policies = [{"policy_id": "other-mdm", "name": "Other MDM", "company_id": initech}]
    inactive = sb.seed.configuration_statuses["Inactive"]
    sync_handed_over_devices(other_mdm_devices(3), policies)

    sync_handed_over_devices(other_mdm_devices(2), policies)  # one device left: not declared complete
    statuses = {a: c[0]["status"]["id"] for a, c in configurations_by_device(sb, "Initech").items()}
    assert inactive not in statuses.values()

    sync_handed_over_devices(other_mdm_devices(2), policies, complete=True)
    statuses = {a: c[0]["status"]["id"] for a, c in configurations_by_device(sb, "Initech").items()}
    assert statuses["other-mdm-0002"] == inactive
    assert statuses["other-mdm-0000"] != inactive


def test_a_manual_sync_of_one_policy_never_touches_another_company(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")
    globex_before = snapshot(sb, "Globex")
    # Globex's policy loses its link and a device: only the hourly run may act on that
    sb.state.addigy.link_policy(sb.seed.policies[GLOBEX], None)

    run = run_dag("connectwise_manual_sync", conf={"policy": sb.seed.policies[ACME]})

    assert task_states(run)["sync_devices"] == ["success"]
    assert snapshot(sb, "Globex") == globex_before


def test_unlinking_the_last_linked_policy_deactivates_its_configurations(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")
    foreign = {
        label: sb.state.connectwise.get_configuration(sb.seed.configurations[label])
        for label in ("acme-core-switch", "acme-rmm-laptop", "globex-firewall")
    }
    for name in (ACME, GLOBEX):
        sb.state.addigy.link_policy(sb.seed.policies[name], None)

    run = run_dag("connectwise_device_binding")

    states = task_states(run)
    assert states["plan_binding"] == ["success"]
    assert states["link_status"] == ["success"], states
    inactive = sb.seed.configuration_statuses["Inactive"]
    for company in ("AcmeCorp", "Globex"):
        assert ours(sb, company)
        assert all(c["status"]["id"] == inactive for c in ours(sb, company))
    for label, config in foreign.items():  # not ours: untouched, byte for byte
        assert sb.state.connectwise.get_configuration(sb.seed.configurations[label]) == config
    assert {p["name"]: p["icon"] for p in binding(run)["report"]["policies"]}[ACME] == "gray"


def test_a_device_removed_from_a_policy_with_no_device_left_is_deactivated(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")
    for device in sb.state.addigy.devices_in(sb.seed.policies[GLOBEX]):
        sb.state.addigy.move_device(device["agentid"], None)

    run_dag("connectwise_device_binding")

    inactive = sb.seed.configuration_statuses["Inactive"]
    assert ours(sb, "Globex")
    assert all(c["status"]["id"] == inactive for c in ours(sb, "Globex"))


def test_a_lasting_failure_fails_one_run_not_every_run(airflow_env):
    sb = airflow_env
    fix_bad_mac(sb)
    unbindable = sb.state.addigy.add_device(
        sb.seed.policies[ACME], {"device_name": "Too long an id"}, agentid="x" * 150
    )["agentid"]

    first = run_dag("connectwise_device_binding", logical_date=pendulum.datetime(2026, 1, 1, 1, tz="UTC"))
    assert task_states(first)["link_status"] == ["failed"]  # new: visible at once
    assert set(task_states(first)["apply_binding"]) == {"success"}
    failed = [r for r in binding(first)["results"] if r["state"] == "failed"]
    assert [r["agentid"] for r in failed] == [unbindable]

    second = run_dag("connectwise_device_binding", logical_date=pendulum.datetime(2026, 1, 1, 2, tz="UTC"))
    assert task_states(second)["link_status"] == ["success"]  # known, unchanged: not red again
    record = binding(second)
    assert {p["name"]: p["icon"] for p in record["report"]["policies"]}[ACME] == "red"  # still shown
    assert writes(sb) > 0

    sb.state.addigy.add_device(sb.seed.policies[GLOBEX], {"device_name": "Another"}, agentid="y" * 150)
    third = run_dag("connectwise_device_binding", logical_date=pendulum.datetime(2026, 1, 1, 3, tz="UTC"))
    assert task_states(third)["link_status"] == ["failed"]  # a new failure is visible again


@pytest.mark.parametrize("mode", ["paused", "tickets"])
def test_a_paused_or_tickets_only_link_leaves_its_company_as_it_is(airflow_env, monkeypatch, mode):
    from tests.flows.conftest import EXAMPLE_SETTINGS, use_settings

    sb = airflow_env
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")
    globex = snapshot(sb, "Globex")
    use_settings(
        monkeypatch,
        {
            **EXAMPLE_SETTINGS,
            "policy_links": [{"policy": sb.seed.policies[GLOBEX], "company": "Globex", "mode": mode}],
        },
    )
    devices = sb.state.addigy.devices_in(sb.seed.policies[GLOBEX])
    sb.state.addigy.remove_device(devices[0]["agentid"])  # would be deactivated
    sb.state.addigy.set_facts(devices[1]["agentid"], {"device_name": "Renamed"})  # would be updated
    acme_agent = sb.seed.devices["mac-dashes"]
    sb.state.addigy.set_facts(acme_agent, {"device_name": "Acme renamed"})

    run = run_dag("connectwise_device_binding")

    assert task_states(run)["link_status"] == ["success"]
    assert snapshot(sb, "Globex") == globex
    (acme,) = [c for c in ours(sb, "AcmeCorp") if c["deviceIdentifier"] == acme_agent]
    assert acme["name"] == "Acme renamed"  # the other company still syncs


def test_a_link_to_a_site_puts_the_site_on_its_configurations(airflow_env, monkeypatch):
    from airflow_provider_connectwise.sandbox.models.sites import add_site
    from tests.flows.conftest import EXAMPLE_SETTINGS, use_settings

    sb = airflow_env
    fix_bad_mac(sb)
    run_dag("connectwise_device_binding")  # bound without a site
    branch = add_site(sb.state.connectwise, sb.seed.companies["Globex"], "Branch Office")["id"]
    use_settings(
        monkeypatch,
        {
            **EXAMPLE_SETTINGS,
            "policy_links": [{"policy": sb.seed.policies[GLOBEX], "company": "Globex", "site": branch}],
        },
    )

    run_dag("connectwise_device_binding")

    globex = [c for c in ours(sb, "Globex") if c["status"]["id"] == sb.seed.configuration_statuses["Active"]]
    assert globex and {(c.get("site") or {}).get("id") for c in globex} == {branch}
    assert all(not (c.get("site") or {}).get("id") for c in ours(sb, "AcmeCorp"))
