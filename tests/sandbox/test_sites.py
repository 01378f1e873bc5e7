"""Company sites in the sandbox: listed per company with ConnectWise's paging, conditions and 404s."""

from __future__ import annotations

from typing import Any

from tests.sandbox.conftest import CW


def test_sites_are_listed_per_company(cw: CW, seed: Any) -> None:
    acme, globex = seed.companies["AcmeCorp"], seed.companies["Globex"]
    response = cw.get(f"/company/companies/{acme}/sites", {"fields": "id,name,company/id"})
    assert response.status_code == 200
    assert response.json() == [
        {"id": seed.notes["sites"]["AcmeCorp/Main"], "name": "Main", "company": {"id": acme}},
        {
            "id": seed.notes["sites"]["AcmeCorp/Branch Office"],
            "name": "Branch Office",
            "company": {"id": acme},
        },
    ]
    assert [s["name"] for s in cw.get(f"/company/companies/{globex}/sites").json()] == ["Main"]


def test_sites_page_and_filter_like_any_list(cw: CW, seed: Any) -> None:
    acme = seed.companies["AcmeCorp"]
    first = cw.get(f"/company/companies/{acme}/sites", {"pageSize": 1, "page": 1})
    assert len(first.json()) == 1 and 'rel="next"' in first.headers["link"]
    named = cw.get(f"/company/companies/{acme}/sites", {"conditions": 'name = "Branch Office"'})
    assert [s["name"] for s in named.json()] == ["Branch Office"]
    bad = cw.get(f"/company/companies/{acme}/sites", {"conditions": "nosuchfield = 1"})
    assert bad.status_code == 400


def test_one_site_belongs_to_its_company(cw: CW, seed: Any) -> None:
    acme, globex = seed.companies["AcmeCorp"], seed.companies["Globex"]
    site = seed.notes["sites"]["AcmeCorp/Main"]
    assert cw.get(f"/company/companies/{acme}/sites/{site}").json()["name"] == "Main"
    other = cw.get(f"/company/companies/{globex}/sites/{site}")
    assert other.status_code == 404 and other.json()["code"] == "NotFound"


def test_sites_of_an_unknown_company_are_404(cw: CW) -> None:
    response = cw.get("/company/companies/99999/sites")
    assert response.status_code == 404
    assert response.json()["message"] == "Company with id 99999 not found."
