"""The ticket trigger: serialisation round trip, run() driven directly, never blocking."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_connectwise.exceptions import ConnectWiseNotFoundError
from airflow_provider_connectwise.triggers.tickets import ConnectWiseTicketClosedTrigger


def make(**overrides):
    args = {
        "ticket_id": 500,
        "connectwise_conn_id": "cw",
        "poll_interval": 0.01,
        "deadline": time.time() + 5,
        "closed_status_ids": [12],
    }
    args.update(overrides)
    return ConnectWiseTicketClosedTrigger(**args)


def test_serialize_round_trip():
    trigger = make()
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_connectwise.triggers.tickets.ConnectWiseTicketClosedTrigger"
    from airflow.sdk.module_loading import import_string

    again = import_string(path)(**kwargs)
    assert again.serialize() == (path, kwargs)
    import json

    json.dumps(kwargs)  # JSON-safe


class FakeHook:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0

    async def aget_ticket(self, ticket_id, fields=None):
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


async def collect(trigger):
    return [event async for event in trigger.run()]


def run_with(trigger, hook, monkeypatch):
    monkeypatch.setattr(trigger, "_hook", lambda: hook)
    return asyncio.run(collect(trigger))


def test_fires_closed_when_the_ticket_closes(monkeypatch):
    hook = FakeHook(
        [
            {"id": 500, "closedFlag": False, "status": {"id": 1, "name": "New"}},
            {"id": 500, "closedFlag": False, "status": {"id": 1, "name": "In Progress"}},
            {"id": 500, "closedFlag": True, "status": {"id": 9, "name": "Closed"}},
        ]
    )
    (event,) = run_with(make(), hook, monkeypatch)
    assert event.payload == {
        "status": "closed",
        "message": "ticket #500 is closed (Closed)",
        "ticket_id": 500,
        "ticket_status": "Closed",
    }
    assert hook.calls == 3


def test_a_closed_status_id_counts(monkeypatch):
    hook = FakeHook([{"id": 500, "closedFlag": False, "status": {"id": 12, "name": "Resolved"}}])
    (event,) = run_with(make(), hook, monkeypatch)
    assert event.payload["status"] == "closed"


def test_times_out_at_the_absolute_deadline(monkeypatch):
    hook = FakeHook([{"id": 500, "closedFlag": False, "status": {"id": 1, "name": "New"}}])
    (event,) = run_with(make(deadline=time.time() + 0.05), hook, monkeypatch)
    assert event.payload["status"] == "timeout"
    assert "still open (New)" in event.payload["message"]


def test_errors_become_an_error_event(monkeypatch):
    hook = FakeHook([ConnectWiseNotFoundError("Ticket 500 not found", method="GET", path="x", status=404)])
    (event,) = run_with(make(), hook, monkeypatch)
    assert event.payload["status"] == "error"
    assert "404" in event.payload["message"]


def test_run_does_not_block_the_event_loop(monkeypatch):
    hook = FakeHook([{"id": 500, "closedFlag": False, "status": {"id": 1, "name": "New"}}])
    trigger = make(poll_interval=0.05, deadline=time.time() + 0.3)
    monkeypatch.setattr(trigger, "_hook", lambda: hook)
    ticks = 0

    async def heartbeat():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def main():
        beat = asyncio.create_task(heartbeat())
        events = await collect(trigger)
        beat.cancel()
        return events

    events = asyncio.run(main())
    assert events[0].payload["status"] == "timeout"
    assert ticks >= 15  # the loop kept running while the trigger waited


@pytest.mark.parametrize("status", ["closed", "timeout", "error"])
def test_event_schema_is_fixed(monkeypatch, status):
    answers = {
        "closed": [{"id": 500, "closedFlag": True, "status": {"id": 9, "name": "Closed"}}],
        "timeout": [{"id": 500, "closedFlag": False, "status": {"id": 1, "name": "New"}}],
        "error": [ConnectWiseNotFoundError("gone", status=404)],
    }[status]
    (event,) = run_with(make(deadline=time.time() + 0.02), FakeHook(answers), monkeypatch)
    assert set(event.payload) == {"status", "message", "ticket_id", "ticket_status"}
    assert event.payload["status"] == status
