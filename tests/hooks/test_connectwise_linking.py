"""ConnectWiseHook's company search and sites: what is sent (checked against the official document)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.hooks.conftest import API

COMPANIES = [
    {
        "id": 1,
        "identifier": "Acme",
        "name": "Acme",
        "status": {"name": "Active"},
        "types": [{"name": "Client"}],
    },
    {
        "id": 2,
        "identifier": "AcmeV",
        "name": "Acme Vendor",
        "status": {"name": "Active"},
        "types": [{"name": "Vendor"}],
    },
    {
        "id": 3,
        "identifier": "Acme3",
        "name": "Acme Three",
        "status": {"name": "Active"},
        "types": "not a list",
    },
]


def sent(cw_api) -> dict[str, list[str]]:
    return parse_qs(urlsplit(cw_api.last_request.url).query)


def test_search_is_server_side_active_and_never_deleted(hook, cw_api):
    cw_api.get(API + "company/companies", json=COMPANIES[:1])
    assert [c["id"] for c in hook.search_companies("Ac me")] == [1]
    query = sent(cw_api)
    assert query["conditions"] == [
        '(deletedFlag = False AND (name contains "Ac me" OR identifier contains "Ac me")) AND status/name = "Active"'
    ]
    assert query["orderBy"] == ["name asc"]


def test_any_status_and_a_type_matched_over_the_pages(hook, cw_api):
    cw_api.get(API + "company/companies", json=COMPANIES)
    assert [c["id"] for c in hook.search_companies("", status=None, company_type="vendor")] == [2]
    assert sent(cw_api)["conditions"] == ["deletedFlag = False"]


def test_text_that_cannot_be_quoted_is_matched_here(hook, cw_api):
    cw_api.get(API + "company/companies", json=[{**COMPANIES[0], "name": 'Acme "Q"'}, COMPANIES[1]])
    assert [c["id"] for c in hook.search_companies('"q"')] == [1]
    assert '"q"' not in sent(cw_api)["conditions"][0].lower().replace('"active"', "")


def test_search_stops_at_the_limit(hook, cw_api):
    cw_api.get(API + "company/companies", json=COMPANIES)
    assert len(hook.search_companies("", limit=2)) == 2


def test_sites_of_a_company(hook, cw_api):
    cw_api.get(API + "company/companies/7/sites", json=[{"id": 30, "name": "Main", "inactiveFlag": False}])
    assert hook.list_company_sites(7) == [{"id": 30, "name": "Main", "inactiveFlag": False}]
    assert sent(cw_api)["fields"] == ["id,name,inactiveFlag"]
