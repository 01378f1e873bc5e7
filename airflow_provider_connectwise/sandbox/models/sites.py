"""Company sites (``/company/companies/{parentId}/sites``): state only, like moto's per-resource models.

A site belongs to one company (``company/id``); listing the sites of a company that does not
exist answers ConnectWise's 404. The demo seed gives every client company a ``Main`` site and
AcmeCorp a second one, ``Branch Office``.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import NotFound
from ..paging import Page, PageRequest
from .resources import COMPANY_REF, RefSpec, Resource

Record = dict[str, Any]

SITES = Resource(
    "sites",
    "companySite",
    "Company Site",
    "CompanySite",
    "company/companies/{company}/sites/{id}",
    refs={
        "company": COMPANY_REF,
        "stateReference": RefSpec(None, info_key="state_href"),
        "country": RefSpec(None, info_key="country_href"),
        "calendar": RefSpec(None, info_key="calendar_href"),
        "timeZone": RefSpec(None, info_key="timeZoneSetup_href"),
        "taxCode": RefSpec(None, info_key="taxCode_href"),
        "entityType": RefSpec(None, info_key="entityType_href"),
    },
    indexed=("company/id",),
    parent=("company/id", "Company"),
    first_id=30,
)


def _require_company(backend: Any, company_id: int) -> None:
    if company_id not in backend.companies.records:
        raise NotFound(f"Company with id {company_id} not found.")


def list_sites(
    backend: Any,
    company_id: int,
    page: PageRequest,
    *,
    conditions: str | None = None,
    order_by: str | None = None,
) -> tuple[list[Record], Page]:
    """One page of a company's sites, rendered; 404 when the company does not exist.

    :param backend: the ``ConnectWiseBackend``.
    :param company_id: the ``parentId``.
    :param page: the page asked for.
    :param conditions: ConnectWise conditions over the site's fields.
    :param order_by: ``orderBy``.
    """
    with backend.lock:
        _require_company(backend, company_id)
        col = backend.col(SITES.key)
        result = col.query(page, conditions=conditions, order_by=order_by, parent=("company/id", company_id))
        return [backend.render(SITES, r) for r in result.items], result


def get_site(backend: Any, company_id: int, site_id: int) -> Record:
    """One site of a company, rendered; 404 when either does not exist or the site is another's.

    :param backend: the ``ConnectWiseBackend``.
    :param company_id: the ``parentId``.
    :param site_id: the site.
    """
    with backend.lock:
        _require_company(backend, company_id)
        site = backend.col(SITES.key).get(site_id)
        if site is None or (site.get("company") or {}).get("id") != company_id:
            raise NotFound(f"Company Site with id {site_id} not found.")
        return backend.render(SITES, site)


def add_site(backend: Any, company_id: int, name: str, **fields: Any) -> Record:
    """Store a site of a company (seeds and tests).

    :param backend: the ``ConnectWiseBackend``.
    :param company_id: the company.
    :param name: the site's name (ConnectWise allows 50 characters).
    """
    _require_company(backend, company_id)
    return backend.insert(
        SITES.key, {"name": name, "company": {"id": company_id}, "inactiveFlag": False, **fields}
    )


def seed_demo_sites(backend: Any, companies: dict[str, int]) -> dict[str, int]:
    """A ``Main`` site for each demo client company, and AcmeCorp's ``Branch Office``.

    :param backend: the ``ConnectWiseBackend``.
    :param companies: identifier -> id, as the seed made them.
    :returns: ``"<identifier>/<site name>"`` -> site id.
    """
    made = {}
    for identifier in ("AcmeCorp", "Globex", "Initech"):
        if identifier in companies:
            site = add_site(backend, companies[identifier], "Main", primaryAddressFlag=True)
            made[f"{identifier}/Main"] = site["id"]
    if "AcmeCorp" in companies:
        made["AcmeCorp/Branch Office"] = add_site(backend, companies["AcmeCorp"], "Branch Office")["id"]
    return made
