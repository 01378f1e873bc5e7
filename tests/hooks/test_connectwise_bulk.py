"""``ConnectWiseHook.create_configurations``: chunks, halving, read-back, lost answers, fallback.

Most tests drive the real hook against the strict sandbox (every request checked against the
official document); the 207 body's shape and the missing route are mocked with requests-mock.
"""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_connectwise.exceptions import ConnectWiseNotFoundError
from airflow_provider_connectwise.hooks._http import RetryPolicy
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook
from airflow_provider_connectwise.sandbox.testing import sandbox, sandbox_server  # noqa: F401
from tests.hooks.conftest import API

BULK = "/company/configurations/bulk"


@pytest.fixture
def sb(sandbox, monkeypatch):  # noqa: F811
    for key, value in sandbox.airflow_env(form="json").items():
        monkeypatch.setenv(key, value)
    return sandbox


def make_hook(chunk_size: int = 200, conn_id: str = "connectwise_default") -> ConnectWiseHook:
    hook = ConnectWiseHook(
        conn_id,
        requests_per_minute=None,
        bulk_chunk_size=chunk_size,
        retry=RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02),
    )
    hook.client.sleep = lambda seconds: None
    return hook


def bodies(sb, n: int, company: str = "Initech", prefix: str = "bulk-agent") -> list[dict]:
    s = sb.seed
    return [
        {
            "name": f"Mac {i}",
            "deviceIdentifier": f"{prefix}-{i}",
            "managementLink": f"https://app.addigy.com/devices/{prefix}-{i}",
            "type": {"id": s.configuration_types["Managed Mac"]},
            "company": {"id": s.companies[company]},
            "status": {"id": s.configuration_statuses["Active"]},
        }
        for i in range(n)
    ]


def stored(sb, agentid: str) -> list[dict]:
    return sb.state.connectwise.find("configurations", deviceIdentifier=agentid)


def test_chunks_and_reads_back_every_device(sb):
    items = bodies(sb, 7)
    results = make_hook(chunk_size=3).create_configurations(items)
    assert sb.count("POST", BULK) == 3  # 3 + 3 + 1
    for body, result in zip(items, results):
        (configuration,) = stored(sb, body["deviceIdentifier"])
        assert result.error is None and result.id == configuration["id"]
        assert result.configuration["deviceIdentifier"] == body["deviceIdentifier"]
    reads = [
        e for e in sb.request_log() if e["method"] == "GET" and e["template"] == "/company/configurations"
    ]
    assert len(reads) == 3  # one read-back per chunk
    assert all("deviceIdentifier in" in dict(e["query"])["conditions"] for e in reads)
    assert sb.count("POST", "/company/configurations") == 0


def test_a_chunk_refused_as_too_large_is_halved_and_the_size_learned(sb, monkeypatch):
    monkeypatch.setattr(sb.config, "bulk_max_items", 2)
    items = bodies(sb, 9)
    hook = make_hook(chunk_size=8)
    results = hook.create_configurations(items)
    assert all(r.error is None for r in results)
    assert all(len(stored(sb, b["deviceIdentifier"])) == 1 for b in items)
    statuses = [e["status"] for e in sb.request_log() if e["template"] == BULK]
    assert statuses.count(413) == 2  # 8 -> 4 -> 2; the last chunk of one starts at the learned size
    assert hook._bulk.chunk_size == 2


def test_each_device_gets_connectwise_s_own_error(sb):
    items = bodies(sb, 4)
    items[1]["company"] = {"id": 987_654}  # unknown company: that item only
    items[2]["type"] = {"id": sb.seed.configuration_types["Server"]}  # required questions
    results = make_hook().create_configurations(items)
    assert [r.error is None for r in results] == [True, False, False, True]
    assert results[1].error.code == "InvalidObject"
    assert results[1].error.errors[0]["field"] == "company/id"
    assert results[2].error.errors[0]["field"] == "questions"
    assert "requires an answer" in str(results[2].error)
    assert sb.count("POST", BULK) == 1
    assert stored(sb, items[1]["deviceIdentifier"]) == []


def test_a_body_the_contract_refuses_fails_only_its_own_device(sb):
    items = bodies(sb, 4)
    items[3]["bogus"] = "x"  # strict mode refuses the whole request: halving isolates it
    results = make_hook().create_configurations(items)
    assert [r.error is None for r in results] == [True, True, True, False]
    assert "bogus" in str(results[3].error)
    assert all(len(stored(sb, b["deviceIdentifier"])) == 1 for b in items[:3])


@pytest.mark.parametrize("fault", ["lost", "lost-500", "lost-504", "503"])
def test_a_lost_answer_is_looked_up_not_re_sent(sb, fault):
    items = bodies(sb, 5)
    sb.queue_fault(fault, path_contains="/bulk")
    results = make_hook().create_configurations(items)
    assert all(r.error is None for r in results)
    for body, result in zip(items, results):
        (configuration,) = stored(sb, body["deviceIdentifier"])
        assert result.id == configuration["id"]
    posts = [e for e in sb.request_log() if e["template"] == BULK]
    # a 503 wrote nothing: the look-up finds nobody and the chunk goes again, once
    assert len(posts) == (2 if fault == "503" else 1)


def test_after_a_lost_answer_only_the_absent_devices_are_sent_again(hook, cw_api, caplog):
    items = [
        {"name": f"m{i}", "deviceIdentifier": f"a{i}", "type": {"id": 1}, "company": {"id": 5}}
        for i in range(3)
    ]
    cw_api.post(
        API + "company/configurations/bulk",
        [{"status_code": 504, "text": "Gateway Timeout"}, {"status_code": 207, "json": {}}],
    )
    found = [{"id": 70, "deviceIdentifier": "a1", "company": {"id": 5}}]
    later = found + [
        {"id": 71, "deviceIdentifier": "a0", "company": {"id": 5}},
        {"id": 72, "deviceIdentifier": "a2", "company": {"id": 5}},
    ]
    cw_api.get(API + "company/configurations", [{"json": found}, {"json": later}])
    results = hook.create_configurations(items)
    assert [r.id for r in results] == [71, 70, 72]
    posts = [r for r in cw_api.request_history if r.method == "POST"]
    assert [[b["deviceIdentifier"] for b in json.loads(p.body)] for p in posts] == [
        ["a0", "a1", "a2"],
        ["a0", "a2"],
    ]


def test_the_207_body_is_never_trusted_alone(hook, cw_api):
    """A 207 that claims success but whose configuration cannot be read back is no link; an odd
    body shape (the document's one Configuration) is ignored in favour of the read-back."""
    items = [
        {"name": f"m{i}", "deviceIdentifier": f"b{i}", "type": {"id": 1}, "company": {"id": 5}}
        for i in range(2)
    ]
    cw_api.post(
        API + "company/configurations/bulk", status_code=207, json={"id": 1, "name": "one configuration"}
    )
    cw_api.get(
        API + "company/configurations", json=[{"id": 9, "deviceIdentifier": "B0", "company": {"id": 5}}]
    )
    first, second = hook.create_configurations(items)
    assert first.id == 9  # matched case-insensitively, as ConnectWise compares
    assert second.configuration is None and "is not in ConnectWise" in str(second.error)


def test_a_device_found_in_another_company_is_not_linked(hook, cw_api):
    items = [{"name": "m", "deviceIdentifier": "c0", "type": {"id": 1}, "company": {"id": 5}}]
    cw_api.post(
        API + "company/configurations/bulk",
        status_code=207,
        json={"payload": [{"success": True, "originalIndex": 0, "statusCode": 201, "data": {"id": 3}}]},
    )
    cw_api.get(
        API + "company/configurations", json=[{"id": 3, "deviceIdentifier": "c0", "company": {"id": 6}}]
    )
    (result,) = hook.create_configurations(items)
    assert result.error is not None


@pytest.mark.parametrize("status", [404, 405, 501])
def test_no_bulk_route_falls_back_to_one_post_per_device_once(hook, cw_api, caplog, status):
    cw_api.post(
        API + "company/configurations/bulk", status_code=status, json={"code": "NotFound", "message": "x"}
    )
    ids = iter(range(100, 200))
    cw_api.post(
        API + "company/configurations",
        json=lambda request, context: {"id": next(ids), **json.loads(request.body)},
        status_code=201,
    )
    items = [
        {"name": f"m{i}", "deviceIdentifier": f"d{i}", "type": {"id": 1}, "company": {"id": 5}}
        for i in range(3)
    ]
    with caplog.at_level(logging.WARNING):
        first = hook.create_configurations(items[:2])
        second = hook.create_configurations(items[2:])
    assert [r.id for r in first + second] == [100, 101, 102]
    bulk_posts = [r for r in cw_api.request_history if r.url.endswith("/bulk")]
    assert len(bulk_posts) == 1  # detected once per hook
    assert sum("one POST per device" in r.getMessage() for r in caplog.records) == 1


def test_fallback_posts_keep_their_own_errors(hook, cw_api):
    cw_api.post(
        API + "company/configurations/bulk", status_code=404, json={"code": "NotFound", "message": "x"}
    )
    cw_api.post(
        API + "company/configurations",
        [
            {"status_code": 201, "json": {"id": 1}},
            {
                "status_code": 400,
                "json": {
                    "code": "InvalidObject",
                    "message": "bad",
                    "errors": [{"field": "name", "message": "long"}],
                },
            },
        ],
    )
    items = [
        {"name": f"m{i}", "deviceIdentifier": f"e{i}", "type": {"id": 1}, "company": {"id": 5}}
        for i in range(2)
    ]
    ok, bad = hook.create_configurations(items)
    assert ok.id == 1 and bad.error.errors == [{"field": "name", "message": "long"}]


def test_item_errors_keep_their_status(hook, cw_api):
    cw_api.post(
        API + "company/configurations/bulk",
        status_code=207,
        json={
            "payload": [
                {
                    "success": False,
                    "originalIndex": 0,
                    "statusCode": 404,
                    "error": {"code": "NotFound", "message": "gone"},
                }
            ]
        },
    )
    cw_api.get(API + "company/configurations", json=[])
    (result,) = hook.create_configurations(
        [{"name": "m", "deviceIdentifier": "f0", "type": {"id": 1}, "company": {"id": 5}}]
    )
    assert isinstance(result.error, ConnectWiseNotFoundError) and result.error.status == 404


def test_chunk_size_must_be_positive(cw_conn):
    with pytest.raises(ValueError, match="chunk_size"):
        ConnectWiseHook(cw_conn, bulk_chunk_size=0)


def test_agent_ids_that_cannot_be_quoted_are_read_back_by_company(sb):
    items = bodies(sb, 3)
    items[0]["deviceIdentifier"] = 'odd"agent\\1'
    items[1]["deviceIdentifier"] = 'odd"agent\\2'
    results = make_hook().create_configurations(items)
    assert all(r.error is None for r in results)
    assert [r.configuration["deviceIdentifier"] for r in results] == [b["deviceIdentifier"] for b in items]
    reads = [
        dict(e["query"])["conditions"] for e in sb.request_log() if e["template"] == "/company/configurations"
    ]
    assert all('"' not in c.replace('"bulk-agent-2"', "") for c in reads), reads  # no raw outside string
    assert len(reads) == 2  # the safe id's condition, and one read of the company
