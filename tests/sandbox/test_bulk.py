"""``POST``/``PUT /company/configurations/bulk``: per-item validation, partial success, 207 body, limit, faults."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_connectwise.sandbox import Sandbox

from .conftest import CW, config_body

BULK = "/company/configurations/bulk"


def put(cw: CW, items: Any) -> Any:
    from .conftest import API

    return cw.client.put(API + BULK, json=items, headers=cw.headers)


def test_creates_every_item_and_answers_207(cw: CW, seed: Any) -> None:
    items = [config_body(seed, name=f"Mac {i}", deviceIdentifier=f"bulk-{i}") for i in range(3)]
    resp = cw.post(BULK, items)
    assert resp.status_code == 207
    payload = resp.json()["payload"]
    assert [r["originalIndex"] for r in payload] == [0, 1, 2]
    assert all(r["success"] and r["statusCode"] == 201 for r in payload)
    for i, result in enumerate(payload):
        stored = cw.get(f"/company/configurations/{result['data']['id']}").json()
        assert stored["deviceIdentifier"] == f"bulk-{i}"
        assert stored["company"]["identifier"] == "AcmeCorp"
        assert stored["_info"]["enteredBy"] == "AirflowAPI"


def test_each_item_is_validated_like_a_single_post(loose_cw: CW, seed: Any) -> None:
    """Partial success: the bad items fail with the errors a single POST of each would get."""
    good = config_body(seed, name="fine", deviceIdentifier="ok-1")
    bad_items = [
        config_body(seed, name="x" * 101),  # too long
        {"name": "no type or company"},  # required fields
        config_body(seed, type={"id": seed.configuration_types["Server"]}),  # required question
        config_body(seed, company={"id": 999_999}),  # unknown company
        "not an object",
    ]
    singles = [loose_cw.post("/company/configurations", item) for item in bad_items]
    before = len(loose_cw.get("/company/configurations", {"pageSize": 1000}).json())
    resp = loose_cw.post(BULK, [bad_items[0], good, *bad_items[1:]])
    assert resp.status_code == 207
    payload = resp.json()["payload"]
    assert payload[1]["success"] is True and payload[1]["statusCode"] == 201
    for single, result in zip(singles, [payload[0], *payload[2:]]):
        assert result["success"] is False
        assert result["statusCode"] == single.status_code == 400
        assert result["error"]["code"] == single.json()["code"]
        assert result["error"]["message"] == single.json()["message"]
        assert result["error"]["errors"] == (single.json().get("errors") or [])
    after = loose_cw.get("/company/configurations", {"pageSize": 1000}).json()
    assert len(after) == before + 1


def test_body_must_be_an_array(loose_cw: CW, seed: Any) -> None:
    resp = loose_cw.post(BULK, config_body(seed))
    assert resp.status_code == 400 and "array" in resp.json()["message"]


def test_strict_mode_checks_the_array_against_the_document(cw: CW, seed: Any) -> None:
    resp = cw.post(BULK, [config_body(seed, bogusField=1)])
    assert resp.status_code == 400 and "contract" in resp.json()["message"]


def test_too_many_items_answer_413_and_write_nothing(cw: CW, seed: Any, rt: Any) -> None:
    rt.config.bulk_max_items = 3
    before = len(rt.state.connectwise.configurations)
    resp = cw.post(BULK, [config_body(seed, name=f"m{i}") for i in range(4)])
    assert resp.status_code == 413
    assert resp.json()["code"] == "RequestTooLarge" and "at most 3" in resp.json()["message"]
    assert len(rt.state.connectwise.configurations) == before
    assert cw.post(BULK, [config_body(seed, name=f"m{i}") for i in range(3)]).status_code == 207


def test_put_replaces_whole_records(cw: CW, seed: Any) -> None:
    created = cw.post(
        "/company/configurations", config_body(seed, name="Old", serialNumber="SN1", notes="keep?")
    ).json()
    item = config_body(seed, id=created["id"], name="New")
    resp = put(cw, [item, config_body(seed, id=987_654), config_body(seed)])
    assert resp.status_code == 207
    ok, missing, no_id = resp.json()["payload"]
    assert ok == {"success": True, "originalIndex": 0, "statusCode": 200, "data": {"id": created["id"]}}
    assert missing["statusCode"] == 404 and missing["error"]["code"] == "NotFound"
    assert no_id["statusCode"] == 400 and no_id["error"]["errors"][0]["field"] == "id"
    stored = cw.get(f"/company/configurations/{created['id']}").json()
    assert stored["name"] == "New"
    assert "serialNumber" not in stored and "notes" not in stored  # left out: cleared
    assert stored["_info"]["dateEntered"] == created["_info"]["dateEntered"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.builds(lambda n: {"name": n}, st.text(max_size=120)),
            st.none(),
            st.integers(),
            st.builds(
                lambda n: {"name": n, "good": True}, st.text(min_size=1, max_size=100).filter(str.strip)
            ),
        ),
        max_size=8,
    )
)
def test_one_result_per_item_whatever_the_items(loose_cw: CW, seed: Any, items: list[Any]) -> None:
    """Any JSON item gets exactly one result in its place; only valid ones are created."""
    body = [config_body(seed, name=i["name"]) if isinstance(i, dict) and i.get("good") else i for i in items]
    resp = loose_cw.post(BULK, body)
    assert resp.status_code == 207
    payload = resp.json()["payload"]
    assert [r["originalIndex"] for r in payload] == list(range(len(body)))
    for item, result in zip(body, payload):
        assert result["success"] is (isinstance(item, dict) and "type" in item)
        assert ("data" in result) is result["success"] and ("error" in result) is not result["success"]


def _bulk(sb: Sandbox, names: list[str]) -> requests.Response:
    s = sb.seed
    items = [
        {
            "name": n,
            "type": {"id": s.configuration_types["Managed Mac"]},
            "company": {"id": s.companies["Initech"]},
        }
        for n in names
    ]
    return requests.post(sb.api_url + BULK, json=items, headers=sb.connectwise_headers(), timeout=10)


@pytest.mark.parametrize("kind", ["503", "429", "500"])
def test_faults_refuse_the_whole_request(sandbox: Sandbox, kind: str) -> None:
    before = len(sandbox.state.connectwise.configurations)
    sandbox.queue_fault(kind, path_contains="/bulk")
    assert _bulk(sandbox, ["f1", "f2"]).status_code == int(kind)
    assert len(sandbox.state.connectwise.configurations) == before
    assert sandbox.count("POST", BULK) == 1


@pytest.mark.parametrize(("kind", "status"), [("lost", None), ("lost-504", 504)])
def test_lost_after_commit_applies_every_item(sandbox: Sandbox, kind: str, status: int | None) -> None:
    sandbox.queue_fault(kind, path_contains="/bulk")
    if status is None:
        with pytest.raises(requests.ConnectionError):
            _bulk(sandbox, ["lost-a", "lost-b"])
    else:
        assert _bulk(sandbox, ["lost-a", "lost-b"]).status_code == status
    for name in ("lost-a", "lost-b"):
        assert len(sandbox.state.connectwise.find("configurations", name=name)) == 1


def test_latency_applies(sandbox: Sandbox) -> None:
    import time

    sandbox.set_latency(150)
    t0 = time.perf_counter()
    assert _bulk(sandbox, ["slow"]).status_code == 207
    assert time.perf_counter() - t0 >= 0.15
