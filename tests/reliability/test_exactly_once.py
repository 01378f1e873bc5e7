"""Exactly once, deterministically: each way a write's answer can be lost, one at a time.

The soak draws these faults at random; here each is queued on the one request it matters for, so
a regression shows up on every run. A write applied whose answer was lost is looked up before it
is sent again (same try), or re-planned against a fresh read on the next try (Retry Pending):
never a second configuration or ticket, never a ticket left without its device's configuration.
"""

from __future__ import annotations

import pytest

from airflow_provider_connectwise.core.binding_report import pending
from airflow_provider_connectwise.core.planning import Scope
from airflow_provider_connectwise.exceptions import ConnectWiseServerError
from airflow_provider_connectwise.flows.binding import apply_batch
from airflow_provider_connectwise.flows.binding_plan import plan_binding
from airflow_provider_connectwise.flows.policy_links import fetch_policy_devices, list_policy_links
from airflow_provider_connectwise.flows.settings import validate_settings
from airflow_provider_connectwise.flows.tickets import open_ticket
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from tests.flows.conftest import EXAMPLE_SETTINGS
from tests.helpers.faults import RetryRecorder

pytestmark = pytest.mark.integration

ACME = "Acme Workstations"
BULK = "/company/configurations/bulk"


@pytest.fixture
def flows(sandbox, point_airflow_at, monkeypatch):
    sb = point_airflow_at(sandbox)
    sb.state.addigy.remove_device(sb.seed.devices["no-agent-id"])  # the demo's one unbindable device
    retries = RetryRecorder().install(monkeypatch)
    cw, addigy = ConnectWiseHook(requests_per_minute=None), AddigyHook()
    settings = validate_settings(cw, EXAMPLE_SETTINGS)
    with retries.listening():
        yield sb, cw, addigy, settings, retries


def plan(cw, addigy, settings):
    policies = [p for p in list_policy_links(addigy, cw, settings) if p["company_id"] is not None]
    devices = [d for p in policies for d in fetch_policy_devices(addigy, settings, p)]
    return plan_binding(cw, settings, policies, devices, scope=Scope(all_policies=True))


def configurations_of(sb, agentid: str) -> list[dict]:
    return sb.state.connectwise.find("configurations", deviceIdentifier=agentid)


@pytest.mark.parametrize(
    ("fault", "tries"),
    [
        # creates go in bulk: every lost answer is looked up in the same try (the chunk's
        # configurations read back by agent id), never re-sent blindly
        ("lost", 1),  # connection reset after the commit
        ("lost-504", 1),  # a gateway timeout after the commit
        ("lost-500", 1),  # a 500 after the commit
    ],
)
def test_a_create_whose_answer_is_lost_exists_once(flows, fault, tries):
    sb, cw, addigy, settings, _ = flows
    agent = sb.state.addigy.add_device(sb.seed.policies[ACME], {"device_name": "Lost Answer Mac"})["agentid"]
    assert pending(_bind(cw, addigy, settings)) == []  # everything else is bound first
    sb.state.addigy.set_facts(agent, {"device_name": "Lost Answer Mac"})
    sb.state.connectwise.configurations.remove(configurations_of(sb, agent)[0]["id"])  # to be created again
    (batch,) = plan(cw, addigy, settings).batches
    assert [a.action for a in batch.actions] == ["create"]
    sb.queue_fault(fault, 1, methods=["POST"], path_contains="/company/configurations")
    posts = sb.count("POST", BULK)
    for attempt in range(1, tries + 1):
        results = apply_batch(cw, batch, retry=attempt > 1)
        assert (pending(results) == []) == (attempt == tries), [r.error for r in results]
    assert len(configurations_of(sb, agent)) == 1
    assert [r.configuration_id for r in results] == [configurations_of(sb, agent)[0]["id"]]
    assert sb.count("POST", BULK) == posts + 1  # sent once, never again
    assert sb.count("POST", "/company/configurations") == 0
    assert sb.stats()["faults"] == {fault: 1}


@pytest.mark.parametrize("faults", [["lost", "lost-504"], ["lost-500", "503", "lost"], ["reset", "lost"]])
def test_bulk_chunks_halved_and_lost_still_make_one_configuration_per_device(flows, monkeypatch, faults):
    """The first bind of the demo with a server limit below the chunk size (413, halved) and the
    answers of several bulk requests lost, reset or refused: every device once, in one try."""
    sb, cw, addigy, settings, _ = flows
    monkeypatch.setattr(sb.config, "bulk_max_items", 4)
    cw._bulk.chunk_size = 6
    for fault in faults:
        sb.queue_fault(fault, 1, methods=["POST"], path_contains=BULK)
    results = _bind(cw, addigy, settings)
    assert pending(results) == []
    assert sb.stats()["faults"] == dict.fromkeys(faults, 1)
    assert sb.stats()["statuses"].get("413", 0) >= 1
    for result in results:
        if result.action == "create":
            assert [c["id"] for c in configurations_of(sb, result.agentid)] == [result.configuration_id]
    assert sb.count("POST", "/company/configurations") == 0


def _bind(cw, addigy, settings):
    results = []
    binding = plan(cw, addigy, settings)
    results += binding.results_without_write()
    for batch in binding.batches:
        results += apply_batch(cw, batch, retry=False)
    return results


@pytest.mark.parametrize(
    ("fault", "path"),
    [
        ("lost-500", "/service/tickets"),  # the ticket exists, the try failed before attaching
        ("500", "/configurations"),  # the ticket exists, attaching its configuration failed
        ("lost", "/configurations"),  # the attach applied, its answer lost: found, not re-sent
    ],
)
def test_a_retried_ticket_is_one_ticket_with_its_configuration(flows, fault, path):
    sb, cw, addigy, settings, _ = flows
    assert pending(_bind(cw, addigy, settings)) == []
    agent = sb.seed.devices["mac-bare"]
    (config,) = configurations_of(sb, agent)
    sb.queue_fault(fault, 1, methods=["POST"], path_contains=path)
    outcomes = []
    for _ in range(2):  # a try and, if it failed, Airflow's retry
        try:
            outcomes.append(
                open_ticket(
                    cw, settings, board="monitoring", summary="Disk", external_ref="once-1", agentid=agent
                )
            )
            break
        except ConnectWiseServerError:
            outcomes.append(None)
    (ticket,) = sb.state.connectwise.find("tickets", externalXRef="once-1")
    assert outcomes[-1] is not None and outcomes[-1].ticket_id == ticket["id"]
    assert sb.state.connectwise.ticket_configurations.get(ticket["id"]) == [config["id"]]
    assert sb.stats()["faults"] == {fault: 1}


def test_a_ticket_found_again_keeps_its_company_after_the_device_moved(flows):
    """Re-delivered (existing) and recurring (reopened) alerts of a device that moved to another
    company since: the ticket keeps the configuration of the company it was opened in."""
    sb, cw, addigy, settings, _ = flows
    assert pending(_bind(cw, addigy, settings)) == []
    agent = sb.seed.devices["mac-bare"]
    (acme_config,) = configurations_of(sb, agent)
    first = open_ticket(
        cw, settings, board="monitoring", summary="Disk", external_ref="moved-1", agentid=agent
    )
    sb.state.addigy.move_device(agent, sb.seed.policies["Globex Fleet"])
    assert pending(_bind(cw, addigy, settings)) == []
    assert len(configurations_of(sb, agent)) == 2  # Acme's (now inactive) and Globex's
    again = open_ticket(
        cw, settings, board="monitoring", summary="Disk", external_ref="moved-1", agentid=agent
    )
    assert (again.action, again.ticket_id) == ("existing", first.ticket_id)
    sb.close_ticket(first.ticket_id)
    reopened = open_ticket(
        cw, settings, board="monitoring", summary="Disk", external_ref="moved-1", agentid=agent
    )
    assert (reopened.action, reopened.ticket_id) == ("reopened", first.ticket_id)
    assert sb.state.connectwise.ticket_configurations.get(first.ticket_id) == [acme_config["id"]]


# --- ticket notes ---------------------------------------------------------------------------------


def _marked(sb, ticket_id: int) -> list[str]:
    """The markers of the integration's notes on a ticket (one per note)."""
    from airflow_provider_connectwise.core.tickets import markers_of
    from airflow_provider_connectwise.sandbox.models import notes

    return [f"{k}:{d}" for n in notes.notes_of(sb.state.connectwise, ticket_id) for k, d in markers_of(n)]


@pytest.mark.parametrize("fault", ["lost", "lost-504", "lost-500", "500"])
def test_every_note_whose_write_fails_or_whose_answer_is_lost_exists_once(flows, fault):
    """Each note of a ticket's story — the repeats, the resolution, the recurrence, the
    kept-open note — with its one POST failing: after the retries, exactly one of each."""
    from airflow_provider_connectwise.exceptions import ConnectWiseError
    from airflow_provider_connectwise.flows.tickets import close_tickets
    from airflow_provider_connectwise.sandbox.models import notes

    sb, cw, _, settings, _ = flows
    ticket = {"board": "monitoring", "summary": "Disk", "external_ref": "note-once", "company": "Globex"}

    def step(work):
        sb.queue_fault(fault, 1, methods=["POST"], path_contains="/notes")
        for _ in range(3):  # a try and Airflow's retries
            try:
                return work()
            except ConnectWiseError:
                continue
        raise AssertionError("did not converge")

    opened = step(lambda: open_ticket(cw, settings, description="x", repeats=[{"id": "r1"}], **ticket))
    step(lambda: close_tickets(cw, settings, board="monitoring", external_ref="note-once", resolution="ok"))
    step(lambda: open_ticket(cw, settings, **ticket))  # recurs: reopened
    notes.add_technician_note(sb.state.connectwise, opened.ticket_id, "looking")
    step(lambda: close_tickets(cw, settings, board="monitoring", external_ref="note-once", resolution="ok"))

    kinds = [m.split(":")[0] for m in _marked(sb, opened.ticket_id)]
    assert kinds == ["opened", "repeats", "resolved", "recurred", "kept-open"]
    assert len(set(_marked(sb, opened.ticket_id))) == len(kinds)  # no marker twice
    assert sb.state.connectwise.get_ticket(opened.ticket_id)["closedFlag"] is False  # worked on: kept open
    assert len(sb.state.connectwise.find("tickets", externalXRef="note-once")) == 1
    assert sb.stats()["faults"] == {fault: 4}
