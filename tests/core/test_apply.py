from __future__ import annotations

import json
import threading
import time

import pytest

from airflow_provider_connectwise.core.apply import DeviceResult, apply_actions, result_without_write
from airflow_provider_connectwise.core.planning import plan_company, replan_action

from .helpers import ACME, INACTIVE, FakeConnectWise, configuration, device, resolved

A1, A2, A3 = "agent-0001", "agent-0002", "agent-0003"


def plan(devices, configurations=()):
    return plan_company(ACME, devices, list(configurations), resolved(), company_name="AcmeCorp")


def test_results_for_every_action_in_order():
    cw = FakeConnectWise([configuration(7, A2, status=INACTIVE), configuration(8, A3)])
    actions = plan([device(A1), device(A2), {"agentid": ""}], cw.company_configurations(ACME)).actions
    results = apply_actions(actions, cw)
    assert [(r.agentid, r.action, r.state) for r in results] == [
        (A1, "create", "linked"),
        (A2, "update", "linked"),
        (None, "fail", "failed"),
        (A3, "deactivate", "unlinked"),
    ]
    assert [r.configuration_id for r in results] == [9, 7, None, 8]  # the fake numbers after the highest id
    assert results[2].error == "device '<unnamed device>' (agent id none): agentid: missing or not text: ''"
    assert cw.configurations[7]["status"] == {"id": 1}
    assert cw.configurations[8]["status"] == {"id": INACTIVE}


def test_deactivation_is_unlinked_and_none_is_linked():
    cw = FakeConnectWise([configuration(7, A2)])
    actions = plan([], cw.company_configurations(ACME)).actions
    assert [(r.action, r.state) for r in apply_actions(actions, cw)] == [("deactivate", "unlinked")]
    assert cw.configurations[7]["status"] == {"id": INACTIVE}
    settled = plan([], cw.company_configurations(ACME))
    assert settled.actions == ()


def test_one_failing_device_does_not_stop_the_others():
    cw = FakeConnectWise([configuration(7, A2, status=INACTIVE)])
    cw.fail[A1] = RuntimeError("500 InvalidObject: database timeout")
    cw.fail[A2] = PermissionError("403 your security role does not allow this")
    results = apply_actions(
        plan([device(A1), device(A2), device(A3)], cw.company_configurations(ACME)).actions, cw
    )
    assert [(r.agentid, r.state) for r in results] == [(A1, "failed"), (A2, "failed"), (A3, "linked")]
    assert results[0].error == "could not create the configuration: 500 InvalidObject: database timeout"
    assert results[1].error == "could not update configuration 7: 403 your security role does not allow this"


def test_an_exception_without_text_is_named_by_its_type():
    cw = FakeConnectWise()
    cw.fail[A1] = TimeoutError()
    assert (
        apply_actions(plan([device(A1)]).actions, cw)[0].error
        == "could not create the configuration: TimeoutError"
    )


def test_failures_are_logged_with_their_traceback(caplog):
    cw = FakeConnectWise()
    cw.fail[A1] = KeyError("bug in a writer")
    with caplog.at_level("WARNING", logger="airflow_provider_connectwise.core.apply"):
        apply_actions(plan([device(A1)]).actions, cw)
    assert caplog.records[0].exc_info is not None


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(1)])
def test_interruptions_propagate(exc):
    cw = FakeConnectWise()
    cw.fail[A2] = exc
    with pytest.raises(type(exc)):
        apply_actions(plan([device(A1), device(A2), device(A3)]).actions, cw, concurrency=1)


def test_create_passes_find_existing_for_its_company_and_agent():
    seen = {}

    class Writer:
        def create_configuration(self, body, *, find_existing):
            seen["body"] = body
            seen["found"] = find_existing()
            return {"id": 55}

        def patch_configuration(self, configuration_id, changes):  # pragma: no cover - not called
            raise AssertionError

        def find_configuration(self, company_id, agentid):
            seen["lookup"] = (company_id, agentid)
            return {"id": 55, "deviceIdentifier": agentid}

    result = apply_actions(plan([device(A1)]).actions, Writer())[0]
    assert seen["lookup"] == (ACME, A1)
    assert seen["found"] == {"id": 55, "deviceIdentifier": A1}
    assert seen["body"]["deviceIdentifier"] == A1
    assert (result.state, result.configuration_id) == ("linked", 55)


def test_a_create_answered_without_an_id_is_failed():
    class Writer(FakeConnectWise):
        def create_configuration(self, body, *, find_existing):
            return {"name": body["name"]}

    result = apply_actions(plan([device(A1)]).actions, Writer())[0]
    assert result.state == "failed"
    assert (
        result.error == "could not create the configuration: ConnectWise answered without a configuration id"
    )


def test_concurrency_is_bounded():
    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def slow():
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1

    cw = FakeConnectWise()
    cw.before_write = slow
    actions = plan([device(f"agent-{n:04}") for n in range(40)]).actions
    results = apply_actions(actions, cw, concurrency=4)
    assert all(r.state == "linked" for r in results)
    assert 2 <= peak <= 4  # it runs in parallel, and never above the bound
    assert len(cw.configurations) == 40


def test_bad_concurrency():
    with pytest.raises(ValueError, match="at least 1"):
        apply_actions([], FakeConnectWise(), concurrency=0)


def test_actions_as_dicts_from_xcom():
    cw = FakeConnectWise()
    batch = plan([device(A1)]).batches()[0].to_dict()
    results = apply_actions(batch["actions"], cw)
    assert [r.state for r in results] == ["linked"]


def test_a_lost_create_answer_then_replan_never_creates_twice():
    cw = FakeConnectWise()
    cw.lose_create_answer.add(A1)
    first = plan([device(A1), device(A2)])
    results = apply_actions(first.actions, cw)
    assert [r.state for r in results] == ["failed", "linked"]
    # Retry Pending: re-plan the failed device against a fresh read, then apply again.
    retried = [replan_action(a, cw.company_configurations(ACME)) for a in first.actions if a.agentid == A1]
    assert [a.action for a in retried] == ["none"]
    assert [r.state for r in apply_actions(retried, cw)] == ["linked"]
    assert sorted(c["deviceIdentifier"] for c in cw.configurations.values()) == [A1, A2]


def test_result_without_write():
    action = plan([], [configuration(7, A2)]).actions[0]
    with pytest.raises(ValueError, match="writes; apply it"):
        result_without_write(action)
    done = replan_action(action, [configuration(7, A2, status=INACTIVE)])
    assert result_without_write(done).state == "unlinked"


def test_device_result_round_trip_and_shape():
    cw = FakeConnectWise()
    result = apply_actions(plan([device(A1)]).actions, cw)[0]
    data = json.loads(json.dumps(result.to_dict()))
    assert data == {
        "agentid": A1,
        "device_name": "Mac",
        "policy_ids": ["pol-1"],
        "company_id": ACME,
        "action": "create",
        "configuration_id": 1001,
        "state": "linked",
        "error": None,
        "warnings": ["serialNumber: no serial number (fact 'serial_number' is missing or null); not written"],
        "transient": False,
    }
    assert DeviceResult.from_dict(data) == result
    with pytest.raises(ValueError, match="not a device result"):
        DeviceResult.from_dict({**data, "state": "maybe"})


# --- creates in bulk ----------------------------------------------------------------------------


class Outcome:
    def __init__(self, configuration=None, error=None):
        self.configuration, self.error = configuration, error


class BulkFake(FakeConnectWise):
    """The fake with the hook's bulk method: every create of a call in one ``create_configurations``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bulk_calls: list[list[str]] = []
        self.refuse: dict[str, Exception] = {}

    def create_configurations(self, bodies, *, concurrency=1):
        self.bulk_calls.append([b["deviceIdentifier"] for b in bodies])
        outcomes = []
        for body in bodies:
            if body["deviceIdentifier"] in self.refuse:
                outcomes.append(Outcome(error=self.refuse[body["deviceIdentifier"]]))
                continue
            outcomes.append(Outcome(self.create_configuration(body, find_existing=lambda: None)))
        return outcomes


def test_creates_go_together_updates_one_patch_each():
    cw = BulkFake([configuration(7, A2, status=INACTIVE)])
    devices = [device(A1), device(A2), device(A3)]
    results = apply_actions(plan(devices, cw.company_configurations(ACME)).actions, cw, concurrency=4)
    assert cw.bulk_calls == [[A1, A3]]
    assert [c for c in cw.calls if c[0] == "patch"] == [("patch", 7)]
    assert [(r.agentid, r.action, r.state) for r in results] == [
        (A1, "create", "linked"),
        (A2, "update", "linked"),
        (A3, "create", "linked"),
    ]
    assert {r.configuration_id for r in results} == set(cw.configurations)


def test_a_refused_item_fails_only_its_device_with_connectwise_s_error():
    cw = BulkFake()
    cw.refuse[A2] = ValueError(
        "ConnectWise POST company/configurations/bulk -> 400: InvalidObject [name: too long]"
    )
    results = apply_actions(plan([device(A1), device(A2), device(A3)]).actions, cw)
    assert [r.state for r in results] == ["linked", "failed", "linked"]
    assert results[1].error == (
        "could not create the configuration: ConnectWise POST company/configurations/bulk -> 400: "
        "InvalidObject [name: too long]"
    )


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (RuntimeError("connection refused"), "could not create the configuration: connection refused"),
        (
            [Outcome({"id": 1})],
            "could not create the configuration: the writer answered 1 outcomes for 2 creates",
        ),
        (
            [Outcome({"name": "x"}), Outcome({"id": True})],
            "could not create the configuration: ConnectWise answered without a configuration id",
        ),
    ],
)
def test_a_bulk_writer_that_fails_or_answers_oddly_links_nobody(answer, error):
    class Odd(BulkFake):
        def create_configurations(self, bodies, *, concurrency=1):
            if isinstance(answer, Exception):
                raise answer
            return answer

    cw = Odd([configuration(7, A3, status=INACTIVE)])
    results = apply_actions(
        plan([device(A1), device(A2), device(A3)], cw.company_configurations(ACME)).actions, cw
    )
    assert [(r.agentid, r.state, r.error) for r in results] == [
        (A1, "failed", error),
        (A2, "failed", error),
        (A3, "linked", None),  # the update is not held back by the creates
    ]


def test_an_interruption_in_the_bulk_writer_propagates():
    class Interrupted(BulkFake):
        def create_configurations(self, bodies, *, concurrency=1):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        apply_actions(plan([device(A1)]).actions, Interrupted())
