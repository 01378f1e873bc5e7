"""Linking on the ConnectWise page, served by Airflow's own API app against a live sandbox:
company search and sites, Save (starts a sync), Unlink (after a warning), Auto-map by name,
records of any DAG, and the protections every write keeps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import select

from airflow_provider_connectwise.flows.link_store import VARIABLE_KEY, load_links
from tests.plugins.demo import BindingDemo, airflow_env_for, make_demo

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

HTML = {"accept": "text/html"}
SAME_ORIGIN = {"origin": "http://testserver"}


class Linking:
    def __init__(self, demo: BindingDemo, sb: Any) -> None:
        self.demo, self.sb = demo, sb
        self.companies = sb.seed.companies
        self.sites = sb.seed.notes["sites"]


@pytest.fixture(scope="module")
def linking(airflow_db) -> Iterator[Linking]:
    """The page's demo, plus policies named like companies, with the sandbox kept up and the
    connections set for the API app (the page reads ConnectWise when a person searches)."""
    from airflow_provider_connectwise.sandbox.server import Sandbox

    with Sandbox(seed="demo") as sb, pytest.MonkeyPatch.context() as mp:
        initech_eu = sb.state.connectwise.insert(
            "companies",
            {"identifier": "InitechEU", "name": "Initech Ltd", "status": {"id": 1, "name": "Active"},
             "types": [{"id": 1, "name": "Client"}], "deletedFlag": False},
        )  # fmt: skip
        sb.state.addigy.add_policy("Globex, Inc.")  # one company matches: confident
        sb.state.addigy.add_policy("INITECH")  # Initech and Initech Ltd: ambiguous
        sb.seed.companies["InitechEU"] = initech_eu["id"]
        demo = make_demo(sb)
        for key, value in airflow_env_for(sb).items():
            mp.setenv(key, value)
        yield Linking(demo, sb)


@pytest.fixture(autouse=True)
def no_stored_links(airflow_db):
    from airflow.models.variable import Variable

    Variable.delete(VARIABLE_KEY)
    yield
    Variable.delete(VARIABLE_KEY)


def stored() -> dict:
    from airflow.utils.session import create_session

    with create_session() as session:
        return load_links(session)[0]


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no form on the page"
    return match.group(1)


def runs(dag_id: str = "connectwise_manual_sync") -> list:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        found = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id)).all()
        session.expunge_all()
    return found


def policy_url(policy_id: str) -> str:
    return f"/connectwise/policies/{quote(policy_id, safe='')}"


# --- search and sites --------------------------------------------------------------------------


def test_company_search_as_you_type(linking, make_client):
    client = make_client("ADMIN")
    found = client.get("/connectwise/api/companies", params={"q": "init"})
    assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
    assert [c["identifier"] for c in found.json()] == ["Initech", "InitechEU"]
    assert found.json()[0] == {"id": linking.companies["Initech"], "identifier": "Initech", "name": "Initech",
                               "status": "Active", "types": ["Client"]}  # fmt: skip
    owners = client.get("/connectwise/api/companies", params={"q": "", "type": "Owner"}).json()
    assert [c["identifier"] for c in owners] == ["DemoMSP"]
    # deleted companies are never offered, whatever the status filter
    assert "OldCo" not in [c["identifier"] for c in client.get("/connectwise/api/companies?status=").json()]


def test_sites_of_a_company(linking, make_client):
    client = make_client("ADMIN")
    acme = linking.companies["AcmeCorp"]
    sites = client.get(f"/connectwise/api/companies/{acme}/sites").json()
    assert [s["name"] for s in sites] == ["Main", "Branch Office"]
    missing = client.get("/connectwise/api/companies/99999/sites")
    assert missing.status_code == 502 and "company's sites" in missing.json()["detail"]


def test_search_needs_permission_to_change_links_and_never_shows_the_connection(
    linking, make_client, monkeypatch
):
    assert make_client("VIEWER").get("/connectwise/api/companies?q=a").status_code == 403
    assert make_client("anonymous").get("/connectwise/api/companies?q=a").status_code == 401
    monkeypatch.setenv("AIRFLOW__CONNECTWISE__CONNECTWISE_CONN_ID", "no_such_connection")
    broken = make_client("ADMIN").get("/connectwise/api/companies?q=a")
    assert broken.status_code == 502
    assert "no_such_connection" in broken.json()["detail"]
    assert linking.sb.url.split("//")[1] not in broken.text  # no host, no key


def test_the_picker_works_without_javascript(linking, make_client):
    lab = linking.demo.policies["Lab Macs"]
    html = make_client("ADMIN").get(policy_url(lab) + "?q=glob", headers=HTML).text
    assert re.findall(r'name="company_id" value="(\d+)"', html) == [str(linking.companies["Globex"])]
    assert "Save" in html and 'id="cw-site"' in html
    viewer = make_client("VIEWER").get(policy_url(lab) + "?q=glob", headers=HTML).text
    assert 'name="company_id"' not in viewer and "You may not change the policy links" in viewer


# --- Save, Unlink ------------------------------------------------------------------------------


def save(client, policy_id: str, **form: Any):
    html = client.get(policy_url(policy_id), headers=HTML).text
    return client.post(
        policy_url(policy_id) + "/link",
        data={"token": token_of(html), **form},
        headers={**SAME_ORIGIN, **HTML},
    )


def test_save_stores_the_link_and_starts_a_sync_of_the_policy(linking, make_client):
    client = make_client("ADMIN")
    lab, initech = linking.demo.policies["Lab Macs"], linking.companies["Initech"]
    before = {r.run_id for r in runs()}
    site = linking.sites["Initech/Main"]
    response = save(client, lab, company_id=initech, site_id=site, mode="inventory")
    assert response.status_code == 303
    link = stored()[lab]
    assert (link.company_id, link.site_id, link.mode, link.linked_by) == (initech, site, "inventory", "admin")
    (new,) = [r for r in runs() if r.run_id not in before]
    assert new.conf == {"policy": lab} and str(new.state) == "queued"
    assert unquote(response.headers["location"]).endswith(
        f"/runs/connectwise_manual_sync/{new.run_id}?started=link"
    )
    page = client.get(response.headers["location"], headers=HTML).text
    assert "Link saved, sync started" in page and 'http-equiv="refresh"' in page  # it follows the run
    # the policy page says the saved link applies from the next sync, and offers Unlink
    html = client.get(policy_url(lab), headers=HTML).text
    assert "applies from the next sync" in html and "/unlink" in html


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"company": "OldCo"}, 400, "is not an active ConnectWise company"),
        ({"company": "Initech", "site": "AcmeCorp/Main"}, 400, "is not a site of company Initech"),
        ({"company": "Initech", "site_id": "abc"}, 400, "site_id must be a site&#39;s id"),
        ({"company": "Initech", "mode": "sometimes"}, 400, "mode &#39;sometimes&#39; is not one of"),
    ],
)
def test_save_refuses_what_connectwise_would_not_have(linking, make_client, form, status, message):
    lab = linking.demo.policies["Lab Macs"]
    fields = {"company_id": linking.companies[form.pop("company")], "mode": form.pop("mode", "all")}
    if "site" in form:
        fields["site_id"] = linking.sites[form.pop("site")]
    fields.update(form)
    response = save(make_client("ADMIN"), lab, **fields)
    assert response.status_code == status and message in response.text
    assert lab not in stored()


def test_writes_keep_the_page_protections(linking, make_client):
    lab, initech = linking.demo.policies["Lab Macs"], linking.companies["Initech"]
    admin = make_client("ADMIN")
    token = token_of(admin.get(policy_url(lab), headers=HTML).text)
    url = policy_url(lab) + "/link"
    cross_site = admin.post(
        url, data={"token": token, "company_id": initech}, headers={"origin": "https://evil.example"}
    )
    no_token = admin.post(url, data={"company_id": initech}, headers=SAME_ORIGIN)
    viewer = make_client("VIEWER").post(
        url, data={"token": token, "company_id": initech}, headers=SAME_ORIGIN
    )
    unlink = admin.post(policy_url(lab) + "/unlink", data={}, headers=SAME_ORIGIN)
    automap = admin.post("/connectwise/auto-map", data={"choice": f"{initech}:{lab}"}, headers=SAME_ORIGIN)
    assert [r.status_code for r in (cross_site, no_token, viewer, unlink, automap)] == [403] * 5
    assert stored() == {}


def test_unlink_says_what_the_next_sync_does_then_removes_the_link(linking, make_client):
    client = make_client("ADMIN")
    lab, initech = linking.demo.policies["Lab Macs"], linking.companies["Initech"]
    assert save(client, lab, company_id=initech).status_code == 303
    confirm = client.get(policy_url(lab) + "/unlink", headers=HTML)
    assert (
        confirm.status_code == 200
        and "are deactivated" in confirm.text
        and "Nothing is deleted" in confirm.text
    )
    done = client.post(
        policy_url(lab) + "/unlink", data={"token": token_of(confirm.text)}, headers=SAME_ORIGIN
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?saved=unlinked")
    assert lab not in stored()
    again = client.post(
        policy_url(lab) + "/unlink", data={"token": token_of(confirm.text)}, headers=SAME_ORIGIN
    )
    assert again.status_code == 409


# --- Auto-map by name --------------------------------------------------------------------------


def test_automap_proposes_and_links_only_what_is_confirmed(linking, make_client):
    client = make_client("ADMIN")
    page = client.get("/connectwise/auto-map", headers=HTML)
    assert page.status_code == 200
    confident = re.findall(r'name="choice" value="(\d+):([^"]+)" checked', page.text)
    assert [int(c) for c, _ in confident] == [linking.companies["Globex"]]
    ambiguous = re.findall(r'<option value="(\d+):([^"]+)"', page.text)
    assert sorted(int(c) for c, _ in ambiguous) == sorted(
        [linking.companies["Initech"], linking.companies["InitechEU"]]
    )
    assert stored() == {}  # nothing linked by looking
    globex_policy = confident[0][1]
    before = {r.run_id for r in runs()}
    response = client.post(
        "/connectwise/auto-map",
        data={"token": token_of(page.text), "choice": [f"{confident[0][0]}:{globex_policy}", ""]},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 303 and response.headers["location"].endswith("?started=automap")
    assert {p: link.company_id for p, link in stored().items()} == {
        globex_policy: linking.companies["Globex"]
    }
    (new,) = [r for r in runs() if r.run_id not in before]
    assert new.conf == {}  # one sync of every linked policy


# --- records of any DAG ------------------------------------------------------------------------


def test_records_of_any_dag_that_uses_the_binding_operators_appear(linking, make_client):
    """A user's own DAG (another id, another task id) is read like the example DAGs."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "tests" / "dags"))
    assert not bag.import_errors, bag.import_errors
    run = bag.get_dag("my_own_binding").test()
    client = make_client("ADMIN")
    html = client.get("/connectwise/", headers=HTML).text
    assert f"/connectwise/runs/my_own_binding/{quote(run.run_id, safe='')}" in html
    run_page = client.get(f"/connectwise/runs/my_own_binding/{quote(run.run_id, safe='')}", headers=HTML)
    assert run_page.status_code == 200 and "Dry run" in run_page.text


def test_per_device_warnings_show_in_the_binding_table(linking, make_client):
    acme = linking.demo.policies["Acme Workstations"]
    warned = [r for r in linking.demo.record["results"] if r.get("warnings") and acme in r["policy_ids"]]
    assert warned, "the demo has devices with warnings"
    html = make_client("ADMIN").get(policy_url(acme), headers=HTML).text
    for result in warned:
        row = re.search(rf'<tr class="cw-row--\w+" data-agentid="{result["agentid"]}">(.*?)</tr>', html, re.S)
        assert row is not None
        n = len(result["warnings"])
        assert f"{n} warning{'s' if n != 1 else ''}" in row.group(1)
        for warning in result["warnings"]:
            assert warning.replace("'", "&#39;") in row.group(1)
