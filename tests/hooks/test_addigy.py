"""AddigyHook: auth header, nested policy filter, paging, alerts, shared retry machinery."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests_mock as rm
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_connectwise.core.mapping import DeviceMappingError, map_device
from airflow_provider_connectwise.exceptions import (
    AddigyAuthError,
    AddigyError,
    AddigyIncompleteReadError,
    AddigyServerError,
    AuthError,
)
from airflow_provider_connectwise.hooks._http import RestClient, RetryPolicy, is_retryable
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
                    "metadata": {"page": 1, "per_page": 2, "page_count": 2, "total": 3},
                }
            },
            {
                "json": {
                    "items": [{"agentid": "a3"}],
                    "metadata": {"page": 2, "per_page": 2, "page_count": 2, "total": 3},
                }
            },
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
        BASE + "oa/monitoring/alerts/query",
        json={"items": [{"id": "al-1"}], "metadata": {"page_count": 1, "total": 1}},
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


# --- complete reads -------------------------------------------------------------------------------


def meta(page, page_count, total, per_page=2, **extra):
    return {"page": page, "per_page": per_page, "page_count": page_count, "total": total, **extra}


def devices(*ids):
    return [{"agentid": i} for i in ids]


@pytest.mark.parametrize(
    ("answers", "why"),
    [
        # Regression: page_count missing read page 1 only, and the other devices looked removed.
        ([{"items": devices("a1", "a2"), "metadata": {"page": 1}}], "lacks a page_count or total"),
        ([{"items": devices("a1", "a2"), "metadata": meta(1, 2, None)}], "lacks a page_count or total"),
        ([{"items": devices("a1", "a2"), "metadata": meta(1, "2", 3)}], "lacks a page_count or total"),
        ([{"items": devices("a1", "a2")}], "no metadata"),
        ([None], "no metadata"),
        ([{"items": {"a1": 1}, "metadata": meta(1, 1, 1)}], "not a list"),
        ([{"items": devices("a1", "a2"), "metadata": meta(1, 1, 3)}], "does not fit total 3"),
        ([{"items": devices("a1", "a2"), "metadata": meta(1, 1, 2, result_count=3)}], "result_count 3"),
        ([{"items": devices("a1"), "metadata": meta(1, 2, 3)}], "1 items on page 1 of 2, expected 2"),
        (
            [
                {"items": devices("a1", "a2"), "metadata": meta(1, 2, 3)},
                {"items": devices("a3"), "metadata": meta(2, 3, 5)},
            ],
            "changed from (2, 3, 2) to (3, 5, 2)",
        ),
        (
            [
                {"items": devices("a1", "a2"), "metadata": meta(1, 2, 4)},
                {"items": devices("a1", "a2"), "metadata": meta(2, 2, 4)},
            ],
            "the same item (agentid 'a1') is listed twice",
        ),
        (
            [
                {"items": devices("a1", "a2"), "metadata": meta(1, 2, 4)},
                {"items": devices("a3", "a4"), "metadata": meta(1, 2, 4)},
            ],
            "asked for page 2, got page 1",
        ),
        ([{"items": devices("a1", "a2"), "metadata": meta(1, 1, 1)}], "2 items on page 1 of 1, expected 1"),
    ],
)
def test_a_read_that_cannot_be_proven_complete_raises(addigy, api, answers, why):
    api.post(BASE + "o/org-1/devices", [{"json": answer} for answer in answers])
    with pytest.raises(AddigyIncompleteReadError, match="cannot be proven complete") as info:
        addigy.list_policy_devices("pol-1", ["device_name"])
    assert why in str(info.value)
    assert isinstance(info.value, AddigyError) and is_retryable(info.value)


def test_two_records_with_one_agent_id_are_a_complete_read(addigy, api):
    """Two Macs can report one agent id (one set up from the other's backup): the read is whole;
    planning fails the second device, not the read."""
    twins = [
        {"agentid": "a1", "facts": {"serial_number": "S1"}},
        {"agentid": "a1", "facts": {"serial_number": "S2"}},
    ]
    api.post(BASE + "o/org-1/devices", json={"items": twins, "metadata": meta(1, 1, 2)})
    assert len(addigy.list_policy_devices("pol-1", [])) == 2


def test_alert_reads_are_checked_the_same_way(addigy, api):
    api.post(BASE + "oa/monitoring/alerts/query", json={"items": [{"id": "al-1"}], "metadata": {"page": 1}})
    with pytest.raises(AddigyIncompleteReadError):
        list(addigy.iter_alerts())


def test_an_empty_read_is_complete(addigy, api):
    for page_count in (0, 1):
        api.post(BASE + "o/org-1/devices", json={"items": [], "metadata": meta(1, page_count, 0)})
        assert addigy.list_policy_devices("pol-1", []) == []


def _pages_of(items, per_page):
    total = len(items)
    page_count = -(-total // per_page)
    chunks = [items[i : i + per_page] for i in range(0, total, per_page)] or [[]]
    return [
        {"items": chunk, "metadata": meta(n, page_count, total, per_page=per_page)}
        for n, chunk in enumerate(chunks, start=1)
    ]


_META_VALUES = st.one_of(st.none(), st.integers(-1, 7), st.booleans(), st.sampled_from(["2", 2.0]))


@st.composite
def page_answers(draw):
    """Honest pages of a device list, then up to three tamperings that lose, repeat or contradict."""
    n = draw(st.integers(0, 9))
    items = devices(*(f"a{i}" for i in range(n)))
    per_page = draw(st.integers(1, 4))
    answers = _pages_of(items, per_page)
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, len(answers) - 1))
        answer = json.loads(json.dumps(answers[index]))
        how = draw(st.sampled_from(["drop_item", "dup_item", "meta", "no_meta", "not_list", "repeat"]))
        listed = answer["items"] if isinstance(answer.get("items"), list) else None
        if how == "drop_item" and listed:
            listed.pop(draw(st.integers(0, len(listed) - 1)))
        elif how == "dup_item" and items and listed is not None:
            listed.append(draw(st.sampled_from(items)))
        elif how == "meta" and "metadata" in answer:
            answer["metadata"][draw(st.sampled_from(sorted(answer["metadata"])))] = draw(_META_VALUES)
        elif how == "no_meta":
            answer.pop("metadata", None)
        elif how == "not_list":
            answer["items"] = {"items": answer.get("items")}
        elif how == "repeat" and index > 0:
            answer = answers[index - 1]
        answers[index] = answer
    return items, per_page, answers


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(case=page_answers())
def test_any_page_answers_give_exactly_all_items_or_raise(case):
    """For any sequence of page answers the hook returns exactly all items, or raises."""
    items, per_page, answers = case
    hook = AddigyHook()
    calls = iter(answers)
    hook._post_query = lambda path, body: next(calls, {"items": [], "metadata": {}})  # type: ignore[method-assign]
    try:
        got = list(hook._pages("o/org-1/devices", {"per_page": per_page}, key="agentid"))
    except AddigyIncompleteReadError:
        return
    # Accepted: every device exactly once (the order of a tampered page may differ, never the set).
    assert sorted(d["agentid"] for d in got) == sorted(d["agentid"] for d in items)


def test_a_device_with_null_facts_is_read_and_maps_by_the_rules(addigy, api):
    api.post(
        BASE + "o/org-1/devices",
        json={
            "items": [{"agentid": "a1", "facts": None}, {"agentid": "", "facts": None}],
            "metadata": meta(1, 1, 2),
        },
    )
    named, unidentified = addigy.list_policy_devices("pol-1", ["device_name"])
    assert named["facts"] is None and named["policy_id"] == "pol-1"
    mapped = map_device(named)  # no facts: named after its agent id, with warnings
    assert mapped.fields["name"] == "a1" and mapped.warnings
    with pytest.raises(DeviceMappingError, match="agentid"):
        map_device(unidentified)  # no agent id either: it cannot have a configuration
