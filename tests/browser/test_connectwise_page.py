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


def sign_in(browser, wait, server) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(f"{server.url}/connectwise/")
    wait.until(ec.url_contains("/auth/login"))
    wait.until(ec.element_to_be_clickable((By.NAME, "username"))).send_keys(server.user)
    browser.find_element(By.NAME, "password").send_keys(server.password, Keys.ENTER)
    wait.until(ec.url_to_be(f"{server.url}/connectwise/"))


def test_link_and_unlink_a_policy_in_the_airflow_ui(airflow_server, browser):
    """The seed's Setup in the UI: search the company as you type, pick it and a site, Save, see the
    sync Airflow started, Unlink after the warning."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base = airflow_server.url
    lab = airflow_server.demo["policies"]["Lab Macs"]
    wait = WebDriverWait(browser, 30)
    sign_in(browser, wait, airflow_server)

    # In the UI's frame: the gray policy, then its page.
    browser.get(f"{base}/plugin/connectwise")
    wait.until(ec.frame_to_be_available_and_switch_to_it((By.CSS_SELECTOR, "iframe[title='ConnectWise']")))
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-policy-id='{lab}']")))
    assert row.find_element(By.CSS_SELECTOR, ".cw-status").get_attribute("data-icon") == "gray"
    row.find_element(By.LINK_TEXT, "Lab Macs").click()

    # Search as you type: the list fills without a page load, then the company's sites.
    box = wait.until(ec.element_to_be_clickable((By.ID, "cw-q")))
    page_url = browser.current_url
    box.send_keys("Init")
    choice = wait.until(
        ec.element_to_be_clickable(
            (By.XPATH, "//label[contains(@class,'cw-company')][contains(., 'Initech')]/input")
        )
    )
    assert browser.current_url == page_url  # no reload: the script asked the page's JSON endpoint
    choice.click()
    wait.until(lambda _: len(Select(browser.find_element(By.ID, "cw-site")).options) > 1)
    Select(browser.find_element(By.ID, "cw-site")).select_by_visible_text("Main")
    Select(browser.find_element(By.ID, "cw-mode")).select_by_value("inventory")
    runs_before = api_get(airflow_server, "/api/v2/dags/connectwise_manual_sync/dagRuns")["dag_runs"]
    browser.find_element(
        By.XPATH, "//form[contains(@class,'cw-link-form')]//button[normalize-space()='Save']"
    ).click()

    # Save stored the link and started a sync of the policy; its page follows the run.
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cw-success"), "Link saved, sync started"))
    runs = api_get(airflow_server, "/api/v2/dags/connectwise_manual_sync/dagRuns")["dag_runs"]
    (new,) = [r for r in runs if r["dag_run_id"] not in {b["dag_run_id"] for b in runs_before}]
    assert new["conf"] == {"policy": lab} and new["state"] == "queued"
    assert browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv='refresh']")  # progress: it refreshes
    stored = json.loads(api_get(airflow_server, "/api/v2/variables/connectwise_policy_links")["value"])
    assert stored[lab]["mode"] == "inventory" and stored[lab]["linked_by"] == airflow_server.user
    assert stored[lab]["site_id"] is not None

    # Unlink: the warning first, then the link is gone.
    browser.find_element(By.CSS_SELECTOR, f"a[href$='/policies/{lab}']").click()
    wait.until(ec.element_to_be_clickable((By.LINK_TEXT, "Unlink"))).click()
    warning = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".cw-warning")))
    assert "are deactivated" in warning.text
    browser.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Unlink')]").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cw-success"), "Unlinked"))
    stored = json.loads(api_get(airflow_server, "/api/v2/variables/connectwise_policy_links")["value"])
    assert lab not in stored
