"""The page's routes: read the records, build the page model, render; Retry Pending triggers a run.

Every route authenticates through Airflow (``GetUserDep``) and asks Airflow's auth manager
(``security``) before reading or triggering anything.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from airflow_provider_connectwise.plugins import model, records, security
from airflow_provider_connectwise.plugins.trigger import retry_pending
from airflow_provider_connectwise.plugins.urls import Links

router = APIRouter()


def _render(request: Request, template: str, user: Any, **context: Any) -> HTMLResponse:
    can_retry = security.may_trigger_sync(user)
    page = request.app.state.templates.get_template(template).render(
        links=Links(request.scope.get("root_path", "")),
        statuses=model.STATUSES,
        status_order=model.STATUS_ORDER,
        user_name=user.get_name(),
        can_retry=can_retry,
        form_token=security.form_token(user) if can_retry else "",
        sync_dag_id=model.SYNC_DAG_ID,
        **context,
    )
    # the page shows live state: never from a cache
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: GetUserDep, session: SessionDep) -> HTMLResponse:
    """Every policy with its link-status icon, company, devices and last sync."""
    dag_ids = security.readable_binding_dags(user)
    page = model.build_overview(records.iter_records(session, dag_ids))
    active = records.active_syncs(session) if model.SYNC_DAG_ID in dag_ids else []
    return _render(request, "overview.html", user, page=page, active=active, dag_ids=dag_ids)


@router.get("/policies/{policy_id:path}", response_class=HTMLResponse)
def policy(
    policy_id: str, request: Request, user: GetUserDep, session: SessionDep, state: str | None = None
) -> HTMLResponse:
    """One policy: its Devices Binding table (latest run), Retry Pending, earlier syncs."""
    dag_ids = security.readable_binding_dags(user)
    page = model.build_policy_page(records.iter_records(session, dag_ids), policy_id)
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No Devices Binding recorded for this policy")
    active = records.active_syncs(session, policy_id) if model.SYNC_DAG_ID in dag_ids else []
    return _render(
        request,
        "policy.html",
        user,
        page=page,
        table=model.binding_table(page.devices, state),
        active=active,
        paused=records.is_paused(session),
    )


@router.get("/runs/{dag_id}/{run_id:path}", response_class=HTMLResponse)
def run(
    dag_id: str,
    run_id: str,
    request: Request,
    user: GetUserDep,
    session: SessionDep,
    started: bool = False,
    state: str | None = None,
) -> HTMLResponse:
    """One run of a binding DAG: its state and everything it recorded."""
    if dag_id not in model.BINDING_SOURCES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not a Devices Binding DAG")
    if not security.may_read(user, dag_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "You may not read this DAG's runs")
    ref, record = records.get_run(session, dag_id, run_id)
    if ref is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such run")
    page = model.build_run_page(record) if record is not None else None
    return _render(
        request,
        "run.html",
        user,
        run=ref,
        page=page,
        table=model.binding_table(page.devices, state) if page else None,
        unreadable=record is not None and page is None,
        started=started,
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
    """Retry Pending: trigger the manual sync of the policy, then show the new run."""
    security.check_form_post(request, user, token)
    if not security.may_trigger_sync(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"You may not trigger {model.SYNC_DAG_ID}")
    dag_ids = security.readable_binding_dags(user)
    page = model.build_policy_page(records.iter_records(session, dag_ids), policy_id, history=0)
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No Devices Binding recorded for this policy")
    if page.policy.company_id is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "This policy is not linked to a ConnectWise company: link it first (nothing to retry)",
        )
    new_run = retry_pending(
        policy_id=page.policy.policy_id,
        user=user,
        session=session,
        dag_bag=request.app.state.dag_bag,
        request=request,
    )
    ref = model.RunRef(dag_id=new_run.dag_id, run_id=new_run.run_id)
    target = Links(request.scope.get("root_path", "")).run(ref) + "?started=1"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
