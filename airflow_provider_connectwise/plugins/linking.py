"""Linking policies on the page: company search and sites (JSON), Save, Unlink, Auto-map by name.

The seed's Setup in the Airflow UI: search the ConnectWise company, pick it (and a site and a
mode), **Save** — the link goes to Variable ``connectwise_policy_links`` (``link_store``), where
every later run reads it, and a sync of the policy starts through Airflow. **Unlink** removes
it, after a page that says what the next sync does to the policy's configurations.

Every write keeps the page's protections: Airflow's user, permission to change the Variable
(and to trigger the sync DAG), the signed form token and same-origin check. ConnectWise is read
through ``ConnectWiseHook`` with the connection ``[connectwise] connectwise_conn_id`` when a person
searches; its errors are answered without any connection data.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from airflow_provider_connectwise.core.links import parse_mode, propose_links
from airflow_provider_connectwise.flows.link_store import StoredLink, load_links, now_iso, write_links
from airflow_provider_connectwise.plugins import model, picker, records, security
from airflow_provider_connectwise.plugins.config import sync_dag_id
from airflow_provider_connectwise.plugins.routes import render
from airflow_provider_connectwise.plugins.trigger import trigger_sync
from airflow_provider_connectwise.plugins.urls import Links

log = logging.getLogger(__name__)
router = APIRouter()

#: Companies read at most for Auto-map (every active company of a large MSP).
AUTOMAP_COMPANIES = 5000


# --- ConnectWise, read for the picker ----------------------------------------------------------


def _require_linker(user: Any) -> None:
    if not security.may_edit_links(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "You may not change the policy links")


@router.get("/api/companies")
def search_companies(
    user: GetUserDep,
    q: Annotated[str, Query(max_length=100)] = "",
    company_status: Annotated[str, Query(alias="status", max_length=50)] = "Active",
    company_type: Annotated[str, Query(alias="type", max_length=50)] = "",
) -> JSONResponse:
    """The picker's type-ahead: companies whose name or identifier contains ``q`` (20 at most).

    ``status`` empty: any status; ``type``: only companies of that type.
    """
    _require_linker(user)
    found = picker.hook_search(q, company_status, company_type)
    return JSONResponse([picker.company_json(c) for c in found], headers={"Cache-Control": "no-store"})


@router.get("/api/companies/{company_id}/sites")
def company_sites(company_id: int, user: GetUserDep) -> JSONResponse:
    """The sites of a company, for the picker's site list."""
    _require_linker(user)
    sites = picker.read("company's sites", picker.hook().list_company_sites, company_id)
    return JSONResponse(
        [{"id": s.get("id"), "name": str(s.get("name") or "")} for s in sites if not s.get("inactiveFlag")],
        headers={"Cache-Control": "no-store"},
    )


# --- Save, Unlink ------------------------------------------------------------------------------


def _policy_page(session: Any, user: Any, policy_id: str) -> model.PolicyPage:
    dag_ids, _ = security.readable_binding_dags(user, session)
    page = model.build_policy_page(records.iter_records(session, dag_ids), policy_id, history=0)
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No Devices Binding recorded for this policy")
    return page


def _checked_link(policy_id: str, company_id: int, site: str, mode: str, by: str) -> StoredLink:
    """The link asked for, once ConnectWise confirms the company and the site (400 otherwise)."""
    try:
        mode = parse_mode(mode)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    hook = picker.hook()
    found = picker.read("company", hook.find_companies, ids=[company_id])
    if not found or found[0].get("deletedFlag"):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"company id {company_id} is not an active ConnectWise company"
        )
    site_id = None
    if site.strip():
        if not site.strip().isdigit():
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"site_id must be a site's id, got {site[:40]!r}"
            )
        site_id = int(site.strip())
        sites = picker.read("company's sites", hook.list_company_sites, company_id)
        if site_id not in {s.get("id") for s in sites}:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"site_id {site_id} is not a site of company {found[0].get('identifier') or company_id}",
            )
    return StoredLink(policy_id, company_id, site_id, mode, linked_by=by[:200], linked_at=now_iso())


def _redirect(request: Request, url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _start_sync(request: Request, user: Any, session: Any, conf: dict[str, Any], note: str) -> Any:
    """Trigger the sync DAG, or ``None`` when the user may not or it is not deployed (the link is
    saved either way: the next scheduled run binds it)."""
    dag_id = sync_dag_id()
    if not security.may_trigger(user, dag_id):
        return None
    try:
        return trigger_sync(
            dag_id=dag_id,
            conf=conf,
            note=note,
            user=user,
            session=session,
            request=request,
        )
    except HTTPException as exc:
        log.warning("ConnectWise page: %s not triggered: %s", dag_id, exc.detail)
        return None


@router.post("/policies/{policy_id:path}/link")
def save_link(
    policy_id: str,
    request: Request,
    user: GetUserDep,
    session: SessionDep,
    company_id: Annotated[int, Form(gt=0)],
    site_id: Annotated[str, Form(max_length=20)] = "",
    mode: Annotated[str, Form(max_length=20)] = "all",
    token: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    """Save Account: store the link, then sync the policy through Airflow and show the run."""
    security.check_form_post(request, user, token)
    _require_linker(user)
    page = _policy_page(session, user, policy_id)
    if page.policy.link_source == "settings":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "This policy is linked by the settings document's policy_links, which win: change it there",
        )
    link = _checked_link(page.policy.policy_id, company_id, site_id, mode, user.get_name())
    links, _ = load_links(session, for_update=True)
    links[link.policy_id] = link
    write_links(session, links)
    session.commit()
    log.info(
        "ConnectWise page: %s linked policy %s to company %s", user.get_name(), link.policy_id, company_id
    )
    new_run = None
    if link.mode != "paused":
        new_run = _start_sync(
            request, user, session, {"policy": link.policy_id}, "Link saved on the ConnectWise page"
        )
    links_ = Links(request.scope.get("root_path", ""))
    if new_run is None:
        return _redirect(request, links_.policy(link.policy_id) + "?saved=link")
    return _redirect(request, links_.run(model.RunRef(new_run.dag_id, new_run.run_id)) + "?started=link")


@router.get("/policies/{policy_id:path}/unlink", response_class=HTMLResponse)
def confirm_unlink(policy_id: str, request: Request, user: GetUserDep, session: SessionDep) -> HTMLResponse:
    """What unlinking does, before it is done."""
    page = _policy_page(session, user, policy_id)
    stored, _ = load_links(session)
    return render(request, "unlink.html", user, policy=page.policy, stored=stored.get(page.policy.policy_id))


@router.post("/policies/{policy_id:path}/unlink")
def unlink(
    policy_id: str,
    request: Request,
    user: GetUserDep,
    session: SessionDep,
    token: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    """Unlink: remove the link made in Airflow; the next sync deactivates the policy's configurations."""
    security.check_form_post(request, user, token)
    _require_linker(user)
    page = _policy_page(session, user, policy_id)
    links, _ = load_links(session, for_update=True)
    if links.pop(page.policy.policy_id, None) is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "This policy has no link made in Airflow (its link is in the settings or the MDM)",
        )
    write_links(session, links)
    session.commit()
    log.info("ConnectWise page: %s unlinked policy %s", user.get_name(), page.policy.policy_id)
    return _redirect(
        request, Links(request.scope.get("root_path", "")).policy(page.policy.policy_id) + "?saved=unlinked"
    )


# --- Auto-map by name --------------------------------------------------------------------------


def _unlinked(session: Any, user: Any) -> list[model.PolicyRow]:
    dag_ids, _ = security.readable_binding_dags(user, session)
    overview = model.build_overview(records.iter_records(session, dag_ids))
    stored, _ = load_links(session)
    return [p for p in overview.policies if p.company_id is None and p.policy_id not in stored]


@router.get("/auto-map", response_class=HTMLResponse)
def automap(request: Request, user: GetUserDep, session: SessionDep) -> HTMLResponse:
    """Propose a company for every unlinked policy whose name matches one; nothing is saved yet."""
    _require_linker(user)
    policies = _unlinked(session, user)
    companies = (
        picker.read("companies", picker.hook().search_companies, "", limit=AUTOMAP_COMPANIES)
        if policies
        else []
    )
    proposals = propose_links(({"policy_id": p.policy_id, "name": p.name} for p in policies), companies)
    return render(request, "automap.html", user, proposals=proposals, unlinked=len(policies))


@router.post("/auto-map")
def confirm_automap(
    request: Request,
    user: GetUserDep,
    session: SessionDep,
    choice: Annotated[list[str], Form(max_length=2000)] = [],  # noqa: B006 - FastAPI's form default
    token: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    """Save the links a person confirmed (``choice`` = ``"<company id>:<policy id>"``), then sync."""
    security.check_form_post(request, user, token)
    _require_linker(user)
    wanted: dict[str, int] = {}
    for item in choice:
        company, _, policy_id = item.partition(":")
        if company.isdigit() and policy_id:
            wanted[policy_id] = int(company)
    unlinked = {p.policy_id for p in _unlinked(session, user)}
    wanted = {p: c for p, c in wanted.items() if p in unlinked}
    if not wanted:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Nothing chosen to link (or those policies are linked now)"
        )
    active = {
        c["id"]
        for c in picker.read("companies", picker.hook().find_companies, ids=sorted(set(wanted.values())))
        if not c.get("deletedFlag")
    }
    links, _ = load_links(session, for_update=True)
    for policy_id, company_id in wanted.items():
        if company_id in active:
            links[policy_id] = StoredLink(
                policy_id, company_id, linked_by=user.get_name()[:200], linked_at=now_iso()
            )
    write_links(session, links)
    session.commit()
    new_run = _start_sync(request, user, session, {}, "Auto-map by name on the ConnectWise page")
    links_ = Links(request.scope.get("root_path", ""))
    if new_run is None:
        return _redirect(request, links_.home() + "?saved=automap")
    return _redirect(request, links_.run(model.RunRef(new_run.dag_id, new_run.run_id)) + "?started=automap")
