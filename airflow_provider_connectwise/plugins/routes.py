"""The page's routes: read the records, build the page model, render; Retry Pending triggers a run.

Every route authenticates through Airflow (``GetUserDep``) and asks Airflow's auth manager
(``security``) before reading or triggering anything. Linking lives in ``linking.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from airflow_provider_connectwise.core.links import MODES
from airflow_provider_connectwise.flows.link_store import load_links
from airflow_provider_connectwise.plugins import model, picker, records, security
from airflow_provider_connectwise.plugins.config import sync_dag_id
from airflow_provider_connectwise.plugins.trigger import accepts_policy, trigger_sync
from airflow_provider_connectwise.plugins.urls import Links

router = APIRouter()


def render(request: Request, template: str, user: Any, **context: Any) -> HTMLResponse:
    """Render a page with what every page needs (links, icons, the user's form token).

    :param request: the request.
    :param template: the template's name.
    :param user: Airflow's user.
    :param context: the template's own values.
    """
    can_retry = security.may_trigger_sync(user)
    can_link = security.may_edit_links(user)
    page = request.app.state.templates.get_template(template).render(
        links=Links(request.scope.get("root_path", "")),
        statuses=model.STATUSES,
        status_order=model.STATUS_ORDER,
        modes=MODES,
        user_name=user.get_name(),
        can_retry=can_retry,
        can_link=can_link,
        form_token=security.form_token(user) if can_retry or can_link else "",
        sync_dag_id=sync_dag_id(),
        **context,
    )
    # the page shows live state: never from a cache
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, user: GetUserDep, session: SessionDep, saved: str | None = None
) -> HTMLResponse:
    """Every policy with its link-status icon, company, devices and last sync."""
    dag_ids, hidden = security.readable_binding_dags(user, session)
    page = model.build_overview(records.iter_records(session, dag_ids))
    active = records.active_syncs(session, dag_ids)
    return render(
        request,
        "overview.html",
        user,
        page=page,
        active=active,
        dag_ids=dag_ids,
        hidden_dags=hidden,
        saved=saved == "automap",
        pool_warning=records.pool_warning(session),
    )


@router.get("/policies/{policy_id:path}", response_class=HTMLResponse)
def policy(
    policy_id: str,
    request: Request,
    user: GetUserDep,
    session: SessionDep,
    state: str | None = None,
    saved: str | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    company_status: Annotated[str, Query(alias="status", max_length=50)] = "Active",
    company_type: Annotated[str, Query(alias="type", max_length=50)] = "",
) -> HTMLResponse:
    """One policy: its link (and the picker), its Devices Binding table, Retry Pending, earlier syncs.

    ``q`` (with ``status`` and ``type``) searches companies for the picker without JavaScript.
    """
    dag_ids, _ = security.readable_binding_dags(user, session)
    page = model.build_policy_page(records.iter_records(session, dag_ids), policy_id)
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No Devices Binding recorded for this policy")
    stored, stored_errors = load_links(session)
    companies, search_error = [], None
    if q is not None and security.may_edit_links(user):
        try:
            found = picker.hook_search(q, company_status, company_type)
            companies = [picker.company_json(c) for c in found]
        except HTTPException as exc:
            search_error = exc.detail
    return render(
        request,
        "policy.html",
        user,
        page=page,
        table=model.binding_table(page.devices, state),
        active=records.active_syncs(session, dag_ids, policy_id),
        paused=records.is_paused(session, page.policy.run.dag_id),
        stored=stored.get(page.policy.policy_id),
        stored_error=stored_errors.get(page.policy.policy_id) or stored_errors.get(""),
        saved=saved if saved in ("link", "unlinked") else None,
        can_retry_here=security.may_trigger(user, page.policy.run.dag_id),
        search={"q": q or "", "status": company_status, "type": company_type, "done": q is not None},
        companies=companies,
        search_error=search_error,
    )


@router.get("/runs/{dag_id}/{run_id:path}", response_class=HTMLResponse)
def run(
    dag_id: str,
    run_id: str,
    request: Request,
    user: GetUserDep,
    session: SessionDep,
    started: str | None = None,
    state: str | None = None,
) -> HTMLResponse:
    """One run of a binding DAG: its state and everything it recorded."""
    if dag_id not in security.binding_dags(session):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not a Devices Binding DAG")
    if not security.may_read(user, dag_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "You may not read this DAG's runs")
    ref, record = records.get_run(session, dag_id, run_id)
    if ref is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such run")
    page = model.build_run_page(record) if record is not None else None
    return render(
        request,
        "run.html",
        user,
        run=ref,
        page=page,
        table=model.binding_table(page.devices, state) if page else None,
        unreadable=record is not None and page is None,
        started=started if started in ("1", "link", "automap") else None,
        paused=records.is_paused(session, dag_id) if ref.active else False,
    )


@router.post("/retry-pending")
def retry(
    request: Request,
    user: GetUserDep,
    session: SessionDep,
    policy_id: Annotated[str, Form(min_length=1, max_length=250)],
    token: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    """Retry Pending: trigger the DAG that recorded the policy's binding, then show the new run."""
    security.check_form_post(request, user, token)
    dag_ids, _ = security.readable_binding_dags(user, session)
    page = model.build_policy_page(records.iter_records(session, dag_ids), policy_id, history=0)
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No Devices Binding recorded for this policy")
    target = page.policy.run.dag_id
    if not security.may_trigger(user, target):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"You may not trigger {target}")
    if page.policy.company_id is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "This policy is not linked to a ConnectWise company: link it first (nothing to retry)",
        )
    # a one-policy sync when the DAG takes a policy, else the whole binding DAG again
    takes_policy = accepts_policy(request.app.state.dag_bag, target, session)
    conf = {"policy": page.policy.policy_id} if takes_policy else {}
    new_run = trigger_sync(
        dag_id=target,
        conf=conf,
        note="Retry Pending from the ConnectWise page",
        user=user,
        session=session,
        request=request,
    )
    ref = model.RunRef(dag_id=new_run.dag_id, run_id=new_run.run_id)
    return RedirectResponse(
        Links(request.scope.get("root_path", "")).run(ref) + "?started=1",
        status_code=status.HTTP_303_SEE_OTHER,
    )
