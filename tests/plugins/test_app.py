"""The ConnectWise page served by Airflow's own API app, on a real metadata DB and real binding runs."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import select

from tests.plugins.demo import HOSTILE_DEVICE

pytestmark = pytest.mark.integration

HTML = {"accept": "text/html"}
SAME_ORIGIN = {"origin": "http://testserver"}


def icons(html: str) -> dict[str, str]:
    """policy id -> icon colour of each row of a policies table."""
    return dict(re.findall(r'<tr data-policy-id="([^"]+)">.*?data-icon="(\w+)"', html, re.S))


def form_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no Retry Pending form on the page"
    return match.group(1)


def sync_runs(policy_id: str | None = None) -> list:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.scalars(select(DagRun).where(DagRun.dag_id == "connectwise_manual_sync")).all()
        session.expunge_all()
    return [r for r in runs if policy_id is None or (r.conf or {}).get("policy") == policy_id]


# --- rendering ---------------------------------------------------------------------------------


def test_overview_shows_every_policy_with_its_icon(binding_demo, make_client):
    response = make_client("ADMIN").get("/connectwise/", headers=HTML)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    p = binding_demo.policies
    assert icons(response.text) == {
        p["Acme Workstations"]: "red",  # the seed's red case: one device with a bad fact
        p["Globex Fleet"]: "blue",
        p["Lab Macs"]: "gray",
        p["Retired Fleet"]: "red",
    }
    html = response.text
    assert "AcmeCorp" in html and "Globex" in html
    assert "which is deleted; link it to another company" in html  # the broken link, in words
    run_link = f"/connectwise/runs/connectwise_manual_sync/{quote(binding_demo.run_id, safe='')}"
    assert run_link in html


@pytest.mark.parametrize(
    ("slots", "warning"),
    [
        (None, "airflow pools set connectwise 4"),
        (4, None),
        (12, "can exceed it (up to 2,580)"),
        (2, "only 2/4"),
    ],
)
def test_overview_warns_when_the_connectwise_pool_is_missing_or_sized_unlike_the_budget(
    binding_demo, make_client, monkeypatch, slots, warning
):
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    monkeypatch.setenv("AIRFLOW__CONNECTWISE__POOL_SLOTS", "4")
    with create_session() as session:
        session.execute(Pool.__table__.delete().where(Pool.pool == "connectwise"))
        if slots is not None:
            session.add(Pool(pool="connectwise", slots=slots, description="test", include_deferred=False))
    try:
        html = make_client("ADMIN").get("/connectwise/", headers=HTML).text
    finally:
        with create_session() as session:
            session.execute(Pool.__table__.delete().where(Pool.pool == "connectwise"))
    shown = re.search(
        r'<div class="cw-warning" role="alert"><strong>ConnectWise pool:</strong>(.*?)</div>', html, re.S
    )
    assert (shown is None) == (warning is None)
    if warning:
        assert warning in shown.group(1)


def test_policy_page_shows_the_binding_table_and_the_error_in_full(binding_demo, make_client):
    acme = binding_demo.policies["Acme Workstations"]
    html = make_client("ADMIN").get(f"/connectwise/policies/{acme}", headers=HTML).text
    rows = re.findall(r'<tr class="cw-row--(\w+)" data-agentid="([^"]+)">', html)
    assert len(rows) == 21  # 20 devices, one agent id reported by two of them
    assert rows[0] == ("failed", binding_demo.bad_fact_agent)  # what needs a person comes first
    # Bob's "Work" Mac\Book: quotes escaped, the whole error behind "View"
    error = re.search(r'<summary>View.*?</summary>\s*<pre class="cw-error">(.*?)</pre>', html, re.S).group(1)
    assert "Bob&#39;s &#34;Work&#34; Mac\\Book" in error
    assert "agent id also on device" in error
    # a linked device links into ConnectWise
    assert re.search(
        r'href="http://127\.0\.0\.1:\d+/v2025_1/ConnectWise\.aspx\?routeTo=ConfigFV&amp;recid=\d+"', html
    )
    assert "Retry Pending" in html


def test_hostile_device_names_are_text(binding_demo, make_client):
    retired = binding_demo.policies["Retired Fleet"]
    html = make_client("ADMIN").get(f"/connectwise/policies/{retired}", headers=HTML).text
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Kiosk&#39;s &#34;Mac&#34;" in html
    assert HOSTILE_DEVICE not in html
    assert "The link is broken." in html


def test_run_page_lists_every_device_and_filters_by_state(binding_demo, make_client):
    client = make_client("ADMIN")
    url = f"/connectwise/runs/connectwise_manual_sync/{quote(binding_demo.run_id, safe='')}"
    html = client.get(url, headers=HTML).text
    total = len(binding_demo.record["results"])
    assert len(re.findall(r'<tr class="cw-row--', html)) == total
    assert f"All ({total})" in html
    failed = client.get(url + "?state=failed", headers=HTML).text
    agents = re.findall(r'<tr class="cw-row--failed" data-agentid="([^"]+)">', failed)
    assert binding_demo.bad_fact_agent in agents and binding_demo.hostile_agent in agents
    assert 'class="cw-row--linked"' not in failed


def test_unknown_things_are_404(binding_demo, make_client):
    client = make_client("ADMIN")
    assert client.get("/connectwise/policies/no-such-policy").status_code == 404
    assert client.get("/connectwise/runs/connectwise_manual_sync/no-such-run").status_code == 404
    assert client.get("/connectwise/runs/some_other_dag/any").status_code == 404
    page = client.get("/connectwise/policies/no-such-policy", headers=HTML)
    assert page.status_code == 404 and "Back to ConnectWise" in page.text


def test_pages_forbid_other_sites_framing_them_and_foreign_scripts(binding_demo, make_client):
    headers = make_client("ADMIN").get("/connectwise/", headers=HTML).headers
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "SAMEORIGIN"


def test_static_files_are_served(make_client):
    client = make_client("anonymous")
    for name in ("connectwise.css", "frame.js", "connectwise-nav.svg", "connectwise-nav-dark.svg"):
        assert client.get(f"/connectwise/static/{name}").status_code == 200


# --- who may see and do what -------------------------------------------------------------------


def test_unauthenticated_requests_are_refused(binding_demo, make_client):
    client = make_client("anonymous")
    assert client.get("/connectwise/").status_code == 401
    redirect = client.get("/connectwise/", headers=HTML)
    assert redirect.status_code == 303
    assert redirect.headers["location"].startswith("/auth/login?next=")
    assert unquote(redirect.headers["location"]).endswith("next=http://testserver/connectwise/")
    posted = client.post("/connectwise/retry-pending", data={"policy_id": "x"}, headers=SAME_ORIGIN)
    assert posted.status_code == 401


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # Airflow 3.3.2's SimpleAuthManager: the next URL already there, left alone
        (
            "/auth/login?next=http%3A%2F%2Ft%2Fconnectwise%2F",
            "/auth/login?next=http%3A%2F%2Ft%2Fconnectwise%2F",
        ),
        # Airflow 3.2.0's: a bare login URL, given the next URL
        ("/auth/login", "/auth/login?next=http%3A%2F%2Ft%2Fconnectwise%2F"),
        ("/login/?lang=en", "/login/?lang=en&next=http%3A%2F%2Ft%2Fconnectwise%2F"),
    ],
)
def test_the_login_redirect_always_carries_the_next_url(given, expected):
    from airflow_provider_connectwise.plugins.app import login_url

    class AuthManager:
        def get_url_login(self, **kwargs):
            return given

    assert login_url(AuthManager(), "http://t/connectwise/") == expected


def test_a_bad_token_is_refused(make_client):
    client = make_client("anonymous")
    client.cookies.set("_token", "not-a-jwt")
    assert client.get("/connectwise/").status_code in (401, 403)


def test_a_user_without_dag_access_gets_403(binding_demo, make_client):
    client = make_client(None)  # signed in, no role: no access to any DAG
    acme = binding_demo.policies["Acme Workstations"]
    assert client.get("/connectwise/").status_code == 403
    assert client.get(f"/connectwise/policies/{acme}").status_code == 403
    run = f"/connectwise/runs/connectwise_manual_sync/{quote(binding_demo.run_id, safe='')}"
    assert client.get(run).status_code == 403
    assert client.get("/connectwise/", headers=HTML).status_code == 403


def test_a_viewer_reads_but_cannot_retry(binding_demo, make_client):
    viewer = make_client("VIEWER")
    acme = binding_demo.policies["Acme Workstations"]
    page = viewer.get(f"/connectwise/policies/{acme}", headers=HTML)
    assert page.status_code == 200
    assert 'name="token"' not in page.text
    assert "You may not trigger connectwise_manual_sync" in page.text
    # a form token taken from an admin's page does not help either
    token = form_token(make_client("ADMIN").get(f"/connectwise/policies/{acme}", headers=HTML).text)
    before = len(sync_runs(acme))
    refused = viewer.post(
        "/connectwise/retry-pending", data={"policy_id": acme, "token": token}, headers=SAME_ORIGIN
    )
    assert refused.status_code == 403
    assert len(sync_runs(acme)) == before


def test_only_the_dags_a_user_may_read_are_read(binding_demo, make_client, monkeypatch):
    from airflow.api_fastapi.app import get_auth_manager

    manager = get_auth_manager()
    allowed = manager.is_authorized_dag

    def only_manual_sync(*, method, user, access_entity=None, details=None):
        if details is not None and details.id == "connectwise_device_binding":
            return False
        return allowed(method=method, user=user, access_entity=access_entity, details=details)

    monkeypatch.setattr(manager, "is_authorized_dag", only_manual_sync)
    client = make_client("ADMIN", username="partial-admin")
    html = client.get("/connectwise/", headers=HTML).text
    assert "Showing only runs of connectwise_manual_sync" in html
    assert client.get("/connectwise/runs/connectwise_device_binding/anything").status_code == 403


# --- Retry Pending -----------------------------------------------------------------------------


def test_retry_pending_triggers_the_manual_sync_for_the_policy(binding_demo, make_client):
    from airflow.models.log import Log
    from airflow.utils.session import create_session

    client = make_client("ADMIN")
    acme = binding_demo.policies["Acme Workstations"]
    token = form_token(client.get(f"/connectwise/policies/{acme}", headers=HTML).text)
    before = {r.run_id for r in sync_runs(acme)}

    response = client.post(
        "/connectwise/retry-pending",
        data={"policy_id": acme, "token": token},
        headers={**SAME_ORIGIN, "referer": f"http://testserver/connectwise/policies/{acme}"},
    )

    assert response.status_code == 303
    (new,) = [r for r in sync_runs(acme) if r.run_id not in before]
    assert new.conf == {"policy": acme}
    assert str(new.state) == "queued"
    assert str(new.run_type) == "manual"
    assert new.triggering_user_name == "admin"
    location = response.headers["location"]
    assert location == f"/connectwise/runs/connectwise_manual_sync/{quote(new.run_id, safe='')}?started=1"
    run_page = client.get(location, headers=HTML).text
    assert "Retry Pending started" in run_page
    assert '<meta http-equiv="refresh"' in run_page  # follows the queued run
    assert "is queued" in client.get(f"/connectwise/policies/{acme}", headers=HTML).text
    with create_session() as session:
        audit = session.scalars(
            select(Log).where(Log.event == "trigger_dag_run", Log.run_id == new.run_id)
        ).one()
        assert audit.dag_id == "connectwise_manual_sync" and audit.owner == "admin"


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        pytest.param({"origin": "https://evil.example"}, "valid", id="cross-site-origin"),
        pytest.param({"referer": "https://evil.example/page"}, "valid", id="cross-site-referer"),
        pytest.param({"origin": "null"}, "valid", id="opaque-origin"),
        pytest.param({}, "valid", id="no-origin-no-referer"),
        pytest.param(SAME_ORIGIN, "", id="no-token"),
        pytest.param(SAME_ORIGIN, "forged", id="forged-token"),
        pytest.param(SAME_ORIGIN, "other-user", id="another-users-token"),
    ],
)
def test_cross_site_or_tokenless_posts_are_refused(binding_demo, make_client, headers, token):
    client = make_client("ADMIN")
    acme = binding_demo.policies["Acme Workstations"]
    valid = form_token(client.get(f"/connectwise/policies/{acme}", headers=HTML).text)
    other = form_token(
        make_client("ADMIN", username="someone-else").get(f"/connectwise/policies/{acme}", headers=HTML).text
    )
    sent = {"valid": valid, "": "", "forged": valid[:-4] + "AAAA", "other-user": other}[token]
    before = len(sync_runs(acme))
    response = client.post(
        "/connectwise/retry-pending", data={"policy_id": acme, "token": sent}, headers=headers
    )
    assert response.status_code == 403
    assert len(sync_runs(acme)) == before


def test_an_api_client_with_a_bearer_token_needs_no_form_token(binding_demo, make_client):
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    jwt = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="robot", role="USER"))
    client = make_client("anonymous")
    globex = binding_demo.policies["Globex Fleet"]
    response = client.post(
        "/connectwise/retry-pending", data={"policy_id": globex}, headers={"authorization": f"Bearer {jwt}"}
    )
    assert response.status_code == 303
    assert any(r.triggering_user_name == "robot" for r in sync_runs(globex))


def test_retry_pending_refuses_what_cannot_be_retried(binding_demo, make_client):
    client = make_client("ADMIN")
    token = form_token(client.get("/connectwise/", headers=HTML).text)
    lab = binding_demo.policies["Lab Macs"]
    before = len(sync_runs())
    not_linked = client.post(
        "/connectwise/retry-pending", data={"policy_id": lab, "token": token}, headers=SAME_ORIGIN
    )
    assert not_linked.status_code == 409
    unknown = client.post(
        "/connectwise/retry-pending",
        data={"policy_id": "no-such-policy", "token": token},
        headers=SAME_ORIGIN,
    )
    assert unknown.status_code == 404
    assert len(sync_runs()) == before


def test_retry_pending_says_so_when_the_manual_sync_is_not_deployed(binding_demo, make_client, monkeypatch):
    from airflow_provider_connectwise.plugins import routes, trigger

    def elsewhere(**kwargs):  # the DAG that recorded the binding is gone from Airflow
        return trigger.trigger_sync(**{**kwargs, "dag_id": "connectwise_manual_sync_not_deployed"})

    monkeypatch.setattr(routes, "trigger_sync", elsewhere)
    client = make_client("ADMIN")
    acme = binding_demo.policies["Acme Workstations"]
    token = form_token(client.get(f"/connectwise/policies/{acme}", headers=HTML).text)
    response = client.post(
        "/connectwise/retry-pending",
        data={"policy_id": acme, "token": token},
        headers={**SAME_ORIGIN, **HTML},
    )
    assert response.status_code == 404
    assert "connectwise_manual_sync_not_deployed" in response.text and "not found" in response.text
