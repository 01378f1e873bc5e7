"""A real Airflow on loopback: scheduler, dag-processor, triggerer and API server, plus the sandbox.

Everything runs as child processes in their own process groups with an isolated ``AIRFLOW_HOME``
(SQLite, LocalExecutor: what ``airflow standalone`` runs) and is stopped, group by group, however
the test ends. Only loopback ports are used; each is picked free at start.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (requests.RequestException, KeyError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout:.0f}s (last: {last!r})")


class Processes:
    """Child processes, each in its own session (process group), logging to files."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and airflow, fixed arguments
            argv, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
        )
        log.close()
        self.started[name] = process
        return process

    def check_alive(self) -> None:
        """Fail with the log's tail when a component died."""
        for name, process in self.started.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop_all(self, grace: float = 15.0) -> None:
        """SIGTERM every group, then SIGKILL what is left after ``grace`` seconds."""
        for process in self.started.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.started.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.started.values():
            _signal_group(process, signal.SIGKILL)  # the group: task processes the executor forked too
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


class AirflowApi:
    """The REST API v2 with a simple-auth-manager token (all admins)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def login(self) -> None:
        answer = self.session.get(f"{self.base_url}/auth/token", timeout=10)
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        answer = self.session.request(
            method, f"{self.base_url}/api/v2/{path.lstrip('/')}", timeout=30, **kwargs
        )
        expected = (expect,) if isinstance(expect, int) else expect
        assert answer.status_code in expected, f"{method} {path} -> {answer.status_code}: {answer.text[:800]}"
        return answer.json() if answer.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("expect", (200, 201))
        return self.call("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.call("PATCH", path, json=body, **kwargs)

    # -- runs --

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        run = self.post(f"dags/{dag_id}/dagRuns", {"logical_date": None, "conf": dict(conf or {})})
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.get(f"dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 240) -> str:
        return wait_for(
            f"{dag_id} run {run_id} to finish",
            lambda: (s := self.run_state(dag_id, run_id)) in ("success", "failed") and s,
            timeout,
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})[
            "task_instances"
        ]

    def states(self, dag_id: str, run_id: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for ti in sorted(self.task_instances(dag_id, run_id), key=lambda t: (t["task_id"], t["map_index"])):
            out.setdefault(ti["task_id"], []).append(ti["state"])
        return out

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        entry = self.get(
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"map_index": map_index, "deserialize": True, "stringify": False},
        )
        return entry["value"]

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1) -> str:
        answer = self.session.get(
            f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"map_index": map_index, "full_content": True},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        answer.raise_for_status()
        content = answer.json().get("content")
        if isinstance(content, list):  # structured log events: the message and its fields (the error)
            return "\n".join(json.dumps(e) if isinstance(e, dict) else str(e) for e in content)
        return str(content)


def airflow_env(home: Path, api_port: int, overrides: Mapping[str, str]) -> dict[str, str]:
    """Configuration of every component: isolated home, LocalExecutor, simple auth, our DAGs."""
    base = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "PYTHONPATH": str(ROOT),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                [
                    {
                        "name": "dags-folder",
                        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                        "kwargs": {"path": str(ROOT / "dags")},
                    }
                ]
            ),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__FERNET_KEY": "",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__TRIGGERER__CAPACITY": "50",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "CONNECTWISE_EXAMPLE_RETRY_DELAY_SECONDS": "2",
            "CONNECTWISE_EXAMPLE_POLL_SECONDS": "3",
        }
    )
    env.update(overrides)
    return env


@contextmanager
def airflow_stack(home: Path, overrides: Mapping[str, str]) -> Iterator[tuple[AirflowApi, Processes]]:
    """Migrate a fresh metadata DB, start the four components, yield the logged-in API."""
    api_port = free_port()
    env = airflow_env(home, api_port, overrides)
    processes = Processes(home)
    migrate = subprocess.run(  # noqa: S603
        [AIRFLOW, "db", "migrate"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    try:
        for component in COMPONENTS:
            argv = [AIRFLOW, component] + (["--port", str(api_port)] if component == "api-server" else [])
            processes.start(component, argv, env)
        api = AirflowApi(f"http://127.0.0.1:{api_port}")
        wait_for("the API server", lambda: (processes.check_alive(), _healthy(api))[1], 120)
        api.login()
        yield api, processes
    finally:
        processes.stop_all()


def _healthy(api: AirflowApi) -> bool:
    answer = requests.get(f"{api.base_url}/api/v2/monitor/health", timeout=5)
    return answer.status_code == 200


@contextmanager
def sandbox_process(logs: Path, port: int, *args: str) -> Iterator[str]:
    """``python -m airflow_provider_connectwise.sandbox`` on a free loopback port; yields its URL."""
    processes = Processes(logs)
    processes.start(
        "sandbox",
        [PYTHON, "-m", "airflow_provider_connectwise.sandbox", "--port", str(port), "--seed", "demo", *args],
        {**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            "the sandbox",
            lambda: (processes.check_alive(), requests.get(f"{url}/_sandbox/health", timeout=2).ok)[1],
            60,
            0.3,
        )
        yield url
    finally:
        processes.stop_all(grace=5)
