"""Tickets technicians can work with, against the sandbox: the alert's story in the ticket's
notes (written once, whatever retries), touched tickets kept open, classification and contacts
resolved by the switch, and a run that leaves an alert without its ticket fails and is repaired."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_connectwise.core.settings import SettingsError
from airflow_provider_connectwise.exceptions import ConnectWiseServerError
from airflow_provider_connectwise.flows.tickets import close_tickets, open_ticket
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.sandbox.models import notes as sandbox_notes
from tests.flows.conftest import (
    EXAMPLE_SETTINGS,
    run_dag,
    settings_for,
    task_states,
    use_settings,
    xcom,
)
from tests.flows.test_ticket_flow import bind, stamp

pytestmark = pytest.mark.integration


@pytest.fixture
def bound(airflow_env):
    settings = settings_for()
    bind(settings)
    airflow_env.clear_stats()
    return airflow_env, settings


def ticket_notes(sb, ticket_id: int) -> list[dict]:
    return sandbox_notes.notes_of(sb.state.connectwise, ticket_id)


def ours(sb, ticket_id: int, kind: str) -> list[dict]:
    return [n for n in ticket_notes(sb, ticket_id) if f"[airflow-connectwise:{kind}:" in n["text"]]


def with_board(**changes) -> dict:
    return {**EXAMPLE_SETTINGS, "monitoring": {**EXAMPLE_SETTINGS["monitoring"], **changes}}


def test_reopen_and_resolution_notes_are_written_once_through_failed_tries(bound):
    sb, settings = bound
    cw, agent = ConnectWiseHook(), sb.seed.devices["mac-bare"]
    first = open_ticket(cw, settings, board="monitoring", summary="Disk", external_ref="n-1", agentid=agent)
    (closed,) = close_tickets(
        cw, settings, board="monitoring", external_ref="n-1", resolution="Disk cleaned up"
    )
    assert closed.action == "closed"
    (resolution,) = ours(sb, first.ticket_id, "resolved")
    assert resolution["resolutionFlag"] is True and resolution["internalAnalysisFlag"] is True
    assert resolution["text"].startswith("Disk cleaned up")

    # the reopen's status change fails after its note was written: the retry writes no second note
    sb.queue_fault("500", 1, scope="connectwise", methods=["PATCH"], path_contains="/service/tickets/")
    with pytest.raises(ConnectWiseServerError):
        open_ticket(cw, settings, board="monitoring", summary="Disk", external_ref="n-1", agentid=agent)
    again = open_ticket(cw, settings, board="monitoring", summary="Disk", external_ref="n-1", agentid=agent)
    assert (again.action, again.ticket_id) == ("reopened", first.ticket_id)
    (recurred,) = ours(sb, first.ticket_id, "recurred")
    assert "The alert recurred at" in recurred["text"] and "Disk" in recurred["text"]
    assert again.notes == []  # the note was written by the failed try

    # the next period of the ticket gets its own resolution note, once
    for _ in range(2):
        close_tickets(cw, settings, board="monitoring", external_ref="n-1", resolution="Fixed again")
    assert len(ours(sb, first.ticket_id, "resolved")) == 2
    assert sb.state.connectwise.get_ticket(first.ticket_id)["closedFlag"] is True


def test_a_note_whose_answer_is_lost_exists_once(bound):
    sb, settings = bound
    cw = ConnectWiseHook()
    outcome = open_ticket(
        cw, settings, board="monitoring", summary="Lost", external_ref="n-lost", company="Globex"
    )
    sb.queue_fault("lost", 1, scope="connectwise", methods=["POST"], path_contains="/notes")
    (closed,) = close_tickets(cw, settings, board="monitoring", ticket_id=outcome.ticket_id, resolution="ok")
    assert closed.action == "closed"
    assert len(ours(sb, outcome.ticket_id, "resolved")) == 1
    assert sb.stats()["faults"]


@pytest.mark.parametrize("work", ["status", "note", "time"])
def test_a_ticket_a_technician_works_is_not_closed_under_them(bound, work):
    sb, settings = bound
    cw, state = ConnectWiseHook(), sb.state.connectwise
    outcome = open_ticket(
        cw,
        settings,
        board="monitoring",
        summary="Busy",
        description="details",
        external_ref=f"t-{work}",
        company="Globex",
    )
    # untouched: the description became the first note, and it is ours
    assert ticket_notes(sb, outcome.ticket_id)[0]["text"].startswith("details")
    if work == "status":
        sb.reopen_ticket(outcome.ticket_id, "In Progress")
    elif work == "note":
        sandbox_notes.add_technician_note(state, outcome.ticket_id, "Looking into it")
    else:
        sandbox_notes.log_time(state, outcome.ticket_id, "30 minutes on site")

    for _ in range(2):
        (kept,) = close_tickets(
            cw, settings, board="monitoring", ticket_id=outcome.ticket_id, resolution="gone"
        )
        assert kept.action == "kept_open"
    assert state.get_ticket(outcome.ticket_id)["closedFlag"] is False
    (note,) = ours(sb, outcome.ticket_id, "kept-open")
    assert "stays open because" in note["text"] and not note.get("resolutionFlag")

    # the rule is per board and can be switched off
    lax = settings_for(with_board(keep_touched_tickets_open=False))
    (closed,) = close_tickets(cw, lax, board="monitoring", ticket_id=outcome.ticket_id, resolution="gone")
    assert closed.action == "closed"


def test_repeated_alerts_in_the_window_are_one_ticket_with_one_consolidated_note(bound, monkeypatch):
    sb, _ = bound
    use_settings(monkeypatch, with_board(notes="discussion"))
    now = dt.datetime.now(dt.timezone.utc)
    agent, ad = sb.seed.devices["mac-dots"], sb.state.addigy
    alerts = [
        ad.raise_alert(agent, "CPU high", value=90 + i, created_date=stamp(now - dt.timedelta(minutes=9 - i)))
        for i in range(3)
    ]
    for _ in range(2):  # a rerun writes nothing new
        run = run_dag("connectwise_alert_tickets", logical_date=now)
        assert run.state == "success"
    (ticket,) = sb.state.connectwise.find("tickets", externalXRef=alerts[0]["id"])
    assert not sb.state.connectwise.find("tickets", externalXRef=alerts[1]["id"])
    (note,) = ours(sb, ticket["id"], "repeats")
    assert note["text"].startswith("The alert repeated 2 more times")
    assert alerts[2]["id"] in note["text"] and "value 92" in note["text"]
    assert note["detailDescriptionFlag"] is True and note["internalAnalysisFlag"] is False


def test_a_failed_open_fails_the_run_and_the_next_run_finishes_it(bound):
    """Issue 11 item 6: before, open_tickets failing all its tries left the run green (its only
    leaf ran on all_done) and the next run looked at a new window, so nothing repaired it."""
    sb, _ = bound
    ad, state = sb.state.addigy, sb.state.connectwise
    # later than any run other tests left in the metadata DB: "the last successful run" is ours
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=365)
    minutes = dt.timedelta(minutes=1)

    def run(at: dt.timedelta):
        return run_dag("connectwise_alert_tickets", logical_date=now + at)

    assert run(-15 * minutes).state == "success"
    early = ad.raise_alert(sb.seed.devices["mac-dashes"], "Battery", created_date=stamp(now - 5 * minutes))
    # the alerts cannot be read on any try: no ticket for the alert of this window
    sb.queue_fault("500", 4, scope="addigy", path_contains="/alerts/query")
    first = run(0 * minutes)
    assert first.state == "failed"  # green before the fix
    assert task_states(first)["all_alerts_ticketed"] == ["upstream_failed"]
    assert not state.find("tickets", externalXRef=early["id"])

    late = ad.raise_alert(sb.seed.devices["mac-dots"], "Memory", created_date=stamp(now + 10 * minutes))
    # the next run opens both tickets (it reads again from the last success), but attaching
    # their configurations fails on every try
    sb.queue_fault("500", 8, scope="connectwise", methods=["POST"], path_contains="/configurations")
    second = run(15 * minutes)
    assert second.state == "failed"
    assert "failed" in task_states(second)["open_tickets"]
    for alert in (early, late):
        (ticket,) = state.find("tickets", externalXRef=alert["id"])
        assert not state.ticket_configurations.get(ticket["id"])
    sb.clear_faults()

    third = run(30 * minutes)
    assert third.state == "success"
    for alert in (early, late):
        (ticket,) = state.find("tickets", externalXRef=alert["id"])
        config = state.find("configurations", deviceIdentifier=alert["agentid"])[0]
        assert state.ticket_configurations.get(ticket["id"]) == [config["id"]]
    assert sorted(xcom(third, "open_tickets", map_index=i)["action"] for i in range(2)) == ["existing"] * 2


def test_classification_and_contacts_come_from_the_settings(bound, monkeypatch):
    sb, _ = bound
    document = {
        **with_board(
            type="Alert",
            subtype="hardware",
            item="Battery",
            priority="Priority 3 - Normal Response",
            priority_by_severity={"Critical": "Priority 1 - Emergency Response"},
        ),
        "default_contacts": [{"company": "AcmeCorp", "contact": "IT@acme.example"}],
    }
    settings = settings_for(document)
    monitoring, seed = settings.monitoring, sb.seed
    assert monitoring.type_id == seed.classification["Monitoring"]["board_types"]["Alert"]
    assert settings.default_contacts == {seed.companies["AcmeCorp"]: seed.contacts["desk"]}
    cw = ConnectWiseHook()
    agent = seed.devices["mac-dashes"]  # an AcmeCorp device
    critical = open_ticket(
        cw, settings, board="monitoring", summary="x", external_ref="c-1", agentid=agent, severity="critical"
    )
    normal = open_ticket(
        cw, settings, board="monitoring", summary="y", external_ref="c-2", agentid=agent, severity="info"
    )
    first, second = (sb.state.connectwise.get_ticket(o.ticket_id) for o in (critical, normal))
    assert first["priority"]["id"] == seed.priorities["Priority 1 - Emergency Response"]
    assert second["priority"]["id"] == seed.priorities["Priority 3 - Normal Response"]
    assert first["type"]["id"] == monitoring.type_id and first["item"]["id"] == monitoring.item_id
    assert first["subType"]["id"] == seed.classification["Monitoring"]["board_subtypes"]["Hardware"]
    assert first["contact"]["id"] == seed.contacts["desk"]

    # the self-service requester's contact when one matches their e-mail, else the default
    use_settings(monkeypatch, document)
    conf = {
        "user": "Ann@Acme.example",
        "device": agent,
        "subject": "Printer",
        "text": "-",
        "request_id": "r-1",
        "wait_until_closed": False,  # dag.test() would wait for a technician
    }
    run = run_dag("connectwise_self_service_ticket", conf=conf)
    assert run.state == "success"
    (ticket,) = sb.state.connectwise.find("tickets", externalXRef="r-1")
    assert ticket["contact"]["id"] == seed.contacts["ann"]


def test_the_switch_names_each_bad_classification_and_lists_the_choices(bound):
    document = {
        **with_board(type="Alrt", item="Retired Item", priority_by_severity={"critical": "P0"}),
        "default_contacts": [
            {"company": "AcmeCorp", "contact": "nobody@acme.example"},
            {"company": "Globex", "contact": "Dana Doe"},
        ],
    }
    with pytest.raises(SettingsError) as caught:
        settings_for(document)
    found = {p.path: p.message for p in caught.value.problems}
    assert found["monitoring.type"] == (
        "'Monitoring' ticket type 'Alrt' not found; active types: Alert, Maintenance"
    )
    assert found["monitoring.item"].startswith(
        "'Monitoring' ticket item 'Retired Item' is inactive; active items: Battery, CPU, Disk"
    )
    assert found["monitoring.priority_by_severity.critical"] == (
        "priority 'P0' not found; active priorities: Priority 1 - Emergency Response, "
        "Priority 2 - Quick Response, Priority 3 - Normal Response, Priority 4 - Schedule Maintenance"
    )
    assert found["default_contacts[0].contact"] == (
        "contact 'nobody@acme.example' not found; contacts of 'AcmeCorp': Ann Archer, Ben Baker, Service Desk"
    )
    assert "default_contacts[1].contact" not in found  # found by full name


def test_the_requesters_contact_is_matched_in_python_over_any_json():
    from types import SimpleNamespace

    from airflow_provider_connectwise.core.settings import ResolvedBoard, ResolvedSettings
    from airflow_provider_connectwise.flows.notes import _contact_for

    board = ResolvedBoard(1, 2, 3)
    settings = ResolvedSettings(board, board, 1, 2, 3, default_contacts={3: 99})
    records = [
        {"id": "not-an-id"},
        {"id": 4, "communicationItems": {"value": "ann@acme.example"}},
        {
            "id": 5,
            "company": {"id": 3},
            "communicationItems": [{"communicationType": "Email", "value": "Ann@Acme.example"}],
        },
        {
            "id": 6,
            "inactiveFlag": True,
            "communicationItems": [{"communicationType": "Email", "value": "ann@acme.example"}],
        },
    ]
    cw = SimpleNamespace(find_contacts=lambda ids: records)
    assert _contact_for(cw, settings, 3, " ann@ACME.example ") == 5
    assert _contact_for(cw, settings, 3, "someone@else.example") == 99  # the company's default
    assert _contact_for(cw, settings, 3, "Ann Archer") == 99  # not an e-mail address: no look-up
