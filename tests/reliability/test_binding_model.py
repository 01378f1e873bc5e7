"""Model-based test of the Devices Binding: random MDM changes, links, syncs and faults; invariants after every step.

A hypothesis ``RuleBasedStateMachine`` drives the real operators (their ``execute``, with a
minimal task instance) against the embedded sandbox, the way the scheduled DAG, the manual sync
and a user's DAG with devices from another MDM run them. The MDM side (the sandbox's Addigy) is
the reference model's input; after every step the ConnectWise side is checked against it:

- each device of a linked policy has exactly one configuration of ours in its company, active —
  or its sync reports it failed, with an error naming it (a device no one can bind);
- no configuration of a company outside the sync's scope changes at all, and none that is not
  ours changes, unless it is adopted (it had no device identifier and becomes ours);
- nothing is deactivated while its device is still in a policy linked to that company;
- no exception escapes except an outside service's error (the task's retry) or the report's
  deliberate failure for devices left unlinked;
- a second identical sync writes nothing.

``make test`` runs a seeded, bounded profile; ``make soak`` (``CONNECTWISE_MODEL_PROFILE=soak``) a long one.
"""

from __future__ import annotations

import copy
import json
import os
from collections import defaultdict
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from airflow_provider_connectwise.exceptions import ApiError
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.sandbox.models.addigy import FactError
from tests.flows.conftest import EXAMPLE_SETTINGS
from tests.helpers.faults import RetryRecorder

pytestmark = pytest.mark.integration

PROFILES = {
    # seeded and bounded: a few dozen syncs, well under a minute
    "ci": {"max_examples": 25, "stateful_step_count": 15, "derandomize": True},
    "soak": {"max_examples": 200, "stateful_step_count": 40, "derandomize": False},
    # replays what the soak saved, nothing new (CONNECTWISE_MODEL_PROFILE=replay)
    "replay": {"max_examples": 200, "stateful_step_count": 40, "derandomize": False},
}
PROFILE = PROFILES[os.environ.get("CONNECTWISE_MODEL_PROFILE", "ci")]
SOAK = PROFILE is PROFILES["soak"]
REPLAY = PROFILE is PROFILES["replay"]
LINK = "https://app.addigy.com/devices/{agentid}"
BINDING_KEY = "connectwise_binding"
EXPLORED: dict[str, int] = defaultdict(int)

# --- any JSON a fact can hold -----------------------------------------------------------------

ABSURD_NUMBERS = [10**40, -(10**40), 1e300, -1e300, 5e-324, float("nan"), -0.0, 2**63, "9" * 40, "1e999 GB"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**45), max_value=10**45)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000)
    | st.sampled_from(["a4:83:e7:00:00:05", "10.0.0.7", "16 GB", "2300 MHz", "  ", "\x00\x1b[31m", "N/A"])
    # absurd numbers, which hand-picked cases missed
    | st.sampled_from(ABSURD_NUMBERS)
)
numbers = st.one_of(
    st.sampled_from(ABSURD_NUMBERS),
    st.sampled_from(ABSURD_NUMBERS),
    st.integers(min_value=-(10**45), max_value=10**45),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
fact_forms = (
    json_values
    | st.builds(
        lambda v, t: {"value": v, "type": t, "error_msg": None},
        json_values,
        st.sampled_from(["string", "number", "list", "boolean", "date", None]),
    )
    | st.builds(FactError, st.sampled_from(["collection failed", "timeout"]))
)


class TaskInstance:
    """What the operators use of Airflow's task instance: try number, map index and XCom rows.

    ``rows`` outlives a run, as Airflow's table does: a task pulling before it pushes (the report
    reading the previous record) sees the last run's row.
    """

    def __init__(
        self,
        rows: dict[tuple[str, str], dict[int, Any]],
        task_id: str,
        *,
        map_index: int = -1,
        try_number: int = 1,
    ) -> None:
        self.rows, self.task_id, self.map_index, self.try_number = rows, task_id, map_index, try_number
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = json.loads(json.dumps(value))  # what survives Airflow's JSON XCom
        self.rows[(self.task_id, key)][self.map_index] = self.pushed[key]

    def xcom_pull(
        self, task_ids: str, key: str = "return_value", default: Any = None, map_indexes: Any = None, **_: Any
    ) -> Any:
        rows = self.rows.get((task_ids, key)) or {}
        if isinstance(map_indexes, int):
            return rows.get(map_indexes, default)
        return [rows[i] for i in sorted(rows)] or default


def _phases() -> list[Phase]:
    if REPLAY:
        return [Phase.reuse]
    return [Phase.explicit, Phase.reuse, Phase.generate] if SOAK else [Phase.explicit, Phase.generate]


def _changes(before: dict[int, dict], after: dict[int, dict]) -> list[str]:
    """What a write changed, configuration by configuration (for the failure message)."""
    lines = []
    for cid, config in after.items():
        old = before.get(cid)
        if old is None:
            lines.append(f"created {cid} {config.get('deviceIdentifier')!r}")
            continue
        fields = {k: (old.get(k), v) for k, v in config.items() if old.get(k) != v and k != "_info"}
        if fields:
            lines.append(f"changed {cid} {config.get('deviceIdentifier')!r}: {fields}")
    return lines


class BindingMachine(RuleBasedStateMachine):
    sb: Any = None  # the sandbox, set by the test
    settings_xcom: dict[str, Any] = {}

    @initialize()
    def fresh_msp(self) -> None:
        self.sb.reset("demo")
        # conformance of every request is the contract tests' job; here strict mode only costs time
        self.sb.set_strict(False)
        self.addigy, self.cw = self.sb.state.addigy, self.sb.state.connectwise
        self.history: dict[tuple[str, str], dict[int, Any]] = defaultdict(dict)
        self.companies = {name: self.sb.seed.companies[name] for name in ("AcmeCorp", "Globex", "Initech")}
        self.facts = [f for f in self.settings_xcom["field_mapping"].values() if f]
        self.foreign = {c["id"]: c for c in self._all() if not self._ours(c)}
        self.counter = 0

    # --- reading the sandbox ----------------------------------------------------------------

    def _all(self) -> list[dict[str, Any]]:
        return copy.deepcopy([c for name in self.companies for c in self.cw.configurations_of(name)])

    @staticmethod
    def _ours(config: dict[str, Any]) -> bool:
        agent = (config.get("deviceIdentifier") or "").strip()
        return (
            bool(agent) and (config.get("managementLink") or "").lower() == LINK.format(agentid=agent).lower()
        )

    def _linked(self) -> dict[str, int]:
        """MDM policy id -> linked company id (the MDM's own record is the only link source here)."""
        return {
            pid: policy["connectwise_account_id"]
            for pid, policy in self.addigy.policies.items()
            if policy.get("connectwise_account_id") in self.companies.values()
        }

    def _devices_of_company(self) -> dict[int, set[str]]:
        linked, devices = self._linked(), defaultdict(set)
        for device in self.addigy.devices.values():
            if device.get("policy_id") in linked:
                devices[linked[device["policy_id"]]].add(str(device.get("agentid") or ""))
        return devices

    def _with_facts(self) -> list[str]:
        """Devices whose facts can change (a device listed with ``facts: null`` has none to change)."""
        return sorted(a for a, d in self.addigy.devices.items() if isinstance(d.get("facts"), dict))

    def _writes(self) -> int:
        """Configuration writes the sandbox received (single and bulk)."""
        return sum(
            self.sb.count(method, path)
            for method, path in (
                ("POST", "/company/configurations"),
                ("POST", "/company/configurations/bulk"),
                ("PATCH", "/company/configurations/{id}"),
            )
        )

    # --- MDM changes ----------------------------------------------------------------------

    @rule(
        policy=st.sampled_from(["Acme Workstations", "Globex Fleet", "Lab Macs"]), name=st.text(max_size=30)
    )
    def add_device(self, policy: str, name: str) -> None:
        self.counter += 1
        self.addigy.add_device(
            self.sb.seed.policies[policy], {"device_name": name, "serial_number": f"MODEL{self.counter:05d}"}
        )
        EXPLORED["add device"] += 1

    @precondition(lambda self: len(self.addigy.devices) > 1)
    @rule(data=st.data())
    def remove_device(self, data: st.DataObject) -> None:
        self.addigy.remove_device(data.draw(st.sampled_from(sorted(self.addigy.devices))))
        EXPLORED["remove device"] += 1

    @rule(data=st.data(), policy=st.sampled_from(["Acme Workstations", "Globex Fleet", "Lab Macs", None]))
    def move_device(self, data: st.DataObject, policy: str | None) -> None:
        agent = data.draw(st.sampled_from(sorted(self.addigy.devices)))
        self.addigy.move_device(agent, self.sb.seed.policies[policy] if policy else None)
        EXPLORED["move device"] += 1

    @rule(data=st.data(), values=st.lists(fact_forms, min_size=1, max_size=4))
    def set_facts(self, data: st.DataObject, values: list[Any]) -> None:
        """Facts change, go missing, error, or take any JSON value (renames included)."""
        for value in values:
            agent = data.draw(st.sampled_from(self._with_facts()))
            fact = data.draw(st.sampled_from(self.facts))
            if data.draw(st.booleans()) or fact not in self.addigy.devices[agent]["facts"]:
                self.addigy.set_facts(agent, {fact: value})
            else:
                self.addigy.remove_fact(agent, fact)
            EXPLORED["fact of any JSON type"] += 1

    @rule(data=st.data(), value=numbers)
    def set_numeric_fact(self, data: st.DataObject, value: Any) -> None:
        """Processor speed or memory takes any number (40 digits, 1e300, NaN, negative ...)."""
        agent = data.draw(st.sampled_from(self._with_facts()))
        fact = data.draw(
            st.sampled_from([self.settings_xcom["field_mapping"][f] for f in ("cpuSpeed", "ram")])
        )
        self.addigy.set_facts(agent, {fact: value})
        EXPLORED["numeric fact"] += 1

    @rule(
        policy=st.sampled_from(["Acme Workstations", "Globex Fleet", "Lab Macs"]),
        company=st.sampled_from(["AcmeCorp", "Globex", "Initech", None]),
    )
    def link(self, policy: str, company: str | None) -> None:
        self.addigy.link_policy(self.sb.seed.policies[policy], self.companies[company] if company else None)
        EXPLORED["link, re-link or unlink"] += 1

    # --- syncs ----------------------------------------------------------------------------

    def _run(self, operator: Any, *, map_index: int = -1, try_number: int = 1) -> tuple[Any, TaskInstance]:
        ti = TaskInstance(self.history, operator.task_id, map_index=map_index, try_number=try_number)
        if try_number == 1:  # a new try of a task starts without its earlier rows, as in Airflow
            for (task, _key), rows in self.history.items():
                if task == operator.task_id and _key != BINDING_KEY:
                    rows.pop(map_index, None)
        value = operator.execute({"ti": ti})
        ti.rows[(operator.task_id, "return_value")][map_index] = json.loads(json.dumps(value))
        return value, ti

    def _common(self) -> dict[str, Any]:
        return {"settings": self.settings_xcom, "retries": 3}

    def scheduled(self) -> list[dict[str, Any]] | None:
        """The scheduled DAG's tasks in order; an apply task is retried like Airflow does (4 tries)."""
        from airflow_provider_connectwise.operators.binding import (
            AddigyFetchDevicesOperator,
            ConnectWiseApplyBindingOperator,
            ConnectWiseBindingReportOperator,
            ConnectWiseListPolicyLinksOperator,
            ConnectWisePlanBindingOperator,
        )

        common = self._common()
        linked, links_ti = self._run(ConnectWiseListPolicyLinksOperator(task_id="policy_links", **common))
        self.history.pop(("fetch_devices", "return_value"), None)
        devices = [
            self._run(AddigyFetchDevicesOperator(task_id="fetch_devices", policy=p, **common), map_index=n)[0]
            for n, p in enumerate(linked)
        ]
        batches, plan_ti = self._run(
            ConnectWisePlanBindingOperator(
                task_id="plan_binding",
                policies=linked,
                devices=devices,
                scope=links_ti.pushed["scope"],
                **common,
            )
        )
        self.history.pop(("apply_binding", "binding_results"), None)
        for n, batch in enumerate(batches):
            apply = ConnectWiseApplyBindingOperator(task_id="apply_binding", batch=batch, **common)
            for attempt in range(1, 5):  # the task's retries: Retry Pending
                try:
                    self._run(apply, map_index=n, try_number=attempt)
                    break
                except Exception as exc:
                    if not _is_retry(exc):
                        raise AssertionError(f"{type(exc).__name__} escaped an apply task: {exc}") from exc
        report = ConnectWiseBindingReportOperator(
            task_id="link_status",
            plan=plan_ti.pushed["plan"],
            batches=batches,
            not_linked=links_ti.pushed["not_linked"],
            **common,
        )
        return self._record(report, "link_status")

    def _record(self, operator: Any, task_id: str) -> list[dict[str, Any]] | None:
        """Run a recording task; its device results, or ``None`` when it recorded nothing (it failed first)."""
        before = self.history.get((task_id, BINDING_KEY), {}).get(-1)
        try:
            self._run(operator)
        except Exception as exc:
            if not (_is_retry(exc) or _is_report(exc)):
                raise AssertionError(f"{type(exc).__name__} escaped {task_id}: {exc}") from exc
        record = self.history.get((task_id, BINDING_KEY), {}).get(-1)
        if record is None or record is before:
            return None
        rows = [self.history[(task_id, key)][-1] for key in record.get("results_rows", [])]
        return [*record["results"], *(r for row in rows for r in row)]

    def _check_sync(
        self,
        name: str,
        run,
        companies: set[int] | None,
        expected: dict[int, set[str]],
        *,
        deactivates: bool = True,
    ) -> list[dict]:
        """Run a sync and check every invariant; ``expected``: company -> the devices it must have bound."""
        before = {c["id"]: c for c in self._all()}
        try:
            results = run()
        except ApiError as exc:  # an outside service failed for good: the task fails and is retried
            EXPLORED[f"{name}: service error {type(exc).__name__}"] += 1
            results = None
        after = {c["id"]: c for c in self._all()}
        devices = self._devices_of_company()
        for cid, config in after.items():
            old = before.get(cid)
            if old == config:
                continue
            company = config["company"]["id"]
            assert companies is None or company in companies, (
                f"{name} changed configuration {cid} of company {company}, outside its scope"
            )
            if cid in self.foreign:
                assert self._ours(config) and not (self.foreign[cid].get("deviceIdentifier") or "").strip(), (
                    f"{name} changed configuration {cid}, which is not ours"
                )
            inactive = self.settings_xcom["inactive_status_id"]
            if old and old["status"]["id"] != inactive and config["status"]["id"] == inactive:
                assert deactivates, f"{name} deactivated configuration {cid} although it may not deactivate"
                agent = config["deviceIdentifier"]
                assert agent not in devices.get(company, set()), (
                    f"{name} deactivated {cid} while device {agent} is in a linked policy of company {company}"
                )
        EXPLORED[name] += 1
        if results is not None and not any(r["state"] == "failed" and r.get("transient") for r in results):
            self._converged(results, expected)
            again, settled = self._writes(), {c["id"]: c for c in self._all()}
            seen = len(self.sb.request_log())
            patches: list[tuple[int, dict]] = []
            original = ConnectWiseHook.patch_configuration

            def recorded(hook: Any, configuration_id: int, changes: Any) -> Any:
                patches.append((configuration_id, dict(changes)))
                return original(hook, configuration_id, changes)

            with mock.patch.object(ConnectWiseHook, "patch_configuration", recorded):
                second = run()
            assert self._writes() == again, (
                f"a second identical {name} wrote {self._writes() - again} times: "
                f"{_changes(settled, {c['id']: c for c in self._all()})}; requests "
                f"{[(e.get('method'), e.get('path'), e.get('status')) for e in self.sb.request_log()[seen:] if e.get('method') != 'GET']}; "
                f"results {[(r['agentid'], r['action'], r['state'], r.get('error')) for r in second or [] if r['action'] != 'none']}; "
                f"patches {patches}; before {[settled.get(cid) for cid, _ in patches]}"
            )
        return results or []

    def _converged(self, results: list[dict], expected: dict[int, set[str]]) -> None:
        failed = {r["agentid"] or "" for r in results if r["state"] == "failed"}
        by_agent: dict[tuple[int, str], list[dict]] = defaultdict(list)
        for config in self._all():
            if self._ours(config):
                by_agent[(config["company"]["id"], config["deviceIdentifier"].strip().lower())].append(config)
        for company, agents in expected.items():
            for agent in agents:
                if agent in failed:
                    rows = [r for r in results if (r["agentid"] or "") == agent and r["state"] == "failed"]
                    assert rows and all(r["error"] for r in rows), f"device {agent!r} failed without an error"
                    EXPLORED["device failed on its own, with its error"] += 1
                    continue
                configs = by_agent.get((company, agent.strip().lower()), [])
                assert len(configs) == 1, (
                    f"device {agent} has {len(configs)} configurations of ours in company {company}"
                )
                assert configs[0]["status"]["id"] == self.settings_xcom["active_status_id"], (
                    f"device {agent} is not active"
                )

    @rule(faults=st.sampled_from([None, "lost", "503", "reset", "lost-500", "429"]), count=st.integers(1, 3))
    def sync_scheduled(self, faults: str | None, count: int) -> None:
        if faults:
            self.sb.queue_fault(faults, count, scope="connectwise")
            EXPLORED[f"fault {faults}"] += 1
        self._check_sync("scheduled sync", self.scheduled, None, self._devices_of_company())
        self.sb.clear_faults()

    @rule(policy=st.sampled_from(["Acme Workstations", "Globex Fleet", "Lab Macs"]), by_name=st.booleans())
    def sync_manual(self, policy: str, by_name: bool) -> None:
        from airflow_provider_connectwise.operators.binding import ConnectWiseSyncDevicesOperator

        pid = self.sb.seed.policies[policy]
        company = self._linked().get(pid)
        if company is None:
            return  # refused with a message (not linked): nothing to check here
        operator = ConnectWiseSyncDevicesOperator(task_id="sync_devices", policy=pid, **self._common())
        expected = {company: self._devices_of_company().get(company, set())}
        self._check_sync("manual sync", lambda: self._record(operator, "sync_devices"), {company}, expected)

    @rule(data=st.data(), company=st.sampled_from(["AcmeCorp", "Globex", "Initech"]), complete=st.booleans())
    def sync_handed_over(self, data: st.DataObject, company: str, complete: bool) -> None:
        """A user's DAG hands over devices from another MDM for one company: some devices, or
        (declared complete, truthfully) every device of the company's linked policies."""
        from airflow_provider_connectwise.operators.binding import ConnectWiseSyncDevicesOperator

        company_id = self.companies[company]
        if complete:
            agents = sorted(self._devices_of_company().get(company_id, set()))
        else:
            agents = data.draw(
                st.lists(st.sampled_from(sorted(self.addigy.devices)), max_size=5, unique=True)
            )
        devices = [{**self.addigy.device(a), "policy_id": "other-mdm"} for a in agents]
        policies = [{"policy_id": "other-mdm", "name": "Other MDM", "company_id": company_id}]
        operator = ConnectWiseSyncDevicesOperator(
            task_id="sync_handed_over",
            devices=devices,
            policies=policies,
            complete_companies=complete,
            **self._common(),
        )
        self._check_sync(
            "handed-over sync" + (" (declared complete)" if complete else ""),
            lambda: self._record(operator, "sync_handed_over"),
            {company_id},
            {company_id: set(agents)},
            deactivates=complete,
        )

    @invariant()
    def nothing_not_ours_vanishes(self) -> None:
        if not hasattr(self, "foreign"):
            return
        now = {c["id"] for c in self._all()}
        assert set(self.foreign) <= now


def _is_retry(exc: BaseException) -> bool:
    """An outside service's error, or a task failing for devices a retry may still link: Airflow retries."""
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    if isinstance(exc, ApiError):
        return True
    return (
        isinstance(exc, AirflowException)
        and not isinstance(exc, AirflowFailException)
        and "not linked" in str(exc)
    )


def _is_report(exc: BaseException) -> bool:
    """The report's deliberate failure for devices that newly failed for good."""
    from airflow.sdk.exceptions import AirflowFailException

    return isinstance(exc, AirflowFailException) and "newly failed" in str(exc)


def test_binding_keeps_its_invariants_under_random_changes_and_faults(
    point_airflow_at, sandbox, monkeypatch, capsys
):
    from airflow_provider_connectwise.flows.settings import validate_settings
    from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
    from airflow_provider_connectwise.xcom import CODEBASE_KEY

    point_airflow_at(sandbox)
    # the sandbox answers in ~1 ms: a production-sized budget would only make the test wait
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__REQUESTS_PER_MINUTE", "600000")
    RetryRecorder().install(monkeypatch)  # the request path's retry waits are recorded, not slept
    hook = ConnectWiseHook()
    BindingMachine.sb = sandbox
    BindingMachine.settings_xcom = {
        **validate_settings(hook, EXAMPLE_SETTINGS).to_dict(),
        CODEBASE_KEY: hook.codebase,
    }
    EXPLORED.clear()
    run_state_machine_as_test(
        BindingMachine,
        settings=settings(
            **PROFILE,
            deadline=None,
            # the soak keeps what it finds (and replays it first next time); CI stays seeded and stateless
            database=DirectoryBasedExampleDatabase(".hypothesis/binding-model") if SOAK else None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate]
            if SOAK
            else [Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    with capsys.disabled():
        print(
            "\nmodel-based binding test explored:", ", ".join(f"{k} {v}" for k, v in sorted(EXPLORED.items()))
        )
    assert EXPLORED["scheduled sync"] and EXPLORED["fact of any JSON type"]
