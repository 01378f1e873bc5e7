"""Our flow: one run of the scheduled DAG (``dags/connectwise_device_binding.py``) without the scheduler.

``run_dag`` runs in a child process of its own (see ``binding.py``), so that its memory and CPU
figures are this flow's alone, not the sandbox server's. What it emulates:

* every task runs its real operator's ``execute()`` (validate_settings, policy_links,
  fetch_devices per policy, plan_binding, apply_binding per batch, link_status) with a minimal
  context: a task instance that keeps XComs. Return values and pushed XComs go through JSON, as
  through Airflow's XCom table;
* mapped task instances (fetch per policy, apply per batch) run ``slots`` at a time, in threads
  (the DAG's ``max_active_tis_per_dagrun=4`` for apply);
* in Airflow every task instance is a process of its own, so here every task gets its own rate
  budget (in one process ``RateBudget.shared`` would merge the apply tasks into one budget) and
  its own codebase cache: only ``validate_settings`` discovers the codebase (one
  ``GET /login/companyinfo``); the tasks after it get it from the validated settings, as in the DAG;
* the DAG's rate budgets, scaled to the bench budget: validate, links and plan get the whole
  budget (the hook default, 900/min, in production), each apply task ``budget / slots`` (the
  DAG's 225/min = 900/4).
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

import requests


class XComStore:
    """XCom rows as Airflow's table holds them: JSON text in a database, one row per task, key and
    map index.

    The rows live in a SQLite file (as in the metadata database), not in this process: a task's
    memory then holds what it pulls, as under Airflow, and the bench can measure every row's size:
    ``largest`` holds the biggest row each task pushed.
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS xcom (task_id TEXT, key TEXT, map_index INT, value TEXT, "
            "PRIMARY KEY (task_id, key, map_index))"
        )
        self.largest: dict[str, tuple[int, str]] = {}
        self.lock = threading.Lock()

    def push(self, task_id: str, key: str, value: Any, map_index: int = -1) -> Any:
        text = json.dumps(value)
        with self.lock:
            self.db.execute("REPLACE INTO xcom VALUES (?, ?, ?, ?)", (task_id, key, map_index, text))
            if len(text) > self.largest.get(task_id, (0, ""))[0]:
                self.largest[task_id] = (len(text), key)
        return json.loads(text)  # what a task downstream gets back

    def pull(self, task_id: str, key: str, map_indexes: Any = None) -> Any:
        query = "SELECT map_index, value FROM xcom WHERE task_id = ? AND key = ?"
        with self.lock:
            if isinstance(map_indexes, int):  # -1: the unmapped task's row; n: that map index's
                row = self.db.execute(query + " AND map_index = ?", (task_id, key, map_indexes)).fetchone()
                return json.loads(row[1]) if row else None
            rows = self.db.execute(query + " ORDER BY map_index", (task_id, key)).fetchall()
        # a mapped task's XCom: one value per map index
        return [json.loads(text) for _, text in rows] if rows else None


class TaskInstance:
    """The part of Airflow's task instance the operators use: the try number, map index and XComs."""

    def __init__(self, store: XComStore, task_id: str, map_index: int = -1) -> None:
        self.store = store
        self.task_id = task_id
        self.map_index = map_index
        self.try_number = 1

    def xcom_push(self, key: str, value: Any) -> None:
        self.store.push(self.task_id, key, value, self.map_index)

    def xcom_pull(
        self, task_ids: str, key: str = "return_value", default: Any = None, map_indexes: Any = None, **_: Any
    ) -> Any:
        # a benchmark run has no prior runs: include_prior_dates reads this run's values
        value = self.store.pull(task_ids, key, map_indexes)
        return default if value is None else value


def _counters(session: requests.Session, sandbox_url: str) -> Counter[str]:
    """Requests the sandbox has seen, per service (its admin API is never counted)."""
    return Counter(session.get(f"{sandbox_url}/_sandbox/stats", timeout=10).json()["by_service"])


def run_dag(
    *,
    env: dict[str, str],
    sandbox_url: str,
    settings_file: str,
    budget: float,
    slots: int,
    batch_size: int,
    label: str,
    bulk_chunk_size: int = 200,
    task_log: str,
    trace_memory: bool = False,
) -> dict[str, Any]:
    """Run the DAG's tasks once against the sandbox; return per-task figures, wall time and memory.

    :param env: ``AIRFLOW_CONN_*`` variables for the sandbox.
    :param sandbox_url: the sandbox (for its uncounted admin counters).
    :param settings_file: the settings document the validate task reads.
    :param budget: ConnectWise requests per minute for the whole run.
    :param slots: mapped task instances running at once.
    :param batch_size: write actions per apply task.
    :param bulk_chunk_size: configurations per bulk POST.
    :param label: prefix of the progress lines.
    :param task_log: file that gets what the tasks log (as Airflow's task log files would).
    :param trace_memory: measure the Python heap with tracemalloc.
    """
    os.environ.update(env)
    progress = _logs_to(task_log)
    from airflow_provider_connectwise.hooks import connectwise as cw_module
    from airflow_provider_connectwise.hooks._http import RateBudget
    from airflow_provider_connectwise.operators.binding import (
        AddigyFetchDevicesOperator,
        ConnectWiseApplyBindingOperator,
        ConnectWiseBindingReportOperator,
        ConnectWiseListPolicyLinksOperator,
        ConnectWisePlanBindingOperator,
    )
    from airflow_provider_connectwise.operators.settings import ConnectWiseValidateSettingsOperator

    xcom_file = os.path.splitext(task_log)[0] + ".xcom.sqlite"
    if os.path.exists(xcom_file):
        os.remove(xcom_file)
    store = XComStore(xcom_file)  # on disk, as the metadata database: not in this process's memory
    lock = threading.Lock()
    session = requests.Session()
    phases: list[dict[str, Any]] = []

    def own_process(operator: Any, per_minute: float | None) -> Any:
        """Give a task what a process of its own has: its own budget and an empty codebase cache."""
        hook = getattr(operator, "hook", None) or operator.connectwise
        if per_minute is not None:
            hook.client.budget = RateBudget(per_minute)
        hook._bulk.chunk_size = bulk_chunk_size
        with lock:  # exactly one discovery per task, whatever the other threads do
            cw_module._DISCOVERED_CODEBASES.clear()
            hook.codebase  # noqa: B018 - discovery when the task has no codebase from the settings
        return operator

    def run_task(
        operator: Any, per_minute: float | None = budget, cw: bool = True, map_index: int = -1
    ) -> Any:
        if cw:
            own_process(operator, per_minute)
        value = operator.execute({"ti": TaskInstance(store, operator.task_id, map_index)})
        return store.push(operator.task_id, "return_value", value, map_index)

    def run_mapped(
        operators: Sequence[Any], on_done: Callable[[int], None] = lambda done: None, **kwargs: Any
    ) -> list[Any]:
        done = 0

        def one(map_index: int, operator: Any) -> Any:
            nonlocal done
            value = run_task(operator, map_index=map_index, **kwargs)
            with lock:
                done += 1
                on_done(done)
            return value

        with ThreadPoolExecutor(max_workers=max(1, slots), thread_name_prefix="task") as pool:
            return list(pool.map(one, range(len(operators)), operators))

    def phase(name: str, body: Callable[[], Any], note: Callable[[Any], str]) -> Any:
        before, t0 = _counters(session, sandbox_url), time.perf_counter()
        if trace_memory:
            tracemalloc.reset_peak()
        value = body()
        seconds = time.perf_counter() - t0
        seen = _counters(session, sandbox_url) - before
        phases.append(
            {
                "task": name,
                "seconds": seconds,
                "connectwise": seen["connectwise"],
                "addigy": seen["addigy"],
                "heap_peak": tracemalloc.get_traced_memory()[1] if trace_memory else None,
                "rss": _max_rss(),
            }
        )
        print(f"{label} {name}: {note(value)} ({seconds:.1f} s)", file=progress)
        return value

    rss_before = _current_rss()
    if trace_memory:
        tracemalloc.start()
    started = time.perf_counter()

    settings = phase(
        "validate_settings",
        lambda: run_task(
            ConnectWiseValidateSettingsOperator(task_id="validate_settings", settings_file=settings_file)
        ),
        lambda _: "valid",
    )
    common = {"settings": settings, "requests_per_minute": budget}
    policies = phase(
        "policy_links",
        lambda: run_task(ConnectWiseListPolicyLinksOperator(task_id="policy_links", **common)),
        lambda p: f"{len(p)} linked policies",
    )
    devices = phase(
        "fetch_devices",
        lambda: run_mapped(
            [AddigyFetchDevicesOperator(task_id="fetch_devices", policy=p, **common) for p in policies],
            cw=False,  # reads Addigy only
        ),
        lambda d: f"{_count(d):,} devices in {sum(map(len, d))} XCom rows, {len(d)} mapped tasks",
    )
    batches = phase(
        "plan_binding",
        lambda: run_task(
            ConnectWisePlanBindingOperator(
                task_id="plan_binding",
                policies=policies,
                devices=devices,
                scope={"all_policies": True},
                batch_size=batch_size,
                **common,
            )
        ),
        lambda b: f"{len(b)} batches; {_nonzero(store.pull('plan_binding', 'plan', -1)['counts'])}",
    )
    share = budget / slots
    apply_started = time.perf_counter()

    def apply_progress(done: int) -> None:
        if done == len(batches) or done % max(1, len(batches) // 4) == 0:
            elapsed = time.perf_counter() - apply_started
            print(f"{label} apply_binding: {done}/{len(batches)} batches ({elapsed:.0f} s)", file=progress)

    results = phase(
        "apply_binding",
        lambda: run_mapped(
            [
                ConnectWiseApplyBindingOperator(
                    task_id="apply_binding", batch=batch, settings=settings, requests_per_minute=share
                )
                for batch in batches
            ],
            apply_progress,
            per_minute=share,
        ),
        lambda r: f"{sum(map(len, r)):,} devices written, {len(r)} mapped tasks",
    )
    plan = store.pull("plan_binding", "plan", -1)
    report = phase(
        "link_status",
        lambda: run_task(
            ConnectWiseBindingReportOperator(
                task_id="link_status",
                plan=plan,
                batches=batches,
                not_linked=store.pull("policy_links", "not_linked", -1),
                **common,
            )
        ),
        lambda r: _nonzero(Counter(p["status"] for p in r["policies"])),
    )
    wall = time.perf_counter() - started
    if trace_memory:
        tracemalloc.stop()
    rss_after = _max_rss()
    states: Counter[str] = Counter()
    for ref in plan["results_without_write_refs"]:
        states.update(r["state"] for r in store.pull(ref["task_id"], ref["key"], -1))
    states.update(r["state"] for task in results for r in task)
    return {
        "wall": wall,
        "phases": phases,
        "heap_peak": max(p["heap_peak"] for p in phases) if trace_memory else None,
        "rss_growth": rss_after - rss_before,
        "rss_peak": rss_after,
        "devices": _count(devices),
        "batches": len(batches),
        "actions": plan["counts"],
        "states": dict(states),
        "link_status": dict(Counter(p["status"] for p in report["policies"])),
        "largest_xcom": {task: {"bytes": size, "key": key} for task, (size, key) in store.largest.items()},
    }


def _count(fetched: Sequence[Sequence[dict[str, Any]]]) -> int:
    """Devices behind the fetch tasks' references (each names its row's ``size``)."""
    return sum(ref.get("size", 1) for refs in fetched for ref in refs)


def _current_rss() -> int:
    """This process's resident set now, in bytes (Linux: ``/proc/self/statm``; else the high-water mark)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        return _max_rss()


def _max_rss() -> int:
    """This process's resident-set high-water mark, in bytes.

    Linux: ``VmHWM`` of ``/proc/self/status``, the peak of this address space. Not ``ru_maxrss``: it
    survives ``exec``, so a child spawned by a parent holding a 100,000-device sandbox would start
    with the parent's peak (it read 498 MiB before its first task).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux, elsewhere its own peak


def _logs_to(path: str) -> TextIO:
    """Send what this process writes (the tasks' logs) to ``path``; return a stream to the terminal.

    The logs are still rendered and written, as they are in a task's log file: rendering the plan
    table is part of the plan task's cost.
    """
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    with open(path, "a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    return terminal


def _nonzero(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in counts.items() if n) or "nothing"
