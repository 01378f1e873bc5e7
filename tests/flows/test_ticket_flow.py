"""Tickets end to end: alerts open tickets on the right board and status with the device's
configuration attached; duplicates open nothing; resolving closes; the reverse direction; faults
never duplicate a ticket; Self Service requests; the sensor and its trigger."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest

from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.flows.binding import bind_all
from airflow_provider_connectwise.flows.policy_links import policies_and_devices
from airflow_provider_connectwise.flows.tickets import close_tickets, open_ticket
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.triggers.tickets import ConnectWiseTicketClosedTrigger
from tests.flows.conftest import (
    EXAMPLE_SETTINGS,
    run_dag,
    settings_for,
    task_states,
    use_settings,
    xcom,
)

pytestmark = pytest.mark.integration


def bind(settings: ResolvedSettings) -> None:
    """Bind the demo devices (the ticket flow links tickets to their configurations)."""
    cw, addigy = ConnectWiseHook(), AddigyHook()
    bind_all(cw, settings, *policies_and_devices(addigy, cw, settings))


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def monitoring_tickets(sb) -> list[dict]:
    return sb.state.connectwise.find("tickets", board=sb.seed.boards["Monitoring"])


@pytest.fixture
def bound(airflow_env):
    settings = settings_for()
    bind(settings)
    airflow_env.clear_stats()
    return airflow_env, settings


def test_alerts_open_tickets_then_resolving_closes_them(bound):
    sb, _ = bound
    seed, ad = sb.seed, sb.state.addigy
    now = dt.datetime.now(dt.timezone.utc)
    agent = seed.devices["mac-dashes"]
    alert = ad.raise_alert(
        agent, "Disk almost full", level="critical", created_date=stamp(now - dt.timedelta(minutes=5))
    )
    ad.raise_alert(
        agent, "Informational", send_ticket=False, created_date=stamp(now - dt.timedelta(minutes=4))
    )
    before = {t["id"] for t in monitoring_tickets(sb)}

    run = run_dag("connectwise_alert_tickets", logical_date=now)

    assert task_states(run) == {
        "all_alerts_ticketed": ["success"],
        "close_resolved": ["success"],
        "new_alerts": ["success"],
        "open_tickets": ["success"],
        "validate_settings": ["success"],
    }
    (ticket,) = [t for t in monitoring_tickets(sb) if t["id"] not in before]
    config = sb.state.connectwise.find("configurations", deviceIdentifier=agent)[0]
    assert ticket["externalXRef"] == alert["id"]
    assert ticket["status"]["id"] == seed.board_statuses["Monitoring"]["New"]
    assert ticket["company"]["id"] == seed.companies["AcmeCorp"] == config["company"]["id"]
    assert ticket["summary"] == "[critical] Disk almost full"
    assert sb.state.connectwise.ticket_initial_text(ticket["id"])["initialDescription"].startswith(
        "Addigy monitoring alert: Disk almost full"
    )
    attached = sb.state.connectwise.ticket_configurations.get(ticket["id"], [])
    outcome = xcom(run, "open_tickets", map_index=0)
    assert outcome["action"] == "created"
    assert outcome["configuration_id"] == config["id"]
    assert attached == [config["id"]]
    assert xcom(run, "open_tickets", key="connectwise_ticket_url", map_index=0).endswith(
        f"routeTo=ServiceFV&recid={ticket['id']}"
    )

    # a second delivery (the next run sees the same alert) opens nothing new
    again = run_dag("connectwise_alert_tickets", logical_date=now)
    assert xcom(again, "open_tickets", map_index=0)["action"] == "existing"
    assert len([t for t in monitoring_tickets(sb) if t["id"] not in before]) == 1

    # the alert is resolved in Addigy: the next run closes the ticket with the closed status
    ad.resolve_alert(alert["id"])
    later = run_dag("connectwise_alert_tickets", logical_date=now + dt.timedelta(minutes=15))
    closed = xcom(later, "close_resolved")["closed"]
    assert [c["ticket_id"] for c in closed] == [ticket["id"]]
    ticket = sb.state.connectwise.get_ticket(ticket["id"])
    assert ticket["status"]["id"] == seed.board_statuses["Monitoring"]["Resolved"]
    assert ticket["closedFlag"] is True


def test_a_ticket_closed_in_connectwise_resolves_its_alert_when_enabled(bound, monkeypatch):
    sb, _ = bound
    use_settings(monkeypatch, {**EXAMPLE_SETTINGS, "resolve_alerts_in_mdm": True})
    now = dt.datetime.now(dt.timezone.utc)
    alert = sb.state.addigy.raise_alert(
        sb.seed.devices["mac-dots"], "CPU high", created_date=stamp(now - dt.timedelta(minutes=3))
    )
    first = run_dag("connectwise_alert_tickets", logical_date=now)
    ticket_id = xcom(first, "open_tickets", map_index=0)["ticket_id"]

    sb.close_ticket(ticket_id)  # a technician closes it in ConnectWise
    run_dag("connectwise_alert_tickets", logical_date=now + dt.timedelta(minutes=15))

    assert sb.state.addigy.alert(alert["id"])["status"] == "Resolved"


def test_lost_answers_never_duplicate_a_ticket(bound):
    sb, settings = bound
    cw = ConnectWiseHook()
    agent = sb.seed.devices["mac-bare"]
    sb.queue_fault("lost", 2, scope="connectwise", methods=["POST"], path_contains="/service/tickets")
    first = open_ticket(
        cw, settings, board="monitoring", summary="Battery", external_ref="alert-lost-1", agentid=agent
    )
    second = open_ticket(
        cw, settings, board="monitoring", summary="Battery", external_ref="alert-lost-1", agentid=agent
    )
    tickets = sb.state.connectwise.find("tickets", externalXRef="alert-lost-1")
    assert len(tickets) == 1
    assert first.ticket_id == second.ticket_id == tickets[0]["id"]
    assert second.action == "existing"
    assert sb.stats()["faults"]


def test_recurrence_within_the_window_reopens_the_last_ticket(bound):
    sb, settings = bound
    cw = ConnectWiseHook()
    agent = sb.seed.devices["mac-bare"]
    first = open_ticket(
        cw, settings, board="monitoring", summary="Disk", external_ref="alert-9", agentid=agent
    )
    (closed,) = close_tickets(
        cw, settings, board="monitoring", external_ref="alert-9", resolution="cleaned up"
    )
    assert closed.action == "closed"
    (again,) = close_tickets(cw, settings, board="monitoring", ticket_id=first.ticket_id)
    assert again.action == "already_closed"  # closing twice is a success

    reopened = open_ticket(
        cw, settings, board="monitoring", summary="Disk", external_ref="alert-9", agentid=agent
    )
    assert (reopened.action, reopened.ticket_id) == ("reopened", first.ticket_id)
    ticket = sb.state.connectwise.get_ticket(first.ticket_id)
    assert ticket["status"]["id"] == sb.seed.board_statuses["Monitoring"]["New"]

    close_tickets(cw, settings, board="monitoring", external_ref="alert-9")
    fresh = open_ticket(
        cw,
        settings,
        board="monitoring",
        summary="Disk",
        external_ref="alert-9",
        agentid=agent,
        reopen_window=dt.timedelta(0),
    )
    assert fresh.action == "created"
    assert fresh.ticket_id != first.ticket_id


def test_self_service_request_opens_one_ticket_on_the_self_service_board(bound):
    sb, _ = bound
    conf = {
        "user": "ann@acme.example",
        "device": sb.seed.devices["quoted-name"],
        "subject": 'Printer "2nd floor" offline',
        "text": "It does not answer.",
        "request_id": "req-4711",
        "wait_until_closed": False,  # dag.test() would wait for a technician
    }
    first = xcom(run_dag("connectwise_self_service_ticket", conf=conf), "open_ticket")
    # (dag.test() clears the DAG's earlier runs: read their XCom before the next one)
    second = xcom(run_dag("connectwise_self_service_ticket", conf=conf), "open_ticket")

    tickets = sb.state.connectwise.find("tickets", externalXRef="req-4711")
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket["board"]["id"] == sb.seed.boards["Help Desk"]
    assert ticket["status"]["id"] == sb.seed.board_statuses["Help Desk"]["New"]
    assert ticket["summary"] == 'Printer "2nd floor" offline'
    assert ticket["company"]["id"] == sb.seed.companies["AcmeCorp"]
    assert first["action"] == "created"
    assert second["action"] == "existing"
    assert first["ticket_id"] == second["ticket_id"] == ticket["id"]


def test_trigger_waits_for_a_technician_to_close_the_ticket(bound):
    sb, settings = bound
    outcome = open_ticket(
        ConnectWiseHook(),
        settings,
        board="monitoring",
        summary="Wait for me",
        company="Globex",
        external_ref="alert-trigger",
    )
    trigger = ConnectWiseTicketClosedTrigger(
        ticket_id=outcome.ticket_id,
        connectwise_conn_id="connectwise_default",
        poll_interval=0.1,
        deadline=time.time() + 20,
    )
    threading.Timer(0.5, lambda: sb.close_ticket(outcome.ticket_id)).start()

    async def first_event():
        async for event in trigger.run():
            return event

    event = asyncio.run(first_event())
    assert event.payload["status"] == "closed"
    assert event.payload["ticket_id"] == outcome.ticket_id


def test_policy_linked_sensor_sees_blue_and_red(bound):
    from airflow_provider_connectwise.sensors.binding import ConnectWisePolicyLinkedSensor

    sb, settings = bound
    seed = sb.seed

    def poke(policy_name: str):
        sensor = ConnectWisePolicyLinkedSensor(
            task_id="wait_for_policy",
            policy_id=seed.policies[policy_name],
            settings=settings.to_dict(),
        )
        return sensor.poke({})

    acme, globex, lab = poke("Acme Workstations"), poke("Globex Fleet"), poke("Lab Macs")
    assert (acme.is_done, acme.xcom_value) == (True, "linked")
    assert (globex.is_done, globex.xcom_value) == (False, "partial")  # the device with a bad MAC
    assert (lab.is_done, lab.xcom_value) == (False, "not_linked")


@pytest.mark.parametrize(("mode", "ticketed"), [("inventory", False), ("paused", False), ("tickets", True)])
def test_a_link_mode_decides_whether_its_devices_alerts_open_tickets(bound, monkeypatch, mode, ticketed):
    sb, _ = bound
    seed, ad = sb.seed, sb.state.addigy
    acme = seed.policies["Acme Workstations"]
    use_settings(
        monkeypatch,
        {**EXAMPLE_SETTINGS, "policy_links": [{"policy": acme, "company": "AcmeCorp", "mode": mode}]},
    )
    now = dt.datetime.now(dt.timezone.utc)
    alert = ad.raise_alert(
        seed.devices["mac-dashes"], "Disk almost full", created_date=stamp(now - dt.timedelta(minutes=5))
    )
    other = ad.raise_alert(
        ad.devices_in(seed.policies["Globex Fleet"])[0]["agentid"],
        "Battery failing",
        created_date=stamp(now - dt.timedelta(minutes=5)),
    )

    run_dag("connectwise_alert_tickets", logical_date=now)

    refs = {t.get("externalXRef") for t in monitoring_tickets(sb)}
    assert (alert["id"] in refs) is ticketed
    assert other["id"] in refs  # another policy's link (mode "all") is not affected
