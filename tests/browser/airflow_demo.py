"""A real Airflow API server with the ConnectWise page and demo data, in its own AIRFLOW_HOME.

The browser test starts one; to look at the page by hand::

    .venv/bin/python -m tests.browser.airflow_demo     # prints the URL, user and password; Ctrl-C stops

The demo data is made in a child process (Airflow binds its metadata DB at import): a fresh
SQLite DB, the sandbox prepared as in ``tests/plugins/demo.py``, one ``connectwise_manual_sync``
run of every policy. Then ``airflow api-server`` serves it with the simple auth manager and one
user, ``admin``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
USER = "admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_env(home: Path, port: int, password: str) -> dict[str, str]:
    """The environment of both child processes: an isolated Airflow home, one user, this port."""
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: password}))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                [
                    {
                        "name": "connectwise_dags",
                        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                        "kwargs": {"path": str(ROOT / "dags")},
                    }
                ]
            ),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        }
    )
    return env


def make_demo_data(env: dict[str, str]) -> dict[str, Any]:
    """Create the metadata DB and the demo runs in a child process; return what was made."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.browser.airflow_demo", "--make-data"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"making the demo data failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class AirflowServer:
    """``airflow api-server`` in a child process, on 127.0.0.1.

    :param env: from :func:`demo_env`.
    :param port: the port in ``env``'s base URL.
    :param log: where its output goes.
    """

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env = env
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> AirflowServer:
        airflow = Path(sys.executable).with_name("airflow")
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the venv's airflow, fixed arguments
                [
                    str(airflow),
                    "api-server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API server exited:\n{self.log.read_text()[-5000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the API server did not answer in {timeout} s:\n{self.log.read_text()[-5000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def token(self, password: str) -> str:
        """A JWT for the demo user (Airflow's ``POST /auth/token``)."""
        request = urllib.request.Request(  # noqa: S310 - our own server
            f"{self.url}/auth/token",
            data=json.dumps({"username": USER, "password": password}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())["access_token"]


def _make_data() -> None:
    """In the child process: a fresh metadata DB and one manual sync against the sandbox."""
    from airflow.utils import db

    db.initdb()
    from airflow_provider_connectwise.sandbox.server import Sandbox
    from tests.plugins.demo import make_demo

    with Sandbox(seed="demo") as sb:
        demo = make_demo(sb)
    print(json.dumps({"run_id": demo.run_id, "dag_id": demo.dag_id, "policies": demo.policies}))


def main() -> None:
    if "--make-data" in sys.argv:
        _make_data()
        return
    home = Path(tempfile.mkdtemp(prefix="cw-airflow-demo-"))
    port = int(os.environ.get("PORT", "0")) or free_port()
    password = secrets.token_urlsafe(12)
    env = demo_env(home, port, password)
    print("making demo data …", flush=True)
    make_demo_data(env)
    server = AirflowServer(env, port, home / "api-server.log").start()
    print(f"{server.url}/connectwise/  (in the UI: {server.url}/plugin/connectwise)")
    print(f"user {USER}, password {password}; AIRFLOW_HOME {home}; Ctrl-C stops", flush=True)
    try:
        while server.process is not None and server.process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
