"""The linked policies (seed "Setup"): every MDM policy with its ConnectWise company, site and mode.

Precedence: the settings' ``policy_links``, then the links made in Airflow (Variable
``connectwise_policy_links``), then the MDM's own record. A broken link is kept with an ``error``
naming the policy, so its devices fail with a message a person can act on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_connectwise.core.binding_report import (
    PolicyNotFound,
    choose_policy,
)
from airflow_provider_connectwise.core.links import DEFAULT_MODE
from airflow_provider_connectwise.core.settings import ResolvedSettings
from airflow_provider_connectwise.flows.link_store import StoredLink, read_links
from airflow_provider_connectwise.flows.tickets import resolve_company
from airflow_provider_connectwise.hooks.addigy import AddigyHook
from airflow_provider_connectwise.hooks.connectwise import ConnectWiseHook

log = logging.getLogger(__name__)

# --- policies and their links ------------------------------------------------------------------


def needed_facts(settings: ResolvedSettings) -> list[str]:
    """The fact identifiers the mapping and the type rules read (what to ask the MDM for)."""
    facts = [fact for fact in settings.field_mapping.values() if fact]
    facts += [rule.fact for rule in settings.type_rules]
    return list(dict.fromkeys(facts))


def list_policy_links(
    addigy: AddigyHook,
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    *,
    policy_ids: Iterable[str] = (),
    overrides: Mapping[str, int] | None = None,
    stored: tuple[Mapping[str, StoredLink], Mapping[str, str]] | None = None,
    count_unlinked: bool = False,
) -> list[dict[str, Any]]:
    """Every MDM policy with the ConnectWise company it is linked to (``None``: not linked).

    Each policy dict carries ``policy_id``, ``name``, ``company_id``, ``company_name``,
    ``site_id`` (``None`` when unset), ``mode`` (``all``, ``inventory``, ``tickets``, ``paused``),
    ``link_source`` (``"settings"``, ``"airflow"``, ``"mdm"`` or ``None``) and ``error``. The
    settings' ``policy_links`` win, then the links made in Airflow (Variable
    ``connectwise_policy_links``), then the MDM's own record.

    A link to a company that does not exist or is deleted, to a site that is not the company's,
    or a stored link that cannot be read, is kept with an ``error`` so that the policy's devices
    fail with a message a person can act on.

    :param addigy: the MDM hook.
    :param cw: the ConnectWise hook (to name and check the linked companies and sites).
    :param settings: resolved settings (explicit links, ``use_mdm_links``).
    :param policy_ids: only these policies (default: all).
    :param overrides: policy id -> company id links for this run only (they act as stored links).
    :param stored: the stored links and their errors (``link_store.parse_links``); default: read
        the Variable now.
    :param count_unlinked: also count each unlinked policy's devices (``device_count``, one small
        MDM request per policy), so a gray policy does not show 0 devices.
    """
    links, stored_errors = stored if stored is not None else read_links()
    links = dict(links)
    for policy_id, company_id in (overrides or {}).items():
        links[str(policy_id)] = StoredLink(str(policy_id), int(company_id), linked_by="this run")
    policies = []
    for raw in addigy.list_policies(policy_ids):
        policy_id = str(raw.get("policyId") or raw.get("policy_id") or "")
        if not policy_id:
            continue
        policy = {
            "policy_id": policy_id,
            "name": str(raw.get("name") or ""),
            **_link_of(policy_id, raw.get("connectwise_account_id"), settings, links),
        }
        if policy["link_source"] not in ("settings", "airflow") and policy_id in stored_errors:
            policy["stored_error"] = stored_errors[policy_id]
        if count_unlinked and policy["company_id"] is None:
            policy["device_count"] = addigy.count_policy_devices(policy_id)
        policies.append(policy)
    if stored_errors.get(""):
        log.warning("%s", stored_errors[""])
    return _name_companies(cw, policies)


def _link_of(
    policy_id: str, mdm_company: Any, settings: ResolvedSettings, links: Mapping[str, StoredLink]
) -> dict[str, Any]:
    # the settings' own link wins, then the one saved in Airflow; both carry company, site and mode
    for source, link in (("settings", settings.explicit_link(policy_id)), ("airflow", links.get(policy_id))):
        if link is not None:
            return {
                "company_id": link.company_id,
                "site_id": link.site_id,
                "mode": link.mode,
                "link_source": source,
            }
    company_id = settings.company_for_policy(policy_id, mdm_company)
    return {
        "company_id": company_id,
        "site_id": None,
        "mode": DEFAULT_MODE,
        "link_source": "mdm" if company_id is not None else None,
    }


def _name_companies(cw: ConnectWiseHook, policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = sorted({p["company_id"] for p in policies if p["company_id"] is not None})
    companies = {c["id"]: c for c in cw.find_companies(ids=ids)} if ids else {}
    sites: dict[int, dict[int, dict[str, Any]]] = {}
    for policy in policies:
        company_id = policy["company_id"]
        company = companies.get(company_id)
        policy["company_name"] = str((company or {}).get("identifier") or (company or {}).get("name") or "")
        policy["site_name"] = ""
        policy["error"] = policy.pop("stored_error", None)
        label = repr(policy["name"] or policy["policy_id"])
        if company_id is not None and (company is None or company.get("deletedFlag")):
            policy["error"] = (
                f"policy {label} is linked to ConnectWise company id "
                f"{company_id}, which {'is deleted' if company else 'does not exist'}; link it to another company"
            )
        elif company_id is not None and policy.get("site_id") is not None:
            if company_id not in sites:
                sites[company_id] = {s["id"]: s for s in cw.list_company_sites(company_id)}
            site = sites[company_id].get(policy["site_id"])
            if site is None:
                policy["error"] = (
                    f"policy {label}: site_id {policy['site_id']} is not a site of ConnectWise company "
                    f"{policy['company_name'] or company_id}; choose one of its sites "
                    f"({_site_choices(sites[company_id].values())})"
                )
            else:
                policy["site_name"] = str(site.get("name") or "")
    return policies


def _site_choices(sites: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(f"{site['id']} {site.get('name', '')}".strip() for site in sites) or "it has none"


class PolicyChoiceError(ValueError):
    """The policy asked for cannot be synced (unknown, or linked to no company)."""


def policies_and_devices(
    addigy: AddigyHook,
    cw: ConnectWiseHook,
    settings: ResolvedSettings,
    *,
    policy: str | None = None,
    company: int | str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The linked policies to sync and their devices.

    Syncing one policy reconciles its company with every policy linked to it (otherwise the
    other policies' devices would look removed).

    :param policy: only this policy's company: its id, or its name (trimmed, any case; a name
        two policies share must be an id). Default: every linked policy.
    :param company: link ``policy`` to this company (id or identifier) for this sync only.
    :raises PolicyChoiceError: the policy does not exist (listing the choices), its name is
        shared, or it is linked to no company.
    """
    policy = str(policy).strip() if policy not in (None, "") else None
    if policy:
        # the MDM's own list (an Addigy request, outside the ConnectWise budget) turns a name into its id
        listed = [
            {
                "policy_id": str(raw.get("policyId") or raw.get("policy_id") or ""),
                "name": str(raw.get("name") or ""),
            }
            for raw in addigy.list_policies(())
        ]
        try:
            policy = str(choose_policy([p for p in listed if p["policy_id"]], policy)["policy_id"])
        except PolicyNotFound as exc:
            raise PolicyChoiceError(str(exc)) from None
    overrides = {policy: resolve_company(cw, company)} if policy and company not in (None, "") else {}
    policies = list_policy_links(addigy, cw, settings, overrides=overrides)
    if policy:
        chosen = next((p for p in policies if p["policy_id"] == policy), None)
        if chosen is None:
            raise PolicyChoiceError(f"policy {policy!r} does not exist in the MDM")
        if chosen["company_id"] is None:
            raise PolicyChoiceError(
                f"policy {chosen['name'] or policy!r} is not linked to a ConnectWise company: "
                "give a company, link it in the MDM, or add it to the settings' policy_links"
            )
        policies = [p for p in policies if p["company_id"] == chosen["company_id"]]
        log.info(
            "syncing company %s: policies %s", chosen["company_name"], ", ".join(p["name"] for p in policies)
        )
    linked = [p for p in policies if p["company_id"] is not None]
    return policies, [d for p in linked for d in fetch_policy_devices(addigy, settings, p)]


def fetch_policy_devices(
    addigy: AddigyHook, settings: ResolvedSettings, policy: Mapping[str, Any]
) -> list[dict]:
    """The devices of one policy, with the facts the mapping and the type rules need."""
    return addigy.list_policy_devices(policy["policy_id"], needed_facts(settings))
