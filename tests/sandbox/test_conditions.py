"""The conditions parser and evaluator: a table of accepted conditions and one of refused ones."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_connectwise.sandbox.conditions import ConditionsError, parse, tokenize
from airflow_provider_connectwise.sandbox.exceptions import BadRequest
from airflow_provider_connectwise.sandbox.models import SandboxState
from airflow_provider_connectwise.sandbox.paging import PageRequest

from .conftest import cw_headers

NAMES = {
    "A": "Alpha Mac",
    "B": "beta laptop",
    "C": 'Bob\'s "Work" Mac\\Book',
    "D": "Delta Desktop  ",
    "E": "Épsilon Mac",
}


@pytest.fixture(scope="module")
def world() -> tuple[SandboxState, dict[str, int]]:
    state = SandboxState.seeded("demo")
    cw, s = state.connectwise, state.seed
    acme, globex = {"id": s.companies["AcmeCorp"]}, {"id": s.companies["Globex"]}
    types, statuses = s.configuration_types, s.configuration_statuses
    specs = {
        "A": dict(
            company=acme,
            type={"id": types["Managed Mac"]},
            serialNumber="S1",
            billFlag=True,
            purchaseDate="2024-01-01T00:00:00Z",
            ipAddress="10.0.0.1",
        ),
        "B": dict(
            company=globex,
            type={"id": types["Laptop"]},
            status={"id": statuses["Inactive"]},
            serialNumber="S2",
            billFlag=False,
            purchaseDate="2025-06-01T12:30:00Z",
        ),
        "C": dict(company=globex, type={"id": types["Managed Mac"]}, serialNumber="S3"),
        "D": dict(
            company=acme, type={"id": types["Desktop"]}, status={"id": statuses["In Repair"]}, billFlag=True
        ),
        "E": dict(company=acme, type={"id": types["Managed Mac"]}, purchaseDate="2023-03-03T03:03:03Z"),
    }
    ids = {}
    for key, spec in specs.items():
        ids[key] = cw.create_configuration({"name": NAMES[key], **spec})["id"]
    return state, ids


def run(world: Any, conditions: str) -> set[str]:
    state, ids = world
    by_id = {v: k for k, v in ids.items()}
    items, _ = state.connectwise.list("configurations", PageRequest(page_size=1000), conditions=conditions)
    return {by_id[i["id"]] for i in items if i["id"] in by_id}


ACCEPTED = [
    ('name="Alpha Mac"', "A"),
    ('name="alpha MAC"', "A"),  # case-insensitive collation
    ('name="Delta Desktop"', "D"),  # trailing spaces ignored by =
    ('name != "Alpha Mac"', "BCDE"),
    ('serialNumber != "S1"', "BC"),  # NULL never matches != (SQL three-valued logic)
    ("serialNumber = null", "DE"),
    ("serialNumber != null", "ABC"),
    ("id = {A}", "A"),
    ("id > {C}", "DE"),
    ("id >= {C}", "CDE"),
    ("id < {B}", "A"),
    ("id <= {B}", "AB"),
    ('name like "*mac"', "AE"),
    ('name like "alpha*"', "A"),
    ('name like "*ta*"', "BD"),
    ('name like "*Mac\\Book"', "C"),  # a backslash is an ordinary character
    ('name not like "*mac"', "BCD"),
    ('name contains "LAPTOP"', "B"),
    ('name not contains "a"', ""),
    ('name contains "\'"', "C"),
    ("id in ({A}, {B})", "AB"),
    ("id not in ({A},{B})", "CDE"),
    ('name in ("alpha mac", "BETA LAPTOP")', "AB"),
    ('serialNumber not in ("S1")', "BC"),
    ("company/id = {acme}", "ADE"),
    ('company/identifier="globex"', "BC"),
    ('company/name like "Acme*"', "ADE"),
    ('status/name = "Inactive"', "B"),
    ('type/name in ("Laptop", "Desktop")', "BD"),
    ("type/id = {mac}", "ACE"),
    ("billFlag = True", "AD"),
    ("billFlag=false", "B"),
    ("billFlag != True", "B"),
    ("activeFlag = False", "B"),
    ("purchaseDate > [2024-06-01T00:00:00Z]", "B"),
    ("purchaseDate < [2024-01-01T00:00:01Z]", "AE"),
    ("purchaseDate = [2025-06-01T14:30:00+02:00]", "B"),  # offsets are normalised to UTC
    ("purchaseDate >= [2024-01-01]", "AB"),
    ("lastUpdated > [2000-01-01T00:00:00Z]", "ABCDE"),
    ("_info/dateEntered < [2000-01-01T00:00:00Z]", ""),
    ('name="Alpha Mac" or name="beta laptop" and billFlag=true', "A"),  # AND binds tighter than OR
    ('(name="Alpha Mac" or name="beta laptop") and billFlag=false', "B"),
    ('name="Alpha Mac" OR (name="beta laptop" AND billFlag=true)', "A"),
    ('not (name="Alpha Mac" or company/id={globex})', "DE"),
    ("not billFlag = true", "B"),  # NULL stays unknown under NOT
    ('NAME="alpha mac" AnD BillFlag=TRUE', "A"),  # keywords and field names are case-insensitive
    ('((name like "*Mac"))and(serialNumber!=null)', "A"),
    ('ipAddress="10.0.0.1" and company/id={acme} and type/id={mac}', "A"),
]


@pytest.mark.parametrize(("conditions", "expected"), ACCEPTED)
def test_accepted_conditions(world: Any, conditions: str, expected: str) -> None:
    state, ids = world
    s = state.seed
    text = conditions.format(
        **ids,
        acme=s.companies["AcmeCorp"],
        globex=s.companies["Globex"],
        mac=s.configuration_types["Managed Mac"],
    )
    assert run(world, text) == set(expected)


REFUSED = [
    ("name=alpha", "unquoted value"),
    ('name="x', "unterminated string"),
    ("name='x'", "double quotes"),
    ('foo="x"', "unknown field 'foo'"),
    ("name = 5", "cannot be compared with a number"),
    ('id = "5"', "cannot be compared with a string"),
    ('(name="x"', "expected ')'"),
    ('name="x" and', "expected a field name"),
    ('name="x" name="y"', "unexpected"),
    ("name like 5", "quoted string"),
    ('id like "5*"', "needs a string field"),
    ("billFlag > True", "only be compared with = or !="),
    ('name="a\\"b"', "unterminated string"),  # no escape: "a\" ends at the 2nd quote, the 3rd opens a new one
    ('name="say \\"hi\\""', "unexpected character"),  # an escaped quote is not an escape
    ("name in ()", "expected a value"),
    ('name <> "x"', "'<>' is not supported"),
    ('name ! "x"', "did you mean"),
    ("purchaseDate > [not-a-date]", "invalid datetime"),
    ('purchaseDate > "2024-01-01"', "cannot be compared with a string"),
    ("name > null", "null can only be compared"),
    ("id in (1, null)", "null is not allowed"),
    ('name not = "x"', "expected like, contains or in after 'not'"),
    ("", "empty conditions"),
    ("questions = 1", "unknown field"),
    ("12abc = 1", "invalid number"),
    ("company = 5", "unknown field 'company'"),
]


@pytest.mark.parametrize(("conditions", "message"), REFUSED)
def test_refused_conditions(world: Any, conditions: str, message: str) -> None:
    state, _ = world
    with pytest.raises(BadRequest) as info:
        state.connectwise.list("configurations", PageRequest(), conditions=conditions or " ")
    assert message in info.value.message
    assert info.value.status == 400
    assert info.value.body()["code"] == "InvalidObject"


def test_tokens_keep_positions_and_raw_text() -> None:
    tokens = tokenize('company/id=12 AND name like "a*"')
    assert [(t.kind, t.value) for t in tokens] == [
        ("FIELD", "company/id"),
        ("OP", "="),
        ("NUMBER", 12),
        ("KEYWORD", "and"),
        ("FIELD", "name"),
        ("KEYWORD", "like"),
        ("STRING", "a*"),
        ("END", None),
    ]
    assert tokens[3].pos == 14


def test_error_names_the_position() -> None:
    with pytest.raises(ConditionsError) as info:
        parse('name="ok" and id=')
    assert info.value.position == len('name="ok" and id=')
    assert "end of conditions" in str(info.value)


def test_bad_conditions_over_http(cw: Any) -> None:
    resp = cw.get("/company/configurations", {"conditions": 'name="a\\"b"'})
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "InvalidObject"
    assert body["message"].startswith("Invalid conditions:")


def test_conditions_are_honoured_over_http(client: Any, seed: Any) -> None:
    acme = seed.companies["AcmeCorp"]
    resp = client.get(
        "/v2025_1/apis/3.0/company/configurations",
        params={"conditions": f'company/id={acme} and type/name="Network Switch"', "pageSize": "50"},
        headers=cw_headers(),
    )
    assert resp.status_code == 200
    assert [c["name"] for c in resp.json()] == ["ACME-CORE-SW01"]
