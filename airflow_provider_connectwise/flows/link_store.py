"""The policy links people make in the Airflow UI: the Airflow Variable ``connectwise_policy_links``.

Why a Variable and not the MDM: the Addigy API (``docs/reference/addigy-api-v2-swagger-excerpt.json``)
only *reads* a policy's ConnectWise account (``GET .../integrations/connectwise/accounts``);
nothing writes ``connectwise_account_id``. A Variable is seen by every later run on every worker,
is kept in the metadata DB (encrypted with the Fernet key like any Variable), and is guarded by
Airflow's own Variable permissions.

The value is JSON ``{policy_id: {"company_id", "site_id", "mode", "linked_by", "linked_at"}}``.
It is untrusted when read (anyone with Variable access may edit it): :func:`parse_links` keeps
every well-formed entry and reports each bad one with its policy and field, so a bad entry fails
only its own policy.

Precedence (``flows.policy_links.list_policy_links``): explicit ``policy_links`` in the settings
document win, then these links, then the MDM's own record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_connectwise.core.links import DEFAULT_MODE, parse_mode

__all__ = [
    "VARIABLE_KEY",
    "StoredLink",
    "dump_links",
    "load_links",
    "parse_links",
    "read_links",
    "save_link",
]

#: The Variable that holds the links made in the UI (and by the manual sync's ``company``).
VARIABLE_KEY = "connectwise_policy_links"
_DESCRIPTION = (
    "ConnectWise policy links made on the ConnectWise page (airflow-provider-connectwise): "
    "policy id -> company, site, mode. Settings' policy_links win over these."
)


@dataclass(frozen=True)
class StoredLink:
    """One policy's link as the page saved it.

    :param policy_id: the MDM policy.
    :param company_id: the ConnectWise company.
    :param site_id: a site of that company, or ``None``.
    :param mode: ``all``, ``inventory``, ``tickets`` or ``paused``.
    :param linked_by: who saved it (an Airflow user name, or ``run <dag>/<run>``).
    :param linked_at: when (ISO 8601, UTC).
    """

    policy_id: str
    company_id: int
    site_id: int | None = None
    mode: str = DEFAULT_MODE
    linked_by: str = ""
    linked_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe entry (without the policy id, which is its key)."""
        data = asdict(self)
        del data["policy_id"]
        return data


def _positive_int(value: Any, name: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ValueError(f"{name} must be a positive integer id, got {shown}")
    return value


def _entry(policy_id: str, raw: Any) -> StoredLink:
    if not isinstance(raw, Mapping):
        raise ValueError(f"must be an object with company_id, got {type(raw).__name__}")
    company_id = _positive_int(raw.get("company_id"), "company_id")
    assert company_id is not None
    return StoredLink(
        policy_id=policy_id,
        company_id=company_id,
        site_id=_positive_int(raw.get("site_id"), "site_id", optional=True),
        mode=parse_mode(raw.get("mode")),
        linked_by=str(raw.get("linked_by") or "")[:200],
        linked_at=str(raw.get("linked_at") or "")[:40],
    )


def parse_links(raw: Any) -> tuple[dict[str, StoredLink], dict[str, str]]:
    """Read the Variable's value: the good links, and an error per policy whose entry is bad.

    :param raw: the Variable's text (or its parsed JSON); ``None`` or empty: no links.
    :returns: ``(links by policy id, error by policy id)``; an error ``""`` key means the whole
        value could not be read.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            return {}, {"": f"Variable {VARIABLE_KEY} is not JSON ({exc.msg}); no stored link is used"}
    if not isinstance(raw, Mapping):
        return {}, {"": f"Variable {VARIABLE_KEY} must be a JSON object of policy id -> link"}
    links: dict[str, StoredLink] = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        policy_id = str(key).strip()
        if not policy_id:
            continue
        try:
            links[policy_id] = _entry(policy_id, value)
        except ValueError as exc:
            errors[policy_id] = f"the link stored for policy {policy_id!r} in Variable {VARIABLE_KEY}: {exc}"
    return links, errors


def dump_links(links: Mapping[str, StoredLink]) -> str:
    """The Variable's text for these links (sorted, so a diff of two values reads well).

    :param links: by policy id.
    """
    return json.dumps({pid: links[pid].to_dict() for pid in sorted(links)}, indent=1, sort_keys=True)


def now_iso() -> str:
    """Now, as stored in ``linked_at``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- inside a task (Task SDK) ------------------------------------------------------------------


def read_links() -> tuple[dict[str, StoredLink], dict[str, str]]:
    """The stored links, read in a task through the Task SDK (one Variable read).

    A missing Variable means no link was saved.
    """
    from airflow.sdk import Variable

    return parse_links(Variable.get(VARIABLE_KEY, default=None))


def save_link(link: StoredLink) -> None:
    """Store one link from a task (the manual sync's ``company``), keeping the others.

    :param link: the link to store.
    """
    from airflow.sdk import Variable

    links, _ = parse_links(Variable.get(VARIABLE_KEY, default=None))
    links[link.policy_id] = link
    Variable.set(VARIABLE_KEY, dump_links(links), description=_DESCRIPTION)


# --- on the API server (the ConnectWise page), in the request's DB session ---------------------


def load_links(session: Any, *, for_update: bool = False) -> tuple[dict[str, StoredLink], dict[str, str]]:
    """The stored links, read from the metadata DB in ``session``.

    :param session: a metadata DB session.
    :param for_update: lock the Variable's row until the session commits (a read-modify-write).
    """
    from airflow.models.variable import Variable
    from sqlalchemy import select

    stmt = select(Variable).where(Variable.key == VARIABLE_KEY)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    return parse_links(row.val if row is not None else None)


def write_links(session: Any, links: Mapping[str, StoredLink]) -> None:
    """Replace the stored links in ``session`` (the caller commits).

    :param session: a metadata DB session (the one :func:`load_links` locked the row in).
    :param links: every link to keep, by policy id.
    """
    from airflow.models.variable import Variable

    Variable.set(VARIABLE_KEY, dump_links(links), description=_DESCRIPTION, session=session)


# --- the manual sync's ``company`` -------------------------------------------------------------


class LinkChoiceError(ValueError):
    """A link cannot be made: unknown policy, unknown company, or the settings link it elsewhere."""


def link_for_run(
    addigy: Any, cw: Any, settings: Any, policy: str, company: int | str, *, by: str
) -> StoredLink:
    """The link a manual sync's ``policy`` + ``company`` ask for, checked (not yet stored).

    The policy is named by id or by name (trimmed, case-insensitive, when no other policy has it).

    :param addigy: the MDM hook (lists the policies).
    :param cw: the ConnectWise hook (checks the company).
    :param settings: resolved settings: an explicit ``policy_links`` entry to another company wins
        over any link made in Airflow, so such a request is refused rather than silently ignored.
    :param policy: the policy id or name.
    :param company: the company id or identifier.
    :param by: who asks (recorded as ``linked_by``).
    :raises LinkChoiceError: naming what is wrong.
    """
    from airflow_provider_connectwise.core.tickets import TicketInputError
    from airflow_provider_connectwise.flows.tickets import resolve_company

    policies = addigy.list_policies()
    wanted = str(policy).strip()
    chosen = [p for p in policies if str(p.get("policyId") or "") == wanted] or [
        p for p in policies if str(p.get("name") or "").strip().casefold() == wanted.casefold()
    ]
    if len(chosen) != 1:
        names = ", ".join(sorted(repr(str(p.get("name") or p.get("policyId"))) for p in policies))
        why = "is the name of several policies: give its id" if chosen else "does not exist in the MDM"
        raise LinkChoiceError(f"policy {wanted!r} {why}; policies: {names}")
    policy_id = str(chosen[0].get("policyId"))
    try:
        company_id = resolve_company(cw, company)
    except TicketInputError as exc:
        raise LinkChoiceError(str(exc)) from None
    explicit = settings.explicit_link(policy_id)
    if explicit is not None and explicit.company_id != company_id:
        raise LinkChoiceError(
            f"policy {wanted!r} is linked to company {explicit.company_identifier or explicit.company_id} by the "
            "settings' policy_links, which win over links made in Airflow: change the settings document"
        )
    return StoredLink(policy_id, company_id, linked_by=by[:200], linked_at=now_iso())
