"""Fault soak: the binding and alert-ticket flows converge under 20% injected faults, exactly once.

One strict ``demo`` sandbox; a seeded :class:`~tests.helpers.faults.FaultMix` fails 20% of all
requests (ConnectWise and Addigy): 500 (plain and "timeout"), 503, 429 with ``Retry-After``
(JSON and an HTML page), connection resets, and requests applied whose answer is then lost
(reset, 500 or 504); the rarest kinds are also queued once each, so every soak has them. Five
rounds change the device set, then bind and ticket:

=======  ============  ===================================================================
round    driven by     changes before binding
=======  ============  ===================================================================
0        dag.test()    the demo as seeded without its device that has no agent id; ``bad-mac``
                       links without its MAC (then its MAC is fixed through the admin API)
1        functions     devices added to both policies, two removed, one moved Acme -> Globex,
                       a rename and a new IP; alerts raised
2        functions     Lab Macs linked to Initech (12 creates), moves in and out of it, one
                       device's serial fact errors and its IP fact disappears; alerts resolved
3        functions     Lab Macs unlinked (its configurations swept inactive), a device moved
                       back to its first company, a new device removed; alerts
4        dag.test()    adds, a removal, a move; alerts raised and resolved
=======  ============  ===================================================================

Creates go through ``POST /company/configurations/bulk`` (the hook's bulk path), so the lost
answers, resets and 5xx it draws hit bulk chunks: each is looked up by agent id, never re-sent
blindly (at least three lost bulk answers per soak, one of them queued).

Rounds 1-3 call the integration functions the operators call, with Airflow's task retries
emulated (4 tries, only for ``ApiError``) and hooks given a 600 requests/minute budget, so the
budget, not the workload, sets the pace; rounds 0 and 4 are real ``dag.test()`` runs of
``connectwise_device_binding`` and ``connectwise_alert_tickets``. The hooks' retry waits are
recorded instead of slept (a 429 asks for 30 s); the rate budget keeps its real clock.

Then ConnectWise's final state is compared with the test's own model: no duplicate
configuration (company, deviceIdentifier) or ticket (board, externalXRef); one configuration per
device and company it was ever bound to, active exactly when the device is in a policy linked to
that company now; hand-written field expectations for added and hand-picked seed devices; every
bound device's fields equal to its facts as mapped; fields whose fact errored or vanished kept;
foreign configurations byte-for-byte untouched; one ticket per alert, in the device's company,
linked to its configuration, closed exactly when the alert was resolved; and the request log
shows the rate budget held.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from airflow_provider_connectwise.budget import Budget
from airflow_provider_connectwise.core.binding_report import pending
from airflow_provider_connectwise.core.mapping import map_device
from airflow_provider_connectwise.core.planning import Scope
from airflow_provider_connectwise.exceptions import ApiError
from airflow_provider_connectwise.flows.binding import apply_batch
from airflow_provider_connectwise.flows.binding_plan import plan_binding
from airflow_provider_connectwise.flows.policy_links import fetch_policy_devices, list_policy_links
from airflow_provider_connectwise.flows.settings import validate_settings
from airflow_provider_connectwise.flows.tickets import (
    alert_ticket_requests,
    open_ticket,
    sync_alert_tickets,
)
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.sandbox.models import FactError
from tests.flows.conftest import EXAMPLE_SETTINGS, run_dag, task_states
from tests.helpers.faults import SOAK_MIX, FaultMix, RetryRecorder, peak

pytestmark = pytest.mark.integration

# Fixed, so a failure replays with the same fault draws (thread timing permitting); override with
# CONNECTWISE_SOAK_SEED to explore.
SOAK_SEED = int(os.environ.get("CONNECTWISE_SOAK_SEED", "20250106"))
TRIES = 4  # the example DAGs' tasks: one try and three retries
DIRECT_BUDGET = 600  # requests per minute of the hooks in the function-driven rounds
DAG_BUDGET = 900  # [connectwise] requests_per_minute for the example DAGs: ConnectWise's real one
# each running task's share of it (the pool's four slots; see airflow_provider_connectwise.budget)
APPLY_BUDGET = Budget(requests_per_minute=DAG_BUDGET).task_share()
ACME, GLOBEX, LAB = "Acme Workstations", "Globex Fleet", "Lab Macs"
LINK = "https://app.addigy.com/devices/{}"
FIXED_MAC = "A4:83:E7:00:00:05"
MODELS = ("MacBookAir10,1", "iMac21,1", "MacBookPro18,3", "Mac14,3")

# Written by hand from the seed's facts, not from the mapping code.
HAND_PICKED: dict[str, dict[str, str]] = {
    "mac-dashes": {"macAddress": "AA:BB:CC:DD:EE:01"},
    "mac-dots": {"macAddress": "AA:BB:CC:DD:EE:02"},
    "mac-bare": {"macAddress": "AA:BB:CC:DD:EE:03"},
    "mac-upper-colons": {"macAddress": "A4:83:E7:0B:1C:2D"},
    "ram-gb-text": {"ram": "16"},
    "ram-bytes": {"ram": "16"},
    "ram-mb": {"ram": "16"},
    "cpu-ghz-text": {"cpuSpeed": "2.3"},
    "cpu-mhz": {"cpuSpeed": "2.3"},
    "quoted-name": {"name": 'Bob\'s "Work" Mac\\Book'},
    "unicode-name-1": {"name": "Zoë’s MacBook Pro"},
    "unicode-name-2": {"name": "山田のMacBook Air"},
    "overlong-name": {"name": ("Acme " + "Extremely Long Device Name " * 4)[:100].rstrip()},
    "bad-mac": {"macAddress": FIXED_MAC},
}
# Seed devices the rounds never move, remove or edit (their expectations above stay true).
PINNED = (*HAND_PICKED, "historical-1", "historical-2", "ours-inactive", "error-facts", "missing-facts")
FOREIGN = ("acme-core-switch", "acme-rmm-laptop", "acme-server", "acme-printer", "globex-firewall")

T = TypeVar("T")


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class World:
    """The test's own model of the MDM side: what it changed, and what ConnectWise must show."""

    def __init__(self, sb: Any, seed: int) -> None:
        self.sb = sb
        self.rng = random.Random(seed)
        self.policy_ids = dict(sb.seed.policies)
        self.touched = {sb.seed.devices[label] for label in PINNED}
        self.expected: dict[str, dict[str, str]] = {
            sb.seed.devices[label]: dict(fields) for label, fields in HAND_PICKED.items()
        }
        self.kept: dict[str, dict[str, str]] = {}  # agentid -> fields whose fact went bad
        self.ever: set[tuple[int, str]] = set()  # (company id, agentid) bound in some round
        self.alerts: dict[str, dict[str, Any]] = {}
        self.added = 0

    @property
    def addigy(self) -> Any:
        return self.sb.state.addigy

    def company(self, policy: str) -> int | None:
        return self.addigy.policy(self.policy_ids[policy])["connectwise_account_id"]

    def members(self, policy: str) -> list[str]:
        return sorted(d["agentid"] for d in self.addigy.devices_in(self.policy_ids[policy]))

    def pick(self, policy: str) -> str:
        agentid = self.rng.choice([a for a in self.members(policy) if a not in self.touched])
        self.touched.add(agentid)
        return agentid

    def bound(self) -> set[tuple[int, str]]:
        """(company, agentid) of every device in a linked policy right now."""
        return {
            (company, agentid)
            for policy in self.policy_ids
            if (company := self.company(policy)) is not None
            for agentid in self.members(policy)
        }

    # -- changes ---------------------------------------------------------------------------------

    def add(self, policy: str) -> str:
        self.added += 1
        n, model = self.added, MODELS[self.added % len(MODELS)]
        user = f"soak{n}"
        facts = {
            "device_name": f"SOAK-{n:02d} {model}",
            "serial_number": f"SOAK{n:08d}",
            "ethernet_mac_address": f"02:00:5E:10:00:{n:02X}",
            "local_ip": f"10.77.0.{n}",
            "os_platform": "macOS",
            "system_version": "macOS 15.1 (24B83)",
            "processor_speed_ghz": 3.2,
            "total_memory_gb": 16,
            "current_user": user,
            "hardware_model": model,
        }
        agentid = self.addigy.add_device(self.policy_ids[policy], facts)["agentid"]
        self.touched.add(agentid)
        self.expected[agentid] = {
            "name": facts["device_name"],
            "serialNumber": facts["serial_number"],
            "macAddress": facts["ethernet_mac_address"],
            "ipAddress": facts["local_ip"],
            "osType": "macOS",
            "osInfo": "macOS 15.1 (24B83)",
            "cpuSpeed": "3.2",
            "ram": "16",
            "lastLoginName": user,
            "type": "Laptop" if model.startswith("MacBook") else "Managed Mac",  # the example rule
        }
        return agentid

    def remove(self, agentid: str) -> None:
        self.addigy.remove_device(agentid)
        self.expected.pop(agentid, None)

    def move(self, agentid: str, policy: str) -> None:
        self.addigy.move_device(agentid, self.policy_ids[policy])

    def rename(self, agentid: str, name: str) -> None:
        self.addigy.set_facts(agentid, {"device_name": name})
        self.expected.setdefault(agentid, {})["name"] = name

    def readdress(self, agentid: str, ip: str) -> None:
        self.addigy.set_facts(agentid, {"local_ip": ip})
        self.expected.setdefault(agentid, {})["ipAddress"] = ip

    def break_facts(self, agentid: str, company: int) -> None:
        """The serial number fact starts failing and the IP fact disappears: both must be kept."""
        (config,) = [c for c in configurations(self.sb) if _key(c) == (company, agentid.casefold())]
        assert config.get("serialNumber") and config.get("ipAddress")
        self.kept[agentid] = {"serialNumber": config["serialNumber"], "ipAddress": config["ipAddress"]}
        self.addigy.set_facts(agentid, {"serial_number": FactError("fact collection timed out")})
        self.addigy.remove_fact(agentid, "local_ip")

    def raise_alerts(self, count: int) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        for _ in range(count):
            company, agentid = self.rng.choice(sorted(self.bound()))
            if agentid == self.sb.seed.devices["bad-mac"] and company == self.company(GLOBEX):
                continue  # before its fix it has no configuration to put a ticket on
            alert = self.addigy.raise_alert(
                agentid,
                f"Soak alert {len(self.alerts) + 1}",
                level="critical",
                category="Storage",
                created_date=_iso(now - dt.timedelta(minutes=1)),
            )
            self.alerts[alert["id"]] = {
                "agentid": agentid,
                "company": company,
                "resolved": False,
                "ticketed": False,
            }

    def ticketed(self) -> None:
        """Call after a ticket run: every alert raised so far has its ticket now."""
        for alert in self.alerts.values():
            alert["ticketed"] = True

    def resolve_alerts(self, count: int) -> None:
        """Resolve alerts whose ticket exists (a resolved alert never asks for a ticket)."""
        open_ids = sorted(
            a for a, alert in self.alerts.items() if alert["ticketed"] and not alert["resolved"]
        )
        for alert_id in self.rng.sample(open_ids, min(count, len(open_ids))):
            self.addigy.resolve_alert(alert_id)
            self.alerts[alert_id]["resolved"] = True

    def settle(self) -> None:
        """Call after the changes of a round: what is bound now must exist in ConnectWise."""
        self.ever |= self.bound()


class Flows:
    """The flows, driven like Airflow drives them: through dag.test(), or the same functions with
    task retries emulated."""

    def __init__(self, sb: Any) -> None:
        self.sb = sb
        self.task_retries: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.cw = ConnectWiseHook(requests_per_minute=DIRECT_BUDGET)
        self.addigy = AddigyHook()
        self.settings = self.as_task(
            "validate_settings", lambda: validate_settings(self.cw, EXAMPLE_SETTINGS)
        )

    def as_task(self, name: str, work: Callable[[], T]) -> T:
        """Run ``work`` like a task with three retries (only API errors are worth a retry)."""
        for attempt in range(1, TRIES + 1):
            try:
                return work()
            except ApiError as exc:
                self.errors[type(exc).__name__] += 1
                if attempt == TRIES:
                    raise AssertionError(f"{name} did not converge within {TRIES} tries: {exc}") from exc
                self.task_retries[name] += 1
        raise AssertionError("unreachable")

    def bind(self) -> None:
        policies = self.as_task(
            "policy_links", lambda: list_policy_links(self.addigy, self.cw, self.settings)
        )
        linked = [p for p in policies if p["company_id"] is not None]
        devices = [
            device
            for policy in linked
            for device in self.as_task(
                "fetch_devices",
                lambda policy=policy: fetch_policy_devices(self.addigy, self.settings, policy),
            )
        ]
        plan = self.as_task(
            "plan_binding",
            lambda: plan_binding(self.cw, self.settings, linked, devices, scope=Scope(all_policies=True)),
        )
        results = plan.results_without_write()
        for batch in plan.batches:
            results += self.apply(batch)
        assert not pending(results), [r.error for r in pending(results)]

    def apply(self, batch: Any) -> list[Any]:
        """One mapped apply task: a try leaving devices pending fails, the next re-reads first."""
        for attempt in range(1, TRIES + 1):
            try:
                results = apply_batch(self.cw, batch, retry=attempt > 1)
            except ApiError as exc:
                self.errors[type(exc).__name__] += 1
                results = None
            if results is not None and not pending(results):
                return results
            if attempt < TRIES:
                self.task_retries["apply_binding"] += 1
        raise AssertionError(f"{batch.label} did not converge within {TRIES} tries")

    def tickets(self) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        requests, problems = self.as_task(
            "new_alerts",
            lambda: alert_ticket_requests(self.addigy, start=now - dt.timedelta(minutes=15), end=now),
        )
        assert not problems
        for request in requests:
            self.as_task(
                "open_tickets",
                lambda request=request: open_ticket(self.cw, self.settings, board="monitoring", **request),
            )
        self.as_task("close_resolved", lambda: sync_alert_tickets(self.cw, self.addigy, self.settings))


def run_binding_dag(*, expect_failed: str | None) -> Any:
    """dag.test() the binding DAG; every task must succeed, except the report when a device is
    expected to stay unbindable (then it must be the only pending device)."""
    run = run_dag("connectwise_device_binding")
    states = task_states(run)
    from tests.flows.conftest import binding_record

    record = binding_record(run, "link_status")
    assert record is not None, states
    left = [r for r in record["results"] if r["state"] == "failed"]
    if expect_failed is None:
        assert left == [], left
        assert {s for task_states in states.values() for s in task_states} <= {"success", "skipped"}, states
    else:
        assert [r["agentid"] for r in left] == [expect_failed], left
        assert "macAddress" in left[0]["error"] and "not-a-mac" in left[0]["error"]
        assert states.pop("link_status") == ["failed"]
        assert {s for task_states in states.values() for s in task_states} <= {"success", "skipped"}, states
    return run


def try_numbers(run: Any) -> dict[str, int]:
    """task id -> the highest try number of its task instances."""
    tries: dict[str, int] = {}
    for ti in run.get_task_instances():
        tries[ti.task_id] = max(tries.get(ti.task_id, 0), ti.try_number)
    return tries


def apply_intervals(run: Any) -> list[tuple[float, float]]:
    """When each try of each apply_binding task instance ran (dag.test() runs one at a time)."""
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session
    from sqlalchemy import select

    tries = list(run.get_task_instances())
    with create_session() as session:
        history = TaskInstanceHistory
        tries += session.scalars(select(history).where(history.run_id == run.run_id)).all()
        return [
            (ti.start_date.timestamp(), ti.end_date.timestamp())
            for ti in tries
            if ti.task_id == "apply_binding" and ti.start_date and ti.end_date
        ]


def run_ticket_dag() -> Any:
    run = run_dag("connectwise_alert_tickets", logical_date=dt.datetime.now(dt.timezone.utc))
    states = task_states(run)
    assert {s for task_states in states.values() for s in task_states} <= {"success", "skipped"}, states
    return run


# --- reading ConnectWise's final state --------------------------------------------------------------


def configurations(sb: Any) -> list[dict[str, Any]]:
    return sb.state.connectwise.find("configurations")


def _key(config: dict[str, Any]) -> tuple[int, str]:
    return (config["company"]["id"], str(config.get("deviceIdentifier") or "").strip().casefold())


def duplicates(items: list[dict[str, Any]], key: Callable[[dict[str, Any]], tuple]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item["id"])
    return {k: ids for k, ids in groups.items() if len(ids) > 1}


def api_phase_timestamps(sb: Any, start: float, end: float) -> list[float]:
    return [
        e["timestamp"]
        for e in sb.request_log()
        if e["service"] == "connectwise" and start <= e["timestamp"] <= end
    ]


def test_binding_and_tickets_converge_exactly_once_under_20_percent_faults(
    make_sandbox, point_airflow_at, monkeypatch
):
    began = time.monotonic()
    sb = point_airflow_at(make_sandbox(seed="demo"))
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__REQUESTS_PER_MINUTE", str(DAG_BUDGET))
    retries = RetryRecorder().install(monkeypatch)
    mix = FaultMix(SOAK_MIX, seed=SOAK_SEED).install(sb)
    world = World(sb, SOAK_SEED)
    cw_state = sb.state.connectwise
    seed = sb.seed
    foreign = {label: cw_state.configuration(seed.configurations[label]) for label in FOREIGN}
    seed_ticket = cw_state.ticket(seed.tickets["acme-open"])
    acme, globex, initech = (seed.companies[c] for c in ("AcmeCorp", "Globex", "Initech"))
    tries: list[dict[str, int]] = []
    apply_windows: list[tuple[float, float]] = []

    with retries.listening():
        # round 0: the demo as seeded, through Airflow; bad-mac links without its MAC address
        world.addigy.remove_device(seed.devices["no-agent-id"])  # nothing to model: it never binds
        world.settle()
        run = run_binding_dag(expect_failed=None)
        tries.append(try_numbers(run))
        apply_windows += apply_intervals(run)
        world.raise_alerts(3)
        tries.append(try_numbers(run_ticket_dag()))
        world.ticketed()
        world.addigy.set_facts(seed.devices["bad-mac"], {"ethernet_mac_address": FIXED_MAC.lower()})

        flows = Flows(sb)
        direct_start = time.time()
        # On top of the random draws, the rare kinds once each where they matter most, so every
        # soak has a create and a ticket applied with their answers lost, and a read failing hard.
        for kind, method, path in (
            ("lost", "POST", "/company/configurations"),  # creates go in bulk: the bulk POST
            ("lost-500", "POST", "/company/configurations"),
            ("lost-504", "POST", "/company/configurations/bulk"),
            ("lost-500", "POST", "/service/tickets"),
            ("500", "GET", "/company/configurations"),
        ):
            sb.queue_fault(kind, 1, methods=[method], path_contains=path)

        # round 1: adds, removals, a move to another company, a rename and a new IP
        added = [world.add(policy) for policy in (ACME, ACME, ACME, GLOBEX, GLOBEX)]
        world.remove(world.pick(ACME))
        world.remove(world.pick(ACME))
        moved_away = world.pick(ACME)
        world.move(moved_away, GLOBEX)
        world.rename(world.pick(GLOBEX), 'Renamed "Soak" Mac\\1')
        world.readdress(world.pick(ACME), "192.168.77.1")
        world.settle()
        world.raise_alerts(3)
        flows.bind()
        flows.tickets()
        world.ticketed()

        # round 2: Lab Macs linked to Initech; moves into and out of it; facts go bad; resolutions
        world.addigy.link_policy(world.policy_ids[LAB], initech)
        world.move(world.pick(ACME), LAB)
        world.move(world.pick(LAB), GLOBEX)
        broken = world.pick(GLOBEX)
        world.break_facts(broken, globex)
        world.settle()
        world.raise_alerts(2)
        world.resolve_alerts(2)
        flows.bind()
        flows.tickets()
        world.ticketed()

        # round 3: Lab Macs unlinked again (swept inactive); a device goes back; a new one leaves
        world.addigy.link_policy(world.policy_ids[LAB], None)
        world.move(moved_away, ACME)
        world.remove(added[-1])
        world.settle()
        world.raise_alerts(2)
        world.resolve_alerts(1)
        flows.bind()
        flows.tickets()
        world.ticketed()
        direct_end = time.time()

        # round 4: through Airflow again
        world.add(ACME)
        world.add(GLOBEX)
        world.remove(world.pick(ACME))
        world.move(world.pick(GLOBEX), ACME)
        world.settle()
        world.resolve_alerts(2)
        world.raise_alerts(2)
        run = run_binding_dag(expect_failed=None)
        tries.append(try_numbers(run))
        apply_windows += apply_intervals(run)
        tries.append(try_numbers(run_ticket_dag()))
        world.ticketed()
    mix.enabled = False
    elapsed = time.monotonic() - began

    cw_state = sb.state.connectwise
    configs = configurations(sb)
    tickets = cw_state.find("tickets")

    # exactly once: no configuration twice for a device and company, no ticket twice for an alert
    ours = [c for c in configs if c.get("deviceIdentifier")]
    assert duplicates(ours, _key) == {}
    with_ref = [t for t in tickets if t.get("externalXRef")]
    assert duplicates(with_ref, lambda t: (t["board"]["id"], t["externalXRef"])) == {}

    # one configuration per device and company it was ever bound to, active exactly when bound now
    by_key = {_key(c): c for c in ours}
    bound_now = world.bound()
    active, inactive = (
        seed.configuration_statuses["Active"],
        seed.configuration_statuses["Inactive"],
    )
    for company, agentid in sorted(world.ever):
        config = by_key.get((company, agentid.casefold()))
        assert config is not None, f"device {agentid} has no configuration in company {company}"
        assert config["managementLink"] == LINK.format(agentid)
        want = active if (company, agentid) in bound_now else inactive
        assert config["status"]["id"] == want, (company, agentid, config["status"])
    stray = [
        c["id"]
        for c in ours
        if c.get("managementLink") == LINK.format(c["deviceIdentifier"])
        and (c["company"]["id"], c["deviceIdentifier"]) not in world.ever
    ]
    assert stray == []
    assert {c for c, _ in bound_now} == {acme, globex}
    assert any(c == initech for c, _ in world.ever)  # Lab Macs were bound, then swept

    # field by field: hand-written expectations, the mapping for every bound device, kept values
    type_names = {v: k for k, v in seed.configuration_types.items()}
    for company, agentid in sorted(bound_now):
        config = by_key[(company, agentid.casefold())]
        shown = {**config, "type": type_names[config["type"]["id"]]}
        for field, value in world.expected.get(agentid, {}).items():
            assert shown.get(field) == value, (agentid, field, shown.get(field), value)
        device = world.addigy.device(agentid)
        mapped = map_device(device, flows.settings.field_mapping)
        for field, value in mapped.fields.items():
            assert config.get(field) == value, (agentid, field, config.get(field), value)
        for field, value in world.kept.get(agentid, {}).items():
            assert config.get(field) == value, (agentid, field, "was wiped")
    assert world.kept and broken in {a for _, a in bound_now}
    error_facts = by_key[(acme, seed.devices["error-facts"].casefold())]
    assert not error_facts.get("serialNumber") and not error_facts.get("macAddress")
    for n in (1, 2):
        adopted = cw_state.configuration(seed.configurations[f"acme-historical-{n}"])
        assert adopted["deviceIdentifier"] == seed.devices[f"historical-{n}"]
        assert adopted["notes"] == "Imported from the old spreadsheet in 2021."
        assert adopted["type"]["id"] == seed.configuration_types["Managed Mac"]
    reactivated = cw_state.configuration(seed.configurations["acme-ours-inactive"])
    assert reactivated["status"]["id"] == active
    for label, before in foreign.items():
        assert cw_state.configuration(seed.configurations[label]) == before, label
    assert cw_state.ticket(seed.tickets["acme-open"]) == seed_ticket

    # one ticket per alert: the device's company, its configuration attached, closed when resolved
    assert len(world.alerts) >= 10
    by_ref = {t["externalXRef"]: t for t in with_ref}
    for alert_id, alert in world.alerts.items():
        ticket = by_ref.get(alert_id)
        assert ticket is not None, f"alert {alert_id} has no ticket"
        assert ticket["board"]["id"] == seed.boards["Monitoring"]
        assert ticket["company"]["id"] == alert["company"], alert
        config = by_key[(alert["company"], alert["agentid"].casefold())]
        attached = cw_state.ticket_configurations.get(ticket["id"], [])
        assert attached == [config["id"]], (alert_id, attached, config["id"])
        assert ticket["closedFlag"] == alert["resolved"], (alert_id, ticket["status"])

    # every run converged within its retries; the faults really happened, of every kind
    assert all(n <= TRIES for run_tries in tries for n in run_tries.values()), tries
    stats = sb.stats()
    assert set(stats["faults"]) == set(SOAK_MIX), stats["faults"]  # every kind, drawn or queued
    assert 0.14 <= sum(mix.injected.values()) / mix.seen <= 0.26, (mix.injected, mix.seen)
    lost_writes = [
        e for e in sb.request_log() if e["fault"] and e["fault"].startswith("lost") and e["method"] == "POST"
    ]
    assert lost_writes, "no create lost its answer: the soak proved nothing about exactly-once"
    lost_bulk = [e for e in lost_writes if e["template"] == "/company/configurations/bulk"]
    assert len(lost_bulk) >= 3, "no bulk create lost its answer: bulk creates were not soaked"

    # 429s: Retry-After honoured (30 s asked, 30 s waited), JSON body or an HTML page
    throttled = retries.retries_after("-> 429")
    assert throttled and all("retrying in 30.0s" in m for m in throttled), throttled[:3]
    assert any("<!DOCTYPE html>" in m for m in throttled)

    # the rate budget held: per minute overall, and as spacing while a single budget was active
    assert stats["max_requests_per_minute"]["connectwise"] <= max(DAG_BUDGET, DIRECT_BUDGET)
    direct = api_phase_timestamps(sb, direct_start, direct_end)
    window = 5.0
    allowed = window * DIRECT_BUDGET / 60
    assert peak(direct, window) <= allowed + 2, (peak(direct, window), allowed)
    assert peak(direct, window) >= 0.8 * allowed, "the budget never limited the pace: the check is empty"
    for start, end in apply_windows:
        stamps = api_phase_timestamps(sb, start, end)
        assert peak(stamps, 4.0) <= 4.0 * APPLY_BUDGET / 60 + 2, (peak(stamps, 4.0), end - start)
    # each apply task spends its quarter of the budget: its requests are spaced 60/225 s apart
    # (creates go in bulk, so a task makes few requests: spacing, not a long window, shows it)
    per_try = [sorted(api_phase_timestamps(sb, start, end)) for start, end in apply_windows]
    gaps = [later - earlier for stamps in per_try for earlier, later in zip(stamps, stamps[1:])]
    assert len(gaps) >= 10, apply_windows  # the check is not empty
    assert min(gaps) >= 0.8 * 60 / APPLY_BUDGET, sorted(gaps)[:5]

    print(
        f"\nSOAK {elapsed:.1f}s: requests {stats['by_service']}, faults drawn {dict(mix.injected)} "
        f"of {mix.seen} requests, all faults {stats['faults']}, "
        f"request retries {len(retries.waits)} (429: {len(throttled)}), "
        f"lost creates found applied {retries.reused_lost_writes}, lost POSTs {len(lost_writes)} "
        f"({len(lost_bulk)} bulk), "
        f"task retries (functions) {dict(flows.task_retries)}, DAG try numbers {tries}, "
        f"alerts {len(world.alerts)}, configurations bound {len(bound_now)}/{len(world.ever)} ever, "
        f"max per minute {stats['max_requests_per_minute']}, direct peak {peak(direct, window)}/{window:g}s"
    )


# --- ticket notes under faults ---------------------------------------------------------------------


def test_ticket_notes_are_written_exactly_once_under_20_percent_faults(
    make_sandbox, point_airflow_at, monkeypatch
):
    """Rounds of alerts (with repeats), technicians working some tickets, alerts resolving and
    recurring, with 20% of requests failing: every ticket's story has each note exactly once,
    touched tickets stay open with their one kept-open note, the others close once per period."""
    from airflow_provider_connectwise.core.tickets import markers_of
    from airflow_provider_connectwise.flows.binding import bind_all
    from airflow_provider_connectwise.flows.policy_links import policies_and_devices
    from airflow_provider_connectwise.sandbox.models import notes

    sb = point_airflow_at(make_sandbox(seed="demo"))
    rng = random.Random(SOAK_SEED)
    RetryRecorder().install(monkeypatch)  # the request path's waits are recorded, not slept
    # the rate budget is the other soak's concern: here only what is written counts
    cw, addigy = ConnectWiseHook(requests_per_minute=None), AddigyHook()
    settings = validate_settings(cw, EXAMPLE_SETTINGS)
    bind_all(cw, settings, *policies_and_devices(addigy, cw, settings))
    state, ad = sb.state.connectwise, sb.state.addigy
    agents = [d["agentid"] for d in ad.devices_in(sb.seed.policies[ACME])][:6]
    mix = FaultMix(SOAK_MIX, seed=SOAK_SEED).install(sb)

    def task(work: Callable[[], T]) -> T:
        for attempt in range(1, TRIES + 1):
            try:
                return work()
            except ApiError:
                if attempt == TRIES:
                    raise
        raise AssertionError("unreachable")

    touched: set[int] = set()
    delivered: list[dict[str, Any]] = []
    for round_no in range(4):
        now = dt.datetime.now(dt.timezone.utc)
        for agent in rng.sample(agents, 3):
            for repeat in range(rng.choice((1, 1, 3))):  # sometimes a burst of the same alert
                ad.raise_alert(
                    agent, f"Disk {round_no}", created_date=_iso(now - dt.timedelta(minutes=9 - repeat))
                )
        requests, _ = task(
            lambda now=now: alert_ticket_requests(addigy, start=now - dt.timedelta(minutes=15), end=now)
        )
        unresolved = [r for r in delivered if ad.alert(r["external_ref"])["status"] != "Resolved"]
        for request in requests + rng.sample(unresolved, min(2, len(unresolved))):  # plus re-deliveries
            outcome = task(lambda request=request: open_ticket(cw, settings, board="monitoring", **request))
            if outcome.action == "reopened":
                touched.discard(outcome.ticket_id)  # a new period; technicians may touch it again
        delivered += requests
        mix.enabled = False  # the technicians and the MDM are not behind the faulty network
        open_ids = [t["id"] for t in state.find("tickets", closedFlag=False) if t.get("externalXRef")]
        for ticket_id in rng.sample(open_ids, min(2, len(open_ids))):
            rng.choice(
                (
                    lambda t: notes.add_technician_note(state, t, "on it"),
                    lambda t: notes.log_time(state, t, "30 min"),
                    lambda t: sb.reopen_ticket(t, "In Progress"),
                )
            )(ticket_id)
            touched.add(ticket_id)
        for ticket in rng.sample(open_ids, min(2, len(open_ids))):
            if ticket not in touched:
                sb.close_ticket(ticket)  # closed by hand: a re-delivery reopens it
        for request in rng.sample(delivered, min(3, len(delivered))):
            ad.resolve_alert(request["external_ref"])
        mix.enabled = True
        task(lambda: sync_alert_tickets(cw, addigy, settings))
        task(lambda: sync_alert_tickets(cw, addigy, settings))  # a rerun writes nothing new

    mix.enabled = False
    assert sum(mix.injected.values()) > 20, mix.injected
    for ticket in state.find("tickets"):
        if not ticket.get("externalXRef"):
            continue
        marks = [m for n in notes.notes_of(state, ticket["id"]) for m in markers_of(n)]
        assert len(marks) == len(set(marks)), (ticket["id"], marks)  # no note twice
        kinds = [kind for kind, _ in marks]
        assert kinds.count("opened") <= 1 and kinds.count("repeats") <= 1, kinds
        alert = ad.alert(ticket["externalXRef"])
        if alert["status"] == "Resolved" and ticket["id"] in touched:
            assert not ticket["closedFlag"] and "kept-open" in kinds, (ticket["id"], kinds)
        elif alert["status"] == "Resolved" and not ticket["closedFlag"]:
            raise AssertionError(f"ticket {ticket['id']} of a resolved alert is open: {kinds}")
    assert len(state.find("tickets", externalXRef=delivered[0]["external_ref"])) == 1
