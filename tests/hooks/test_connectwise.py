"""ConnectWiseHook against a mocked ConnectWise: auth, codebase, typed methods, errors, secrets."""

from __future__ import annotations

import base64
import json
import logging

import pytest
import requests_mock as rm

from airflow_provider_connectwise.core.conditions import UnsafeConditionValue
from airflow_provider_connectwise.exceptions import (
    ConnectWiseAuthError,
    ConnectWiseRoutingError,
    ConnectWiseValidationError,
)
from airflow_provider_connectwise.hooks.connectwise import (
    ACCEPT,
    CONFIGURATION_FIELDS,
    ConnectWiseHook,
    to_json_patch,
)
from tests.hooks.conftest import API, CLIENT_ID, COMPANY_INFO, PRIVATE_KEY, PUBLIC_KEY, connection_json


def test_every_request_carries_basic_auth_client_id_and_pinned_version(hook, cw_api):
    cw_api.get(API + "system/info", json={"version": "v2025.1.12345", "isCloud": True})
    hook.get_system_info()
    sent = cw_api.last_request
    expected = base64.b64encode(f"acme+{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()
    assert sent.headers["Authorization"] == f"Basic {expected}"
    assert sent.headers["clientId"] == CLIENT_ID
    assert sent.headers["Accept"] == ACCEPT == "application/vnd.connectwise.com+json; version=2025.1"
    assert sent.url.startswith("https://api-na.myconnectwise.net/v2025_1/apis/3.0/")


def test_codebase_is_discovered_once_per_process(hook, cw_api, cw_conn):
    cw_api.get(API + "system/info", json={"version": "x"})
    hook.get_system_info()
    hook.get_system_info()
    ConnectWiseHook(cw_conn, requests_per_minute=None).get_system_info()  # another task, same process
    assert [r.url for r in cw_api.request_history].count(COMPANY_INFO) == 1
    assert hook.codebase == "v2025_1/"


def test_codebase_override_skips_discovery(monkeypatch, cw_api):
    monkeypatch.setenv("AIRFLOW_CONN_CW_PINNED", connection_json(extra={"codebase": "v2024_1"}))
    hook = ConnectWiseHook("cw_pinned", requests_per_minute=None)
    cw_api.get("https://api-na.myconnectwise.net/v2024_1/apis/3.0/system/info", json={"version": "x"})
    hook.get_system_info()
    assert COMPANY_INFO not in [r.url for r in cw_api.request_history]


def test_codebase_falls_back_when_discovery_is_unavailable(hook):
    with rm.Mocker() as m:
        m.get(COMPANY_INFO, status_code=404, text="Not Found")
        assert hook.codebase == "v4_6_release/"


def test_wrong_company_reports_cannot_route_with_a_hint(hook):
    with rm.Mocker() as m:
        m.get(COMPANY_INFO, text="Cannot route. Codebase/company is invalid")
        with pytest.raises(ConnectWiseRoutingError) as info:
            _ = hook.codebase
    assert "Company ID" in str(info.value)


def test_test_connection_success_and_failure(hook, cw_api):
    cw_api.get(API + "system/info", json={"version": "v2025.1.99"})
    ok, message = hook.test_connection()
    assert ok and "v2025.1.99" in message and "v2025_1/" in message
    cw_api.get(
        API + "system/info", status_code=401, json={"code": "Unauthorized", "message": "Invalid credentials"}
    )
    ok, message = hook.test_connection()
    assert not ok
    assert "401" in message and "Invalid credentials" in message and "Client ID" in message
    assert PRIVATE_KEY not in message and PUBLIC_KEY not in message


def test_test_connection_reports_a_bad_site_url(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CW_HTTP", connection_json(host="http://na.myconnectwise.net"))
    ok, message = ConnectWiseHook("cw_http").test_connection()
    assert not ok and "HTTPS" in message


@pytest.mark.parametrize(
    ("field", "overrides", "named"),
    [
        ("login", {"login": ""}, "ConnectWise Company ID"),
        ("password", {"password": ""}, "Private key"),
        ("public", {"extra": {"public_key": ""}}, "Public key"),
        ("client", {"extra": {"client_id": " "}}, "Client ID"),
    ],
)
def test_missing_connection_fields_are_named(monkeypatch, field, overrides, named):
    monkeypatch.setenv("AIRFLOW_CONN_CW_BAD", connection_json(**overrides))
    with pytest.raises(ValueError, match=named):
        _ = ConnectWiseHook("cw_bad").credentials


def test_secrets_never_in_repr_str_or_errors(hook, cw_api, caplog):
    caplog.set_level(logging.DEBUG)
    cw_api.get(API + "service/boards", status_code=403, json={"code": "Forbidden", "message": "no access"})
    with pytest.raises(ConnectWiseAuthError) as info:
        hook.list_boards()
    token = base64.b64encode(f"acme+{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()
    texts = [repr(hook), str(hook), repr(hook.credentials), repr(hook.client), str(info.value), caplog.text]
    for text in texts:
        for secret in (PRIVATE_KEY, PUBLIC_KEY, token):
            assert secret not in text


def test_secrets_are_registered_with_the_masker(hook):
    from airflow.sdk._shared.secrets_masker import redact

    _ = hook.credentials
    assert PRIVATE_KEY not in str(redact(f"key={PRIVATE_KEY}"))
    assert PUBLIC_KEY not in str(redact(f"pub={PUBLIC_KEY}"))


def test_catalogue_methods_hit_the_documented_paths(hook, cw_api):
    cw_api.get(API + "service/boards", json=[{"id": 1, "name": "Monitoring"}])
    cw_api.get(API + "service/boards/1/statuses", json=[{"id": 10, "name": "New"}])
    cw_api.get(API + "company/configurations/statuses", json=[{"id": 2, "description": "Active"}])
    cw_api.get(API + "company/configurations/types", json=[{"id": 3, "name": "Managed Mac"}])
    cw_api.get(API + "company/configurations/types/3/questions", json=[])
    assert hook.list_boards()[0]["name"] == "Monitoring"
    assert hook.list_board_statuses(1)[0]["name"] == "New"
    assert hook.list_configuration_statuses()[0]["description"] == "Active"
    assert hook.list_configuration_types()[0]["name"] == "Managed Mac"
    assert hook.list_configuration_type_questions(3) == []
    for request in cw_api.request_history[1:]:
        assert request.qs["pagesize"] == ["1000"]


def test_company_configurations_are_read_forward_only_with_fields(hook, cw_api):
    url = API + "company/configurations"
    cw_api.get(
        url,
        [
            {"json": [{"id": 1}, {"id": 5}], "headers": {"Link": f'<{url}?pageId=5>; rel="next"'}},
            {"json": [{"id": 8}]},
        ],
    )
    assert [c["id"] for c in hook.list_company_configurations(42)] == [1, 5, 8]
    first, second = cw_api.request_history[1:]
    for request in (first, second):
        assert request.headers["pagination-type"] == "forward-only"
        assert request.qs["conditions"] == ["company/id = 42"]
        assert request.qs["fields"] == [",".join(CONFIGURATION_FIELDS).lower()]
    assert second.qs["pageid"] == ["5"]


def test_find_configurations_quotes_a_safe_identifier(hook, cw_api):
    cw_api.get(API + "company/configurations", json=[{"id": 3, "deviceIdentifier": "AGENT-1"}])
    assert hook.find_configuration(7, "agent-1") == {"id": 3, "deviceIdentifier": "AGENT-1"}
    assert cw_api.last_request.qs["conditions"] == ['company/id = 7 and deviceidentifier = "agent-1"']


def test_find_configurations_never_pastes_an_unsafe_identifier(hook, cw_api):
    evil = 'x" OR company/id > 0 OR name = "'
    cw_api.get(
        API + "company/configurations",
        json=[{"id": 1, "deviceIdentifier": "other"}, {"id": 2, "deviceIdentifier": evil}],
    )
    assert [c["id"] for c in hook.find_configurations(7, evil)] == [2]
    assert cw_api.last_request.qs["conditions"] == ["company/id = 7"]


def test_find_companies_by_name_identifiers_and_ids(hook, cw_api):
    cw_api.get(
        API + "company/companies",
        [
            {"json": [{"id": 1, "identifier": "AcmeCorp", "name": "Acme Corp"}]},
            {
                "json": [
                    {"id": 1, "identifier": "AcmeCorp", "name": "Acme Corp"},
                    {"id": 2, "identifier": "Globex"},
                ]
            },
            {"json": [{"id": 3, "identifier": "Initech"}]},
        ],
    )
    found = hook.find_companies(name_contains="Acme", identifiers=["AcmeCorp", "Globex"], ids=[3])
    assert sorted(c["id"] for c in found) == [1, 2, 3]
    conditions = [r.qs.get("conditions") for r in cw_api.request_history[1:]]
    assert conditions == [['name contains "acme"'], ['identifier in ("acmecorp", "globex")'], ["id in (3)"]]


def test_find_companies_with_an_unsafe_fragment_matches_in_python(hook, cw_api):
    cw_api.get(
        API + "company/companies", json=[{"id": 1, "name": 'The "Best" Co'}, {"id": 2, "name": "Other"}]
    )
    assert [c["id"] for c in hook.find_companies(name_contains='"best"')] == [1]
    assert "conditions" not in cw_api.last_request.qs


def test_create_configuration_posts_the_body(hook, cw_api):
    cw_api.post(API + "company/configurations", status_code=201, json={"id": 77, "name": "Mac"})
    body = {
        "name": "Mac",
        "type": {"id": 3},
        "company": {"id": 7},
        "status": {"id": 2},
        "deviceIdentifier": "a1",
    }
    assert hook.create_configuration(body)["id"] == 77
    assert json.loads(cw_api.last_request.body) == body


def test_create_configuration_validation_error_names_fields(hook, cw_api):
    cw_api.post(
        API + "company/configurations",
        status_code=400,
        json={
            "code": "InvalidObject",
            "message": "configuration object is invalid",
            "errors": [{"code": "InvalidField", "message": "macAddress exceeds 25", "field": "macAddress"}],
        },
    )
    with pytest.raises(ConnectWiseValidationError) as info:
        hook.create_configuration({"name": "x", "type": {"id": 1}, "company": {"id": 1}})
    assert "macAddress" in str(info.value) and "POST" in str(info.value) and "400" in str(info.value)
    assert info.value.errors[0]["field"] == "macAddress"


def test_patch_configuration_sends_json_patch_replace_ops(hook, cw_api):
    cw_api.patch(API + "company/configurations/77", json={"id": 77})
    hook.patch_configuration(
        77, {"status": {"id": 9, "name": "Inactive"}, "ipAddress": "10.0.0.2", "ram": "16"}
    )
    assert json.loads(cw_api.last_request.body) == [
        {"op": "replace", "path": "status", "value": {"id": 9}},
        {"op": "replace", "path": "ipAddress", "value": "10.0.0.2"},
        {"op": "replace", "path": "ram", "value": "16"},
    ]


@pytest.mark.parametrize("bad", ["company/identifier", "/status", "", "a b"])
def test_json_patch_refuses_nested_or_odd_paths(bad):
    with pytest.raises(ValueError, match="top-level"):
        to_json_patch({bad: 1})


def test_ticket_methods(hook, cw_api):
    cw_api.post(API + "service/tickets", status_code=201, json={"id": 500})
    cw_api.get(API + "service/tickets/500", json={"id": 500, "closedFlag": False})
    cw_api.patch(API + "service/tickets/500", json={"id": 500, "closedFlag": True})
    cw_api.post(API + "service/tickets/500/configurations", status_code=201, json={"id": 77})
    cw_api.get(API + "service/tickets", json=[{"id": 500, "externalXRef": "alert-1"}])
    body = {
        "summary": "Disk full",
        "company": {"id": 7},
        "board": {"id": 1},
        "status": {"id": 10},
        "externalXRef": "alert-1",
    }
    assert hook.create_ticket(body)["id"] == 500
    assert hook.get_ticket(500, fields=["id", "closedFlag"]) == {"id": 500, "closedFlag": False}
    assert cw_api.last_request.qs["fields"] == ["id,closedflag"]
    hook.patch_ticket(500, {"status": {"id": 11}})
    hook.attach_configuration(500, 77)
    assert json.loads(cw_api.last_request.body) == {"id": 77}
    assert hook.find_tickets(board_id=1, company_id=7, external_ref="alert-1", open_only=True)[0]["id"] == 500
    assert cw_api.last_request.qs["conditions"] == [
        '((board/id = 1 and company/id = 7) and closedflag = false) and externalxref = "alert-1"'
    ]


def test_find_tickets_with_unsafe_reference_filters_in_python(hook, cw_api):
    ref = 'alert "7" \\ x'
    cw_api.get(
        API + "service/tickets", json=[{"id": 1, "externalXRef": "other"}, {"id": 2, "externalXRef": ref}]
    )
    assert [t["id"] for t in hook.find_tickets(board_id=1, external_ref=ref)] == [2]
    assert cw_api.last_request.qs["conditions"] == ["board/id = 1"]
    with pytest.raises(UnsafeConditionValue):
        hook.find_tickets(external_ref=ref)


def test_ui_links_use_the_browser_host(hook, cw_api):
    assert hook.ticket_url(500) == (
        "https://na.myconnectwise.net/v2025_1/ConnectWise.aspx?routeTo=ServiceFV&recid=500"
    )
    assert hook.configuration_url(77).endswith("ConnectWise.aspx?routeTo=ConfigFV&recid=77")
    assert hook.company_url(7).endswith("routeTo=AccountFV&recid=7")


def test_sandbox_style_loopback_connection(monkeypatch):
    conn = {
        "conn_type": "connectwise",
        "host": "127.0.0.1",
        "port": 8765,
        "login": "demo",
        "password": PRIVATE_KEY,
        "extra": {"public_key": PUBLIC_KEY, "client_id": CLIENT_ID},
    }
    monkeypatch.setenv("AIRFLOW_CONN_CW_LOCAL", json.dumps(conn))
    site = ConnectWiseHook("cw_local").credentials.site
    assert site.api_root == "http://127.0.0.1:8765/"


def test_configurations_of_several_companies_are_read_together(hook, cw_api):
    cw_api.get(
        API + "company/configurations",
        json=[
            {"id": 1, "company": {"id": 7}},
            {"id": 2, "company": {"id": 9}},
            {"id": 3, "company": {"id": 7}},
        ],
    )
    grouped = hook.list_configurations_of_companies([9, 7, 7, 12])
    assert {k: [c["id"] for c in v] for k, v in grouped.items()} == {7: [1, 3], 9: [2], 12: []}
    (read,) = [r for r in cw_api.request_history if "company/configurations" in r.url]
    assert read.qs["conditions"] == ["company/id in (7, 9, 12)"]


def test_uri_form_of_the_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_CW_URI",
        f"connectwise://acme:{PRIVATE_KEY}@na.myconnectwise.net/?public_key={PUBLIC_KEY}&client_id={CLIENT_ID}",
    )
    creds = ConnectWiseHook("cw_uri").credentials
    assert (creds.company_id, creds.public_key, creds.private_key, creds.client_id) == (
        "acme",
        PUBLIC_KEY,
        PRIVATE_KEY,
        CLIENT_ID,
    )
    assert creds.site.api_root == "https://api-na.myconnectwise.net/"


def test_a_codebase_found_by_an_earlier_task_saves_the_discovery(cw_conn, cw_api):
    hook = ConnectWiseHook(cw_conn, requests_per_minute=None, codebase="v2025_1")
    cw_api.get(API + "system/info", json={"version": "x"})
    hook.get_system_info()
    assert COMPANY_INFO not in [r.url for r in cw_api.request_history]


def test_find_configurations_without_a_company_refuses_an_unquotable_agent_id(hook):
    with pytest.raises(UnsafeConditionValue, match="no documented escape"):
        hook.find_configurations(None, 'x" OR id > 0 OR name = "')
