"""The ConnectWise page end to end: a real Airflow API server, a real browser, Airflow's own UI around it.

Set ``CONNECTWISE_SCREENSHOT=docs/images/connectwise-page.png`` to refresh the README's screenshot.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import browser_missing

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or ""),
]

ROOT = Path(__file__).resolve().parents[2]
MAC_ERROR = "agent id also on device"


def api_get(server, path: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own server
        f"{server.url}{path}", headers={"authorization": f"Bearer {server.token()}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def test_connectwise_page_in_the_airflow_ui(airflow_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base = airflow_server.url
    policies = airflow_server.demo["policies"]
    acme, globex, lab = policies["Acme Workstations"], policies["Globex Fleet"], policies["Lab Macs"]
    wait = WebDriverWait(browser, 30)

    # Not signed in: Airflow's login page, and back to the page after signing in.
    browser.get(f"{base}/connectwise/")
    wait.until(ec.url_contains("/auth/login"))
    wait.until(ec.element_to_be_clickable((By.NAME, "username"))).send_keys(airflow_server.user)
    browser.find_element(By.NAME, "password").send_keys(airflow_server.password, Keys.ENTER)
    wait.until(ec.url_to_be(f"{base}/connectwise/"))

    # The "ConnectWise" entry of Airflow's navigation shows the page inside the UI.
    browser.get(f"{base}/")
    nav = wait.until(ec.element_to_be_clickable((By.XPATH, "//a[contains(@href, 'plugin/connectwise')]")))
    assert "ConnectWise" in (nav.text + nav.get_attribute("innerHTML"))
    nav.click()
    wait.until(ec.url_contains("/plugin/connectwise"))
    wait.until(ec.frame_to_be_available_and_switch_to_it((By.CSS_SELECTOR, "iframe[title='ConnectWise']")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.cw-policies")))

    # The three icon states: each a visible icon of its own colour, and a word.
    def status(policy_id: str):
        return browser.find_element(By.CSS_SELECTOR, f"tr[data-policy-id='{policy_id}'] .cw-status")

    shown = {}
    for policy_id, icon, word in (
        (lab, "gray", "Not linked"),
        (globex, "blue", "Linked"),
        (acme, "red", "Partial"),
    ):
        element = status(policy_id)
        svg = element.find_element(By.CSS_SELECTOR, "svg.cw-icon")
        assert element.get_attribute("data-icon") == icon
        assert element.text == word
        assert svg.is_displayed() and svg.size["width"] >= 16
        shown[icon] = element.value_of_css_property("color")
    assert len(set(shown.values())) == 3, shown

    browser.switch_to.default_content()
    browser.save_screenshot(str(tmp_path / "connectwise-page.png"))
    if target := os.environ.get("CONNECTWISE_SCREENSHOT"):
        browser.save_screenshot(str(ROOT / target))
    wait.until(ec.frame_to_be_available_and_switch_to_it((By.CSS_SELECTOR, "iframe[title='ConnectWise']")))

    # A device's error opens under "View", in full.
    browser.find_element(By.LINK_TEXT, "Acme Workstations").click()
    failed = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr.cw-row--failed")))
    error = failed.find_element(By.CSS_SELECTOR, "pre.cw-error")
    assert not error.is_displayed()
    failed.find_element(By.CSS_SELECTOR, "details summary").click()
    wait.until(lambda _: error.is_displayed())
    assert MAC_ERROR in error.text and 'Bob\'s "Work" Mac\\Book' in error.text

    # Retry Pending starts the manual sync of this policy through Airflow and shows the new run.
    runs_before = api_get(airflow_server, "/api/v2/dags/connectwise_manual_sync/dagRuns")["dag_runs"]
    browser.find_element(By.XPATH, "//button[normalize-space()='Retry Pending']").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cw-success"), "Retry Pending started"))
    runs = api_get(airflow_server, "/api/v2/dags/connectwise_manual_sync/dagRuns")["dag_runs"]
    (new,) = [r for r in runs if r["dag_run_id"] not in {b["dag_run_id"] for b in runs_before}]
    assert new["conf"] == {"policy": acme}
    assert new["state"] == "queued" and new["triggered_by"] == "ui"
    assert urllib.parse.unquote(browser.execute_script("return location.pathname")).endswith(
        new["dag_run_id"]
    )

    # "Open in Airflow" opens the run in the UI itself, not inside the frame.
    browser.find_element(By.LINK_TEXT, "Open in Airflow").click()
    browser.switch_to.default_content()
    wait.until(lambda b: "/plugin/" not in b.current_url and "/runs/" in b.current_url)
    assert urllib.parse.unquote(browser.current_url).endswith(
        f"/dags/connectwise_manual_sync/runs/{new['dag_run_id']}"
    )
    # the UI's router rendered its own run page: the plugin's frame is gone
    wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, "iframe[title='ConnectWise']"))
    browser.save_screenshot(str(tmp_path / "airflow-run.png"))
