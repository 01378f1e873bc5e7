"""Which failures a retry may cure: ConnectWise refusing a device's values is lasting, the rest transient."""

from __future__ import annotations

import pytest

from airflow_provider_connectwise.core.apply import apply_actions
from airflow_provider_connectwise.core.planning import plan_company
from airflow_provider_connectwise.exceptions import (
    ConnectWiseAuthError,
    ConnectWiseNotFoundError,
    ConnectWiseRateLimitedError,
    ConnectWiseServerError,
    ConnectWiseTransportError,
    ConnectWiseValidationError,
)

from .helpers import ACME, FakeConnectWise, device, resolved


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectWiseValidationError("name is too long", status=400, code="InvalidObject"), False),
        (ConnectWiseServerError("unavailable", status=503), True),
        (ConnectWiseRateLimitedError("too many requests", status=429, retry_after=1), True),
        (ConnectWiseTransportError("connection reset"), True),
        (ConnectWiseNotFoundError("gone", status=404), True),  # a re-plan creates it again
        (ConnectWiseAuthError("key revoked", status=401), True),  # a person may fix the key meanwhile
        (TimeoutError("read timed out"), True),
    ],
)
def test_a_failed_write_says_whether_a_retry_may_cure_it(error, transient):
    cw = FakeConnectWise()
    cw.fail["agent-1"] = error
    actions = plan_company(ACME, [device("agent-1")], [], resolved()).actions
    (result,) = apply_actions(actions, cw)
    assert (result.state, result.transient) == ("failed", transient)
    assert str(error) in result.error


def test_a_device_that_cannot_be_planned_is_a_lasting_failure():
    actions = plan_company(ACME, [{"agentid": "", "policy_id": "pol-1", "facts": {}}], [], resolved()).actions
    (result,) = apply_actions(actions, FakeConnectWise())
    assert (result.state, result.transient) == ("failed", False)


class _Outcome:
    def __init__(self, configuration=None, error=None):
        self.configuration, self.error = configuration, error


class BulkWriter(FakeConnectWise):
    """Creates in bulk: the first device refused by ConnectWise, the second unconfirmed, the third created."""

    def create_configurations(self, bodies, *, concurrency=1):
        return [
            _Outcome(error=ConnectWiseValidationError("name is too long", status=400)),
            _Outcome(error=ConnectWiseServerError("the configuration could not be confirmed", status=500)),
            _Outcome(configuration={"id": 77, **bodies[2]}),
        ]


def test_a_bulk_create_says_per_device_whether_a_retry_may_cure_it():
    devices = [device(f"agent-{n}") for n in range(3)]
    actions = plan_company(ACME, devices, [], resolved()).actions
    refused, unconfirmed, created = apply_actions(actions, BulkWriter())
    assert (refused.state, refused.transient) == ("failed", False)
    assert (unconfirmed.state, unconfirmed.transient) == ("failed", True)
    assert (created.state, created.configuration_id) == ("linked", 77)
