"""``contract.py`` (the public helper other tests use) and strict mode on the server."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from airflow_provider_connectwise.sandbox.contract import (
    ContractViolation,
    match_operation,
    spec_templates,
    validate_connectwise_request,
)
from airflow_provider_connectwise.sandbox.spec import connectwise_spec, max_lengths, raw_spec

from .conftest import CW, config_body

BASE = "https://api-na.myconnectwise.net/v2025_1/apis/3.0"
AUTH = "Basic " + base64.b64encode(b"demo+demo-public-key:demo-private-key").decode()
HEADERS = {
    "Authorization": AUTH,
    "clientId": "3f0b5c2e-1d4a-4c8e-9b7a-2e6f1a9c0d11",
    "Content-Type": "application/json",
}
CONFIG = {"name": "Mac", "type": {"id": 1}, "company": {"id": 2}}

VALID = [
    (
        "GET",
        "/company/configurations?conditions=company%2Fid%3D12&pageSize=1000&fields=id,name,status/id",
        None,
    ),
    ("GET", "/company/configurations?page=2&pageSize=25&orderBy=name%20asc", None),
    ("GET", "/company/configurations/statuses", None),
    ("GET", "/company/configurations/types/7/questions", None),
    ("GET", "/company/configurations/12", None),
    ("GET", "/service/boards/3/statuses?pageId=100", None),
    ("GET", "/system/info", None),
    ("POST", "/company/configurations", CONFIG),
    (
        "POST",
        "/company/configurations",
        {
            **CONFIG,
            "questions": [{"questionId": 1, "answer": "Rack 1"}],
            "purchaseDate": "2025-01-31T10:00:00Z",
            "billFlag": None,
        },
    ),
    (
        "PATCH",
        "/company/configurations/12",
        [
            {"op": "replace", "path": "status", "value": {"id": 7}},
            {"op": "replace", "path": "name", "value": "x"},
            {"op": "replace", "path": "billFlag", "value": False},
            {"op": "remove", "path": "serialNumber"},
        ],
    ),
    ("POST", "/service/tickets", {"summary": "s", "company": {"id": 1}, "initialDescription": "d"}),
    ("PATCH", "/service/tickets/5", [{"op": "replace", "path": "status", "value": {"id": 3}}]),
    ("POST", "/service/tickets/search", {"conditions": "id=1", "orderBy": "id desc"}),
    ("POST", "/service/tickets/5/configurations", {"id": 12}),
]


@pytest.mark.parametrize(("method", "path", "body"), VALID)
def test_valid_requests(method: str, path: str, body: Any) -> None:
    validate_connectwise_request(method, BASE + path, HEADERS, json.dumps(body) if body is not None else None)


INVALID = [
    ("GET", "/company/configurations?pagesize=10", None, HEADERS, "unknown query parameter(s) pagesize"),
    ("GET", "/company/configurations?pageSize=ten", None, HEADERS, "pageSize"),
    ("GET", "/company/configurations?pageSize=99999999999", None, HEADERS, "pageSize"),
    ("GET", "/company/configurations", None, {"Authorization": AUTH}, "clientId"),
    ("GET", "/company/configurations", None, {"clientId": "x"}, "missing Authorization"),
    (
        "GET",
        "/system/info",
        None,
        {**HEADERS, "Authorization": "Basic " + base64.b64encode(b"pub:priv").decode()},
        "company+publicKey:privateKey",
    ),
    ("GET", "/system/info", None, {**HEADERS, "Authorization": "Bearer x"}, "Basic"),
    ("GET", "/company/configurations/abc", None, HEADERS, "id"),
    ("GET", "/company/nothing", None, HEADERS, "no such path"),
    ("DELETE", "/service/tickets/search", None, HEADERS, "not an operation"),
    (
        "POST",
        "/company/configurations",
        {**CONFIG, "name": 5},
        HEADERS,
        "body name: 5 is not of type 'string'",
    ),
    (
        "POST",
        "/company/configurations",
        {"name": "x", "type": {"id": 1}},
        HEADERS,
        "'company' is a required property",
    ),
    ("POST", "/company/configurations", {**CONFIG, "deviceId": "x"}, HEADERS, "'deviceId' was unexpected"),
    ("POST", "/company/configurations", {**CONFIG, "serialNumber": None}, HEADERS, "body serialNumber"),
    ("POST", "/company/configurations", {**CONFIG, "company": {"id": "2"}}, HEADERS, "body company/id"),
    ("POST", "/company/configurations", {**CONFIG, "purchaseDate": "yesterday"}, HEADERS, "date-time"),
    ("POST", "/company/configurations", None, HEADERS, "body is required"),
    ("POST", "/company/configurations", CONFIG, {**HEADERS, "Content-Type": "text/plain"}, "Content-Type"),
    (
        "PATCH",
        "/company/configurations/1",
        {"op": "replace", "path": "name", "value": "x"},
        HEADERS,
        "not of type 'array'",
    ),
    (
        "PATCH",
        "/company/configurations/1",
        [{"op": "replace", "path": 5, "value": "x"}],
        HEADERS,
        "body 0/path",
    ),
    ("POST", "/service/tickets", {"summary": "s"}, HEADERS, "'company' is a required property"),
    (
        "POST",
        "/service/tickets",
        {"summary": "s", "company": {"id": 1}, "severity": "Huge"},
        HEADERS,
        "severity",
    ),
    (
        "POST",
        "/service/tickets/search?pageSize=10",
        {"conditions": "id=1"},
        HEADERS,
        "unknown query parameter(s) pageSize",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "needle"), INVALID)
def test_invalid_requests(method: str, path: str, body: Any, headers: dict[str, str], needle: str) -> None:
    with pytest.raises(ContractViolation) as info:
        validate_connectwise_request(
            method, BASE + path, headers, json.dumps(body) if body is not None else None
        )
    assert needle in str(info.value)


def test_url_shape_is_checked() -> None:
    with pytest.raises(ContractViolation, match=r"no 'apis/3\.0' segment"):
        validate_connectwise_request("GET", "https://x/v2025_1/api/3.0/system/info", HEADERS, None)
    with pytest.raises(ContractViolation, match="codebase"):
        validate_connectwise_request("GET", "https://x/apis/3.0/system/info", HEADERS, None)
    validate_connectwise_request("GET", "https://x/v4_6_release/apis/3.0/system/info", HEADERS, None)


def test_headers_any_case_and_bytes_body() -> None:
    headers = {k.lower(): v for k, v in HEADERS.items()}
    validate_connectwise_request(
        "post", BASE + "/company/configurations", headers, json.dumps(CONFIG).encode()
    )


def test_match_operation_prefers_literal_paths() -> None:
    assert match_operation("/company/configurations/statuses").template == "/company/configurations/statuses"
    match = match_operation("/company/configurations/12")
    assert match.template == "/company/configurations/{id}" and match.path_params == {"id": "12"}
    assert match_operation("/service/tickets/search").template == "/service/tickets/search"
    assert match_operation("/nope") is None
    assert "/service/tickets/{parentId}/configurations" in spec_templates()


def test_spec_file_is_not_modified_and_patch_value_is_loosened() -> None:
    assert raw_spec()["components"]["schemas"]["PatchOperation"]["properties"]["value"] == {"type": "object"}
    assert connectwise_spec()["components"]["schemas"]["PatchOperation"]["properties"]["value"] == {
        "nullable": True
    }
    assert max_lengths("Company.Configuration")["macAddress"] == 25
    assert max_lengths("Ticket")["summary"] == 100


def test_validation_is_fast() -> None:
    body = json.dumps(CONFIG)
    validate_connectwise_request("POST", BASE + "/company/configurations", HEADERS, body)
    started = time.monotonic()
    for i in range(1000):
        validate_connectwise_request(
            "GET", BASE + f"/company/configurations?conditions=id%3D{i}&page={i % 9 + 1}", HEADERS, None
        )
        validate_connectwise_request("POST", BASE + "/company/configurations", HEADERS, body)
    assert time.monotonic() - started < 10  # typically ~0.5 s for these 2000 validations


def test_with_requests_mock_history() -> None:
    requests_mock = pytest.importorskip("requests_mock")
    import requests

    with requests_mock.Mocker() as m:
        m.post(BASE + "/company/configurations", status_code=201, json={"id": 1})
        m.get(BASE + "/company/configurations", json=[])
        session = requests.Session()
        session.headers.update({"Authorization": AUTH, "clientId": "x"})
        session.post(BASE + "/company/configurations", json=CONFIG)
        session.get(BASE + "/company/configurations", params={"conditions": 'name="a b"', "pageSize": 1000})
        session.post(BASE + "/company/configurations", data=json.dumps(CONFIG))  # no Content-Type
        history = m.request_history
    validate_connectwise_request(history[0].method, history[0].url, history[0].headers, history[0].body)
    validate_connectwise_request(history[1].method, history[1].url, history[1].headers, history[1].body)
    with pytest.raises(ContractViolation, match="Content-Type"):
        validate_connectwise_request(history[2].method, history[2].url, history[2].headers, history[2].body)


# ---------------------------------------------------------------- strict mode on the server


def test_strict_server_refuses_contract_violations(cw: CW, seed: Any) -> None:
    resp = cw.post("/company/configurations", config_body(seed, name=5))
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "InvalidObject"
    assert "body name: 5 is not of type 'string'" in body["message"]
    resp = cw.get("/company/configurations", {"pagesize": "5"})
    assert resp.status_code == 400 and "pagesize" in resp.json()["message"]
    resp = cw.post("/company/configurations", config_body(seed, serialNumber=None))
    assert resp.status_code == 400 and "serialNumber" in resp.json()["message"]
    resp = cw.client.get(
        "/v2025_1/apis/3.0/system/info", headers={"Authorization": cw.headers["Authorization"]}
    )
    assert resp.status_code == 400 and resp.json()["code"] == "InvalidClientId"


def test_strict_server_accepts_correct_requests(cw: CW, seed: Any) -> None:
    resp = cw.post("/company/configurations", config_body(seed))
    assert resp.status_code == 201
    patch = cw.patch(
        f"/company/configurations/{resp.json()['id']}", [{"op": "replace", "path": "ram", "value": "16 GB"}]
    )
    assert patch.status_code == 200 and patch.json()["ram"] == "16 GB"


def test_non_strict_server_ignores_what_the_real_one_ignores(loose_cw: CW, seed: Any) -> None:
    resp = loose_cw.get("/company/configurations", {"pagesize": "2", "unknown": "1"})
    assert resp.status_code == 200 and len(resp.json()) == 2  # names are case-insensitive on the real server
    resp = loose_cw.post("/company/configurations", config_body(seed, serialNumber=None))
    assert resp.status_code == 201 and "serialNumber" not in resp.json()
