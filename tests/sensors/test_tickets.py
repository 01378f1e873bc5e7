"""The ticket sensor: poke decides like the trigger; deferrable mode defers with the right trigger."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout, TaskDeferred

from airflow_provider_connectwise.sensors.tickets import ConnectWiseTicketClosedSensor
from airflow_provider_connectwise.triggers.tickets import ConnectWiseTicketClosedTrigger


class FakeHook:
    def __init__(self, ticket):
        self.ticket = ticket
        self.requests = []

    def get_ticket(self, ticket_id, fields=None):
        self.requests.append((ticket_id, tuple(fields or ())))
        return self.ticket


def sensor(ticket, **kwargs):
    s = ConnectWiseTicketClosedSensor(task_id="wait", ticket_id="500", connectwise_conn_id="cw", **kwargs)
    s.__dict__["hook"] = FakeHook(ticket)
    return s


def test_poke_open_and_closed():
    assert not sensor({"closedFlag": False, "status": {"id": 1}}).poke({})
    assert sensor({"closedFlag": True, "status": {"id": 9}}).poke({})
    assert sensor({"closedFlag": False, "status": {"id": 12}}, closed_status_ids=[12]).poke({})


def test_poke_asks_only_for_the_state_fields():
    s = sensor({"closedFlag": False})
    s.poke({})
    ((ticket_id, fields),) = s.hook.requests
    assert ticket_id == 500
    assert "closedFlag" in fields


def test_deferrable_defers_to_the_trigger_with_its_fields():
    s = sensor({"closedFlag": False, "status": {"id": 1}}, deferrable=True, poke_interval=30, timeout=600)
    with pytest.raises(TaskDeferred) as info:
        s.execute({})
    trigger = info.value.trigger
    assert isinstance(trigger, ConnectWiseTicketClosedTrigger)
    assert trigger.ticket_id == 500
    assert trigger.connectwise_conn_id == "cw"
    assert trigger.poll_interval == 30
    assert info.value.method_name == "execute_complete"
    assert info.value.timeout.total_seconds() == 600


def test_deferrable_does_not_defer_when_already_closed():
    s = sensor({"closedFlag": True}, deferrable=True)
    assert s.execute({}) is None


def test_execute_complete_maps_events():
    s = sensor({})
    closed = {
        "status": "closed",
        "message": "ticket #500 is closed",
        "ticket_id": 500,
        "ticket_status": "Closed",
    }
    assert s.execute_complete({}, closed) == closed
    with pytest.raises(AirflowSensorTimeout, match="still open"):
        s.execute_complete({}, {"status": "timeout", "message": "ticket #500 still open (New)"})
    with pytest.raises(AirflowException, match="404"):
        s.execute_complete({}, {"status": "error", "message": "ConnectWise GET x -> 404"})


def test_ticket_id_is_templated():
    assert "ticket_id" in ConnectWiseTicketClosedSensor.template_fields
