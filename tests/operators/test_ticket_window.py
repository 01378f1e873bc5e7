"""The alert window: a run reads again from the end of the last successful run (bounded)."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_connectwise.operators.tickets import (
    AddigyAlertTicketRequestsOperator,
    ConnectWiseCreateTicketOperator,
    _catch_up,
)

END = dt.datetime(2025, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
START = END - dt.timedelta(minutes=15)
DAY = dt.timedelta(hours=24)


class Unknown:
    """Like the lazy proxy when the API server knows no previous run."""

    def __bool__(self):
        raise RuntimeError("no previous successful run")


@pytest.mark.parametrize(
    ("last_success", "expected"),
    [
        (None, START),  # the first run: its own window
        (START, START),  # the previous run succeeded: nothing to catch up
        (END - dt.timedelta(hours=2), END - dt.timedelta(hours=2)),  # failed runs since: read them again
        (END - dt.timedelta(days=3), END - DAY),  # bounded
        (Unknown(), START),
    ],
)
def test_the_window_reaches_back_to_the_last_success(last_success, expected):
    context = {"prev_data_interval_end_success": last_success}
    assert _catch_up(context, START, END, DAY) == expected


def test_ticket_requests_carry_severity_repeats_and_the_requester():
    op = ConnectWiseCreateTicketOperator(
        task_id="t",
        settings={},
        summary="s",
        severity="critical",
        repeats=[{"id": "a"}],
        requester_email="{{ params.user }}",
    )
    assert (op.severity, op.repeats) == ("critical", [{"id": "a"}])
    assert {"severity", "requester_email"} <= set(op.template_fields)
    assert AddigyAlertTicketRequestsOperator(task_id="a").max_catch_up == DAY
