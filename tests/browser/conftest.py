"""Browser test fixtures: an Airflow API server with demo data, and headless Chromium (Debian's)."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.airflow_demo import AirflowServer, demo_env, free_port, make_demo_data

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Flags that work in containers and offline CI: no sandbox, no GPU, no background traffic.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1440,900",
)


def browser_missing() -> str | None:
    """Why the browser test cannot run here (``None`` when it can)."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return "needs Debian's chromium and chromium-driver: run scripts/browser-deps.sh"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs selenium (pip install selenium)"
    return None


@dataclass
class DemoServer:
    url: str
    user: str
    password: str
    demo: dict[str, Any]
    server: AirflowServer

    def token(self) -> str:
        return self.server.token(self.password)


@pytest.fixture(scope="module")
def airflow_server(tmp_path_factory) -> Iterator[DemoServer]:
    """``airflow api-server`` on a free port, its own AIRFLOW_HOME, demo data made beforehand."""
    from airflow_provider_connectwise.sandbox.server import Sandbox
    from tests.plugins.demo import airflow_env_for

    home = tmp_path_factory.mktemp("airflow-home")
    port = free_port()
    password = secrets.token_urlsafe(12)
    env = demo_env(home, port, password)
    demo = make_demo_data(env)
    # the page reads ConnectWise when a person searches or links: a sandbox with the same seed
    with Sandbox(seed="demo") as sb:
        env.update(airflow_env_for(sb))
        server = AirflowServer(env, port, home / "api-server.log").start()
        try:
            yield DemoServer(server.url, "admin", password, demo, server)
        finally:
            server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Selenium through Debian's chromedriver (nothing downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.TemporaryDirectory(prefix="cw-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile.name}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()
