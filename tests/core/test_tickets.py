from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_connectwise.core.tickets import (
    TicketInputError,
    closed_at,
    decide_ticket,
    external_ref_text,
    is_closed,
    summary_text,
)

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)


def ticket(tid, *, closed=False, closed_minutes_ago=None, status=None):
    t = {"id": tid, "closedFlag": closed, "status": {"id": status or (9 if closed else 1)}}
    if closed_minutes_ago is not None:
        t["closedDate"] = (NOW - dt.timedelta(minutes=closed_minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return t


def test_no_ticket_means_create():
    assert decide_ticket([], now=NOW, reopen_window=HOUR).action == "create"


def test_an_open_ticket_is_returned_not_duplicated():
    decision = decide_ticket([ticket(7), ticket(3)], now=NOW, reopen_window=HOUR)
    assert decision.action == "existing"
    assert decision.ticket["id"] == 3  # the first one opened
    assert "1 more open" in decision.reason


def test_open_wins_over_recently_closed():
    decision = decide_ticket(
        [ticket(3, closed=True, closed_minutes_ago=1), ticket(4)], now=NOW, reopen_window=HOUR
    )
    assert (decision.action, decision.ticket["id"]) == ("existing", 4)


def test_recently_closed_is_reopened():
    tickets = [ticket(3, closed=True, closed_minutes_ago=50), ticket(5, closed=True, closed_minutes_ago=10)]
    decision = decide_ticket(tickets, now=NOW, reopen_window=HOUR)
    assert (decision.action, decision.ticket["id"]) == ("reopen", 5)
    assert "10m ago" in decision.reason


def test_closed_outside_the_window_means_a_new_ticket():
    decision = decide_ticket([ticket(3, closed=True, closed_minutes_ago=61)], now=NOW, reopen_window=HOUR)
    assert decision.action == "create"


def test_zero_window_never_reopens():
    decision = decide_ticket(
        [ticket(3, closed=True, closed_minutes_ago=0)], now=NOW, reopen_window=dt.timedelta(0)
    )
    assert decision.action == "create"


def test_closed_status_ids_count_as_closed():
    assert is_closed({"closedFlag": False, "status": {"id": 12}}, [12])
    assert not is_closed({"closedFlag": False, "status": {"id": 11}}, [12])
    assert is_closed({"closedFlag": True})
    decision = decide_ticket([ticket(3, status=12)], now=NOW, reopen_window=HOUR, closed_status_ids=[12])
    assert decision.action == "create"  # closed by status, but no close time known


def test_closed_at_falls_back_to_last_update():
    t = {"id": 1, "closedFlag": True, "_info": {"lastUpdated": "2026-11-27T11:30:00Z"}}
    assert closed_at(t) == dt.datetime(2026, 11, 27, 11, 30, tzinfo=dt.timezone.utc)
    assert closed_at({"id": 1, "closedDate": "garbage"}) is None


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        ("Disk almost full", "", "Disk almost full"),
        ("  Disk\nalmost\tfull  ", "", "Disk almost full"),
        ("CPU high", "Ann's Mac", "Ann's Mac: CPU high"),
        ("bell\x07", "", "bell"),
        ('Quote " and \\ stay', "", 'Quote " and \\ stay'),
    ],
)
def test_summary_text(text, prefix, expected):
    assert summary_text(text, prefix=prefix) == expected


def test_summary_is_trimmed_to_100():
    text = summary_text("x" * 300)
    assert len(text) == 100
    assert text.endswith("…")


def test_empty_summary_is_refused_naming_the_field():
    with pytest.raises(TicketInputError, match="summary"):
        summary_text("\x00\x01 ")


@pytest.mark.parametrize("ref", ["", "   ", "a" * 101, "line\nbreak", "nul\x00"])
def test_bad_external_refs_are_refused(ref):
    with pytest.raises(TicketInputError, match="external_ref"):
        external_ref_text(ref)


def test_external_ref_keeps_quotes_as_data():
    assert external_ref_text(' alert "7" ') == 'alert "7"'
