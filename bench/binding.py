"""``make bench``: the Devices Binding at scale, ours against a naive per-device client (issue 5).

For each size N (default 10,000 and 100,000 devices), against the embedded sandbox with 20 ms of
latency per request, both clients at the production rate budget (900 ConnectWise requests/min):

* ours: one run of the scheduled DAG's tasks (``ours.py``) on an empty ConnectWise (initial
  bind), then a second run with nothing changed (no-op re-sync);
* naive: ``naive.py``, one device at a time (look up, then POST or PATCH), for the same two passes.

Every client pass runs in a fresh Python process of its own; the sandboxes (one per client and
size, so their counters never mix) run in this process. The ConnectWise requests, the maximum
in any 60-s window and the HTTP statuses come from the sandbox's counters; wall time and memory
from the client's process. The naive client is latency-bound (it sleeps on the 20 ms, one
request at a time), so by default it runs alongside our flow to keep ``make bench`` near 12
minutes; ``--serial`` runs one pass at a time.

Exits 1 when a target fails (see ``report.targets``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import naive
import ours
from report import Pass, Results, size_section, targets, targets_section

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "dags" / "connectwise_example_settings.yaml"
BEGAN = time.monotonic()
_print_lock = threading.Lock()
_settings_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(f"[{time.monotonic() - BEGAN:5.0f} s] {text}", flush=True)


def in_child(fn: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """Run ``fn`` in a fresh Python process (spawned: it holds nothing of the sandboxes)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, **kwargs).result()


def resolved_settings(sandbox: Any) -> dict[str, Any]:
    """The example settings resolved against this sandbox (given to the naive client for free)."""
    from airflow_provider_connectwise.flows.settings import validate_settings
    from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

    conn_id = f"bench_{sandbox.port}"
    with _settings_lock:
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = sandbox.connectwise_connection_json()
        hook = ConnectWiseHook(conn_id, requests_per_minute=None)
        return validate_settings(hook, SETTINGS).to_dict()


def check_binding(sandbox: Any) -> dict[str, int]:
    """Read the sandbox's state: does every device have exactly one configuration, in its company, ours?"""
    from airflow_provider_connectwise.sandbox.seeds import MANAGEMENT_LINK

    state = sandbox.state
    company_of_policy = {
        p["policyId"]: p.get("connectwise_account_id") for p in state.addigy.policies.values()
    }
    company_of = {aid: company_of_policy.get(d["policy_id"]) for aid, d in state.addigy.devices.items()}
    per_device: Counter[str] = Counter()
    configurations = wrong = 0
    for configuration in state.connectwise.configurations:
        configurations += 1
        agentid = configuration.get("deviceIdentifier")
        per_device[agentid] += 1
        right = agentid in company_of and (
            (configuration.get("company") or {}).get("id") == company_of[agentid]
            and configuration.get("managementLink") == MANAGEMENT_LINK.format(agentid=agentid)
        )
        wrong += not right
    return {
        "devices": len(company_of),
        "configurations": configurations,
        "missing": sum(1 for agentid in company_of if not per_device[agentid]),
        "duplicated": sum(1 for agentid in company_of if per_device[agentid] > 1),
        "wrong": wrong,
    }


def run_client(client: str, n: int, args: argparse.Namespace, results: Results, home: str) -> None:
    """One client at one size on a sandbox of its own: the initial bind, then the re-sync."""
    from airflow_provider_connectwise.sandbox import Sandbox

    sample = args.naive_sample if client == "naive" and 0 < args.naive_sample < n else None
    seeded = sample or n
    with Sandbox(seed=f"bench:{seeded}:{args.companies}", latency_ms=args.latency_ms) as sandbox:
        settings = resolved_settings(sandbox) if client == "naive" else None
        for kind in ("initial", "resync"):
            label = f"[{client} {n:,} {kind}]"
            sandbox.clear_stats()
            say(f"{label} started")
            if client == "ours":
                detail = in_child(
                    ours.run_dag,
                    env=sandbox.airflow_env(form="json"),
                    sandbox_url=sandbox.url,
                    settings_file=str(SETTINGS),
                    budget=args.budget,
                    slots=args.slots,
                    batch_size=args.batch_size,
                    bulk_chunk_size=args.bulk_chunk_size,
                    label=label,
                    task_log=os.path.join(home, f"tasks-{n}-{kind}.log"),
                    trace_memory=args.trace_memory,
                )
            else:
                detail = in_child(
                    naive.run,
                    api_url=sandbox.api_url,
                    addigy_url=sandbox.addigy_url,
                    connectwise_headers=sandbox.connectwise_headers(),
                    addigy_headers=sandbox.addigy_headers(),
                    settings=settings,
                    label=label,
                    budget=args.budget,
                )
            stats = sandbox.stats()
            measured = Pass(
                client=client,
                kind=kind,
                n=n,
                wall=detail["wall"],
                connectwise=stats["by_service"].get("connectwise", 0),
                addigy=stats["by_service"].get("addigy", 0),
                max_per_minute=stats["max_requests_per_minute"].get("connectwise", 0),
                statuses=stats["statuses"],
                endpoints={k: v for k, v in stats["counters"].items() if "/api/v2/" not in k},
                detail=detail,
                correctness=check_binding(sandbox) if kind == "initial" else None,
                sample=sample,
            )
            results.passes.append(measured)
            say(
                f"{label} done: {measured.connectwise:,} ConnectWise requests in {measured.wall:,.1f} s "
                f"({measured.rate:,.1f}/s)" + (f" on a sample of {sample:,} devices" if sample else "")
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="device counts, comma-separated (10000,100000)"
    )
    parser.add_argument("--quick", action="store_true", help="N = 1,000 only")
    parser.add_argument("--latency-ms", type=float, default=20, help="sandbox latency per request (20)")
    parser.add_argument(
        "--budget",
        type=float,
        default=900,
        help="ConnectWise requests per minute, for both clients (900: the production default)",
    )
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=1000,
        help="run the naive client on this many devices and scale to N from its rate (1000; 0: full runs)",
    )
    parser.add_argument("--slots", type=int, default=4, help="mapped task instances at once (4, as the DAG)")
    parser.add_argument("--batch-size", type=int, default=500, help="writes per apply task (500)")
    parser.add_argument(
        "--bulk-chunk-size",
        type=int,
        default=200,
        help="configurations per bulk POST (200, the hook's default)",
    )
    parser.add_argument("--companies", type=int, default=10, help="policies/companies in the seed (10)")
    parser.add_argument("--skip-naive", action="store_true", help="run our flow only")
    parser.add_argument("--serial", action="store_true", help="one pass at a time (longer; no overlap)")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="also tracemalloc our flow (slows its CPU-bound tasks ~4x)",
    )
    args = parser.parse_args(argv)
    args.sizes = [1000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    return args


def preamble(args: argparse.Namespace, production: float) -> str:
    naive = (
        f"measured on {args.naive_sample:,} devices and scaled to N from its rate"
        if args.naive_sample
        else "full runs"
    )
    return "\n".join(
        [
            "Devices Binding benchmark (issues 5 and 12): our DAG's flow against a naive per-device client",
            f"sandbox latency {args.latency_ms:g} ms per request; sizes {', '.join(f'{n:,}' for n in args.sizes)}; "
            f"{os.cpu_count()} CPUs",
            f"rate budget {args.budget:,.0f} ConnectWise requests/min for each client (the hook's default is "
            f"{production:,.0f}/min, under ConnectWise's ~1,000); the sandbox's own per-60-s counter checks it.",
            f"ours = the DAG's tasks (real operators, XComs as JSON rows), {args.slots} mapped tasks at once, "
            f"{args.batch_size} writes per apply task, each apply task {args.budget / args.slots:,.0f}/min "
            "(budget / slots, as the DAG's 225 = 900/4), each task its own process's budget and codebase "
            "discovery; creates go through POST /company/configurations/bulk (chunks of "
            f"{args.bulk_chunk_size}) and are read back by deviceIdentifier.",
            "naive = one device at a time, spaced to the same budget: GET by deviceIdentifier, then POST "
            "(absent) or PATCH (differs); the re-sync skips a device whose configuration already matches "
            f"(one GET each); {naive}.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    home = tempfile.mkdtemp(prefix="connectwise-bench-")  # Airflow home and the task logs
    os.environ.update({"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    try:
        return run(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace, home: str) -> int:
    from airflow_provider_connectwise.hooks.connectwise import DEFAULT_REQUESTS_PER_MINUTE

    results = Results(
        sizes=args.sizes,
        budget=args.budget,
        production_budget=DEFAULT_REQUESTS_PER_MINUTE,
        latency_ms=args.latency_ms,
        companies=args.companies,
    )
    print(preamble(args, DEFAULT_REQUESTS_PER_MINUTE), flush=True)
    ours_jobs = [("ours", n) for n in args.sizes]
    naive_jobs = [] if args.skip_naive else [("naive", n) for n in sorted(args.sizes, reverse=True)]
    errors: list[str] = []

    def job(client: str, n: int) -> None:
        try:
            run_client(client, n, args, results, home)
        except Exception:
            errors.append(f"{client} {n:,}:\n{traceback.format_exc()}")
            say(f"[{client} {n:,}] FAILED (traceback at the end)")

    if args.serial:
        for client, n in ours_jobs + naive_jobs:
            job(client, n)
    else:
        background = [threading.Thread(target=job, args=spec, daemon=True) for spec in naive_jobs]
        for thread in background:
            thread.start()
        for client, n in ours_jobs:
            job(client, n)
        for thread in background:
            thread.join()

    print(f"\n{'=' * 100}\nRESULTS ({time.monotonic() - BEGAN:,.0f} s in all)\n")
    for n in args.sizes:
        print(size_section(results, n), end="\n\n")
    found = targets(results)
    print("Targets")
    print(targets_section(found))
    for error in errors:
        print(f"\nERROR {error}", file=sys.stderr)
    return 1 if errors or any(t.ok is False for t in found) else 0


if __name__ == "__main__":
    sys.exit(main())
