"""Companies, their sites and contacts: the look-ups settings and the linking page make.

Names, identifiers and fragments come from outside, so each goes through
:class:`~airflow_provider_connectwise.core.conditions.SafeQuery`: quoted into ``conditions`` when
it can be, matched here over a wider safe read when it cannot, and an identifier the server
matched is checked again here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_provider_connectwise.core.conditions import Field, SafeQuery, joined
from airflow_provider_connectwise.hooks._base import ConnectWiseBaseHook

COMPANY_FIELDS = "id,identifier,name,deletedFlag"
CONTACT_FIELDS = "id,firstName,lastName,company/id,inactiveFlag,defaultFlag,communicationItems"


class CompanyMethods(ConnectWiseBaseHook):
    """The company, site and contact reads of :class:`~.connectwise.ConnectWiseHook`."""

    def find_companies(
        self,
        *,
        name_contains: str | None = None,
        identifiers: Iterable[str] = (),
        ids: Iterable[int] = (),
    ) -> list[dict[str, Any]]:
        """Companies by a name fragment, by identifiers and/or by ids (deduplicated by id).

        A name fragment or identifier that cannot be quoted safely is matched in Python over a
        broader, safe query instead of being pasted into ``conditions``; every company returned
        for an identifier is checked to carry it.
        """
        queries = [
            SafeQuery.one_of("identifier", [i for i in identifiers if i], fold=True),
            SafeQuery.one_of("id", [int(i) for i in ids]),
        ]
        if name_contains:
            queries.insert(0, SafeQuery.contains(("name",), name_contains))
        found: dict[int, dict[str, Any]] = {}
        for query in queries:
            for condition in query.reads():
                params = {"fields": COMPANY_FIELDS}
                if condition is not None:
                    params["conditions"] = str(condition)
                for company in self._list("company/companies", forward_only=True, **params):
                    if query.keep(company):
                        found[company["id"]] = company
        return list(found.values())

    def get_company(self, company_id: int) -> dict[str, Any]:
        """One company by id."""
        return self._get(f"company/companies/{int(company_id)}")

    def search_companies(
        self,
        text: str = "",
        *,
        status: str | None = "Active",
        company_type: str | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Companies whose name or identifier contains ``text`` (the page's type-ahead), by name.

        Deleted companies never match. ``name``, ``identifier``, ``status`` and ``deletedFlag``
        are filtered by ConnectWise (``conditions``); the type is matched here over the streamed
        pages, because ConnectWise filters its array ``types`` only through ``childConditions``.
        Text that cannot be quoted safely is matched here too, over the safe query.

        :param text: a fragment of the name or identifier (empty: every company).
        :param status: only companies of this status name (``None``: any status).
        :param company_type: only companies with a type of this name (``None``: any type).
        :param limit: companies at most.
        """
        needle = text.strip()
        by_text = SafeQuery.contains(("name", "identifier"), needle) if needle else None
        condition = joined(
            Field("deletedFlag").eq(False),
            by_text.clause if by_text else None,
            Field("status/name").eq(status) if status else None,
        )
        params = {
            "conditions": str(condition),
            "fields": "id,identifier,name,status,types,deletedFlag",
            "orderBy": "name asc",
        }
        found = []
        pages = self.client.paginate(self._api("company/companies"), params, page_size=max(limit, 25))
        for company in pages:
            if not _has_type(company, company_type) or (by_text and not by_text.keep(company)):
                continue
            found.append(company)
            if len(found) >= limit:
                break
        return found

    def list_company_sites(self, company_id: int) -> list[dict[str, Any]]:
        """Sites of a company (``GET /company/companies/{id}/sites``): ``id``, ``name``, ``inactiveFlag``.

        :param company_id: the company.
        """
        return self._list(f"company/companies/{int(company_id)}/sites", fields="id,name,inactiveFlag")

    def find_contacts(self, company_ids: Iterable[int]) -> list[dict[str, Any]]:
        """The contacts of some companies with their e-mail addresses (``communicationItems``).

        Contacts are selected by company id only: names and e-mail addresses are matched by the
        caller, never pasted into ``conditions``.
        """
        by_company = SafeQuery.one_of("company/id", sorted({int(c) for c in company_ids}))
        return [
            contact
            for condition in by_company.clauses
            for contact in self._list(
                "company/contacts", forward_only=True, conditions=str(condition), fields=CONTACT_FIELDS
            )
            if by_company.keep(contact)
        ]


def _has_type(company: dict[str, Any], company_type: str | None) -> bool:
    wanted = (company_type or "").casefold()
    if not wanted:
        return True
    types = company.get("types") if isinstance(company.get("types"), list) else []
    return wanted in {str((t or {}).get("name", "")).casefold() for t in types or ()}
