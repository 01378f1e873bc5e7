"""The ConnectWise side over HTTP (TestClient, strict mode): auth, validation, reads, PATCH, tickets."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from .conftest import API, CW, config_body, cw_headers

# ---------------------------------------------------------------- addressing and auth


def test_company_info_answers_the_codebase(client: Any) -> None:
    resp = client.get("/login/companyinfo/demo")
    assert resp.status_code == 200
    info = resp.json()
    assert info["Codebase"] == "v2025_1/"
    assert info["VersionCode"] == "v2025.1"
    assert info["CompanyID"] == "demo"
    assert info["IsCloud"] is False


def test_wrong_company_cannot_route(client: Any) -> None:
    resp = client.get("/login/companyinfo/nobody")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "Cannot route. Codebase/company is invalid"


@pytest.mark.parametrize("codebase", ["v2025_1", "v4_6_release", "v2019_3"])
def test_codebases_accepted(client: Any, codebase: str) -> None:
    resp = client.get(f"/{codebase}/apis/3.0/system/info", headers=cw_headers())
    assert resp.status_code == 200
    assert resp.headers["api-current-version"] == "2025.1"
    assert resp.json()["isCloud"] is False


def test_unknown_codebase_cannot_route(client: Any) -> None:
    resp = client.get("/release/apis/3.0/system/info", headers=cw_headers())
    assert resp.status_code == 404
    assert resp.text == "Cannot route. Codebase/company is invalid"


def test_versioned_media_type_when_asked(cw: CW) -> None:
    resp = cw.get("/system/info", Accept="application/vnd.connectwise.com+json; version=2025.1")
    assert resp.headers["content-type"] == "application/vnd.connectwise.com+json; version=2025.1"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        (cw_headers(private="wrong"), 401, "Unauthorized"),
        (cw_headers(public="wrong"), 401, "Unauthorized"),
        ({"clientId": "3f0b5c2e-1d4a-4c8e-9b7a-2e6f1a9c0d11"}, 401, "Unauthorized"),
        ({"Authorization": "Bearer abc", "clientId": "x"}, 401, "Unauthorized"),
        (
            {
                "Authorization": "Basic " + base64.b64encode(b"demo-public-key:demo-private-key").decode(),
                "clientId": "x",
            },
            401,
            "Unauthorized",
        ),
        (cw_headers(client_id=None), 400, "InvalidClientId"),
        (cw_headers(client_id="00000000-0000-0000-0000-000000000000"), 400, "InvalidClientId"),
    ],
    ids=["private", "public", "no-auth", "bearer", "no-company", "no-client-id", "unknown-client-id"],
)
def test_auth_refusals(client: Any, headers: dict[str, str], status: int, code: str) -> None:
    resp = client.get(API + "/system/info", headers=headers)
    assert resp.status_code == status
    body = resp.json()
    assert body["code"] == code
    assert body["message"]


def test_wrong_company_in_credentials_cannot_route(client: Any) -> None:
    resp = client.get(API + "/system/info", headers=cw_headers(company="other"))
    assert resp.status_code == 404
    assert resp.text == "Cannot route. Codebase/company is invalid"


def test_company_is_case_insensitive(client: Any) -> None:
    assert client.get(API + "/system/info", headers=cw_headers(company="DEMO")).status_code == 200


def test_unknown_entity_is_404(cw: CW) -> None:
    resp = cw.get("/company/configurations/999999")
    assert resp.status_code == 404
    assert resp.json() == {"code": "NotFound", "message": "Configuration with id 999999 not found."}


def test_unimplemented_operation_says_so(cw: CW) -> None:
    resp = cw.client.delete(API + "/company/configurations/5000", headers=cw.headers)
    assert resp.status_code == 501
    assert resp.json()["code"] == "NotImplemented"


# ---------------------------------------------------------------- reads


def test_catalogue_endpoints(cw: CW, seed: Any) -> None:
    boards = cw.get("/service/boards").json()
    assert {b["name"] for b in boards} >= {"Monitoring", "Help Desk", "Projects Archive"}
    mon = seed.boards["Monitoring"]
    assert cw.get(f"/service/boards/{mon}").json()["name"] == "Monitoring"
    statuses = cw.get(f"/service/boards/{mon}/statuses").json()
    by_name = {s["name"]: s for s in statuses}
    assert by_name["New"]["closedStatus"] is False and by_name["Closed"]["closedStatus"] is True
    assert by_name["Legacy Open"]["inactive"] is True
    assert by_name["New"]["board"] == {
        "id": mon,
        "name": "Monitoring",
        "_info": {"board_href": f"http://testserver{API}/service/boards/{mon}"},
    }
    cstat = cw.get("/company/configurations/statuses").json()
    assert all("description" in s and "name" not in s for s in cstat)
    assert {s["description"]: s.get("closedFlag") for s in cstat}["Inactive"] is True
    types = {t["name"]: t for t in cw.get("/company/configurations/types").json()}
    assert types["Legacy Workstation"]["inactiveFlag"] is True
    questions = cw.get(f"/company/configurations/types/{types['Server']['id']}/questions").json()
    assert [(q["question"], q["requiredFlag"], q["inactiveFlag"]) for q in questions] == [
        ("Rack location", True, False),
        ("Warranty contract", False, False),
    ]
    companies = {c["identifier"]: c for c in cw.get("/company/companies", {"pageSize": "100"}).json()}
    assert companies["OldCo"]["deletedFlag"] is True
    assert cw.get(f"/company/companies/{seed.companies['AcmeCorp']}").json()["name"] == "Acme Corporation"


def test_child_list_of_unknown_parent_is_404(cw: CW) -> None:
    resp = cw.get("/service/boards/424242/statuses")
    assert resp.status_code == 404
    assert resp.json()["code"] == "NotFound"


def test_entities_carry_info_and_filled_references(cw: CW, seed: Any) -> None:
    conf = cw.get(f"/company/configurations/{seed.configurations['acme-core-switch']}").json()
    assert conf["company"]["identifier"] == "AcmeCorp"
    assert conf["company"]["name"] == "Acme Corporation"
    assert conf["status"]["name"] == "Active"  # a configuration status reference shows its description
    assert conf["type"]["name"] == "Network Switch"
    assert set(conf["_info"]) >= {"lastUpdated", "updatedBy", "dateEntered", "enteredBy"}
    assert "deviceIdentifier" not in conf  # nulls are omitted


def test_fields_partial_response(cw: CW, seed: Any) -> None:
    acme = seed.companies["AcmeCorp"]
    items = cw.get(
        "/company/configurations", {"conditions": f"company/id={acme}", "fields": "id,name,status/id,company"}
    ).json()
    assert items
    for item in items:
        assert set(item) == {"id", "name", "status", "company"}
        assert set(item["status"]) == {"id"}
        assert item["company"]["identifier"] == "AcmeCorp"  # a whole reference keeps all its members
    one = cw.get(f"/company/configurations/{items[0]['id']}", {"fields": "id,_info/lastUpdated"}).json()
    assert set(one) == {"id", "_info"} and set(one["_info"]) == {"lastUpdated"}


def test_order_by(cw: CW, seed: Any) -> None:
    acme = seed.companies["AcmeCorp"]
    names = [
        c["name"]
        for c in cw.get(
            "/company/configurations",
            {"conditions": f"company/id={acme}", "orderBy": "name desc", "pageSize": "100"},
        ).json()
    ]
    assert names == sorted(names, key=str.casefold, reverse=True)
    resp = cw.get("/company/configurations", {"orderBy": "nope asc"})
    assert resp.status_code == 400 and "unknown field 'nope'" in resp.json()["message"]
    by_company = cw.get(
        "/company/configurations", {"orderBy": "company/name asc, id desc", "pageSize": "100"}
    ).json()
    keys = [(c["company"]["name"].casefold(), -c["id"]) for c in by_company]
    assert keys == sorted(keys)


# ---------------------------------------------------------------- paging


@pytest.fixture
def sixty(rt: Any, seed: Any) -> list[int]:
    """60 configurations of Initech (which has none in the seed)."""
    cw = rt.state.connectwise
    return [
        cw.create_configuration(
            {
                "name": f"Initech-{i:02d}",
                "type": {"id": seed.configuration_types["Desktop"]},
                "company": {"id": seed.companies["Initech"]},
            }
        )["id"]
        for i in range(60)
    ]


def _links(resp: Any) -> dict[str, str]:
    out = {}
    for part in resp.headers.get("Link", "").split(","):
        if part.strip():
            url, rel = part.split(";")
            out[rel.strip().split("=")[1].strip('"')] = url.strip()[1:-1]
    return out


def test_offset_paging_links(cw: CW, seed: Any, sixty: list[int]) -> None:
    cond = f"company/id={seed.companies['Initech']}"
    first = cw.get("/company/configurations", {"conditions": cond, "fields": "id,name"})
    assert len(first.json()) == 25  # default page size
    links = _links(first)
    assert set(links) == {"next", "last"}
    assert "page=2" in links["next"] and "page=3" in links["last"]
    assert "conditions=company%2Fid%3D" in links["next"] and "fields=id%2Cname" in links["next"]
    seen = [c["id"] for c in first.json()]
    url = links["next"]
    while url:
        resp = cw.client.get(url, headers=cw.headers)
        assert resp.status_code == 200
        seen += [c["id"] for c in resp.json()]
        url = _links(resp).get("next")
    assert seen == sixty
    last = cw.get("/company/configurations", {"conditions": cond, "page": "3"})
    assert len(last.json()) == 10
    assert set(_links(last)) == {"first", "prev"}
    assert cw.get("/company/configurations", {"conditions": cond, "page": "9"}).json() == []


def test_full_last_page_has_no_next(cw: CW, seed: Any, sixty: list[int]) -> None:
    cond = f"company/id={seed.companies['Initech']}"
    resp = cw.get("/company/configurations", {"conditions": cond, "pageSize": "30", "page": "2"})
    assert len(resp.json()) == 30
    assert "next" not in _links(resp)
    single = cw.get("/company/configurations", {"conditions": cond, "pageSize": "60"})
    assert len(single.json()) == 60 and "Link" not in single.headers


def test_page_size_is_clamped_to_1000(rt: Any, cw: CW, seed: Any) -> None:
    backend = rt.state.connectwise
    for i in range(1005):
        backend.insert(
            "configurations",
            {
                "name": f"bulk-{i}",
                "company": {"id": seed.companies["Initech"]},
                "type": {"id": seed.configuration_types["Desktop"]},
            },
        )
    resp = cw.get(
        "/company/configurations",
        {"conditions": f"company/id={seed.companies['Initech']}", "pageSize": "5000"},
    )
    assert resp.status_code == 200
    assert len(resp.json()) == 1000
    assert "pageSize=1000" in _links(resp)["next"]


def test_forward_only_paging(cw: CW, seed: Any, sixty: list[int]) -> None:
    cond = f"company/id={seed.companies['Initech']}"
    resp = cw.get(
        "/company/configurations",
        {"conditions": cond, "pageSize": "25"},
        **{"pagination-type": "forward-only"},
    )
    ids = [c["id"] for c in resp.json()]
    assert ids == sixty[:25]
    links = _links(resp)
    assert set(links) == {"next"}
    assert f"pageId={ids[-1]}" in links["next"]
    # a record inserted meanwhile with a higher id is picked up; nothing is skipped or repeated
    extra = cw.post(
        "/company/configurations", config_body(seed, name="late", company={"id": seed.companies["Initech"]})
    )
    seen = ids
    url = links["next"]
    while url:
        page = cw.client.get(url, headers={**cw.headers, "pagination-type": "forward-only"})
        seen += [c["id"] for c in page.json()]
        url = _links(page).get("next")
    assert seen == [*sixty, extra.json()["id"]]


def test_forward_only_refuses_order_by(cw: CW) -> None:
    resp = cw.get("/company/configurations", {"orderBy": "name asc"}, **{"pagination-type": "forward-only"})
    assert resp.status_code == 400
    assert "forward-only" in resp.json()["message"]


# ---------------------------------------------------------------- configuration validation


def test_create_configuration(cw: CW, seed: Any) -> None:
    resp = cw.post(
        "/company/configurations", config_body(seed, deviceIdentifier="agent-1", macAddress="aa:bb")
    )
    assert resp.status_code == 201
    body = resp.json()
    assert body["deviceIdentifier"] == "agent-1"
    assert body["company"]["identifier"] == "AcmeCorp"
    assert body["activeFlag"] is True
    assert body["_info"]["enteredBy"] == "AirflowAPI"
    assert cw.get(f"/company/configurations/{body['id']}").json() == body


def test_default_status_is_the_default_flagged_one(cw: CW, seed: Any) -> None:
    body = config_body(seed)
    body.pop("status")
    resp = cw.post("/company/configurations", body)
    assert resp.json()["status"]["id"] == seed.configuration_statuses["Active"]


def test_required_fields(cw: CW) -> None:
    resp = cw.client.post(API + "/company/configurations", json={"notes": "x"}, headers=cw.headers)
    # strict mode refuses it first (the document lists name, type and company as required) ...
    assert resp.status_code == 400 and "required property" in resp.json()["message"]


def test_required_fields_server_side(loose_cw: CW) -> None:
    resp = loose_cw.post("/company/configurations", {"name": "  "})
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "InvalidObject"
    assert body["message"] == "configuration object is invalid"
    assert {(e["code"], e["field"], e["resource"]) for e in body["errors"]} == {
        ("MissingRequiredField", "name", "configuration"),
        ("MissingRequiredField", "type", "configuration"),
        ("MissingRequiredField", "company", "configuration"),
    }


MAX_LENGTHS = {
    "name": 100,
    "deviceIdentifier": 100,
    "serialNumber": 250,
    "macAddress": 25,
    "ipAddress": 50,
    "osType": 250,
    "osInfo": 250,
    "cpuSpeed": 100,
    "ram": 25,
    "lastLoginName": 100,
    "managementLink": 1000,
    "modelNumber": 50,
}


@pytest.mark.parametrize(("field", "limit"), sorted(MAX_LENGTHS.items()))
def test_max_lengths(cw: CW, seed: Any, field: str, limit: int) -> None:
    ok = cw.post("/company/configurations", config_body(seed, **{field: "x" * limit}))
    assert ok.status_code == 201, ok.text
    resp = cw.post("/company/configurations", config_body(seed, **{field: "x" * (limit + 1)}))
    assert resp.status_code == 400
    assert resp.json()["errors"] == [
        {
            "code": "MaxLengthField",
            "message": f"The field {field} must be a string with a maximum length of {limit}.",
            "resource": "configuration",
            "field": field,
        }
    ]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"company": {"id": 99999}}, "company/id", "NotFound"),
        ({"type": {"id": 99999}}, "type/id", "NotFound"),
        ({"status": {"id": 99999}}, "status/id", "NotFound"),
        ({"company": {"identifier": "NoSuchCo"}}, "company/identifier", "NotFound"),
        ({"vendor": {"id": 99999}}, "vendor/id", "NotFound"),
    ],
)
def test_bad_references(cw: CW, seed: Any, fields: dict[str, Any], field: str, code: str) -> None:
    resp = cw.post("/company/configurations", config_body(seed, **fields))
    assert resp.status_code == 400
    errors = resp.json()["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)]


def test_reference_by_identifier(cw: CW, seed: Any) -> None:
    resp = cw.post("/company/configurations", config_body(seed, company={"identifier": "globex"}))
    assert resp.status_code == 201
    assert resp.json()["company"]["id"] == seed.companies["Globex"]


def test_inactive_and_deleted_references_are_refused(cw: CW, seed: Any) -> None:
    resp = cw.post(
        "/company/configurations",
        config_body(seed, type={"id": seed.configuration_types["Legacy Workstation"]}),
    )
    assert resp.status_code == 400
    assert [(e["code"], e["field"]) for e in resp.json()["errors"]] == [("Inactive", "type/id")]
    resp = cw.post("/company/configurations", config_body(seed, company={"id": seed.companies["OldCo"]}))
    assert resp.status_code == 400
    err = resp.json()["errors"][0]
    assert (err["code"], err["field"]) == ("Inactive", "company/id") and "deleted" in err["message"]


def test_type_with_required_question(cw: CW, seed: Any) -> None:
    server = {"id": seed.configuration_types["Server"]}
    resp = cw.post("/company/configurations", config_body(seed, type=server))
    assert resp.status_code == 400
    err = resp.json()["errors"][0]
    assert (err["code"], err["field"]) == ("MissingRequiredField", "questions")
    assert "Rack location" in err["message"]
    answered = config_body(
        seed,
        type=server,
        questions=[{"questionId": seed.configuration_type_questions["server-rack"], "answer": "R1"}],
    )
    ok = cw.post("/company/configurations", answered)
    assert ok.status_code == 201
    assert ok.json()["questions"][0]["answer"] == "R1"


def test_required_answers_cannot_be_patched_away(cw: CW, seed: Any) -> None:
    conf = seed.configurations["acme-server"]
    resp = cw.patch(f"/company/configurations/{conf}", [{"op": "replace", "path": "questions", "value": []}])
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["field"] == "questions"
    ok = cw.patch(
        f"/company/configurations/{conf}", [{"op": "replace", "path": "name", "value": "ACME-FS01b"}]
    )
    assert ok.status_code == 200 and ok.json()["questions"][0]["answer"] == "Rack 2, U14"


def test_inactive_required_question_is_not_enforced(cw: CW, seed: Any) -> None:
    resp = cw.post(
        "/company/configurations", config_body(seed, type={"id": seed.configuration_types["Laptop"]})
    )
    assert resp.status_code == 201


def test_duplicates_are_allowed(cw: CW, seed: Any) -> None:
    body = config_body(seed, name="Same", deviceIdentifier="same-agent", serialNumber="SAME")
    first = cw.post("/company/configurations", body)
    second = cw.post("/company/configurations", body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    found = cw.get("/company/configurations", {"conditions": 'deviceIdentifier="same-agent"'}).json()
    assert len(found) == 2


def test_unknown_members_ignored_when_not_strict(loose_cw: CW, seed: Any) -> None:
    resp = loose_cw.post(
        "/company/configurations", config_body(seed, deviceId="lost", id=1, _info={"x": "y"})
    )
    assert resp.status_code == 201
    body = resp.json()
    assert "deviceId" not in body and body["id"] != 1


def test_invalid_json_body(cw: CW) -> None:
    resp = cw.client.post(
        API + "/company/configurations",
        content=b"{nope",
        headers={**cw.headers, "Content-Type": "application/json"},
    )
    assert resp.status_code == 400


# ---------------------------------------------------------------- PATCH


def _new_config(cw: CW, seed: Any, **fields: Any) -> dict[str, Any]:
    resp = cw.post("/company/configurations", config_body(seed, serialNumber="S-1", **fields))
    assert resp.status_code == 201
    return resp.json()


def test_patch_replaces_reference_and_scalars(cw: CW, seed: Any) -> None:
    conf = _new_config(cw, seed)
    inactive = seed.configuration_statuses["Inactive"]
    resp = cw.patch(
        f"/company/configurations/{conf['id']}",
        [
            {"op": "replace", "path": "status", "value": {"id": inactive}},
            {"op": "replace", "path": "/name", "value": "Renamed"},
            {"op": "add", "path": "billFlag", "value": True},
            {"op": "remove", "path": "serialNumber"},
        ],
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"]["id"] == inactive and body["status"]["name"] == "Inactive"
    assert body["activeFlag"] is False
    assert body["name"] == "Renamed" and body["billFlag"] is True
    assert "serialNumber" not in body
    assert cw.get(f"/company/configurations/{conf['id']}").json() == body


@pytest.mark.parametrize(
    ("ops", "needle"),
    [
        ([{"op": "replace", "path": "Name", "value": "x"}], "'Name' is not a field"),
        ([{"op": "replace", "path": "nope", "value": "x"}], "'nope' is not a field"),
        ([{"op": "remove", "path": "name"}], "name is required"),
        ([{"op": "replace", "path": "name", "value": "x" * 101}], "maximum length of 100"),
        ([{"op": "replace", "path": "company", "value": {"id": 99999}}], "Company 99999 not found"),
        ([{"op": "replace", "path": "company/identifier", "value": "Globex"}], "Cannot patch nested path"),
        ([{"op": "replace", "path": "id", "value": 1}], "id cannot be changed"),
    ],
)
def test_patch_refusals(cw: CW, seed: Any, ops: list[dict[str, Any]], needle: str) -> None:
    conf = _new_config(cw, seed)
    resp = cw.patch(f"/company/configurations/{conf['id']}", ops)
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "InvalidObject"
    assert needle in body["message"] + " ".join(e["message"] for e in body.get("errors", []))
    assert cw.get(f"/company/configurations/{conf['id']}").json() == conf  # nothing applied


def test_patch_is_atomic(cw: CW, seed: Any) -> None:
    conf = _new_config(cw, seed)
    resp = cw.patch(
        f"/company/configurations/{conf['id']}",
        [
            {"op": "replace", "path": "name", "value": "changed"},
            {"op": "replace", "path": "type", "value": {"id": 0}},
        ],
    )
    assert resp.status_code == 400
    assert cw.get(f"/company/configurations/{conf['id']}").json()["name"] == conf["name"]


def test_patch_unsupported_op(loose_cw: CW, seed: Any) -> None:
    conf = _new_config(loose_cw, seed)
    resp = loose_cw.patch(
        f"/company/configurations/{conf['id']}", [{"op": "move", "from": "name", "path": "notes"}]
    )
    assert resp.status_code == 400 and "not supported" in resp.json()["message"]


def test_patch_value_type_checked_by_server(loose_cw: CW, seed: Any) -> None:
    conf = _new_config(loose_cw, seed)
    resp = loose_cw.patch(
        f"/company/configurations/{conf['id']}", [{"op": "replace", "path": "name", "value": 5}]
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "InvalidField"


def test_nested_patch_can_mimic_the_false_200() -> None:
    from fastapi.testclient import TestClient

    from airflow_provider_connectwise.sandbox import SandboxConfig, create_app

    app = create_app(config=SandboxConfig(nested_patch="ignore"))
    seed = app.state.runtime.state.seed
    with TestClient(app) as c:
        cw = CW(c)
        conf = _new_config(cw, seed)
        resp = cw.patch(
            f"/company/configurations/{conf['id']}",
            [{"op": "replace", "path": "company/identifier", "value": "Globex"}],
        )
        assert resp.status_code == 200
        assert resp.json()["company"]["identifier"] == "AcmeCorp"  # nothing changed


def test_patch_unknown_configuration(cw: CW) -> None:
    resp = cw.patch("/company/configurations/999999", [{"op": "replace", "path": "name", "value": "x"}])
    assert resp.status_code == 404


# ---------------------------------------------------------------- tickets


def _ticket_body(seed: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "summary": "Disk almost full on ACME-01",
        "company": {"id": seed.companies["AcmeCorp"]},
        "board": {"id": seed.boards["Monitoring"]},
        "status": {"id": seed.board_statuses["Monitoring"]["New"]},
        "initialDescription": "Free space is 3%.",
    }
    body.update(fields)
    return body


def test_create_ticket(cw: CW, rt: Any, seed: Any) -> None:
    resp = cw.post("/service/tickets", _ticket_body(seed, externalXRef="alert-1"))
    assert resp.status_code == 201
    t = resp.json()
    assert "initialDescription" not in t
    assert t["closedFlag"] is False
    assert t["status"]["name"] == "New" and t["board"]["name"] == "Monitoring"
    assert t["priority"]["name"] == "Priority 3 - Normal Response"
    assert "initialDescription" not in cw.get(f"/service/tickets/{t['id']}").json()
    assert rt.state.connectwise.ticket_initial_text(t["id"]) == {"initialDescription": "Free space is 3%."}


def test_ticket_defaults_board_and_status(cw: CW, seed: Any) -> None:
    body = _ticket_body(seed)
    body.pop("status")
    t = cw.post("/service/tickets", body).json()
    assert t["status"]["id"] == seed.board_statuses["Monitoring"]["New"]


@pytest.mark.parametrize(
    ("fields", "code", "field", "message"),
    [
        (
            {"summary": "x" * 101},
            "MaxLengthField",
            "summary",
            "The field summary must be a string with a maximum length of 100.",
        ),
        ({"externalXRef": "x" * 101}, "MaxLengthField", "externalXRef", None),
        (
            {"status": {"id": "BOARD2"}},
            "NotFound",
            "status/id",
            "Service Status {s} not found for Service Board {b}",
        ),
        ({"board": {"id": "ARCHIVE"}, "status": {"id": "ARCHIVE_NEW"}}, "Inactive", "board/id", None),
        ({"status": {"id": "LEGACY"}}, "Inactive", "status/id", None),
        ({"company": {"id": "OLDCO"}}, "Inactive", "company/id", None),
        ({"priority": {"id": 77}}, "NotFound", "priority/id", None),
    ],
)
def test_ticket_validation(
    cw: CW, seed: Any, fields: dict[str, Any], code: str, field: str, message: str | None
) -> None:
    subst = {
        "BOARD2": seed.board_statuses["Help Desk"]["New"],
        "ARCHIVE": seed.boards["Projects Archive"],
        "ARCHIVE_NEW": seed.board_statuses["Projects Archive"]["New"],
        "LEGACY": seed.board_statuses["Monitoring"]["Legacy Open"],
        "OLDCO": seed.companies["OldCo"],
    }
    fields = {
        k: ({"id": subst.get(v["id"], v["id"])} if isinstance(v, dict) else v) for k, v in fields.items()
    }
    resp = cw.post("/service/tickets", _ticket_body(seed, **fields))
    assert resp.status_code == 400
    body = resp.json()
    assert body["message"] == "ticket object is invalid"
    err = body["errors"][0]
    assert (err["code"], err["field"], err["resource"]) == (code, field, "ticket")
    if message:
        expected = message.format(s=subst["BOARD2"], b=seed.boards["Monitoring"])
        assert err["message"] == expected


def test_ticket_required_fields_server_side(loose_cw: CW) -> None:
    resp = loose_cw.post("/service/tickets", {"initialDescription": "no summary"})
    fields = {e["field"] for e in resp.json()["errors"]}
    assert resp.status_code == 400 and fields == {"summary", "company"}


def test_close_and_reopen_by_technician(cw: CW, rt: Any, seed: Any) -> None:
    t = cw.post("/service/tickets", _ticket_body(seed)).json()
    closed = rt.state.connectwise.close_ticket(t["id"])
    assert closed["closedFlag"] is True and closed["status"]["name"] == "Resolved"
    assert closed["closedBy"] == "jtech" and closed["closedDate"]
    seen = cw.get(f"/service/tickets/{t['id']}").json()
    assert seen["closedFlag"] is True and seen["_info"]["updatedBy"] == "jtech"
    again = rt.state.connectwise.close_ticket(t["id"], "Closed")
    assert again["status"]["name"] == "Closed"
    reopened = rt.state.connectwise.reopen_ticket(t["id"])
    assert reopened["closedFlag"] is False and "closedDate" not in reopened
    with pytest.raises(ValueError, match="no closed status"):
        rt.state.connectwise.close_ticket(t["id"], "New")


def test_close_ticket_over_admin_http(client: Any, cw: CW, seed: Any) -> None:
    t = cw.post("/service/tickets", _ticket_body(seed)).json()
    resp = client.post(f"/_sandbox/connectwise/tickets/{t['id']}/close", json={"status_name": "Closed"})
    assert resp.status_code == 200 and resp.json()["closedFlag"] is True
    assert client.post("/_sandbox/connectwise/tickets/1/close", json={}).status_code == 404


def test_patch_ticket_status_and_closed_flag(cw: CW, seed: Any) -> None:
    t = cw.post("/service/tickets", _ticket_body(seed)).json()
    closed_id = seed.board_statuses["Monitoring"]["Closed"]
    resp = cw.patch(
        f"/service/tickets/{t['id']}", [{"op": "replace", "path": "status", "value": {"id": closed_id}}]
    )
    assert resp.status_code == 200 and resp.json()["closedFlag"] is True
    other = seed.board_statuses["Help Desk"]["Closed"]
    resp = cw.patch(
        f"/service/tickets/{t['id']}", [{"op": "replace", "path": "status", "value": {"id": other}}]
    )
    assert resp.status_code == 400
    assert (
        resp.json()["errors"][0]["message"]
        == f"Service Status {other} not found for Service Board {seed.boards['Monitoring']}"
    )
    resp = cw.patch(f"/service/tickets/{t['id']}", [{"op": "replace", "path": "closedFlag", "value": False}])
    assert resp.status_code == 400
    resp = cw.patch(
        f"/service/tickets/{t['id']}", [{"op": "replace", "path": "initialDescription", "value": "x"}]
    )
    assert resp.status_code == 400


def test_search_tickets(cw: CW, seed: Any) -> None:
    cw.post("/service/tickets", _ticket_body(seed, summary="Alpha alert", externalXRef="a-1"))
    cw.post("/service/tickets", _ticket_body(seed, summary="Beta alert", externalXRef="b-2"))
    resp = cw.post("/service/tickets/search", {"conditions": 'externalXRef="b-2" and closedFlag=false'})
    assert resp.status_code == 200
    assert [t["summary"] for t in resp.json()] == ["Beta alert"]
    resp = cw.post(
        "/service/tickets/search", {"conditions": 'summary like "*alert"', "orderBy": "summary desc"}
    )
    assert [t["summary"] for t in resp.json()] == ["Beta alert", "Alpha alert"]
    assert cw.post("/service/tickets/search", {"conditions": "bogus=1"}).status_code == 400


def test_ticket_configurations(cw: CW, seed: Any) -> None:
    t = cw.post("/service/tickets", _ticket_body(seed)).json()
    conf = seed.configurations["acme-core-switch"]
    resp = cw.post(f"/service/tickets/{t['id']}/configurations", {"id": conf})
    assert resp.status_code == 201
    assert resp.json()["id"] == conf and resp.json()["deviceIdentifier"] == "ACME-CORE-SW01"
    listed = cw.get(f"/service/tickets/{t['id']}/configurations").json()
    assert [c["id"] for c in listed] == [conf]
    dup = cw.post(f"/service/tickets/{t['id']}/configurations", {"id": conf})
    assert dup.status_code == 400 and dup.json()["errors"][0]["code"] == "ObjectExists"
    missing = cw.post(f"/service/tickets/{t['id']}/configurations", {"id": 424242})
    assert missing.status_code == 400 and missing.json()["errors"][0]["code"] == "NotFound"
    unknown_ticket = cw.post("/service/tickets/1/configurations", {"id": conf})
    assert unknown_ticket.status_code == 404


def test_ticket_configuration_needs_an_id(loose_cw: CW, seed: Any) -> None:
    t = loose_cw.post("/service/tickets", _ticket_body(seed)).json()
    resp = loose_cw.post(f"/service/tickets/{t['id']}/configurations", {})
    assert resp.json() == {
        "code": "InvalidObject",
        "message": "configuration object is invalid",
        "errors": [
            {
                "code": "MissingRequiredField",
                "message": "id or deviceIdentifier is required.",
                "resource": "configuration",
                "field": "id",
            }
        ],
    }


def test_model_getters_raise_connectwise_errors(sandbox_client: Any) -> None:
    from airflow_provider_connectwise.sandbox.exceptions import NotFound

    assert sandbox_client.get("/login/companyinfo/demo").status_code == 200
    backend = sandbox_client.app.state.runtime.state.connectwise
    with pytest.raises(NotFound) as info:
        backend.get_configuration(1)
    status, content_type, body, _ = info.value.render()
    assert (status, content_type) == (404, "application/json; charset=utf-8")
    assert body == b'{"code": "NotFound", "message": "Configuration with id 1 not found."}'
    assert backend.get_company(backend.company("AcmeCorp")["id"])["identifier"] == "AcmeCorp"
