"""Who may see and do what on the ConnectWise page: Airflow's auth manager decides.

- The user is Airflow's: the ``Authorization: Bearer`` token or the UI's ``_token`` cookie,
  resolved by Airflow's own ``get_user`` dependency (no token: 401, a bad one: 403).
- Reading needs what Airflow's REST API needs to read the same data: ``GET`` on the runs and
  on the XComs of a binding DAG. Records of a DAG the user may not read are never read.
- Retry Pending needs what triggering the DAG that recorded the policy needs in the REST API
  (``POST`` on its runs); a saved link starts the sync DAG (``[connectwise] sync_dag_id``),
  which needs the same on that DAG.
- Linking and unlinking need what the REST API needs to change Variable
  ``connectwise_policy_links`` (``PUT`` on it); searching companies needs the same, since it
  only serves the picker.
- A POST that carries the UI's cookie must come from the same origin (``Origin``, else
  ``Referer``) and carry a form token signed with ``[api] secret_key`` for this user. Requests
  authenticated by an ``Authorization`` header carry no ambient credential and skip both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import (
    DagAccessEntity,
    DagDetails,
    VariableDetails,
)
from airflow.configuration import conf
from airflow.models.dag import DagModel
from fastapi import HTTPException, Request, status
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from airflow_provider_connectwise.flows.link_store import VARIABLE_KEY
from airflow_provider_connectwise.plugins import records
from airflow_provider_connectwise.plugins.config import sync_dag_id
from airflow_provider_connectwise.plugins.model import BINDING_DAG_ID

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.base_auth_manager import ResourceMethod

#: How long a page's Retry Pending button stays valid.
TOKEN_MAX_AGE_SECONDS = 12 * 3600
_FORM_SALT = "airflow-provider-connectwise.retry-pending"


def _may(user: BaseUser, method: ResourceMethod, dag_id: str, entity: DagAccessEntity) -> bool:
    details = DagDetails(id=dag_id, team_name=DagModel.get_team_name(dag_id))
    return get_auth_manager().is_authorized_dag(
        method=method,
        access_entity=entity,
        details=details,
        user=user,
    )


def may_read(user: BaseUser, dag_id: str) -> bool:
    """Whether the user may read this DAG's runs and their XComs.

    :param user: Airflow's user.
    :param dag_id: a binding DAG.
    """
    return _may(user, "GET", dag_id, DagAccessEntity.RUN) and _may(user, "GET", dag_id, DagAccessEntity.XCOM)


def binding_dags(session: Session) -> list[str]:
    """Every DAG the page knows: those that recorded a binding, the example's and the sync DAG.

    :param session: a metadata DB session.
    """
    return sorted({*records.binding_dag_ids(session), BINDING_DAG_ID, sync_dag_id()})


def readable_binding_dags(user: BaseUser, session: Session) -> tuple[list[str], list[str]]:
    """The binding DAGs whose records the user may read, and those hidden; 403 when none is readable.

    :param user: Airflow's user.
    :param session: a metadata DB session.
    """
    readable: list[str] = []
    hidden: list[str] = []
    for dag_id in binding_dags(session):
        (readable if may_read(user, dag_id) else hidden).append(dag_id)
    if not readable:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "You may not read the Devices Binding DAGs' runs")
    return readable, hidden


def may_trigger(user: BaseUser, dag_id: str) -> bool:
    """Whether the user may trigger this DAG (Retry Pending, the sync a saved link starts).

    :param user: Airflow's user.
    :param dag_id: the DAG.
    """
    return _may(user, "POST", dag_id, DagAccessEntity.RUN)


def may_trigger_sync(user: BaseUser) -> bool:
    """Whether the user may trigger the sync DAG (``[connectwise] sync_dag_id``).

    :param user: Airflow's user.
    """
    return may_trigger(user, sync_dag_id())


def may_edit_links(user: BaseUser) -> bool:
    """Whether the user may change Variable ``connectwise_policy_links`` (link, unlink, search).

    :param user: Airflow's user.
    """
    return get_auth_manager().is_authorized_variable(
        method="PUT", details=VariableDetails(key=VARIABLE_KEY), user=user
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(conf.get("api", "secret_key"), salt=_FORM_SALT)


def form_token(user: BaseUser) -> str:
    """A token for the user's forms (signed with ``[api] secret_key``, valid for some hours).

    :param user: Airflow's user.
    """
    return _serializer().dumps(str(user.get_id()))


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_origins(request: Request) -> set[str]:
    origins = {_origin_of(str(request.url))}
    if base_url := conf.get("api", "base_url", fallback=None):
        origins.add(_origin_of(base_url))
    return {o for o in origins if o}


def check_form_post(request: Request, user: BaseUser, token: str | None) -> None:
    """Refuse a cross-site form post (403).

    :param request: the POST.
    :param user: the user it authenticates as.
    :param token: the form's token.
    """
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return  # no ambient credential: a cross-site page cannot make this request
    sent = request.headers.get("origin") or request.headers.get("referer") or ""
    if _origin_of(sent) not in _own_origins(request):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Cross-site request refused: reload the page and retry"
        )
    try:
        owner = _serializer().loads(token or "", max_age=TOKEN_MAX_AGE_SECONDS)
    except BadSignature:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "The form expired or is not this site's: reload the page and retry"
        ) from None
    if owner != str(user.get_id()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The form belongs to another user: reload the page")
