"""Company contacts (``/company/contacts``): people of a company with their communication items.

A contact has no required field; ``communicationItems`` holds its e-mail addresses and phone
numbers (``communicationType`` Email/Phone/Fax, ``value``, ``defaultFlag``). A ticket may only
name a contact of its own company (:func:`check_ticket`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import field_error
from .resources import COMPANY_REF, RefSpec, Resource

if TYPE_CHECKING:
    from .connectwise import ConnectWiseBackend, Record

CONTACTS = Resource(
    "contacts",
    "contact",
    "Contact",
    "Contact",
    "company/contacts/{id}",
    refs={
        "company": COMPANY_REF,
        "site": RefSpec(None, info_key="site_href"),
        "country": RefSpec(None, info_key="country_href"),
        "relationship": RefSpec(None, info_key="relationship_href"),
        "department": RefSpec(None, info_key="department_href"),
        "managerContact": RefSpec("contacts", (("name", "firstName"),), None, "contact_href"),
        "assistantContact": RefSpec("contacts", (("name", "firstName"),), None, "contact_href"),
        "companyLocation": RefSpec(None, info_key="location_href"),
        "photo": RefSpec(None, info_key="document_href"),
    },
    indexed=("company/id",),
    display="firstName",
    first_id=800,
)

RESOURCES = (CONTACTS,)


def full_name(contact: Record) -> str:
    """``firstName lastName`` as ConnectWise shows a contact reference's name."""
    return " ".join(str(contact.get(k) or "").strip() for k in ("firstName", "lastName")).strip()


def check_ticket(backend: ConnectWiseBackend, record: Record, errors: list[dict[str, str]]) -> None:
    """A ticket's contact must belong to the ticket's company."""
    ref = record.get("contact")
    if not isinstance(ref, dict) or ref.get("id") is None:
        return
    contact = backend.col(CONTACTS.key).get(ref["id"])
    company_id = (record.get("company") or {}).get("id")
    if contact is not None and (contact.get("company") or {}).get("id") != company_id:
        errors.append(
            field_error(
                "InvalidField",
                f"Contact {ref['id']} does not belong to company {company_id}.",
                "ticket",
                "contact/id",
            )
        )
