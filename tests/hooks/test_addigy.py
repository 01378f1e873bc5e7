"""AddigyHook: auth header, nested policy filter, paging, alerts, shared retry machinery."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests_mock as rm

from airflow_provider_connectwise.exceptions import AddigyAuthError, AddigyServerError, AuthError
from airflow_provider_connectwise.hooks._http import RestClient, RetryPolicy
from airflow_provider_connectwise.hooks.addigy import AddigyHook

API_KEY = "addigy-key-5b0e3c1f"
BASE = "https://api.addigy.com/api/v2/"


@pytest.fixture
def addigy(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ADDIGY_TEST", json.dumps({"conn_type": "addigy", "password": API_KEY, "extra": {}})
    )
    hook = AddigyHook("addigy_test", retry=RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02))
    hook.client.sleep = lambda s: None
    return hook


@pytest.fixture
def api():
    with rm.Mocker() as m:
        m.get(BASE + "configuration/whoami", json={"name": "ops", "organization_id": "org-1"})
        yield m


def test_uses_the_shared_request_path(addigy):
    assert isinstance(addigy.client, RestClient)
    assert addigy.client.base_url == BASE


def test_api_key_header_and_test_connection(addigy, api):
    ok, message = addigy.test_connection()
    assert ok
    assert "org-1" in message
    assert api.last_request.headers["x-api-key"] == API_KEY


def test_bad_key_is_an_auth_error_with_a_hint(addigy):
    with rm.Mocker() as m:
        m.get(
            BASE + "configuration/whoami", status_code=401, json={"code": 401, "message": "invalid api key"}
        )
        ok, message = addigy.test_connection()
        assert not ok
        assert "API key" in message
        assert API_KEY not in message
        with pytest.raises(AddigyAuthError) as info:
            addigy.whoami()
    assert isinstance(info.value, AuthError)
    assert info.value.code == "401"


def test_devices_use_the_nested_policy_filter_and_all_pages(addigy, api):
    url = BASE + "o/org-1/devices"
    api.post(
        url,
        [
            {
                "json": {
                    "items": [{"agentid": "a1"}, {"agentid": "a2"}],
                    "metadata": {"page": 1, "page_count": 2},
                }
            },
            {"json": {"items": [{"agentid": "a3"}], "metadata": {"page": 2, "page_count": 2}}},
        ],
    )
    devices = addigy.list_policy_devices("pol-9", ["device_name", "serial_number", "device_name"])
    assert [d["agentid"] for d in devices] == ["a1", "a2", "a3"]
    assert {d["policy_id"] for d in devices} == {"pol-9"}
    bodies = [r.json() for r in api.request_history if r.url == url]
    assert [b["page"] for b in bodies] == [1, 2]
    for body in bodies:
        assert body["query"] == {"policy_id": "pol-9"}
        assert "policy_id" not in body
        assert body["desired_fact_identifiers"] == ["device_name", "serial_number"]


def test_query_posts_are_retried_as_reads(addigy, api):
    api.post(
        BASE + "oa/policies/query", [{"status_code": 503, "text": "busy"}, {"json": [{"policyId": "p"}]}]
    )
    assert addigy.list_policies() == [{"policyId": "p"}]
    assert api.last_request.json() == {}


def test_policies_by_id(addigy, api):
    api.post(BASE + "oa/policies/query", json=[])
    addigy.list_policies(["p1", "p2"])
    assert api.last_request.json() == {"policies": ["p1", "p2"]}


def test_alert_query_window_and_resolve(addigy, api):
    api.post(
        BASE + "oa/monitoring/alerts/query", json={"items": [{"id": "al-1"}], "metadata": {"page_count": 1}}
    )
    api.post(BASE + "o/org-1/monitoring/alerts/resolve", json={})
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    alerts = list(addigy.iter_alerts(start=start, end=start + dt.timedelta(hours=1), statuses=["Unattended"]))
    assert alerts == [{"id": "al-1"}]
    query = api.request_history[-1].json()
    assert query["query"] == {
        "start_date": "2026-01-01T00:00:00Z",
        "end_date": "2026-01-01T01:00:00Z",
        "statuses": ["Unattended"],
    }
    assert query["per_page"] == 100
    addigy.resolve_alerts(["al-1"])
    assert api.last_request.json() == {"alert_ids": ["al-1"]}


def test_alert_action_is_checked(addigy):
    with pytest.raises(ValueError, match="acknowledge, resolve, mute"):
        addigy.alert_action("delete", ["x"])


def test_server_errors_are_addigy_errors(addigy, api):
    api.post(
        BASE + "oa/policies/query", status_code=500, json={"code": 500, "message": "boom", "error_chain": {}}
    )
    with pytest.raises(AddigyServerError, match="boom"):
        addigy.list_policies()


def test_repr_hides_the_key(addigy):
    assert API_KEY not in repr(addigy)
    assert API_KEY not in repr(addigy.client)
