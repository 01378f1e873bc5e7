"""Bad-input corpus: each case in ``tests/data/bad_inputs/`` through the real code path, on the sandbox.

One JSON file per case. ``kind`` picks the flow, ``expect`` says what must come out:

``device``
    A device with the given facts joins ``policy`` (default Acme Workstations) in the sandbox's
    MDM - with ``bound_first`` it is bound with clean facts first and the facts change afterwards -
    then the binding runs (``bind_all`` over real hooks). ``facts`` values are bare, ``null``,
    ``{"error_msg": ...}`` (a fact that failed on the device) or ``{"value": ...}`` envelopes;
    ``remove_facts`` deletes facts. ``expect`` lists results: ``state`` (``linked``/``failed``),
    ``field`` and ``message`` fragments (in the error Airflow fails the task with, or in the
    warnings), ``item`` (default: the agent id) for failures, exact ConnectWise ``fields``,
    ``absent`` fields, and ``kept`` fields that must keep the value the first binding wrote.
``upstream``
    Device ``records`` handed to the binding by an upstream task (another MDM) besides the MDM's
    own devices; ``link`` links more policies first.
``settings``
    A settings document (``settings`` deep-merged over the example, or raw ``text``) through the
    switch; ``expect`` maps every problem's path to message fragments (no other problem allowed).
``alert``
    Monitoring ``alerts`` raised on seed devices, then the alert-to-ticket flow; per alert a
    ``ticket``, an ``error`` (its task fails) or a ``problem`` (skipped with a message).
``connectwise``
    ConnectWise answers an error (``scenario``: a function below); ``expect.message`` fragments.

For every case: the error names the item and the field; every other device still binds and every
configuration the case does not target is unchanged (nothing wiped, nothing lost); the sandbox's
request log shows that no outside string reached a ``conditions`` string raw.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests_mock

from airflow_provider_connectwise.core.apply import DeviceResult
from airflow_provider_connectwise.core.binding_report import pending
from airflow_provider_connectwise.core.planning import Scope
from airflow_provider_connectwise.core.settings import SettingsError
from airflow_provider_connectwise.core.tickets import TicketInputError
from airflow_provider_connectwise.exceptions import (
    ApiError,
    ConnectWiseAuthError,
    ConnectWiseNotFoundError,
    ConnectWiseRateLimitedError,
    ConnectWiseRoutingError,
    ConnectWiseValidationError,
)
from airflow_provider_connectwise.flows.binding import apply_batch, bind_all
from airflow_provider_connectwise.flows.binding_plan import plan_binding
from airflow_provider_connectwise.flows.policy_links import fetch_policy_devices, list_policy_links
from airflow_provider_connectwise.flows.settings import validate_settings
from airflow_provider_connectwise.flows.tickets import (
    TicketOutcome,
    alert_ticket_requests,
    close_tickets,
    open_ticket,
)
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.operators._record import pending_summary
from airflow_provider_connectwise.sandbox.conditions import tokenize
from airflow_provider_connectwise.sandbox.models import FactError
from tests.flows.conftest import EXAMPLE_SETTINGS, run_dag, task_states, try_numbers
from tests.helpers.faults import RetryRecorder

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"
CASES = sorted(CORPUS.glob("*.json"))
ACME = "Acme Workstations"
_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


class Env:
    """The sandbox with Airflow's connections pointed at it, and real hooks without a rate budget."""

    def __init__(self, sb: Any, retries: RetryRecorder) -> None:
        self.sb = sb
        self.retries = retries
        self.cw = ConnectWiseHook(requests_per_minute=None)
        self.addigy = AddigyHook()
        self.settings = validate_settings(self.cw, EXAMPLE_SETTINGS)

    @property
    def mdm(self) -> Any:
        return self.sb.state.addigy

    def policy_id(self, name: str) -> str:
        return self.sb.seed.policies[name]

    def company_of(self, policy: str) -> int:
        return self.mdm.policy(self.policy_id(policy))["connectwise_account_id"]

    def bind(self, extra: list[dict[str, Any]] = ()) -> list[DeviceResult]:
        """One Devices Binding over the MDM's linked policies (plus ``extra`` upstream records)."""
        policies = list_policy_links(self.addigy, self.cw, self.settings)
        linked = [p for p in policies if p["company_id"] is not None]
        devices = [d for p in linked for d in fetch_policy_devices(self.addigy, self.settings, p)]
        return bind_all(self.cw, self.settings, linked, [*devices, *extra], scope=Scope(all_policies=True))[1]

    def configurations(self) -> dict[int, dict[str, Any]]:
        return {c["id"]: c for c in self.sb.state.connectwise.find("configurations")}

    def configuration_of(self, company: int, agentid: str) -> dict[str, Any] | None:
        found = [
            c
            for c in self.sb.state.connectwise.find("configurations")
            if c["company"]["id"] == company and c.get("deviceIdentifier") == agentid
        ]
        assert len(found) <= 1, f"{len(found)} configurations for {agentid!r}"
        return found[0] if found else None

    def writes(self) -> int:
        return sum(
            self.sb.count(method, template)
            for method, template in (
                ("POST", "/company/configurations"),
                ("PATCH", "/company/configurations/{id}"),
                ("POST", "/service/tickets"),
                ("PATCH", "/service/tickets/{id}"),
            )
        )


@pytest.fixture
def env(sandbox, point_airflow_at, monkeypatch) -> Env:
    sb = point_airflow_at(sandbox)
    retries = RetryRecorder().install(monkeypatch)  # a 429 asks for 30 s: recorded, not slept
    # The demo's one unbindable device is removed, so "every other device binds" means all of them.
    sb.state.addigy.remove_device(sb.seed.devices["no-agent-id"])
    return Env(sb, retries)


# --- checks shared by every case -----------------------------------------------------------------------


def failure_text(result: DeviceResult) -> str:
    """What Airflow shows when the device is left pending (the apply/report task's failure)."""
    return pending_summary([result], 1)


def check_result(result: DeviceResult, expect: dict[str, Any], agentid: str | None) -> None:
    assert result.state == expect["state"], (result.state, result.error, result.warnings)
    text = failure_text(result) if result.state == "failed" else "\n".join(result.warnings)
    wanted = [*expect.get("message", []), *([expect["field"]] if "field" in expect else [])]
    if result.state == "failed":
        wanted.append(expect.get("item", "{agentid}"))
    for fragment in wanted:
        fragment = fragment.replace("{agentid}", agentid or "")
        assert fragment in text, f"{fragment!r} not in:\n{text}"


def check_fields(
    config: dict[str, Any] | None, before: dict[str, Any] | None, expect: dict[str, Any], agentid: str
) -> None:
    for field, value in expect.get("fields", {}).items():
        assert config is not None
        assert config.get(field) == value.replace("{agentid}", agentid), (field, config.get(field))
    for field in expect.get("absent", []):
        assert config is not None and not config.get(field), (field, config.get(field))
    for field in expect.get("kept", []):
        assert before is not None and before.get(field), f"{field} was never written: the check is empty"
        assert config is not None and config.get(field) == before[field], (field, before[field], config)


def check_nothing_lost(
    before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]], targets: set[int] = frozenset()
) -> None:
    """Every configuration survives; those the case does not target are unchanged, and no value of
    the targets was emptied."""
    assert set(before) <= set(after), "a configuration disappeared"
    for config_id, old in before.items():
        new = after[config_id]
        if config_id not in targets:
            assert new == old, f"configuration {config_id} changed: {old} -> {new}"
            continue
        wiped = [k for k, v in old.items() if v not in (None, "") and new.get(k) in (None, "")]
        assert not wiped, f"configuration {config_id}: {wiped} wiped"


def check_rest_synced(results: list[DeviceResult], case_agents: set[str | None], baseline: int) -> None:
    others = [r for r in results if r.agentid not in case_agents]
    assert [r for r in others if r.state != "linked"] == []
    assert len(others) >= baseline


def outside_strings(value: Any) -> Iterator[str]:
    """Every text a case puts into the MDM or the flow (device names, serials, ids...)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from outside_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from outside_strings(v)


def check_conditions(sb: Any, texts: list[str]) -> None:
    """No outside text reached a ``conditions`` string raw: a safe one only as a whole quoted
    literal, one with quotes, backslashes or control characters not at all, not even in part."""
    sent = [
        value
        for entry in sb.request_log()
        if entry["service"] == "connectwise"
        for key, value in entry["query"]
        if key == "conditions"
    ]
    assert sent, "the flow sent no conditions: nothing to check"
    unsafe = [t for t in texts if _UNSAFE.search(t)]
    safe = [t for t in texts if not _UNSAFE.search(t) and len(t.strip()) >= 6]
    for text in sent:
        literals = [t.value for t in tokenize(text) if t.kind == "STRING"]
        for outside in unsafe:
            assert outside not in text, text
            assert not [lit for lit in literals if len(lit) >= 3 and lit in outside], (outside, text)
        for outside in safe:
            if outside in text:
                assert outside in literals, f"{outside!r} is in {text!r} but not as a whole literal"


# --- kinds ---------------------------------------------------------------------------------------------


def clean_facts(name: str) -> dict[str, Any]:
    return {
        "device_name": f"CASE-{name[:40]}",
        "serial_number": f"CASE{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:10].upper()}",
        "ethernet_mac_address": "02:00:5E:20:00:01",
        "local_ip": "10.88.0.1",
        "os_platform": "macOS",
        "system_version": "macOS 15.1 (24B83)",
        "processor_speed_ghz": 3.2,
        "total_memory_gb": 16,
        "current_user": "casey",
        "hardware_model": "MacBookAir10,1",
    }


def fact_values(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        key: FactError(value["error_msg"]) if isinstance(value, dict) and "error_msg" in value else value
        for key, value in facts.items()
    }


def run_device(case: dict[str, Any], env: Env, name: str) -> list[str]:
    agentid = case.get("agentid") or str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    policy = case.get("policy", ACME)
    company = env.company_of(policy)
    facts = clean_facts(name)
    baseline = env.bind()
    assert pending(baseline) == []
    if case.get("bound_first"):
        env.mdm.add_device(env.policy_id(policy), facts, agentid=agentid)
        assert [r.state for r in env.bind() if r.agentid == agentid] == ["linked"]
        env.mdm.set_facts(agentid, fact_values(case.get("facts", {})))
        for fact in case.get("remove_facts", []):
            env.mdm.remove_fact(agentid, fact)
    else:
        facts.update(fact_values(case.get("facts", {})))
        for fact in case.get("remove_facts", []):
            facts.pop(fact)
        env.mdm.add_device(env.policy_id(policy), facts, agentid=agentid)
    before = env.configurations()
    target_before = env.configuration_of(company, agentid)

    results = env.bind()
    (expect,) = case["expect"]
    (result,) = [r for r in results if r.agentid == agentid]
    check_result(result, expect, agentid)
    config = env.configuration_of(company, agentid)
    if result.state == "failed" and target_before is None:
        assert config is None, "a device that failed got a configuration anyway"
    check_fields(config, target_before, expect, agentid)
    check_rest_synced(results, {agentid}, len(baseline))
    check_nothing_lost(before, env.configurations(), {target_before["id"]} if target_before else set())
    if case.get("rebind"):  # found again by its agent id: nothing written, still one configuration
        writes = env.writes()
        again = [r for r in env.bind() if r.agentid == agentid]
        assert [(r.action, r.state) for r in again] == [("none", "linked")]
        assert env.writes() == writes
    return [agentid, *outside_strings(case.get("facts", {}))]


def run_upstream(case: dict[str, Any], env: Env, name: str) -> list[str]:
    for policy, company in case.get("link", {}).items():
        env.mdm.link_policy(env.policy_id(policy), env.sb.seed.companies[company])
    baseline = env.bind()
    assert pending(baseline) == []
    before = env.configurations()
    records = [
        {"agentid": r.get("agentid"), "policy_id": env.policy_id(r["policy"]), "facts": r["facts"]}
        for r in case["records"]
    ]
    results = env.bind(records)
    agents = {r.get("agentid") for r in case["records"]}
    for agentid in agents:
        expects = [e for e in case["expect"] if e["agentid"] == agentid]
        mine = [r for r in results if r.agentid == agentid]
        assert sorted(r.state for r in mine) == sorted(e["state"] for e in expects), [r.error for r in mine]
        for expect in expects:  # results come without-write first: pair them by state
            result = next(r for r in mine if r.state == expect["state"])
            mine.remove(result)
            check_result(result, expect, agentid)
            if expect.get("fields"):
                company = env.company_of(case["records"][0]["policy"])
                check_fields(env.configuration_of(company, agentid), None, expect, agentid)
    if case.get("absent_configuration"):
        assert not env.sb.state.connectwise.find(
            "configurations", deviceIdentifier=case["absent_configuration"]
        )
    check_rest_synced(results, agents, len(baseline))
    check_nothing_lost(before, env.configurations())
    return [*outside_strings(case["records"])]


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def run_settings(case: dict[str, Any], env: Env, name: str) -> list[str]:
    document = case["text"] if "text" in case else deep_merge(EXAMPLE_SETTINGS, case["settings"])
    with pytest.raises(SettingsError) as info:
        validate_settings(env.cw, document)
    problems = {p.path: str(p) for p in info.value.problems}
    assert set(problems) == set(case["expect"]), problems
    for path, fragments in case["expect"].items():
        for fragment in fragments:
            assert fragment in problems[path], (fragment, problems[path])
    assert env.writes() == 0
    return []


def raise_alerts(case: dict[str, Any], env: Env) -> list[dict[str, Any]]:
    created = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    return [
        env.mdm.raise_alert(
            env.sb.seed.devices[spec["device"]],
            spec["name"],
            level="critical",
            alert_id=spec.get("id"),
            created_date=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for spec in case["alerts"]
    ]


def ticket_run(env: Env) -> tuple[dict[str, Any], list[str]]:
    """The alert DAG's new_alerts + open_tickets: one outcome (or the task's error) per alert."""
    now = dt.datetime.now(dt.timezone.utc)
    requests, problems = alert_ticket_requests(env.addigy, start=now - dt.timedelta(minutes=15), end=now)
    outcomes: dict[str, Any] = {}
    for request in requests:
        try:
            outcomes[request["external_ref"]] = open_ticket(
                env.cw, env.settings, board="monitoring", **request
            )
        except (TicketInputError, ApiError) as exc:
            outcomes[request["external_ref"]] = exc
    return outcomes, problems


def run_alert(case: dict[str, Any], env: Env, name: str) -> list[str]:
    assert pending(env.bind()) == []
    before = env.configurations()
    alerts = raise_alerts(case, env)
    outcomes, problems = ticket_run(env)
    monitoring = env.sb.seed.boards["Monitoring"]
    for alert, expect in zip(alerts, case["expect"], strict=True):
        outcome = outcomes.get(alert["id"])
        if expect["state"] == "ticket":
            assert isinstance(outcome, TicketOutcome) and outcome.action == "created", outcome
            ticket = env.sb.state.connectwise.find_one("tickets", externalXRef=alert["id"])
            assert ticket["board"]["id"] == monitoring
            summary = ticket["summary"]
            assert len(summary) <= expect.get("summary_max", 100)
            assert summary.startswith(expect.get("summary_prefix", "")), summary
            assert not re.search(r"[\x00-\x1f\x7f]", summary), summary
        else:
            item = expect.get("item", alert["name"]).replace("{agentid}", alert["agentid"])
            if expect["state"] == "error":
                assert isinstance(outcome, Exception), outcome
                text = str(outcome)
            else:
                assert outcome is None
                (text,) = [p for p in problems if expect["field"] in p]
            fragments = [f.replace("{agentid}", alert["agentid"]) for f in expect.get("message", [])]
            for fragment in [item, expect["field"], *fragments]:
                assert fragment in text, (fragment, text)
            assert not env.sb.state.connectwise.find("tickets", externalXRef=alert["id"])
    if case.get("redeliver"):  # a second delivery finds each ticket again
        again, _ = ticket_run(env)
        assert {o.action for o in again.values() if isinstance(o, TicketOutcome)} == {"existing"}
    for alert in alerts:
        assert len(env.sb.state.connectwise.find("tickets", externalXRef=alert["id"])) <= 1
    check_nothing_lost(before, env.configurations())
    return [*outside_strings(case["alerts"])]


# --- ConnectWise answering errors ------------------------------------------------------------------------


def scenario_required_question(case: dict[str, Any], env: Env) -> str:
    assert pending(env.bind()) == []
    cw_state, seed = env.sb.state.connectwise, env.sb.seed
    cw_state.insert(
        "configuration_type_questions",
        {
            "configurationType": {"id": seed.configuration_types["Managed Mac"]},
            "fieldType": "Text",
            "entryType": "EntryField",
            "sequenceNumber": 9.0,
            "question": "Asset owner",
            "numberOfDecimals": 0,
            "requiredFlag": True,
            "inactiveFlag": False,
        },
    )
    new = []
    for n in (1, 2):
        facts = {**clean_facts(f"question-{n}"), "hardware_model": "iMac21,1"}  # the default type
        new.append(env.mdm.add_device(env.policy_id(ACME), facts)["agentid"])
    renamed = seed.devices["mac-dashes"]
    env.mdm.set_facts(renamed, {"device_name": "Renamed while creates fail"})
    before = env.configurations()
    results = env.bind()
    failed = pending(results)
    assert {r.agentid for r in failed} == set(new)
    acme = seed.companies["AcmeCorp"]
    assert env.configuration_of(acme, renamed)["name"] == "Renamed while creates fail"  # updates sync
    targets = {env.configuration_of(acme, renamed)["id"]}
    check_nothing_lost(before, env.configurations(), targets)
    for result in failed:
        assert result.agentid in failure_text(result)
    return failure_text(failed[0])


def scenario_ticket_field_error(case: dict[str, Any], env: Env) -> str:
    assert pending(env.bind()) == []
    agent = env.sb.seed.devices["mac-bare"]
    with pytest.raises(ConnectWiseValidationError) as info:
        open_ticket(
            env.cw,
            env.settings,
            board="monitoring",
            summary="Printer",
            external_ref="prio-1",
            agentid=agent,
            priority="Priority 9 - Never",
        )
    assert not env.sb.state.connectwise.find("tickets", externalXRef="prio-1")
    fine = open_ticket(
        env.cw, env.settings, board="monitoring", summary="Printer", external_ref="prio-2", agentid=agent
    )
    assert fine.action == "created"
    return str(info.value)


def _connection_with(env: Env, monkeypatch: Any, **changes: Any) -> None:
    conn = {**env.sb.connectwise_connection(), **changes}
    monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", json.dumps(conn))
    env.cw = ConnectWiseHook(requests_per_minute=None)


def scenario_wrong_private_key(case: dict[str, Any], env: Env, monkeypatch: Any) -> str:
    secret = case["expect"]["secret"]
    _connection_with(env, monkeypatch, password=secret)
    with pytest.raises(ConnectWiseAuthError) as info:
        env.bind()
    assert secret not in str(info.value) and secret not in repr(info.value)
    assert env.writes() == 0
    return str(info.value)


def scenario_wrong_company(case: dict[str, Any], env: Env, monkeypatch: Any) -> str:
    _connection_with(env, monkeypatch, login="nosuchcompany")
    with pytest.raises(ConnectWiseRoutingError) as info:
        env.bind()
    assert env.writes() == 0
    return str(info.value)


def scenario_forbidden_tickets(case: dict[str, Any], env: Env) -> str:
    assert pending(env.bind()) == []
    agent = env.sb.seed.devices["mac-bare"]
    with requests_mock.Mocker(real_http=True) as mock:  # everything else goes to the sandbox
        mock.post(
            re.compile(r".*/apis/3\.0/service/tickets$"),
            status_code=403,
            json={"code": "Forbidden", "message": "You do not have access to Service Tickets."},
        )
        with pytest.raises(ConnectWiseAuthError) as info:
            open_ticket(
                env.cw, env.settings, board="monitoring", summary="x", external_ref="f-1", agentid=agent
            )
    assert not env.sb.state.connectwise.find("tickets", externalXRef="f-1")
    return str(info.value)


def scenario_configuration_deleted(case: dict[str, Any], env: Env) -> str:
    assert pending(env.bind()) == []
    seed, cw_state = env.sb.seed, env.sb.state.connectwise
    acme = seed.companies["AcmeCorp"]
    gone, kept = seed.devices["mac-dashes"], seed.devices["mac-dots"]
    for agent in (gone, kept):
        env.mdm.set_facts(agent, {"device_name": f"Renamed {agent[:8]}"})
    policies = [p for p in list_policy_links(env.addigy, env.cw, env.settings) if p["company_id"]]
    devices = [d for p in policies for d in fetch_policy_devices(env.addigy, env.settings, p)]
    (batch,) = plan_binding(env.cw, env.settings, policies, devices, apply_slots=1).batches
    cw_state.configurations.remove(env.configuration_of(acme, gone)["id"])  # a technician deletes it
    first = apply_batch(env.cw, batch, retry=False)
    (failed,) = pending(first)
    assert failed.agentid == gone
    assert env.configuration_of(acme, kept)["name"] == f"Renamed {kept[:8]}"
    retried = apply_batch(env.cw, batch, retry=True)  # Retry Pending: re-read, re-plan, create
    assert pending(retried) == []
    assert env.configuration_of(acme, gone)["name"] == f"Renamed {gone[:8]}"
    return failure_text(failed)


def scenario_ticket_not_found(case: dict[str, Any], env: Env) -> str:
    assert pending(env.bind()) == []
    agent = env.sb.seed.devices["mac-bare"]
    opened = open_ticket(
        env.cw, env.settings, board="monitoring", summary="x", external_ref="nf-1", agentid=agent
    )
    with pytest.raises(ConnectWiseNotFoundError) as info:
        close_tickets(env.cw, env.settings, board="monitoring", ticket_id=999999)
    assert not env.sb.state.connectwise.ticket(opened.ticket_id)["closedFlag"]
    return str(info.value)


def scenario_html_429(case: dict[str, Any], env: Env) -> str:
    assert pending(env.bind()) == []
    agent = env.sb.seed.devices["mac-bare"]
    waited = len(env.retries.waits)
    env.sb.queue_fault("429-html", 10, methods=["POST"], path_contains="/service/tickets")
    with pytest.raises(ConnectWiseRateLimitedError) as info:
        open_ticket(env.cw, env.settings, board="monitoring", summary="x", external_ref="rl-1", agentid=agent)
    waits = env.retries.waits[waited:]
    assert waits and set(waits) == {30.0}, waits  # the HTML page's Retry-After, honoured every time
    assert not env.sb.state.connectwise.find("tickets", externalXRef="rl-1")
    env.sb.clear_faults()
    again = open_ticket(
        env.cw, env.settings, board="monitoring", summary="x", external_ref="rl-1", agentid=agent
    )
    assert again.action == "created"
    assert len(env.sb.state.connectwise.find("tickets", externalXRef="rl-1")) == 1
    return str(info.value)


def scenario_deleted_company(case: dict[str, Any], env: Env) -> str:
    assert pending(env.bind()) == []
    seed, cw_state = env.sb.seed, env.sb.state.connectwise
    cw_state.companies.get(seed.companies["AcmeCorp"])["deletedFlag"] = True
    renamed = seed.devices["ram-mb"]  # a Globex device
    env.mdm.set_facts(renamed, {"device_name": "Globex still syncs"})
    before = env.configurations()
    results = env.bind()
    acme_agents = {d["agentid"] for d in env.mdm.devices_in(env.policy_id(ACME))}
    failed = pending(results)
    assert {r.agentid for r in failed} == acme_agents
    globex_config = env.configuration_of(seed.companies["Globex"], renamed)
    assert globex_config["name"] == "Globex still syncs"
    check_nothing_lost(before, env.configurations(), {globex_config["id"]})  # nothing of Acme deactivated
    return failure_text(failed[0])


SCENARIOS = {
    "required_question": scenario_required_question,
    "ticket_field_error": scenario_ticket_field_error,
    "wrong_private_key": scenario_wrong_private_key,
    "wrong_company": scenario_wrong_company,
    "forbidden_tickets": scenario_forbidden_tickets,
    "configuration_deleted": scenario_configuration_deleted,
    "ticket_not_found": scenario_ticket_not_found,
    "html_429": scenario_html_429,
    "deleted_company": scenario_deleted_company,
}


def run_connectwise(case: dict[str, Any], env: Env, name: str, monkeypatch: Any) -> list[str]:
    scenario = SCENARIOS[case["scenario"]]
    needs_monkeypatch = scenario in (scenario_wrong_private_key, scenario_wrong_company)
    text = scenario(case, env, monkeypatch) if needs_monkeypatch else scenario(case, env)
    for fragment in case["expect"]["message"]:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    return []


RUNNERS = {"device": run_device, "upstream": run_upstream, "settings": run_settings, "alert": run_alert}


def test_the_corpus_covers_every_kind_of_bad_input():
    kinds = [load(path)["kind"] for path in CASES]
    assert len(CASES) >= 30
    assert {kind: kinds.count(kind) for kind in set(kinds)}.keys() == {
        "device",
        "upstream",
        "settings",
        "alert",
        "connectwise",
    }
    assert set(SCENARIOS) == {load(p)["scenario"] for p in CASES if load(p)["kind"] == "connectwise"}


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
def test_bad_input_is_named_the_rest_syncs_nothing_is_lost(path, env, monkeypatch):
    case = load(path)
    if case["kind"] == "connectwise":
        outside = run_connectwise(case, env, path.stem, monkeypatch)
    else:
        outside = RUNNERS[case["kind"]](case, env, path.stem)
    if case["kind"] in ("device", "upstream", "alert"):
        check_conditions(env.sb, outside)


def test_invalid_settings_stop_the_alert_dag_at_the_switch_once(sandbox, point_airflow_at):
    """Bad settings fail the switch without a retry; the close task (all_done) fails once, clearly,
    instead of crashing on missing settings three times over; nothing is written."""
    case = load(CORPUS / "32-settings-unknown-board.json")
    sb = point_airflow_at(sandbox, deep_merge(EXAMPLE_SETTINGS, case["settings"]))
    run = run_dag("connectwise_alert_tickets", logical_date=dt.datetime.now(dt.timezone.utc))
    assert task_states(run) == {
        "all_alerts_ticketed": ["upstream_failed"],
        "close_resolved": ["failed"],
        "new_alerts": ["upstream_failed"],
        "open_tickets": ["upstream_failed"],
        "validate_settings": ["failed"],
    }
    assert try_numbers(run, "validate_settings") == [1]
    assert try_numbers(run, "close_resolved") == [1]
    assert sb.count("POST", "/service/tickets") == sb.count("PATCH", "/service/tickets/{id}") == 0
