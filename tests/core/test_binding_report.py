from __future__ import annotations

import json

import pytest

from airflow_provider_connectwise.core.apply import DeviceResult
from airflow_provider_connectwise.core.binding_report import (
    BindingReport,
    LinkedPolicy,
    LinkStatus,
    link_status,
    new_failures,
    pending,
    render_binding_table,
    retryable,
    summarise,
)

from .helpers import ACME, BETA

LONG_ERROR = (
    "could not create the configuration: 400 InvalidObject: the configuration type 'Managed Server' requires "
    "an answer to 'Rack position'; answer it in ConnectWise or choose another type in configuration_types "
    "-- END-OF-ERROR"
)


def result(agentid, state, *, policy="pol-1", company=ACME, action="create", error=None, name="Mac"):
    policy_ids = () if action == "deactivate" else (policy,)
    return DeviceResult(
        agentid, name, policy_ids, company, action, 7 if state != "failed" else None, state, error
    )


POLICIES = [
    LinkedPolicy("pol-0", "Unlinked", None),
    LinkedPolicy("pol-1", "Office", ACME, "Acme Corp"),
    LinkedPolicy("pol-2", "Lab", ACME, "Acme Corp"),
]


@pytest.mark.parametrize(
    ("policy", "results", "expected"),
    [
        (POLICIES[0], [], LinkStatus.NOT_LINKED),
        (POLICIES[0], [result("a", "failed", policy="pol-0")], LinkStatus.NOT_LINKED),
        (POLICIES[1], [result("a", "linked"), result("b", "linked", action="none")], LinkStatus.LINKED),
        (POLICIES[1], [], LinkStatus.LINKED),  # nothing pending
        (POLICIES[1], [result("a", "linked"), result("b", "failed", error="x")], LinkStatus.PARTIAL),
        (POLICIES[1], [result("a", "failed", action="fail", error="bad MAC")], LinkStatus.PARTIAL),
        # A device that left (deactivated, even if that failed) is not the policy's device.
        (
            POLICIES[1],
            [result("a", "linked"), result("b", "unlinked", action="deactivate")],
            LinkStatus.LINKED,
        ),
        # Another policy's failure does not turn this one red.
        (POLICIES[1], [result("a", "linked"), result("b", "failed", policy="pol-2")], LinkStatus.LINKED),
        # A stale result from the company the policy used to be linked to is not read.
        (POLICIES[1], [result("a", "failed", company=BETA)], LinkStatus.LINKED),
    ],
)
def test_link_status(policy, results, expected):
    assert link_status(policy, results) is expected


def test_icons():
    assert [status.icon for status in LinkStatus] == ["gray", "blue", "red"]
    assert "not linked to any" in LinkStatus.NOT_LINKED.description


def test_a_device_in_two_policies_counts_for_both():
    shared = DeviceResult("a", "Mac", ("pol-1", "pol-2"), ACME, "create", None, "failed", "x")
    assert link_status(POLICIES[1], [shared]) is LinkStatus.PARTIAL
    assert link_status(POLICIES[2], [shared]) is LinkStatus.PARTIAL


def test_summarise():
    results = [
        result("a", "linked"),
        result("b", "linked", action="none"),
        result("c", "failed", action="fail", error="bad MAC"),
        result("d", "linked", policy="pol-2", action="update"),
        result("e", "unlinked", action="deactivate"),
    ]
    report = summarise(results, POLICIES)
    assert [(p.policy_id, p.status, p.devices) for p in report.policies] == [
        ("pol-0", LinkStatus.NOT_LINKED, 0),
        ("pol-1", LinkStatus.PARTIAL, 3),
        ("pol-2", LinkStatus.LINKED, 1),
    ]
    assert report.policies[1].states == {"linked": 2, "failed": 1, "unlinked": 0}
    assert report.policies[1].actions == {"create": 1, "update": 0, "deactivate": 0, "none": 1, "fail": 1}
    assert report.totals == {"devices": 5, "linked": 3, "failed": 1, "unlinked": 1}
    assert report.actions == {"create": 1, "update": 1, "deactivate": 1, "none": 1, "fail": 1}


def test_report_json_shape_and_round_trip():
    report = summarise(
        [result("a", "failed", error="x").to_dict()],
        [{"policyId": "pol-1", "name": "Office", "company_id": ACME}],
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["policies"] == [
        {
            "policy_id": "pol-1",
            "name": "Office",
            "company_id": ACME,
            "company_name": "",
            "status": "partial",
            "icon": "red",
            "devices": 1,
            "states": {"linked": 0, "failed": 1, "unlinked": 0},
            "actions": {"create": 1, "update": 0, "deactivate": 0, "none": 0, "fail": 0},
        }
    ]
    assert BindingReport.from_dict(data) == report


def test_pending_is_every_failed_result():
    results = [
        result("a", "linked"),
        result("b", "failed", error="x"),
        result("c", "unlinked", action="deactivate"),
        result("d", "failed", action="deactivate", error="y"),
    ]
    assert [r.agentid for r in pending(results)] == ["b", "d"]
    assert [r.agentid for r in pending([r.to_dict() for r in results])] == ["b", "d"]


def test_table_shows_errors_in_full_and_totals():
    results = [
        result("agent-1", "linked", name="Ann's Mac"),
        result("agent-2", "failed", error=LONG_ERROR, name="Server\nrack 2"),
        result("agent-3", "unlinked", action="deactivate"),
    ]
    text = render_binding_table(results)
    lines = text.splitlines()
    assert lines[0].split() == ["device", "agent", "id", "action", "configuration", "id", "state", "error"]
    # The error is wrapped over several lines, never cut: every word is there.
    flattened = " ".join(" ".join(line.split()) for line in lines)
    for word in LONG_ERROR.split():
        assert word in flattened
    assert "END-OF-ERROR" in text
    assert "Server\\nrack 2" in text  # a newline in a name cannot start a fake row
    assert max(len(line) for line in lines) < 220
    assert lines[-1] == "3 devices: 1 linked, 1 failed, 1 unlinked"


def test_linked_policy_needs_an_id():
    with pytest.raises(ValueError, match="policy_id"):
        LinkedPolicy.from_dict({"name": "x"})


def test_only_transient_failures_are_retried():
    refused = DeviceResult("a1", "Mac", ("pol-1",), ACME, "create", None, "failed", "400 refused")
    lost = DeviceResult("a2", "Mac", ("pol-1",), ACME, "create", None, "failed", "reset", transient=True)
    linked = result("a3", "linked")
    assert retryable([refused, lost, linked]) == [lost]
    assert retryable([r.to_dict() for r in (refused, lost)]) == [lost]


def test_a_lasting_failure_is_new_once():
    refused = DeviceResult("a1", "Mac", ("pol-1",), ACME, "create", None, "failed", "400 refused")
    assert new_failures([refused], []) == [refused]
    assert new_failures([refused], [refused.to_dict()]) == []
    other_error = DeviceResult("a1", "Mac", ("pol-1",), ACME, "create", None, "failed", "name too long")
    assert new_failures([other_error], [refused]) == [other_error]  # failing differently is news
    moved = DeviceResult("a1", "Mac", ("pol-9",), BETA, "create", None, "failed", "400 refused")
    assert new_failures([moved], [refused]) == [moved]
    lost = DeviceResult("a2", "Mac", ("pol-1",), ACME, "create", None, "failed", "reset", transient=True)
    assert new_failures([lost], []) == []  # transient ones are retried, not reported as lasting
