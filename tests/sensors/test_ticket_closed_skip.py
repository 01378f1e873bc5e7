"""A ticket sensor whose ticket id rendered empty has nothing to wait for: it skips, asking nothing."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider_connectwise.sensors.tickets import ConnectWiseTicketClosedSensor


@pytest.mark.parametrize("deferrable", [True, False])
def test_an_empty_ticket_id_skips_without_a_request(deferrable, monkeypatch):
    sensor = ConnectWiseTicketClosedSensor(task_id="wait", ticket_id="", deferrable=deferrable)
    monkeypatch.setattr(type(sensor), "hook", property(lambda self: pytest.fail("no request expected")))
    with pytest.raises(AirflowSkipException, match="no ticket to wait for"):
        sensor.execute({})
